//! The upload component: `POST /upload` stores an original under its content
//! hash; `DELETE /upload/{id}` removes it with its metadata and variants.
//!
//! [`ingest`] and [`delete`] hold the logic and run natively in tests;
//! `component` is the thin Spin glue (body reading, stores, variables).

pub mod config;
pub mod delete;
pub mod ingest;

#[cfg(target_arch = "wasm32")]
mod component;
