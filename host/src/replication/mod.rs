//! Replication between regions (edge locations), and between the hosts of
//! one region that share its stores.
//!
//! Every set and delete a component makes on a replicated label (`images`
//! by default) gets a version from a hybrid logical clock (`version`), a
//! record beside the key in the same store (`record`), and an entry in this
//! host's durable log (`log`) before the key-value call returns. A worker per
//! peer region (`delivery`) drains the log through the peer API of the other
//! regions (`peer_client` → `peer_api`, signed by `signing`, shapes in
//! `wire`), several batches in flight, backing off behind a circuit breaker
//! (`breaker`). Receivers apply a batch with one sync (`batch`), keep the
//! newest version, apply tombstones (`apply`) and log what they kept for
//! their other peers, so changes travel through hubs and along chains
//! (relay). A miss on an original or its metadata asks the peers, nearest
//! first by the RTT pings measure (`rtt`), each of which may pull onward
//! once (`pull`); a damaged original is replaced by a peer's good copy
//! (`heal`); an anti-entropy pass fixes what a log cannot (`repair`).
//! The other hosts of this region hear of each change (`siblings`) so their
//! memory caches and edge caches drop it at once. `metrics` and `status`
//! show backlog, lag, RTTs and breakers; `store` is the key-value face of it all.

pub mod apply;
pub mod batch;
pub mod breaker;
pub mod config;
pub mod delivery;
pub mod heal;
pub mod legacy;
pub mod log;
pub mod metrics;
pub mod peer_api;
pub mod peer_client;
pub mod pull;
pub mod record;
pub mod repair;
pub mod rtt;
pub mod siblings;
pub mod signing;
pub mod status;
pub mod store;
pub mod version;
pub mod wire;

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use tokio::sync::watch;

use self::breaker::Breaker;
use self::config::{Peer, ReplicationConfig};
use self::log::{Change, Log};
use self::metrics::ReplicationMetrics;
use self::peer_client::PeerClient;
use self::pull::Pulls;
use self::record::Records;
use self::rtt::Rtts;
use self::version::Clock;
use crate::kv::singleflight::Flights;
use crate::kv::{Error, Store, StoreRegistry};

/// Drops cached responses by tag: the host's edge cache, seen from here.
pub trait EdgePurge: Send + Sync {
    fn purge(&self, tags: Vec<String>);
}

/// One replicated label: its local store (what components write through)
/// and the version records kept in it.
pub struct LabelStore {
    pub inner: Arc<dyn Store>,
    pub records: Records,
}

/// The replication state of one host.
pub struct Replication {
    pub config: ReplicationConfig,
    log: Arc<Log>,
    clock: Clock,
    client: PeerClient,
    labels: HashMap<String, LabelStore>,
    breakers: HashMap<String, Breaker>,
    metrics: ReplicationMetrics,
    /// The newest sequence number logged; delivery workers wait on it.
    appended: watch::Sender<u64>,
    edge: Arc<dyn EdgePurge>,
    /// The store of encoded variants, whose entries of a deleted id go too.
    variants: Option<Arc<dyn Store>>,
    pulls: Pulls,
    /// Repairs of damaged originals in flight, by label and key.
    heals: Flights<(String, String), Result<bytes::Bytes, Error>>,
    locks: apply::KeyLocks,
    /// Measured round-trip time to each peer.
    rtts: Rtts,
    /// Per peer: wakes its delivery worker (the peer answers again).
    wakes: HashMap<String, Arc<tokio::sync::Notify>>,
    /// Peers of an older release, sent changes one by one.
    older: legacy::OlderPeers,
}

