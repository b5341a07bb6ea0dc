//! A store with a hosted platform's caps on keys and values, refusing what
//! the platform would refuse, the way a Spin platform can: an `other` error
//! naming the limit (key-value 2.0 has no error case for sizes).

use std::sync::Arc;

use async_trait::async_trait;
use bytes::Bytes;

use super::{Error, Store};

/// What a platform's key-value store allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Caps {
    pub max_key_bytes: usize,
    pub max_value_bytes: usize,
    /// Keys the store may hold at once, where the platform documents a quota.
    pub max_keys: Option<usize>,
}

/// `inner` behind `caps`; `platform` names whose limits they are, for messages.
pub struct CappedStore {
    inner: Arc<dyn Store>,
    caps: Caps,
    platform: &'static str,
}

impl CappedStore {
    pub fn new(inner: Arc<dyn Store>, caps: Caps, platform: &'static str) -> Self {
        Self {
            inner,
            caps,
            platform,
        }
    }

    fn check_key(&self, key: &str) -> Result<(), Error> {
        self.check("key", key.len(), self.caps.max_key_bytes)
    }

    /// `what` of `len` bytes against the platform's limit of `max`.
    fn check(&self, what: &str, len: usize, max: usize) -> Result<(), Error> {
        if len > max {
            return Err(Error::Other(format!(
                "{what} of {len} bytes exceeds the {} limit of {max} bytes",
                self.platform
            )));
        }
        Ok(())
    }
}

#[async_trait]
impl Store for CappedStore {
    async fn get(&self, key: &str) -> Result<Option<Bytes>, Error> {
        self.check_key(key)?;
        self.inner.get(key).await
    }

    async fn set(&self, key: &str, value: Bytes) -> Result<(), Error> {
        self.check_key(key)?;
        self.check("value", value.len(), self.caps.max_value_bytes)?;
        if let Some(max) = self.caps.max_keys {
            if !self.inner.exists(key).await? && self.inner.get_keys().await?.len() >= max {
                return Err(Error::Other(format!(
                    "the store holds {max} keys, the {} limit",
                    self.platform
                )));
            }
        }
        self.inner.set(key, value).await
    }

    async fn delete(&self, key: &str) -> Result<(), Error> {
        self.check_key(key)?;
        self.inner.delete(key).await
    }

    async fn exists(&self, key: &str) -> Result<bool, Error> {
        self.check_key(key)?;
        self.inner.exists(key).await
    }

    async fn get_keys(&self) -> Result<Vec<String>, Error> {
        self.inner.get_keys().await
    }

    /// A hosted platform lists every key or none: no paging, as on Spin.
    async fn list_page(
        &self,
        _prefix: &str,
        _after: Option<&str>,
        _limit: usize,
    ) -> Result<Option<super::KeyPage>, Error> {
        Ok(None)
    }

    async fn invalidate(&self, key: &str) {
        self.inner.invalidate(key).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kv::memory::MemoryStore;

    fn capped() -> CappedStore {
        let caps = Caps {
            max_key_bytes: 8,
            max_value_bytes: 4,
            max_keys: Some(2),
        };
        CappedStore::new(Arc::new(MemoryStore::new()), caps, "Test Cloud")
    }

    fn other(e: Error) -> String {
        match e {
            Error::Other(message) => message,
            e => panic!("not `other`: {e:?}"),
        }
    }

    #[tokio::test]
    async fn refuses_big_values_long_keys_and_keys_beyond_the_quota_as_other_errors() {
        let s = capped();
        s.set("a", Bytes::from_static(b"1234")).await.unwrap();
        let big = other(s.set("b", Bytes::from_static(b"12345")).await.unwrap_err());
        assert_eq!(
            big,
            "value of 5 bytes exceeds the Test Cloud limit of 4 bytes"
        );
        let long = other(s.get("123456789").await.unwrap_err());
        assert!(long.contains("key of 9 bytes"), "{long}");
        s.set("b", Bytes::from_static(b"1")).await.unwrap();
        s.set("b", Bytes::from_static(b"2")).await.unwrap();
        let full = other(s.set("c", Bytes::from_static(b"1")).await.unwrap_err());
        assert!(full.contains("2 keys"), "{full}");
        s.delete("a").await.unwrap();
        s.set("c", Bytes::from_static(b"1")).await.unwrap();
    }
}
