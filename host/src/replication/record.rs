//! The version of each replicated key, kept beside it in the same store
//! (`_replica/{key}` → `{"version":"…","deleted":bool}`), so every host of a
//! region sees the same versions and tombstones: a late copy delivered to
//! any of them is refused, and a known tombstone stops a pull.
//!
//! Components never see these keys: the replicated store hides the prefix
//! from listings and refuses it in every call.

use std::sync::Arc;

use bytes::Bytes;
use serde::{Deserialize, Serialize};

use super::version::Version;
use crate::kv::{Error, Store};

/// Prefix of the version records.
pub const PREFIX: &str = "_replica/";

/// Whether a component-facing key falls in the records' namespace.
pub fn is_reserved(key: &str) -> bool {
    key.starts_with(PREFIX)
}

/// A key's last change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Record {
    pub version: Version,
    pub deleted: bool,
}

/// Reads and writes the records of one store.
#[derive(Clone)]
pub struct Records {
    store: Arc<dyn Store>,
}

impl Records {
    pub fn new(store: Arc<dyn Store>) -> Self {
        Self { store }
    }

    /// The record of `key`; `None` when replication never saw it.
    pub async fn get(&self, key: &str) -> Result<Option<Record>, Error> {
        let Some(raw) = self.store.get(&format!("{PREFIX}{key}")).await? else {
            return Ok(None);
        };
        serde_json::from_slice(&raw)
            .map(Some)
            .map_err(|e| Error::Other(format!("version record of `{key}` is unreadable: {e}")))
    }

    /// The version `key` has here: its record's, or [`Version::zero`] for
    /// data that predates replication.
    pub async fn version(&self, key: &str) -> Result<Version, Error> {
        Ok(self
            .get(key)
            .await?
            .map_or_else(Version::zero, |r| r.version))
    }

    pub async fn put(&self, key: &str, record: &Record) -> Result<(), Error> {
        let json = serde_json::to_vec(record).expect("records serialize");
        self.store
            .set(&format!("{PREFIX}{key}"), Bytes::from(json))
            .await
    }

    /// Writes several records, durable together on return.
    pub async fn put_many(&self, records: Vec<(String, Record)>) -> Result<(), Error> {
        let entries = records
            .into_iter()
            .map(|(key, record)| {
                let json = serde_json::to_vec(&record).expect("records serialize");
                (format!("{PREFIX}{key}"), Bytes::from(json))
            })
            .collect();
        self.store.set_many(entries).await
    }

    pub async fn remove(&self, key: &str) -> Result<(), Error> {
        self.store.delete(&format!("{PREFIX}{key}")).await
    }

    /// Every key with a record (live or tombstone), from one listing.
    pub async fn keys(&self) -> Result<Vec<String>, Error> {
        Ok(self
            .store
            .get_keys()
            .await?
            .into_iter()
            .filter_map(|k| k.strip_prefix(PREFIX).map(str::to_string))
            .collect())
    }
}
