//! `type = "memory"`: a process-local map, shared by all instances, lost on
//! restart. The embedded default for every label until durable backends land.

use std::collections::HashMap;
use std::sync::RwLock;

use async_trait::async_trait;
use bytes::Bytes;

use super::{Error, Store};

/// An in-memory store.
#[derive(Default)]
pub struct MemoryStore {
    map: RwLock<HashMap<String, Bytes>>,
}

impl MemoryStore {
    pub fn new() -> Self {
        Self::default()
    }
}

#[async_trait]
impl Store for MemoryStore {
    async fn get(&self, key: &str) -> Result<Option<Bytes>, Error> {
        Ok(self.map.read().unwrap().get(key).cloned())
    }

    async fn set(&self, key: &str, value: Bytes) -> Result<(), Error> {
        self.map.write().unwrap().insert(key.to_string(), value);
        Ok(())
    }

    async fn delete(&self, key: &str) -> Result<(), Error> {
        self.map.write().unwrap().remove(key);
        Ok(())
    }

    async fn exists(&self, key: &str) -> Result<bool, Error> {
        Ok(self.map.read().unwrap().contains_key(key))
    }

    async fn get_keys(&self) -> Result<Vec<String>, Error> {
        Ok(self.map.read().unwrap().keys().cloned().collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn set_get_delete_round_trip() {
        let s = MemoryStore::new();
        assert_eq!(s.get("k").await.unwrap(), None);
        s.set("k", Bytes::from_static(b"v")).await.unwrap();
        assert_eq!(s.get("k").await.unwrap().as_deref(), Some(&b"v"[..]));
        assert!(s.exists("k").await.unwrap());
        assert_eq!(s.get_keys().await.unwrap(), vec!["k".to_string()]);
        s.delete("k").await.unwrap();
        assert!(!s.exists("k").await.unwrap());
        s.delete("k").await.unwrap();
    }
}
