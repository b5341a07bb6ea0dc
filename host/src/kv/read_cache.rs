//! A bounded in-memory read cache in front of a durable store (the object
//! store of `images`), so hot originals are served from memory.
//!
//! Bounded by bytes (moka weighs each entry by its size, TinyLFU decides
//! admission); values above `max_item_bytes` are never cached. Concurrent
//! misses of one key collapse into one backend read. A write or delete
//! invalidates the key, and a read that raced with a write does not cache
//! what it read.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use async_trait::async_trait;
use bytes::Bytes;
use moka::future::Cache;
use moka::notification::RemovalCause;

use super::stats::StoreStats;
use super::{Error, Store};
use crate::singleflight::{Flights, Role};

const TIER: &str = "read_cache";

/// Sizes of a [`ReadCache`].
#[derive(Clone, Copy, Debug)]
pub struct ReadCacheConfig {
    /// Budget of the cache in bytes (keys and values).
    pub capacity_bytes: u64,
    /// Larger values bypass the cache.
    pub max_item_bytes: u64,
}

impl Default for ReadCacheConfig {
    fn default() -> Self {
        Self {
            capacity_bytes: 256 << 20,
            max_item_bytes: 64 << 20,
        }
    }
}

impl ReadCacheConfig {
    /// Reads `read_cache_bytes` and `read_cache_max_item_bytes`;
    /// `read_cache_bytes = 0` keeps nothing in memory (reads still collapse).
    pub fn from_table(table: &toml::Table) -> anyhow::Result<Self> {
        let mut config = Self::default();
        if let Some(v) = table.get("read_cache_bytes") {
            config.capacity_bytes = byte_count(v, "read_cache_bytes")?;
            config.max_item_bytes = config.max_item_bytes.min(config.capacity_bytes / 4);
        }
        if let Some(v) = table.get("read_cache_max_item_bytes") {
            config.max_item_bytes = byte_count(v, "read_cache_max_item_bytes")?;
        }
        if config.capacity_bytes == 0 {
            config.max_item_bytes = 0;
        }
        Ok(config)
    }
}

/// Reads a non-negative integer (bytes, seconds) from runtime config.
pub fn byte_count(value: &toml::Value, key: &str) -> anyhow::Result<u64> {
    value
        .as_integer()
        .and_then(|n| u64::try_from(n).ok())
        .ok_or_else(|| anyhow::anyhow!("`{key}` must be a non-negative integer"))
}

/// Weight of an entry for moka: its key and value bytes.
pub fn weigh(key: &str, value: &Bytes) -> u32 {
    u32::try_from(key.len() + value.len()).unwrap_or(u32::MAX)
}

/// A byte-bounded moka cache that counts its evictions as `tier`.
pub fn byte_bounded_cache(
    capacity_bytes: u64,
    tier: &'static str,
    stats: &StoreStats,
) -> moka::future::CacheBuilder<String, Bytes, Cache<String, Bytes>> {
    let evictions = stats.clone();
    Cache::builder()
        .max_capacity(capacity_bytes)
        .weigher(|key: &String, value: &Bytes| weigh(key, value))
        .eviction_listener(move |_key, _value, cause| {
            if matches!(cause, RemovalCause::Size | RemovalCause::Expired) {
                evictions.eviction(tier);
            }
        })
}

type ReadResult = Result<Option<Bytes>, Error>;

/// A store fronted by a bounded in-memory cache of its values.
pub struct ReadCache {
    shared: Arc<Shared>,
    flights: Flights<String, ReadResult>,
}

struct Shared {
    store: Arc<dyn Store>,
    cache: Cache<String, Bytes>,
    max_item_bytes: u64,
    /// Bumped by every write and delete; a read that saw it change while it
    /// was reading does not cache its value.
    generation: AtomicU64,
    stats: StoreStats,
}

impl ReadCache {
    /// Fronts `store` with a cache sized by `config`.
    pub fn new(store: Arc<dyn Store>, config: ReadCacheConfig, stats: StoreStats) -> Self {
        let cache = byte_bounded_cache(config.capacity_bytes, TIER, &stats).build();
        let shared = Shared {
            store,
            cache,
            max_item_bytes: config.max_item_bytes,
            generation: AtomicU64::new(0),
            stats,
        };
        Self {
            shared: Arc::new(shared),
            flights: Flights::default(),
        }
    }

    /// Bytes held in memory now (after pending maintenance).
    #[cfg(test)]
    pub async fn weighted_size(&self) -> u64 {
        self.shared.cache.run_pending_tasks().await;
        self.shared.cache.weighted_size()
    }
}

#[async_trait]
impl Store for ReadCache {
    /// Reads from memory, else from the store (one read per key at a time).
    async fn get(&self, key: &str) -> Result<Option<Bytes>, Error> {
        let s = &self.shared;
        if let Some(value) = s.cache.get(key).await {
            s.stats.hit(TIER);
            s.stats.read_bytes(TIER, value.len());
            return Ok(Some(value));
        }
        s.stats.miss(TIER);
        let shared = self.shared.clone();
        let owned = key.to_string();
        let (result, role) = self
            .flights
            .run(owned.clone(), async move { shared.load(owned).await })
            .await;
        if role == Role::Follower {
            s.stats.collapsed_read();
        }
        result.unwrap_or_else(|| Err(Error::Other(format!("read of `{key}` panicked"))))
    }

    /// Writes through to the store, then drops the cached value.
    async fn set(&self, key: &str, value: Bytes) -> Result<(), Error> {
        let result = self.shared.store.set(key, value).await;
        self.shared.forget(key).await;
        result
    }

    /// Deletes from the store, then drops the cached value.
    async fn delete(&self, key: &str) -> Result<(), Error> {
        let result = self.shared.store.delete(key).await;
        self.shared.forget(key).await;
        result
    }

    /// Whether the key is present (memory first).
    async fn exists(&self, key: &str) -> Result<bool, Error> {
        if self.shared.cache.contains_key(key) {
            return Ok(true);
        }
        self.shared.store.exists(key).await
    }

    /// Every key of the store.
    async fn get_keys(&self) -> Result<Vec<String>, Error> {
        self.shared.store.get_keys().await
    }
}

impl Shared {
    async fn load(&self, key: String) -> ReadResult {
        let generation = self.generation.load(Ordering::SeqCst);
        let value = self.store.get(&key).await?;
        if let Some(bytes) = &value {
            if self.max_item_bytes > 0
                && bytes.len() as u64 <= self.max_item_bytes
                && self.generation.load(Ordering::SeqCst) == generation
            {
                self.cache.insert(key.clone(), bytes.clone()).await;
                self.stats.cache_size(TIER, self.cache.weighted_size());
                // A write that landed while inserting may have invalidated
                // before the insert: drop what might now be stale.
                if self.generation.load(Ordering::SeqCst) != generation {
                    self.cache.invalidate(&key).await;
                }
            }
        }
        Ok(value)
    }

    async fn forget(&self, key: &str) {
        self.generation.fetch_add(1, Ordering::SeqCst);
        self.cache.invalidate(key).await;
    }
}
