//! Integrity of content-addressed values: an original is stored under
//! `orig/{id}` where the id is the SHA-256 of its bytes, so whatever a disk
//! or a bucket hands back can be checked before it is served, cached or
//! transformed. [`VerifiedStore`] sits right above an object store (below
//! the memory tier, so memory only ever holds checked bytes) and turns a
//! mismatch into [`Error::Corrupt`]: replication then fetches a good copy
//! from a peer and repairs the store; without peers the request fails
//! with a JSON error naming the problem. Hashing costs ~1 ms per MB.

use std::sync::Arc;

use async_trait::async_trait;
use bytes::Bytes;
use sha2::{Digest, Sha256};

use super::stats::StoreStats;
use super::{Error, Store};

/// Prefix of the keys whose last segment is the SHA-256 of the value.
pub const ORIGINAL: &str = "orig/";

/// First bytes of a chunked value's manifest (`edgeimg_common::chunked`):
/// its chunks hold the bytes, so the manifest itself is not checked.
const CHUNKED_MAGIC: &[u8] = b"edgeimg-chunked/1\n";

/// Every message of an integrity failure starts with this, so a component
/// can tell it from an outage (see `edgeimg_common::error`).
pub const MESSAGE_PREFIX: &str = "integrity:";

/// The id `key` claims its value hashes to: `orig/` + 64 hex digits.
pub fn claimed_id(key: &str) -> Option<&str> {
    let id = key.strip_prefix(ORIGINAL)?;
    (id.len() == 64 && id.bytes().all(|b| b.is_ascii_hexdigit())).then_some(id)
}

/// Whether `value` may be stored under `key`: anything for keys that are
/// not content addressed, a chunk manifest, or bytes hashing to the id.
pub fn intact(key: &str, value: &[u8]) -> bool {
    match claimed_id(key) {
        None => true,
        Some(_) if value.starts_with(CHUNKED_MAGIC) => true,
        Some(id) => hex::encode(Sha256::digest(value)).eq_ignore_ascii_case(id),
    }
}

/// Whether [`intact`] checks `value` against the id in `key` (rather than
/// passing it unchecked), so the key alone pins the bytes.
pub fn pinned_by_key(key: &str, value: &[u8]) -> bool {
    claimed_id(key).is_some() && !value.starts_with(CHUNKED_MAGIC)
}

/// The error for a value of `key` that failed its check.
pub fn corrupt(key: &str, detail: &str) -> Error {
    Error::Corrupt(format!(
        "{MESSAGE_PREFIX} the stored bytes of `{key}` do not hash to its id ({detail})"
    ))
}

/// `inner`, with every content-addressed value checked as it is read.
pub struct VerifiedStore {
    inner: Arc<dyn Store>,
    label: String,
    /// Counts mismatches (`edgeimg_kv_integrity_failures_total`).
    stats: StoreStats,
}

impl VerifiedStore {
    pub fn new(inner: Arc<dyn Store>, label: &str, stats: StoreStats) -> Self {
        Self {
            inner,
            label: label.to_string(),
            stats,
        }
    }

    fn check(&self, key: &str, value: Option<Bytes>) -> Result<Option<Bytes>, Error> {
        match value {
            Some(v) if !intact(key, &v) => {
                self.stats.integrity_failure();
                tracing::error!(label = %self.label, key, bytes = v.len(), "integrity: a stored original does not hash to its id");
                Err(corrupt(key, "the copy in this region's store is damaged"))
            }
            value => Ok(value),
        }
    }
}

#[async_trait]
impl Store for VerifiedStore {
    async fn get(&self, key: &str) -> Result<Option<Bytes>, Error> {
        let value = self.inner.get(key).await?;
        self.check(key, value)
    }

    async fn get_fresh(&self, key: &str) -> Result<Option<Bytes>, Error> {
        let value = self.inner.get_fresh(key).await?;
        self.check(key, value)
    }

    async fn set(&self, key: &str, value: Bytes) -> Result<(), Error> {
        self.inner.set(key, value).await
    }

    async fn set_many(&self, entries: Vec<(String, Bytes)>) -> Result<(), Error> {
        self.inner.set_many(entries).await
    }

    async fn delete(&self, key: &str) -> Result<(), Error> {
        self.inner.delete(key).await
    }

    async fn exists(&self, key: &str) -> Result<bool, Error> {
        self.inner.exists(key).await
    }

    async fn get_keys(&self) -> Result<Vec<String>, Error> {
        self.inner.get_keys().await
    }

    async fn list_page(
        &self,
        prefix: &str,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Option<crate::kv::KeyPage>, Error> {
        self.inner.list_page(prefix, after, limit).await
    }

    async fn invalidate(&self, key: &str) {
        self.inner.invalidate(key).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kv::memory::MemoryStore;

    #[tokio::test]
    async fn a_damaged_original_is_an_error_and_other_values_pass() {
        let memory = Arc::new(MemoryStore::new());
        let stats = StoreStats::detached("images");
        let store = VerifiedStore::new(memory.clone(), "images", stats.clone());
        let bytes = Bytes::from_static(b"a picture");
        let key = format!("orig/{}", hex::encode(Sha256::digest(&bytes)));
        memory.set(&key, bytes.clone()).await.unwrap();
        assert_eq!(store.get(&key).await.unwrap(), Some(bytes));

        memory
            .set(&key, Bytes::from_static(b"a pictur3"))
            .await
            .unwrap();
        match store.get(&key).await {
            Err(Error::Corrupt(m)) => assert!(m.starts_with(MESSAGE_PREFIX) && m.contains(&key)),
            other => panic!("expected a corrupt error, got {other:?}"),
        }
        assert_eq!(stats.integrity_failures(), 1);

        for (key, value) in [
            ("meta/abc", &b"{}"[..]),
            ("orig/not-an-id", b"x"),
            (key.as_str(), b"edgeimg-chunked/1\nlen 1\n"),
        ] {
            memory
                .set(key, Bytes::copy_from_slice(value))
                .await
                .unwrap();
            assert!(store.get(key).await.unwrap().is_some(), "{key}");
        }
        assert_eq!(store.get("orig/absent").await.unwrap(), None);
    }
}
