//! The fetch component: originals and their metadata.
//!
//! [`serve`] holds the logic and runs natively in tests; `component` is the
//! Spin glue.

pub mod range;
pub mod serve;

#[cfg(target_arch = "wasm32")]
mod component;