impl Replication {
    /// Opens the log under `data_dir` and takes over the replicated labels'
    /// stores (`stores`: label → its backend).
    pub fn open(
        config: ReplicationConfig,
        data_dir: &Path,
        stores: HashMap<String, Arc<dyn Store>>,
        variants: Option<Arc<dyn Store>>,
        edge: Arc<dyn EdgePurge>,
    ) -> Result<Self> {
        let log = Log::open(&data_dir.join("replication").join("log.redb"))?;
        let clock = Clock::new(&config.region, log.clock_floor()?);
        let last = log.last_seq()?;
        let client = PeerClient::new(&config.key, &config.region)?;
        let labels = stores
            .into_iter()
            .map(|(label, inner)| {
                let records = Records::new(inner.clone());
                (label, LabelStore { inner, records })
            })
            .collect();
        let breakers = config
            .peers
            .iter()
            .map(|p| (p.region.clone(), Breaker::new(&p.region)))
            .collect();
        let pulls = Pulls::new(config.negative_ttl);
        let wakes = config
            .peers
            .iter()
            .map(|p| (p.region.clone(), Arc::default()))
            .collect();
        Ok(Self {
            older: legacy::OlderPeers::default(),
            rtts: Rtts::new(&config.peers),
            wakes,
            heals: Flights::default(),
            metrics: ReplicationMetrics::default(),
            log: Arc::new(log),
            clock,
            client,
            labels,
            breakers,
            appended: watch::channel(last).0,
            edge,
            variants,
            pulls,
            locks: Default::default(),
            config,
        })
    }

    pub fn metrics(&self) -> &ReplicationMetrics {
        &self.metrics
    }

    fn label(&self, label: &str) -> Result<&LabelStore, Error> {
        self.labels
            .get(label)
            .ok_or_else(|| Error::Other(format!("label `{label}` is not replicated")))
    }

    fn breaker(&self, peer: &Peer) -> &Breaker {
        &self.breakers[&peer.region]
    }

    /// Logs `changes` durably in one commit (on the blocking pool: redb
    /// fsyncs) and wakes the delivery workers.
    async fn append_many(&self, changes: Vec<Change>) -> Result<(), Error> {
        if self.config.peers.is_empty() || changes.is_empty() {
            return Ok(());
        }
        let log = self.log.clone();
        let seq = tokio::task::spawn_blocking(move || log.append_many(&changes))
            .await
            .map_err(|e| Error::Other(format!("replication log: {e}")))?
            .map_err(|e| Error::Other(format!("replication log: {e:#}")))?;
        self.appended.send_replace(seq);
        Ok(())
    }

    /// Starts the background work: a delivery worker and a ping per peer,
    /// log pruning, tombstone expiry and (if configured) periodic repair
    /// and scrub. They stop when `shutdown` turns true; the log is
    /// consistent at every commit.
    pub fn start(self: &Arc<Self>, shutdown: watch::Receiver<bool>) {
        for peer in &self.config.peers {
            tokio::spawn(self.clone().deliver(peer.clone(), shutdown.clone()));
            tokio::spawn(self.clone().ping_loop(peer.clone(), shutdown.clone()));
        }
        tokio::spawn(self.clone().housekeeping(shutdown));
    }

    /// Wakes the delivery worker of `peer` (it answers again).
    fn wake(&self, peer: &str) {
        if let Some(wake) = self.wakes.get(peer) {
            wake.notify_one();
        }
    }

