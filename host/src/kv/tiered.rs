//! A byte-bounded memory tier in front of slower tiers: the one type behind
//! both the `cache` label and the read cache of `opendal` stores.
//!
//! - `type = "cache"`: memory (with a TTL) over optional shared tiers (Redis
//!   for the hosts of a region, then a persistent OpenDAL store), all
//!   [`Role::BestEffort`]: an error there (Redis down) counts in the metrics
//!   and logs, and the request carries on with what memory has.
//! - `type = "opendal"`: memory (no TTL) over the object store, the
//!   [`Role::Durable`] source of truth: its errors are the caller's, a write
//!   succeeds only when it does, and memory is only filled by reads (a write
//!   invalidates), so memory never holds what the store refused.
//!
//! Memory is moka (TinyLFU admission, weighed by key and value bytes); values
//! above `max_item_bytes` skip it. Concurrent misses of one key collapse into
//! one lookup of the tiers below, but only misses between the same two
//! writes: a read that starts after a write returned never joins a lookup
//! begun before it (which may have read the old value). A read that raced
//! with a write or delete of its key does not fill memory with what it read.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use moka::future::Cache;
use moka::notification::RemovalCause;

use super::singleflight::{Flights, Role as FlightRole};
use super::stats::StoreStats;
use super::{Error, Store};

/// Sizes and expiry of the memory tier.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MemoryTierConfig {
    /// Budget in bytes (keys and values); 0 keeps nothing (reads still collapse).
    pub capacity_bytes: u64,
    /// Larger values skip memory (they still go to the tiers below).
    pub max_item_bytes: u64,
    /// How long a value stays in memory after it was stored there.
    pub ttl: Option<Duration>,
}

impl MemoryTierConfig {
    /// The `cache` label's default: 256 MiB, 16 MiB items, one day.
    pub const CACHE: Self = Self {
        capacity_bytes: 256 << 20,
        max_item_bytes: 16 << 20,
        ttl: Some(Duration::from_secs(86_400)),
    };

    /// The read cache's default: 256 MiB, 64 MiB items, no expiry.
    pub const READ_CACHE: Self = Self {
        capacity_bytes: 256 << 20,
        max_item_bytes: 64 << 20,
        ttl: None,
    };

    /// `self` with a new capacity; items stay at most a quarter of it.
    pub fn with_capacity(mut self, capacity_bytes: u64) -> Self {
        self.capacity_bytes = capacity_bytes;
        self.max_item_bytes = self.max_item_bytes.min(capacity_bytes / 4);
        self
    }

    fn keeps(&self, value: &Bytes) -> bool {
        self.capacity_bytes > 0 && value.len() as u64 <= self.max_item_bytes
    }
}

/// What a lower tier's failures mean.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// The source of truth: errors reach the caller.
    Durable,
    /// A shared cache: errors are logged, counted and skipped.
    BestEffort,
}

/// A tier below memory, named for metrics and logs.
pub struct Tier {
    name: String,
    store: Arc<dyn Store>,
    role: Role,
}

impl Tier {
    /// A best-effort tier over any store.
    pub fn cache(name: impl Into<String>, store: Arc<dyn Store>) -> Self {
        Self {
            name: name.into(),
            store,
            role: Role::BestEffort,
        }
    }

    /// The durable store memory fronts.
    pub fn durable(name: impl Into<String>, store: Arc<dyn Store>) -> Self {
        Self {
            name: name.into(),
            store,
            role: Role::Durable,
        }
    }

    /// Passes a durable tier's error on; logs a best-effort tier's.
    fn outcome<T>(
        &self,
        op: &str,
        key: &str,
        result: Result<T, Error>,
    ) -> Result<Option<T>, Error> {
        match result {
            Ok(value) => Ok(Some(value)),
            Err(e) if self.role == Role::Durable => Err(e),
            Err(e) => {
                tracing::warn!(key, tier = %self.name, error = %e, "cache tier {op} failed");
                Ok(None)
            }
        }
    }
}

type ReadResult = Result<Option<Bytes>, Error>;

