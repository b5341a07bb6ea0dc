//! Pull-through: a miss on an original or its metadata asks the peers,
//! nearest first, each with a short deadline, and keeps the copy before it
//! is served (like an origin shield), so a fetch right after an upload in
//! another region works. Peers answer from their own store only, so misses
//! never loop; a tombstone here means no pull; concurrent misses of one key
//! make one pull; "nobody has it" is remembered briefly.

use std::time::Duration;

use bytes::Bytes;

use super::apply::image_id;
use super::peer_client::Fetched;
use super::Replication;
use crate::kv::singleflight::Flights;
use crate::kv::Error;

/// Pulls in flight and recent misses.
pub struct Pulls {
    flights: Flights<(String, String), Result<Option<Bytes>, Error>>,
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

impl Replication {
    /// The value of `key` from the first peer that has it, stored here first;
    /// `None` when no peer has it or a tombstone says it is gone.
    pub async fn pull(
        self: &std::sync::Arc<Self>,
        label: &str,
        key: &str,
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
        let (result, _) = self
            .pulls
            .flights
            .run(id.clone(), async move {
                this.pull_from_peers(&id.0, &id.1).await
            })
            .await;
        result.unwrap_or_else(|| Err(Error::Other(format!("pull of `{key}` panicked"))))
    }

    async fn pull_from_peers(&self, label: &str, key: &str) -> Result<Option<Bytes>, Error> {
        for peer in &self.config.peers {
            let breaker = self.breaker(peer);
            if !breaker.allow() {
                continue;
            }
            let fetched = self
                .client
                .get(&peer.url, label, key, self.config.pull_timeout)
                .await;
            match fetched {
                Ok(Fetched::Found { version, value }) => {
                    breaker.success();
                    self.metrics.pulled(&peer.region, "hit");
                    return match self.apply_put(label, key, &version, value.clone()).await {
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
                    self.apply_delete(label, key, &version).await?;
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
