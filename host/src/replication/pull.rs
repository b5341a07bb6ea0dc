//! Pull-through: a miss on an original or its metadata asks the peers,
//! nearest first by measured RTT, each with a deadline sized by its RTT,
//! and keeps the copy before it is served (like an origin shield), so a
//! fetch right after an upload in another region works. A peer asked may
//! pull onward once from its own other peers (so an edge region that lists
//! only its hub still finds an image uploaded behind another hub); those
//! onward requests are answered from the store only, so misses never loop.
//! A tombstone here means no pull; concurrent misses of one key make one
//! pull; "nobody has it" is remembered briefly. A kept copy is relayed to
//! the other peers like any received change.

use std::time::{Duration, Instant};

use bytes::Bytes;

use tracing::Instrument;

use super::apply::image_id;
use super::peer_client::Fetched;
use super::Replication;
use crate::kv::singleflight::Flights;
use crate::kv::Error;

/// Pulls in flight and recent misses.
pub struct Pulls {
    /// By label, key and whether the peers asked may go onward: a pull
    /// made for a peer (asking onward, with no onward of its own) never
    /// joins one of this host's own pulls, which may be waiting on that
    /// very peer.
    flights: Flights<(String, String, bool), Result<Option<Bytes>, Error>>,
    misses: moka::sync::Cache<(String, String), ()>,
}

impl Pulls {
    pub fn new(negative_ttl: Duration) -> Self {
        Self {
            flights: Flights::default(),
            misses: moka::sync::Cache::builder()
                .max_capacity(100_000)
                .time_to_live(negative_ttl)
                .build(),
        }
    }

    /// Forgets a remembered miss (the key now exists, or changed).
    pub fn forget(&self, label: &str, key: &str) {
        self.misses
            .invalidate(&(label.to_string(), key.to_string()));
    }
}

/// Whether a miss on `key` asks the peers: originals and metadata.
pub fn pullable(key: &str) -> bool {
    image_id(key).is_some()
}

/// How a pull may proceed.
#[derive(Clone, Default)]
pub struct PullScope {
    /// The peer that asked (an onward pull never asks it back).
    pub exclude: Option<String>,
    /// Whether the peers asked may pull onward (one hop) themselves.
    pub onward: bool,
    /// The time the whole pull may take (an onward pull's budget).
    pub budget: Option<Duration>,
}

impl Replication {
    /// The value of `key` from the first peer that has it (nearest first;
    /// each may pull onward once), stored here first; `None` when no peer
    /// has it or a tombstone says it is gone.
    pub async fn pull(
        self: &std::sync::Arc<Self>,
        label: &str,
        key: &str,
    ) -> Result<Option<Bytes>, Error> {
        let scope = PullScope {
            onward: true,
            ..Default::default()
        };
        self.pull_within(label, key, scope).await
    }

    /// [`Replication::pull`] within `scope`.
    pub async fn pull_within(
        self: &std::sync::Arc<Self>,
        label: &str,
        key: &str,
        scope: PullScope,
    ) -> Result<Option<Bytes>, Error> {
        if !pullable(key) || self.config.peers.is_empty() {
            return Ok(None);
        }
        let id = (label.to_string(), key.to_string());
        if self.pulls.misses.contains_key(&id) {
            return Ok(None);
        }
        if self
            .label(label)?
            .records
            .get(key)
            .await?
            .is_some_and(|r| r.deleted)
        {
            return Ok(None);
        }
        let this = self.clone();
        let flight = (id.0, id.1, scope.onward);
        let (result, _) = self
            .pulls
            .flights
            .run(
                flight.clone(),
                // The flight may run on another task: it joins the trace of
                // the request that started it.
                async move { this.pull_from_peers(&flight.0, &flight.1, &scope).await }
                    .in_current_span(),
            )
            .await;
        result.unwrap_or_else(|| Err(Error::Other(format!("pull of `{key}` panicked"))))
    }

    async fn pull_from_peers(
        &self,
        label: &str,
        key: &str,
        scope: &PullScope,
    ) -> Result<Option<Bytes>, Error> {
        let until = scope.budget.map(|b| Instant::now() + b);
        for peer in self.peers_by_rtt() {
            if scope.exclude.as_deref() == Some(peer.region.as_str()) {
                continue;
            }
            let (mut timeout, onward) = self.pull_deadline(&peer.region, scope.onward);
            if let Some(until) = until {
                let left = until.saturating_duration_since(Instant::now());
                if left.is_zero() {
                    break;
                }
                timeout = timeout.min(left);
            }
            let breaker = self.breaker(peer);
            if !breaker.allow() {
                continue;
            }
            let onward = scope.onward.then_some(onward);
            let span = tracing::trace_span!(
                target: crate::telemetry::SPANS,
                "replication pull",
                otel.kind = "client",
                edgeimg.peer = %peer.region,
                edgeimg.kv.key = key,
            );
            let fetched = self
                .client
                .get(&peer.url, label, key, onward, timeout)
                .instrument(span)
                .await;
            let from = Some(peer.region.as_str());
            match fetched {
                Ok(Fetched::Found { version, value }) => {
                    breaker.success();
                    self.metrics.pulled(&peer.region, "hit");
                    return match self
                        .apply_put(label, key, &version, value.clone(), from)
                        .await
                    {
                        Ok(true) => Ok(Some(value)),
                        // This region has a newer version (or tombstone) by now.
                        Ok(false) => self.label(label)?.inner.get(key).await,
                        Err(e) => {
                            tracing::warn!(peer = %peer.region, key, error = %e, "pulled copy refused");
                            self.metrics.pulled(&peer.region, "error");
                            continue;
                        }
                    };
                }
                Ok(Fetched::Deleted(version)) => {
                    breaker.success();
                    self.metrics.pulled(&peer.region, "tombstone");
                    self.apply_delete(label, key, &version, from).await?;
                    return Ok(None);
                }
                Ok(Fetched::Missing) => {
                    breaker.success();
                    self.metrics.pulled(&peer.region, "miss");
                }
                Err(e) => {
                    breaker.failure(&format!("{e:#}"));
                    self.metrics.pulled(&peer.region, "error");
                    tracing::debug!(peer = %peer.region, key, error = %format!("{e:#}"), "pull failed");
                }
            }
        }
        self.pulls
            .misses
            .insert((label.to_string(), key.to_string()), ());
        Ok(None)
    }
}