/// Memory in front of `tiers` (tried in order).
pub struct TieredStore {
    shared: Arc<Shared>,
    /// Lookups in flight by key and the write generation they started in.
    flights: Flights<(String, u64), ReadResult>,
}

struct Shared {
    /// Metrics name of the memory tier (`memory`, `read_cache`).
    memory_name: &'static str,
    memory: Cache<String, Bytes>,
    config: MemoryTierConfig,
    tiers: Vec<Tier>,
    /// Writes fill memory only when no tier below is the source of truth.
    fill_on_write: bool,
    /// Bumped by every write and delete; a lookup that saw it change does
    /// not fill memory with what it found.
    generation: AtomicU64,
    stats: StoreStats,
}

impl TieredStore {
    /// Memory sized by `config` (counted as `memory_name`) over `tiers`.
    pub fn new(
        memory_name: &'static str,
        config: MemoryTierConfig,
        tiers: Vec<Tier>,
        stats: StoreStats,
    ) -> Self {
        let evictions = stats.clone();
        let mut builder = Cache::builder()
            .max_capacity(config.capacity_bytes)
            .weigher(|key: &String, value: &Bytes| weigh(key, value))
            .eviction_listener(move |_key, _value, cause| {
                if matches!(cause, RemovalCause::Size | RemovalCause::Expired) {
                    evictions.eviction(memory_name);
                }
            });
        if let Some(ttl) = config.ttl {
            builder = builder.time_to_live(ttl);
        }
        let fill_on_write = tiers.iter().all(|t| t.role == Role::BestEffort);
        let shared = Shared {
            memory_name,
            memory: builder.build(),
            config,
            tiers,
            fill_on_write,
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
    pub async fn memory_bytes(&self) -> u64 {
        self.shared.memory.run_pending_tasks().await;
        self.shared.memory.weighted_size()
    }
}

/// Weight of an entry for moka: its key and value bytes.
fn weigh(key: &str, value: &Bytes) -> u32 {
    u32::try_from(key.len() + value.len()).unwrap_or(u32::MAX)
}

#[async_trait]
impl Store for TieredStore {
    /// Memory first, then each tier below; a hit below fills the tiers above.
    async fn get(&self, key: &str) -> Result<Option<Bytes>, Error> {
        let s = &self.shared;
        if let Some(value) = s.memory.get(key).await {
            s.stats.hit(s.memory_name);
            s.stats.read_bytes(s.memory_name, value.len());
            return Ok(Some(value));
        }
        s.stats.miss(s.memory_name);
        if s.tiers.is_empty() {
            return Ok(None);
        }
        let shared = self.shared.clone();
        let owned = key.to_string();
        let generation = s.generation.load(Ordering::SeqCst);
        let (result, role) = self
            .flights
            .run((owned.clone(), generation), async move {
                shared.load(owned, generation).await
            })
            .await;
        if role == FlightRole::Follower {
            s.stats.collapsed_read();
        }
        result.unwrap_or_else(|| Err(Error::Other(format!("read of `{key}` panicked"))))
    }

    /// Writes every tier below, then memory (or drops memory's copy when a
    /// durable tier is below).
    async fn set(&self, key: &str, value: Bytes) -> Result<(), Error> {
        let s = &self.shared;
        let mut result = Ok(());
        for tier in &s.tiers {
            if let Err(e) = tier.outcome("write", key, tier.store.set(key, value.clone()).await) {
                result = Err(e);
                break;
            }
        }
        s.generation.fetch_add(1, Ordering::SeqCst);
        if result.is_ok() && s.fill_on_write && s.config.keeps(&value) {
            s.stats.written_bytes(s.memory_name, value.len());
            s.memory.insert(key.to_string(), value).await;
            s.stats.cache_size(s.memory_name, s.memory.weighted_size());
        } else {
            s.memory.invalidate(key).await;
        }
        result
    }

    /// Writes every tier below in one batch each (a durable tier makes
    /// them durable together), then drops memory's copies.
    async fn set_many(&self, entries: Vec<(String, Bytes)>) -> Result<(), Error> {
        let s = &self.shared;
        let mut result = Ok(());
        for tier in &s.tiers {
            let written = tier.store.set_many(entries.clone()).await;
            if let Err(e) = tier.outcome("write", "(batch)", written) {
                result = Err(e);
                break;
            }
        }
        s.generation.fetch_add(1, Ordering::SeqCst);
        for (key, _) in &entries {
            s.memory.invalidate(key).await;
        }
        result
    }

    /// The first tier below that has the key, read past memory.
    async fn get_fresh(&self, key: &str) -> Result<Option<Bytes>, Error> {
        for tier in &self.shared.tiers {
            if let Some(Some(value)) = tier.outcome("read", key, tier.store.get_fresh(key).await)? {
                return Ok(Some(value));
            }
        }
        Ok(None)
    }

    /// Removes from every tier below, then from memory.
    async fn delete(&self, key: &str) -> Result<(), Error> {
        let s = &self.shared;
        let mut result = Ok(());
        for tier in &s.tiers {
            if let Err(e) = tier.outcome("delete", key, tier.store.delete(key).await) {
                result = Err(e);
                break;
            }
        }
        s.generation.fetch_add(1, Ordering::SeqCst);
        s.memory.invalidate(key).await;
        result
    }

    /// Whether memory or any tier that answers holds the key.
    async fn exists(&self, key: &str) -> Result<bool, Error> {
        let s = &self.shared;
        if s.memory.contains_key(key) {
            return Ok(true);
        }
        for tier in &s.tiers {
            if tier.outcome("lookup", key, tier.store.exists(key).await)? == Some(true) {
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// The keys of memory and of every tier that answers, sorted.
    async fn get_keys(&self) -> Result<Vec<String>, Error> {
        let s = &self.shared;
        s.memory.run_pending_tasks().await;
        let mut keys: Vec<String> = s.memory.iter().map(|(k, _)| (*k).clone()).collect();
        for tier in &s.tiers {
            if let Some(more) = tier.outcome("listing", "", tier.store.get_keys().await)? {
                keys.extend(more);
            }
        }
        keys.sort();
        keys.dedup();
        Ok(keys)
    }

    /// The durable tier's page: memory holds only some of the keys. A cache
    /// (no durable tier) sorts a whole listing.
    async fn list_page(
        &self,
        prefix: &str,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Option<super::KeyPage>, Error> {
        if let Some(tier) = self.shared.tiers.iter().find(|t| t.role == Role::Durable) {
            return tier.store.list_page(prefix, after, limit).await;
        }
        let mut keys = self.get_keys().await?;
        keys.sort_unstable();
        Ok(Some(super::listing::page_of(&keys, prefix, after, limit)))
    }

    /// Forgets memory's copy; the tiers below are shared and already
    /// changed, but the source of truth hears of it too (an `fs` store's
    /// ordered index of keys follows).
    async fn invalidate(&self, key: &str) {
        self.shared.generation.fetch_add(1, Ordering::SeqCst);
        self.shared.memory.invalidate(key).await;
        for tier in self.shared.tiers.iter().filter(|t| t.role == Role::Durable) {
            tier.store.invalidate(key).await;
        }
    }
}

impl Shared {
    /// Reads `key` from the tiers; fills memory only if no write happened
    /// since `generation`.
    async fn load(&self, key: String, generation: u64) -> ReadResult {
        for (i, tier) in self.tiers.iter().enumerate() {
            let Some(found) = tier.outcome("read", &key, tier.store.get(&key).await)? else {
                continue;
            };
            let Some(value) = found else {
                self.stats.miss(&tier.name);
                continue;
            };
            self.stats.hit(&tier.name);
            for upper in &self.tiers[..i] {
                let _ = upper.store.set(&key, value.clone()).await;
            }
            if self.config.keeps(&value) && self.generation.load(Ordering::SeqCst) == generation {
                self.memory.insert(key.clone(), value.clone()).await;
                // A write that landed while inserting may have invalidated
                // before the insert: drop what might now be stale.
                if self.generation.load(Ordering::SeqCst) != generation {
                    self.memory.invalidate(&key).await;
                }
                self.stats
                    .cache_size(self.memory_name, self.memory.weighted_size());
            }
            return Ok(Some(value));
        }
        Ok(None)
    }
}
