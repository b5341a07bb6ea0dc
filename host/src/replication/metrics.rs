//! Prometheus metrics of replication (`edgeimg_replication_*`): per peer the
//! backlog, the lag (age of the oldest undelivered change), what was
//! delivered and failed, the breaker's state and the RTT; per peer and
//! outcome the pulls made; changes relayed; damaged originals repaired.

use std::sync::atomic::AtomicU64;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;

use super::breaker::State;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct PeerLabels {
    peer: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct PullLabels {
    peer: String,
    outcome: String,
}

/// The counters and gauges, shared by the workers.
#[derive(Default)]
pub struct ReplicationMetrics {
    backlog: Family<PeerLabels, Gauge>,
    lag: Family<PeerLabels, Gauge<f64, AtomicU64>>,
    delivered: Family<PeerLabels, Counter>,
    delivered_bytes: Family<PeerLabels, Counter>,
    failed: Family<PeerLabels, Counter>,
    breaker: Family<PeerLabels, Gauge>,
    pulls: Family<PullLabels, Counter>,
    rtt: Family<PeerLabels, Gauge<f64, AtomicU64>>,
    relayed: Counter,
    heals: Family<OutcomeLabels, Counter>,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OutcomeLabels {
    outcome: String,
}

fn peer(region: &str) -> PeerLabels {
    PeerLabels {
        peer: region.to_string(),
    }
}

impl ReplicationMetrics {
    pub fn register(&self, registry: &mut Registry) {
        let r = registry.sub_registry_with_prefix("replication");
        r.register(
            "backlog",
            "Logged changes a peer does not have yet",
            self.backlog.clone(),
        );
        r.register(
            "lag_seconds",
            "Age of the oldest change a peer does not have yet",
            self.lag.clone(),
        );
        r.register(
            "delivered",
            "Changes delivered to a peer (what it already had is not counted)",
            self.delivered.clone(),
        );
        r.register(
            "delivered_bytes",
            "Value bytes delivered to a peer",
            self.delivered_bytes.clone(),
        );
        r.register(
            "failed_batches",
            "Delivery batches that failed (retried with backoff)",
            self.failed.clone(),
        );
        r.register(
            "breaker_state",
            "A peer's circuit breaker: 0 closed, 1 half-open, 2 open",
            self.breaker.clone(),
        );
        r.register(
            "pulls",
            "Pull-through requests to a peer, by outcome (hit, miss, tombstone, error)",
            self.pulls.clone(),
        );
        r.register(
            "rtt_seconds",
            "Smoothed round-trip time of a ping to a peer",
            self.rtt.clone(),
        );
        r.register(
            "relayed",
            "Changes received from a peer and logged to pass on to the other peers",
            self.relayed.clone(),
        );
        r.register(
            "integrity_repairs",
            "Damaged originals found here, by outcome (repaired from a peer, unrepaired)",
            self.heals.clone(),
        );
    }

    pub fn rtt(&self, region: &str, seconds: f64) {
        self.rtt.get_or_create(&peer(region)).set(seconds);
    }

    pub fn relayed(&self, changes: u64) {
        self.relayed.inc_by(changes);
    }

    pub fn healed(&self, outcome: &str) {
        let labels = OutcomeLabels {
            outcome: outcome.to_string(),
        };
        self.heals.get_or_create(&labels).inc();
    }

    pub fn backlog(&self, region: &str, changes: u64, lag_seconds: f64) {
        self.backlog
            .get_or_create(&peer(region))
            .set(changes as i64);
        self.lag.get_or_create(&peer(region)).set(lag_seconds);
    }

    pub fn delivered(&self, region: &str, changes: u64, bytes: u64) {
        self.delivered.get_or_create(&peer(region)).inc_by(changes);
        self.delivered_bytes
            .get_or_create(&peer(region))
            .inc_by(bytes);
    }

    pub fn failed(&self, region: &str) {
        self.failed.get_or_create(&peer(region)).inc();
    }

    pub fn breaker(&self, region: &str, state: State) {
        self.breaker.get_or_create(&peer(region)).set(state.code());
    }

    pub fn pulled(&self, region: &str, outcome: &str) {
        let labels = PullLabels {
            peer: region.to_string(),
            outcome: outcome.to_string(),
        };
        self.pulls.get_or_create(&labels).inc();
    }

    /// (backlog, lag seconds, delivered, failed) of a peer, for status.
    pub fn of(&self, region: &str) -> (i64, f64, u64, u64) {
        let p = peer(region);
        (
            self.backlog.get_or_create(&p).get(),
            self.lag.get_or_create(&p).get(),
            self.delivered.get_or_create(&p).get(),
            self.failed.get_or_create(&p).get(),
        )
    }
}
