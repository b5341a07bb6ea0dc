//! The resize component: `GET /resize/{options}/{id}`.
//!
//! [`request`] turns the path into options (signature and presets checked),
//! [`hints`] fills `width=auto`/`dpr=auto` from client hints, [`save_data`]
//! lowers quality for `Save-Data: on`,
//! [`variant`] is the cached value's format, [`serve`] the cache-or-transform
//! logic; all run natively in tests. `component` is the Spin glue.

pub mod config;
pub mod hints;
pub mod request;
pub mod save_data;
pub mod serve;
pub mod variant;

#[cfg(target_arch = "wasm32")]
mod component;
