//! The site component: edgeimg's demo page at `/` and its assets under
//! `/assets/`, plain HTML, CSS and JS compiled into the wasm with
//! `include_str!` (no build step, no external CDN).
//!
//! [`assets`] is the embedded file table, [`serve`] the request logic (runs
//! natively in tests); `component` is the Spin glue. The component uses no
//! key-value store and no variable: it imports only wasi:http and what Rust's
//! std needs, which Spin 4.x provides.

pub mod assets;
pub mod serve;

#[cfg(target_arch = "wasm32")]
mod component;
