//! The key-value face of a replicated label: what components open. Writes
//! and deletes go through [`Replication`] (versioned, logged before they
//! return); a miss on an original or its metadata pulls from the peers when
//! the request allows it; a damaged original is healed from a peer; the
//! version records are invisible.

use std::sync::Arc;

use async_trait::async_trait;
use bytes::Bytes;

use super::pull::pullable;
use super::record::is_reserved;
use super::Replication;
use crate::kv::{Error, Store};

/// A replicated label as one instance sees it.
pub struct ReplicatedStore {
    replication: Arc<Replication>,
    label: String,
    inner: Arc<dyn Store>,
    /// Whether a miss may ask the peers. Off for uploads: whether an upload
    /// is new is a question for this region alone, so a slow peer never
    /// slows an upload.
    pull: bool,
}

impl ReplicatedStore {
    pub fn new(
        replication: Arc<Replication>,
        label: &str,
        inner: Arc<dyn Store>,
        pull: bool,
    ) -> Self {
        Self {
            replication,
            label: label.to_string(),
            inner,
            pull,
        }
    }

    fn check(key: &str) -> Result<(), Error> {
        if is_reserved(key) {
            return Err(Error::Other(format!(
                "`{key}`: keys under `_replica/` are the host's own"
            )));
        }
        Ok(())
    }
}

#[async_trait]
impl Store for ReplicatedStore {
    async fn get(&self, key: &str) -> Result<Option<Bytes>, Error> {
        Self::check(key)?;
        match self.inner.get(key).await {
            Ok(Some(value)) => return Ok(Some(value)),
            Ok(None) => {}
            Err(Error::Corrupt(_)) if self.pull => {
                return self.replication.heal(&self.label, key).await.map(Some)
            }
            Err(e) => return Err(e),
        }
        if self.pull && pullable(key) {
            return self.replication.pull(&self.label, key).await;
        }
        Ok(None)
    }

    async fn set(&self, key: &str, value: Bytes) -> Result<(), Error> {
        Self::check(key)?;
        self.replication.local_set(&self.label, key, value).await
    }

    async fn delete(&self, key: &str) -> Result<(), Error> {
        Self::check(key)?;
        self.replication.local_delete(&self.label, key).await
    }

    async fn exists(&self, key: &str) -> Result<bool, Error> {
        Self::check(key)?;
        if self.inner.exists(key).await? {
            return Ok(true);
        }
        if self.pull && pullable(key) {
            return Ok(self.replication.pull(&self.label, key).await?.is_some());
        }
        Ok(false)
    }

    async fn get_keys(&self) -> Result<Vec<String>, Error> {
        let mut keys = self.inner.get_keys().await?;
        keys.retain(|k| !is_reserved(k));
        Ok(keys)
    }

    async fn list_page(
        &self,
        prefix: &str,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Option<crate::kv::KeyPage>, Error> {
        let page = self.inner.list_page(prefix, after, limit).await?;
        Ok(page.map(|mut page| {
            page.keys.retain(|k| !is_reserved(k));
            page
        }))
    }

    async fn invalidate(&self, key: &str) {
        self.inner.invalidate(key).await;
    }
}
