//! The fetch component: originals, their metadata and the upload listing.
//!
//! [`serve`] holds the logic and runs natively in tests; `component` is the
//! Spin glue.

pub mod config;
pub mod list;
pub mod range;
pub mod serve;

#[cfg(target_arch = "wasm32")]
mod component;
