//! The resize component: `GET /resize/{options}/{id}`.
//!
//! [`request`] turns the path into options (signature and presets checked),
//! [`variant`] is the cached value's format, [`serve`] the cache-or-transform
//! logic; all run natively in tests. `component` is the Spin glue.

pub mod config;
pub mod request;
pub mod serve;
pub mod variant;

#[cfg(target_arch = "wasm32")]
mod component;