    /// Every minute: prune delivered log entries and refresh the backlog
    /// metrics; every hour: expire old tombstones; every
    /// `repair_interval`: repair with each peer; every `scrub_interval`:
    /// check every original.
    async fn housekeeping(self: Arc<Self>, mut shutdown: watch::Receiver<bool>) {
        let mut tick = tokio::time::interval(Duration::from_secs(60));
        let mut minutes = 0u64;
        let repair_every = self
            .config
            .repair_interval
            .map(|d| (d.as_secs() / 60).max(1));
        let scrub_every = self
            .config
            .scrub_interval
            .map(|d| (d.as_secs() / 60).max(1));
        loop {
            tokio::select! {
                _ = tick.tick() => {}
                _ = shutdown.changed() => return,
            }
            minutes += 1;
            let log = self.log.clone();
            let peers: Vec<String> = self.config.peers.iter().map(|p| p.region.clone()).collect();
            match tokio::task::spawn_blocking(move || log.prune(&peers)).await {
                Ok(Ok(n)) if n > 0 => tracing::debug!(entries = n, "replication log pruned"),
                Ok(Err(e)) => {
                    tracing::warn!(error = %format!("{e:#}"), "replication log prune failed")
                }
                _ => {}
            }
            if minutes.is_multiple_of(60) {
                self.expire_tombstones().await;
            }
            if scrub_every.is_some_and(|every| minutes.is_multiple_of(every)) {
                if let Err(e) = self.scrub().await {
                    tracing::warn!(error = %e, "periodic scrub failed");
                }
            }
            if repair_every.is_some_and(|every| minutes.is_multiple_of(every)) {
                for peer in &self.config.peers {
                    match self.repair(&peer.region).await {
                        Ok(report) => {
                            tracing::info!(peer = %peer.region, ?report, "periodic repair")
                        }
                        Err(e) => {
                            tracing::warn!(peer = %peer.region, error = %format!("{e:#}"), "periodic repair failed")
                        }
                    }
                }
            }
        }
    }

    /// Drops tombstone records older than `tombstone_days`.
    async fn expire_tombstones(&self) {
        let cutoff =
            version::wall_millis().saturating_sub(self.config.tombstone_ttl.as_millis() as u64);
        for (label, store) in &self.labels {
            let keys = match store.records.keys().await {
                Ok(keys) => keys,
                Err(e) => {
                    tracing::warn!(label, error = %e, "tombstone expiry: listing failed");
                    continue;
                }
            };
            let mut expired = 0;
            for key in keys {
                if let Ok(Some(record)) = store.records.get(&key).await {
                    if record.deleted && record.version.millis() < cutoff {
                        let _guard = self.locks.lock(label, &key).await;
                        if store.records.remove(&key).await.is_ok() {
                            expired += 1;
                        }
                    }
                }
            }
            if expired > 0 {
                tracing::info!(label, expired, "expired old tombstones");
            }
        }
    }
}

/// Puts replication in front of the replicated labels of `registry` and
/// returns it (not started yet).
pub fn install(
    config: ReplicationConfig,
    data_dir: &Path,
    registry: &mut StoreRegistry,
    edge: Arc<dyn EdgePurge>,
) -> Result<Arc<Replication>> {
    let mut stores = HashMap::new();
    for label in &config.labels {
        let store = registry.get(label, false).with_context(|| {
            format!(
                "[replication] `labels`: no key-value store {label:?} (stores: {})",
                registry.labels().join(", ")
            )
        })?;
        stores.insert(label.clone(), store);
    }
    let variants = registry.get("cache", false);
    let labels = config.labels.clone();
    let replication = Arc::new(Replication::open(
        config,
        data_dir,
        stores.clone(),
        variants,
        edge,
    )?);
    for label in labels {
        let inner = stores[&label].clone();
        let pulling = store::ReplicatedStore::new(replication.clone(), &label, inner.clone(), true);
        let regional = store::ReplicatedStore::new(replication.clone(), &label, inner, false);
        registry.wrap(&label, Arc::new(pulling), Arc::new(regional));
    }
    Ok(replication)
}

/// Reads the replication key for a CLI command: `EDGEIMG_REPLICATION_KEY`,
/// else `[replication] key` of `runtime_config`.
pub fn cli_key(runtime_config: Option<&Path>) -> Result<Vec<u8>> {
    if let Some(key) = std::env::var(config::KEY_ENV)
        .ok()
        .filter(|k| !k.is_empty())
    {
        return Ok(key.into_bytes());
    }
    let rc = crate::app::runtime_config::RuntimeConfig::load(runtime_config)?;
    let section: config::ReplicationSection = rc.section("replication")?;
    section.key.map(String::into_bytes).with_context(|| {
        format!(
            "no replication key: set {} or `[replication] key` in --runtime-config-file",
            config::KEY_ENV
        )
    })
}
