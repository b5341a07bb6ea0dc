//! `type = "cache"`: the host-provided cache behind the `cache` label.
//!
//! A byte-bounded in-memory tier with a TTL (moka: TinyLFU admission, shared
//! by every instance of the process), optionally backed by slower shared
//! tiers tried in order: Redis for the hosts of one region, then a
//! persistent OpenDAL store.
//!
//! ```toml
//! [key_value_store.cache]
//! type = "cache"
//! capacity_bytes = 268435456   # memory tier budget (default 256 MiB)
//! max_item_bytes = 16777216    # larger values skip the memory tier
//! ttl_secs = 86400             # memory tier expiry (default one day)
//!
//! [[key_value_store.cache.tiers]]
//! type = "redis"
//! url = "redis://127.0.0.1:6379"
//!
//! [[key_value_store.cache.tiers]]
//! type = "opendal"
//! scheme = "fs"
//! root = "/var/lib/edgeimg/cache"
//! ```
//!
//! The lower tiers are best effort: an error there (Redis down) counts in
//! the metrics and logs, and the request carries on with what memory has.
//! Concurrent misses of one key collapse into one lookup of the lower tiers.

use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, Context, Result};
use async_trait::async_trait;
use bytes::Bytes;
use moka::future::Cache;

use super::opendal::{OpendalConfig, OpendalStore};
use super::read_cache::{byte_bounded_cache, byte_count};
use super::redis::{RedisConfig, RedisStore};
use super::stats::StoreStats;
use super::{Error, Store};
use crate::singleflight::{Flights, Role};

const MEMORY: &str = "memory";

/// Sizes and expiry of the memory tier.
#[derive(Clone, Copy, Debug)]
pub struct MemoryTierConfig {
    /// Budget of the memory tier in bytes (keys and values).
    pub capacity_bytes: u64,
    /// Larger values skip the memory tier (they still go to lower tiers).
    pub max_item_bytes: u64,
    /// How long a value stays in memory after it was stored there.
    pub ttl: Duration,
}

impl Default for MemoryTierConfig {
    fn default() -> Self {
        Self {
            capacity_bytes: 256 << 20,
            max_item_bytes: 16 << 20,
            ttl: Duration::from_secs(86_400),
        }
    }
}

/// A slower tier behind memory, named for metrics and logs.
pub struct Tier {
    name: String,
    store: Arc<dyn Store>,
}

impl Tier {
    /// A tier over any store.
    pub fn new(name: impl Into<String>, store: Arc<dyn Store>) -> Self {
        Self {
            name: name.into(),
            store,
        }
    }

    /// Builds a tier from its `[[tiers]]` table: `type = "redis"` or `"opendal"`.
    pub async fn from_table(
        label: &str,
        table: &toml::Table,
        data_dir: &Path,
        stats: StoreStats,
    ) -> Result<Self> {
        match table.get("type").and_then(|t| t.as_str()) {
            Some("redis") => {
                let store = RedisStore::new(RedisConfig::from_table(label, table)?, stats)?;
                Ok(Self::new("redis", Arc::new(store)))
            }
            Some("opendal") => {
                let config = OpendalConfig::from_table(table, data_dir, &data_dir.join(label))?;
                let store = OpendalStore::new(&config, stats)?;
                store.check().await?;
                Ok(Self::new(config.scheme.clone(), Arc::new(store)))
            }
            Some(other) => {
                bail!("unknown cache tier type `{other}` (expected `redis` or `opendal`)")
            }
            None => bail!("a cache tier needs a `type`"),
        }
    }
}

/// The memory tier plus optional lower tiers.
pub struct TieredCache {
    shared: Arc<Shared>,
    flights: Flights<String, Option<Bytes>>,
}

struct Shared {
    memory: Cache<String, Bytes>,
    max_item_bytes: u64,
    tiers: Vec<Tier>,
    /// Bumped by every write and delete; a lookup that saw it change does
    /// not fill memory with what it found.
    generation: AtomicU64,
    stats: StoreStats,
}

impl TieredCache {
    /// Reads `capacity_bytes`, `max_item_bytes`, `ttl_secs` and `[[tiers]]`.
    pub async fn from_table(
        label: &str,
        table: &toml::Table,
        data_dir: &Path,
        stats: StoreStats,
    ) -> Result<Self> {
        let mut memory = MemoryTierConfig::default();
        if let Some(v) = table.get("capacity_bytes") {
            memory.capacity_bytes = byte_count(v, "capacity_bytes")?;
            memory.max_item_bytes = memory.max_item_bytes.min(memory.capacity_bytes / 4);
        }
        if let Some(v) = table.get("max_item_bytes") {
            memory.max_item_bytes = byte_count(v, "max_item_bytes")?;
        }
        if let Some(v) = table.get("ttl_secs") {
            memory.ttl = Duration::from_secs(byte_count(v, "ttl_secs")?.max(1));
        }
        let mut tiers = Vec::new();
        if let Some(list) = table.get("tiers") {
            let list = list
                .as_array()
                .context("`tiers` must be an array of tables")?;
            for (i, tier) in list.iter().enumerate() {
                let tier = tier
                    .as_table()
                    .with_context(|| format!("`tiers[{i}]` must be a table"))?;
                let tier = Tier::from_table(label, tier, data_dir, stats.clone())
                    .await
                    .with_context(|| format!("cache tier {i} of `{label}`"))?;
                tiers.push(tier);
            }
        }
        Ok(Self::new(memory, tiers, stats))
    }

