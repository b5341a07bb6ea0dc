//! Key-value stores: the host side of `fermyon:spin/key-value@2.0.0`.
//!
//! Shaped like Spin's key-value factor: a small object-safe async [`Store`]
//! trait, one module per backend, and a [`StoreRegistry`] that maps each
//! label to a backend chosen by the `type` tag of its runtime-config table
//! (`[key_value_store.<label>] type = "memory"`). The WIT glue in [`host`]
//! only sees `Arc<dyn Store>`, so a new backend never touches it: add a
//! module and one arm in [`registry::build_store`].

pub mod backends;
pub mod cache_tier;
pub mod host;
pub mod memory;
pub mod object_key;
pub mod opendal;
pub mod read_cache;
pub mod redis;
pub mod registry;
pub mod stats;

#[cfg(test)]
mod backend_tests;

use async_trait::async_trait;
use bytes::Bytes;

pub use registry::{BackendContext, StoreRegistry};

/// Errors a store reports; they map one to one onto the WIT `error` variant.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    #[error("too many stores open in this instance")]
    StoreTableFull,
    #[error("no such store")]
    NoSuchStore,
    #[error("access denied")]
    AccessDenied,
    /// Backend-specific failure (I/O, connection, ...), with a message.
    #[error("{0}")]
    Other(String),
}

/// One key-value store (one label). Values are [`Bytes`] so caching backends
/// can hand out cheap clones.
#[async_trait]
pub trait Store: Send + Sync + 'static {
    async fn get(&self, key: &str) -> Result<Option<Bytes>, Error>;
    async fn set(&self, key: &str, value: Bytes) -> Result<(), Error>;
    async fn delete(&self, key: &str) -> Result<(), Error>;
    async fn exists(&self, key: &str) -> Result<bool, Error>;
    async fn get_keys(&self) -> Result<Vec<String>, Error>;
}
