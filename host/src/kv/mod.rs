//! Key-value stores: the host side of `fermyon:spin/key-value@2.0.0`.
//!
//! Shaped like Spin's key-value factor: a small object-safe async [`Store`]
//! trait, one module per backend, and a [`StoreRegistry`] that maps each
//! label to a backend chosen by the `type` tag of its runtime-config table
//! (`[key_value_store.<label>] type = "memory"`). The WIT glue in [`host`]
//! only sees `Arc<dyn Store>`, so a new backend never touches it: add a
//! module and one arm in [`registry::build_store`].
//!
//! The folder owns every store and what makes them fast: backends (`memory`,
//! `opendal`, `redis`), the memory tier in front of slower ones (`tiered`:
//! the `cache` label and the read cache of object stores), collapsing of
//! concurrent reads (`singleflight`), object-path mapping and metrics, and
//! a hosted platform's caps on keys and values (`capped`, for emulation).

pub mod backends;
pub mod capped;
pub mod config;
pub mod fs_batch;
pub mod handle;
pub mod host;
pub mod integrity;
pub mod listing;
pub mod memory;
pub mod object_key;
pub mod opendal;
pub mod redis;
pub mod registry;
pub mod singleflight;
pub mod stats;
pub mod tiered;

#[cfg(test)]
pub(crate) mod backend_tests;

use async_trait::async_trait;
use bytes::Bytes;

pub use config::BackendContext;
pub use listing::KeyPage;
pub use registry::StoreRegistry;

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
    /// A stored value failed its integrity check (an original whose bytes
    /// do not hash to its id): never handed out as if it were the value.
    #[error("{0}")]
    Corrupt(String),
}

/// Backend failures reach the guest as `error::other` with the whole chain.
pub fn other(e: anyhow::Error) -> Error {
    Error::Other(format!("{e:#}"))
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

    /// Up to `limit` keys starting with `prefix` that sort after `after`, in
    /// order, and whether more follow. `None` when this store does not page
    /// (an emulated hosted platform): the caller lists every key. The
    /// default sorts a whole listing; backends answer from an ordered index.
    async fn list_page(
        &self,
        prefix: &str,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Option<KeyPage>, Error> {
        let mut keys = self.get_keys().await?;
        keys.sort_unstable();
        Ok(Some(listing::page_of(&keys, prefix, after, limit)))
    }

    /// Stores every entry and returns once all of them are durable. A
    /// backend that can make many writes durable at the cost of one (the
    /// `fs` store syncs them together) overrides this; the default writes
    /// them one by one.
    async fn set_many(&self, entries: Vec<(String, Bytes)>) -> Result<(), Error> {
        for (key, value) in entries {
            self.set(&key, value).await?;
        }
        Ok(())
    }

    /// Reads `key` from the source of truth itself, past any memory copy
    /// and without filling one (what an integrity scrub must look at).
    async fn get_fresh(&self, key: &str) -> Result<Option<Bytes>, Error> {
        self.get(key).await
    }

    /// Drops whatever copy of `key` this host keeps in memory, because
    /// another host sharing the store changed it. Stores without a memory
    /// of their own have nothing to do.
    async fn invalidate(&self, _key: &str) {}
}
