//! Prometheus counters of the key-value backends and caches.
//!
//! One [`StorageMetrics`] per process (see [`storage_metrics`]); each store
//! holds a [`StoreStats`] handle that fixes its `store` label.

use std::sync::{Arc, LazyLock};

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct TierLabels {
    store: String,
    tier: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ErrorLabels {
    store: String,
    tier: String,
    op: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StoreLabels {
    store: String,
}

/// Counters for every key-value store of the process.
#[derive(Default)]
pub struct StorageMetrics {
    hits: Family<TierLabels, Counter>,
    misses: Family<TierLabels, Counter>,
    evictions: Family<TierLabels, Counter>,
    read_bytes: Family<TierLabels, Counter>,
    written_bytes: Family<TierLabels, Counter>,
    backend_reads: Family<TierLabels, Counter>,
    backend_errors: Family<ErrorLabels, Counter>,
    collapsed_reads: Family<StoreLabels, Counter>,
    cache_size: Family<TierLabels, Gauge>,
    integrity_failures: Family<StoreLabels, Counter>,
}

impl StorageMetrics {
    /// Adds the counters (`edgeimg_kv_*`) to the registry served on `/metrics`.
    pub fn register(&self, registry: &mut Registry) {
        let r = registry.sub_registry_with_prefix("kv");
        r.register(
            "cache_hits",
            "Reads answered by a cache tier",
            self.hits.clone(),
        );
        r.register(
            "cache_misses",
            "Reads a cache tier could not answer",
            self.misses.clone(),
        );
        r.register(
            "cache_evictions",
            "Entries a cache tier dropped for space or age",
            self.evictions.clone(),
        );
        r.register(
            "read_bytes",
            "Value bytes returned by a tier",
            self.read_bytes.clone(),
        );
        r.register(
            "written_bytes",
            "Value bytes stored into a tier",
            self.written_bytes.clone(),
        );
        r.register(
            "backend_reads",
            "Reads sent to a backend (object store, Redis)",
            self.backend_reads.clone(),
        );
        r.register(
            "backend_errors",
            "Failed backend operations, by operation",
            self.backend_errors.clone(),
        );
        r.register(
            "cache_size_bytes",
            "Bytes a memory tier held at its last insert",
            self.cache_size.clone(),
        );
        r.register(
            "collapsed_reads",
            "Reads that joined an identical read in flight instead of reaching the backend",
            self.collapsed_reads.clone(),
        );
        r.register(
            "integrity_failures",
            "Stored originals read back with bytes that do not hash to their id",
            self.integrity_failures.clone(),
        );
    }

    /// A handle whose counters carry `store = label`.
    pub fn store(self: &Arc<Self>, label: &str) -> StoreStats {
        StoreStats {
            metrics: self.clone(),
            store: label.to_string(),
        }
    }
}

/// The process-wide storage counters.
pub fn storage_metrics() -> &'static Arc<StorageMetrics> {
    static METRICS: LazyLock<Arc<StorageMetrics>> = LazyLock::new(Default::default);
    &METRICS
}

/// Counters of one store (one key-value label).
#[derive(Clone)]
pub struct StoreStats {
    metrics: Arc<StorageMetrics>,
    store: String,
}

impl StoreStats {
    /// Counters for a store that is not served on `/metrics` (tests, tools).
    #[cfg(test)]
    pub fn detached(label: &str) -> Self {
        Arc::new(StorageMetrics::default()).store(label)
    }

    fn tier(&self, tier: &str) -> TierLabels {
        TierLabels {
            store: self.store.clone(),
            tier: tier.to_string(),
        }
    }

    /// A read answered by `tier` (its bytes count in [`Self::read_bytes`]).
    pub fn hit(&self, tier: &str) {
        self.metrics.hits.get_or_create(&self.tier(tier)).inc();
    }

    /// A read `tier` could not answer.
    pub fn miss(&self, tier: &str) {
        self.metrics.misses.get_or_create(&self.tier(tier)).inc();
    }

    /// An entry dropped by `tier` for space or age.
    pub fn eviction(&self, tier: &str) {
        self.metrics.evictions.get_or_create(&self.tier(tier)).inc();
    }

    /// Bytes returned by `tier`.
    pub fn read_bytes(&self, tier: &str, bytes: usize) {
        self.metrics
            .read_bytes
            .get_or_create(&self.tier(tier))
            .inc_by(bytes as u64);
    }

    /// Bytes stored into `tier`.
    pub fn written_bytes(&self, tier: &str, bytes: usize) {
        self.metrics
            .written_bytes
            .get_or_create(&self.tier(tier))
            .inc_by(bytes as u64);
    }

    /// A read sent to the backend `tier`.
    pub fn backend_read(&self, tier: &str) {
        self.metrics
            .backend_reads
            .get_or_create(&self.tier(tier))
            .inc();
    }

    /// A failed `op` on the backend `tier`.
    pub fn backend_error(&self, tier: &str, op: &str) {
        let labels = ErrorLabels {
            store: self.store.clone(),
            tier: tier.to_string(),
            op: op.to_string(),
        };
        self.metrics.backend_errors.get_or_create(&labels).inc();
    }

    /// The bytes a memory `tier` holds now.
    pub fn cache_size(&self, tier: &str, bytes: u64) {
        let bytes = i64::try_from(bytes).unwrap_or(i64::MAX);
        self.metrics
            .cache_size
            .get_or_create(&self.tier(tier))
            .set(bytes);
    }

    /// A read that joined one already in flight.
    pub fn collapsed_read(&self) {
        let labels = StoreLabels {
            store: self.store.clone(),
        };
        self.metrics.collapsed_reads.get_or_create(&labels).inc();
    }

    /// A stored value that failed its integrity check.
    pub fn integrity_failure(&self) {
        let labels = StoreLabels {
            store: self.store.clone(),
        };
        self.metrics.integrity_failures.get_or_create(&labels).inc();
    }

    /// Integrity failures so far (for tests).
    #[cfg(test)]
    pub fn integrity_failures(&self) -> u64 {
        let labels = StoreLabels {
            store: self.store.clone(),
        };
        self.metrics.integrity_failures.get_or_create(&labels).get()
    }

    /// Backend reads so far (for tests and benchmarks).
    #[cfg(test)]
    pub fn backend_reads(&self, tier: &str) -> u64 {
        self.metrics
            .backend_reads
            .get_or_create(&self.tier(tier))
            .get()
    }

    /// Backend errors of `op` so far (for tests).
    #[cfg(test)]
    pub fn backend_errors(&self, tier: &str, op: &str) -> u64 {
        let labels = ErrorLabels {
            store: self.store.clone(),
            tier: tier.to_string(),
            op: op.to_string(),
        };
        self.metrics.backend_errors.get_or_create(&labels).get()
    }

    /// Collapsed reads so far (for tests).
    #[cfg(test)]
    pub fn collapsed_reads(&self) -> u64 {
        self.metrics
            .collapsed_reads
            .get_or_create(&StoreLabels {
                store: self.store.clone(),
            })
            .get()
    }

    /// Hits of `tier` so far (for tests).
    #[cfg(test)]
    pub fn hits(&self, tier: &str) -> u64 {
        self.metrics.hits.get_or_create(&self.tier(tier)).get()
    }
}
