//! Anti-entropy: compare every key and version of the replicated labels
//! with one peer and fix both sides — push what the peer lacks or has older,
//! take what it has newer. How a region restored from a backup, or a host
//! whose log was lost, catches up. Run by `edgeimg repair --peer REGION`
//! (through the host's peer API) and optionally on a timer.

use std::collections::BTreeMap;

use anyhow::{bail, Context, Result};
use serde::Serialize;

use super::config::Peer;
use super::peer_client::Fetched;
use super::record::{is_reserved, PREFIX};
use super::wire::KeyEntry;
use super::Replication;

/// Keys per page when listing.
pub const PAGE: usize = 1000;

/// What a repair pass did.
#[derive(Debug, Default, Serialize)]
pub struct RepairReport {
    pub peer: String,
    /// Keys compared (either side).
    pub compared: u64,
    /// Sent to the peer (puts and tombstones).
    pub pushed: u64,
    /// Taken from the peer.
    pub pulled: u64,
    pub failed: u64,
}

impl Replication {
    /// The keys of `label` after `after` in order, at most `limit` of them
    /// looked at, each with its version and whether it is a tombstone; and
    /// the `after` of the next page, if there is one.
    pub async fn entries(
        &self,
        label: &str,
        after: Option<&str>,
        limit: usize,
    ) -> Result<(Vec<KeyEntry>, Option<String>)> {
        let store = self.label(label)?;
        let mut objects = std::collections::BTreeSet::new();
        let mut recorded = std::collections::BTreeSet::new();
        for key in store.inner.get_keys().await? {
            match key.strip_prefix(PREFIX) {
                Some(key) => recorded.insert(key.to_string()),
                None if !is_reserved(&key) => objects.insert(key),
                None => false,
            };
        }
        // Collected first: no iterator with borrowed closures lives across an await.
        let mut keys: Vec<String> = objects
            .union(&recorded)
            .filter(|k| after.is_none_or(|a| k.as_str() > a))
            .take(limit.saturating_add(1))
            .cloned()
            .collect();
        let next = if keys.len() > limit {
            keys.truncate(limit);
            keys.last().cloned()
        } else {
            None
        };
        let mut entries = Vec::new();
        for key in &keys {
            let record = store.records.get(key).await?;
            let present = objects.contains(key);
            match record {
                Some(r) if r.deleted && !present => entries.push(KeyEntry {
                    key: key.clone(),
                    version: r.version,
                    deleted: true,
                }),
                Some(r) if present => entries.push(KeyEntry {
                    key: key.clone(),
                    version: r.version,
                    deleted: false,
                }),
                None if present => entries.push(KeyEntry {
                    key: key.clone(),
                    version: super::version::Version::zero(),
                    deleted: false,
                }),
                // A record of a live key whose value is gone (or a deleted
                // key whose value came back): no claim to make either way.
                _ => {}
            }
        }
        Ok((entries, next))
    }

    /// Repairs every replicated label with the peer region `peer`.
    pub async fn repair(&self, peer: &str) -> Result<RepairReport> {
        let Some(peer) = self.config.peers.iter().find(|p| p.region == peer) else {
            bail!(
                "no peer region {peer:?} (peers: {})",
                self.config
                    .peers
                    .iter()
                    .map(|p| p.region.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            );
        };
        let mut report = RepairReport {
            peer: peer.region.clone(),
            ..Default::default()
        };
        let timeout = self.config.delivery_timeout;
        let labels: Vec<String> = self.labels.keys().cloned().collect();
        for label in &labels {
            let ours: BTreeMap<String, KeyEntry> = self
                .entries(label, None, usize::MAX)
                .await?
                .0
                .into_iter()
                .map(|e| (e.key.clone(), e))
                .collect();
            let mut theirs = BTreeMap::new();
            let mut after: Option<String> = None;
            loop {
                let page = self
                    .client
                    .keys(&peer.url, label, after.as_deref(), PAGE, timeout)
                    .await
                    .with_context(|| format!("listing {label} of {}", peer.region))?;
                for entry in page.entries {
                    theirs.insert(entry.key.clone(), entry);
                }
                match page.next {
                    Some(next) => after = Some(next),
                    None => break,
                }
            }
            let keys: std::collections::BTreeSet<&String> =
                ours.keys().chain(theirs.keys()).collect();
            for key in keys {
                report.compared += 1;
                let (mine, other) = (ours.get(key), theirs.get(key));
                let outcome = match (mine, other) {
                    (Some(m), o) if o.is_none_or(|o| m.version > o.version) => self
                        .push(&peer.url, label, m)
                        .await
                        .map(|()| report.pushed += 1),
                    (m, Some(o)) if m.is_none_or(|m| o.version > m.version) => {
                        self.take(peer, label, o).await.map(|()| report.pulled += 1)
                    }
                    _ => Ok(()),
                };
                if let Err(e) = outcome {
                    report.failed += 1;
                    tracing::warn!(peer = %peer.region, label, key, error = %format!("{e:#}"), "repair of a key failed");
                }
            }
        }
        Ok(report)
    }

    /// Sends our version of a key to the peer.
    async fn push(&self, url: &str, label: &str, entry: &KeyEntry) -> Result<()> {
        let timeout = self.config.delivery_timeout;
        if entry.deleted {
            self.client
                .delete(url, label, &entry.key, &entry.version, timeout)
                .await?;
            return Ok(());
        }
        let value = self.label(label)?.inner.get(&entry.key).await?;
        if let Some(value) = value {
            self.client
                .put(url, label, &entry.key, &entry.version, value, timeout)
                .await?;
        }
        Ok(())
    }

    /// Takes the peer's version of a key (and relays it, as received).
    async fn take(&self, peer: &Peer, label: &str, entry: &KeyEntry) -> Result<()> {
        let from = Some(peer.region.as_str());
        if entry.deleted {
            self.apply_delete(label, &entry.key, &entry.version, from)
                .await?;
            return Ok(());
        }
        match self
            .client
            .get(
                &peer.url,
                label,
                &entry.key,
                None,
                self.config.delivery_timeout,
            )
            .await?
        {
            Fetched::Found { version, value } => {
                self.apply_put(label, &entry.key, &version, value, from)
                    .await?;
            }
            Fetched::Deleted(version) => {
                self.apply_delete(label, &entry.key, &version, from).await?;
            }
            Fetched::Missing => {}
        }
        Ok(())
    }
}
