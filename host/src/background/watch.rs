//! Notices new images: a store wrapper around the `[eager] label` backend
//! that reports every `meta/{id}` written or deleted. It sits below
//! replication, so an upload here, a change replicated from a peer and a
//! pull-through copy all pass it.

use std::sync::Arc;

use async_trait::async_trait;
use bytes::Bytes;

use crate::kv::{Error, Store};
use crate::replication::apply::META;

/// Told of new and deleted images.
pub trait ImageEvents: Send + Sync {
    fn arrived(&self, id: &str);
    fn deleted(&self, id: &str);
}

/// `inner`, reporting metadata writes and deletes to `events`.
pub struct WatchedStore {
    inner: Arc<dyn Store>,
    events: Arc<dyn ImageEvents>,
}

impl WatchedStore {
    pub fn new(inner: Arc<dyn Store>, events: Arc<dyn ImageEvents>) -> Self {
        Self { inner, events }
    }
}

fn image_of(key: &str) -> Option<&str> {
    key.strip_prefix(META).filter(|id| !id.is_empty())
}

#[async_trait]
impl Store for WatchedStore {
    async fn get(&self, key: &str) -> Result<Option<Bytes>, Error> {
        self.inner.get(key).await
    }

    async fn set(&self, key: &str, value: Bytes) -> Result<(), Error> {
        self.inner.set(key, value).await?;
        if let Some(id) = image_of(key) {
            self.events.arrived(id);
        }
        Ok(())
    }

    async fn set_many(&self, entries: Vec<(String, Bytes)>) -> Result<(), Error> {
        let arrived: Vec<String> = entries
            .iter()
            .filter_map(|(key, _)| image_of(key).map(str::to_string))
            .collect();
        self.inner.set_many(entries).await?;
        for id in arrived {
            self.events.arrived(&id);
        }
        Ok(())
    }

    async fn get_fresh(&self, key: &str) -> Result<Option<Bytes>, Error> {
        self.inner.get_fresh(key).await
    }

    async fn delete(&self, key: &str) -> Result<(), Error> {
        self.inner.delete(key).await?;
        if let Some(id) = image_of(key) {
            self.events.deleted(id);
        }
        Ok(())
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
    use std::sync::Mutex;

    #[derive(Default)]
    struct Seen(Mutex<Vec<String>>);

    impl ImageEvents for Seen {
        fn arrived(&self, id: &str) {
            self.0.lock().unwrap().push(format!("+{id}"));
        }
        fn deleted(&self, id: &str) {
            self.0.lock().unwrap().push(format!("-{id}"));
        }
    }

    #[tokio::test]
    async fn reports_metadata_writes_and_deletes_only() {
        let seen = Arc::new(Seen::default());
        let store = WatchedStore::new(Arc::new(MemoryStore::new()), seen.clone());
        store.set("orig/a", Bytes::from_static(b"x")).await.unwrap();
        store
            .set("meta/a", Bytes::from_static(b"{}"))
            .await
            .unwrap();
        store.set("idx/1-a", Bytes::new()).await.unwrap();
        store.delete("meta/a").await.unwrap();
        assert_eq!(*seen.0.lock().unwrap(), ["+a", "-a"]);
        assert!(store.exists("orig/a").await.unwrap());
    }
}