    /// A cache with the given memory tier in front of `tiers` (in order).
    pub fn new(config: MemoryTierConfig, tiers: Vec<Tier>, stats: StoreStats) -> Self {
        let memory = byte_bounded_cache(config.capacity_bytes, MEMORY, &stats)
            .time_to_live(config.ttl)
            .build();
        let shared = Shared {
            memory,
            max_item_bytes: config.max_item_bytes,
            tiers,
            generation: AtomicU64::new(0),
            stats,
        };
        Self {
            shared: Arc::new(shared),
            flights: Flights::default(),
        }
    }

    /// Bytes held in the memory tier now (after pending maintenance).
    #[cfg(test)]
    pub async fn memory_bytes(&self) -> u64 {
        self.shared.memory.run_pending_tasks().await;
        self.shared.memory.weighted_size()
    }
}

#[async_trait]
impl Store for TieredCache {
    /// Memory first, then each lower tier; a hit below fills the tiers above.
    async fn get(&self, key: &str) -> Result<Option<Bytes>, Error> {
        let s = &self.shared;
        if let Some(value) = s.memory.get(key).await {
            s.stats.hit(MEMORY);
            s.stats.read_bytes(MEMORY, value.len());
            return Ok(Some(value));
        }
        s.stats.miss(MEMORY);
        if s.tiers.is_empty() {
            return Ok(None);
        }
        let shared = self.shared.clone();
        let owned = key.to_string();
        let (value, role) = self
            .flights
            .run(owned.clone(), async move { shared.load(owned).await })
            .await;
        if role == Role::Follower {
            s.stats.collapsed_read();
        }
        value.ok_or_else(|| Error::Other(format!("cache lookup of `{key}` panicked")))
    }

    /// Stores in memory and in every lower tier (best effort there).
    async fn set(&self, key: &str, value: Bytes) -> Result<(), Error> {
        let s = &self.shared;
        s.generation.fetch_add(1, Ordering::SeqCst);
        if s.max_item_bytes > 0 && value.len() as u64 <= s.max_item_bytes {
            s.stats.written_bytes(MEMORY, value.len());
            s.memory.insert(key.to_string(), value.clone()).await;
            s.stats.cache_size(MEMORY, s.memory.weighted_size());
        } else {
            s.memory.invalidate(key).await;
        }
        for tier in &s.tiers {
            if let Err(e) = tier.store.set(key, value.clone()).await {
                tracing::warn!(key, tier = %tier.name, error = %e, "cache tier write failed");
            }
        }
        Ok(())
    }

    /// Removes from every tier (best effort below memory).
    async fn delete(&self, key: &str) -> Result<(), Error> {
        let s = &self.shared;
        s.generation.fetch_add(1, Ordering::SeqCst);
        s.memory.invalidate(key).await;
        for tier in &s.tiers {
            if let Err(e) = tier.store.delete(key).await {
                tracing::warn!(key, tier = %tier.name, error = %e, "cache tier delete failed");
            }
        }
        Ok(())
    }

    /// Whether any tier that answers holds the key.
    async fn exists(&self, key: &str) -> Result<bool, Error> {
        let s = &self.shared;
        if s.memory.contains_key(key) {
            return Ok(true);
        }
        for tier in &s.tiers {
            if let Ok(true) = tier.store.exists(key).await {
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// The keys of memory and of every tier that answers.
    async fn get_keys(&self) -> Result<Vec<String>, Error> {
        let s = &self.shared;
        s.memory.run_pending_tasks().await;
        let mut keys: Vec<String> = s.memory.iter().map(|(k, _)| (*k).clone()).collect();
        for tier in &s.tiers {
            match tier.store.get_keys().await {
                Ok(more) => keys.extend(more),
                Err(e) => {
                    tracing::warn!(tier = %tier.name, error = %e, "cache tier listing failed")
                }
            }
        }
        keys.sort();
        keys.dedup();
        Ok(keys)
    }
}

impl Shared {
    async fn load(&self, key: String) -> Option<Bytes> {
        let generation = self.generation.load(Ordering::SeqCst);
        for (i, tier) in self.tiers.iter().enumerate() {
            let value = match tier.store.get(&key).await {
                Ok(Some(value)) => value,
                Ok(None) => {
                    self.stats.miss(&tier.name);
                    continue;
                }
                Err(e) => {
                    tracing::warn!(key, tier = %tier.name, error = %e, "cache tier read failed");
                    continue;
                }
            };
            self.stats.hit(&tier.name);
            for upper in &self.tiers[..i] {
                let _ = upper.store.set(&key, value.clone()).await;
            }
            if self.max_item_bytes > 0
                && value.len() as u64 <= self.max_item_bytes
                && self.generation.load(Ordering::SeqCst) == generation
            {
                self.memory.insert(key.clone(), value.clone()).await;
                if self.generation.load(Ordering::SeqCst) != generation {
                    self.memory.invalidate(&key).await;
                }
                self.stats.cache_size(MEMORY, self.memory.weighted_size());
            }
            return Some(value);
        }
        None
    }
}
