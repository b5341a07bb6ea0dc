//! Rot healed: an original read back from this region's store with bytes
//! that do not hash to its id ([`crate::kv::integrity`]) is never served.
//! A good copy is fetched from a peer (nearest first; its bytes checked
//! too), written over the damaged one and served; the repair is logged and
//! counted. When no peer has a good copy the read fails with the integrity
//! error, which a component answers as a JSON 5xx naming the problem.
//!
//! A scrub (`edgeimg scrub`, or every `scrub_interval_secs`) reads every
//! original from the store itself, past the memory cache, and heals what
//! it finds damaged.

use std::sync::Arc;

use bytes::Bytes;
use serde::Serialize;

use super::apply::ORIGINAL;
use super::peer_client::Fetched;
use super::version::Version;
use super::Replication;
use crate::kv::{integrity, Error};

/// What a scrub found.
#[derive(Debug, Default, Serialize)]
pub struct ScrubReport {
    /// Originals read and checked.
    pub checked: u64,
    /// Originals whose stored bytes did not hash to their id.
    pub corrupt: u64,
    /// Of those, rewritten with a good copy from a peer.
    pub repaired: u64,
    /// Originals that could not be read at all (store errors).
    pub failed: u64,
}

impl Replication {
    /// A good copy of the damaged `key` of `label` from a peer, stored here
    /// in place of the damaged one; concurrent callers share one repair.
    pub async fn heal(self: &Arc<Self>, label: &str, key: &str) -> Result<Bytes, Error> {
        let id = (label.to_string(), key.to_string());
        let this = self.clone();
        let (result, _) = self
            .heals
            .run(id.clone(), async move {
                this.heal_from_peers(&id.0, &id.1).await
            })
            .await;
        result.unwrap_or_else(|| Err(Error::Other(format!("repair of `{key}` panicked"))))
    }

    async fn heal_from_peers(&self, label: &str, key: &str) -> Result<Bytes, Error> {
        for peer in self.peers_by_rtt() {
            let breaker = self.breaker(peer);
            if !breaker.allow() {
                continue;
            }
            let timeout = self.config.delivery_timeout;
            match self.client.get(&peer.url, label, key, None, timeout).await {
                Ok(Fetched::Found { version, value }) if integrity::intact(key, &value) => {
                    breaker.success();
                    self.restore(label, key, &version, value.clone(), &peer.region)
                        .await?;
                    self.metrics.healed("repaired");
                    tracing::warn!(label, key, peer = %peer.region, bytes = value.len(), "integrity: repaired a damaged original with the peer's copy");
                    return Ok(value);
                }
                Ok(Fetched::Found { .. }) => {
                    breaker.success();
                    tracing::warn!(label, key, peer = %peer.region, "integrity: the peer's copy is damaged too");
                }
                Ok(_) => breaker.success(),
                Err(e) => breaker.failure(&format!("{e:#}")),
            }
        }
        self.metrics.healed("unrepaired");
        tracing::error!(
            label,
            key,
            "integrity: a damaged original could not be repaired: no peer has a good copy"
        );
        Err(integrity::corrupt(
            key,
            "and no peer region has a good copy to repair it from",
        ))
    }

    /// Writes a good copy over the damaged one: taken as a received change
    /// when the peer's version is newer, else rewritten as is (same bytes:
    /// the key names them), unless the key was deleted meanwhile.
    async fn restore(
        &self,
        label: &str,
        key: &str,
        version: &Version,
        value: Bytes,
        from: &str,
    ) -> Result<(), Error> {
        match self
            .apply_put(label, key, version, value.clone(), Some(from))
            .await
        {
            Ok(true) => return Ok(()),
            Ok(false) => {}
            Err(e) => return Err(Error::Other(e.to_string())),
        }
        let store = self.label(label)?;
        let _guard = self.locks.lock(label, key).await;
        if store.records.get(key).await?.is_some_and(|r| r.deleted) {
            return Ok(());
        }
        store.inner.set(key, value).await
    }

    /// Checks every original of every replicated label, healing the damaged.
    pub async fn scrub(self: &Arc<Self>) -> Result<ScrubReport, Error> {
        let mut report = ScrubReport::default();
        let mut labels: Vec<&String> = self.labels.keys().collect();
        labels.sort();
        for label in labels {
            let store = &self.labels[label];
            let mut keys: Vec<String> = store
                .inner
                .get_keys()
                .await?
                .into_iter()
                .filter(|k| k.starts_with(ORIGINAL))
                .collect();
            keys.sort();
            for key in keys {
                report.checked += 1;
                match store.inner.get_fresh(&key).await {
                    Ok(_) => {}
                    Err(Error::Corrupt(_)) => {
                        report.corrupt += 1;
                        if self.heal(label, &key).await.is_ok() {
                            report.repaired += 1;
                        }
                    }
                    Err(e) => {
                        report.failed += 1;
                        tracing::warn!(label, key, error = %e, "scrub: cannot read an original");
                    }
                }
            }
        }
        tracing::info!(?report, "integrity scrub done");
        Ok(report)
    }
}
