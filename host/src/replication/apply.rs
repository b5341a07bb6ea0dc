//! Changes to a replicated key: made here by a component (versioned, logged
//! and announced) or received from elsewhere (kept only when newer than
//! what this region has, so a late copy never resurrects a deleted key and
//! a re-upload after a delete wins). Changes to one key are serialized in
//! this host; the version records in the shared store order them across
//! the hosts of a region.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use bytes::Bytes;

use super::log::Change;
use super::record::Record;
use super::version::Version;
use super::{LabelStore, Replication};
use crate::kv::{integrity, Error};

/// Prefix of originals, whose key names their content hash.
pub const ORIGINAL: &str = "orig/";
/// Prefix of metadata.
pub const META: &str = "meta/";

/// The image id a key of an original or its metadata names.
pub fn image_id(key: &str) -> Option<&str> {
    key.strip_prefix(ORIGINAL)
        .or_else(|| key.strip_prefix(META))
}

/// Why a received value was refused.
#[derive(Debug, thiserror::Error)]
pub enum Refusal {
    #[error("the value of `{0}` does not hash to its id")]
    HashMismatch(String),
    #[error(transparent)]
    Store(#[from] Error),
}

/// Where a change came from, which decides who else must hear of it.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Origin {
    /// A component of this host (it purged its own edge cache and variants).
    Local,
    /// A peer region or a pull.
    Remote,
}

/// A label and a key of it.
type LabelKey = (String, String);

/// One async mutex per key in use.
#[derive(Default)]
pub struct KeyLocks {
    locks: Mutex<HashMap<LabelKey, Arc<tokio::sync::Mutex<()>>>>,
}

/// Holds a key's lock; releases (and forgets an unused lock) on drop.
pub struct KeyGuard<'a> {
    locks: &'a KeyLocks,
    id: LabelKey,
    guard: Option<tokio::sync::OwnedMutexGuard<()>>,
}

impl KeyLocks {
    pub async fn lock(&self, label: &str, key: &str) -> KeyGuard<'_> {
        let id = (label.to_string(), key.to_string());
        let lock = self
            .locks
            .lock()
            .unwrap()
            .entry(id.clone())
            .or_default()
            .clone();
        KeyGuard {
            locks: self,
            id,
            guard: Some(lock.lock_owned().await),
        }
    }
}

impl Drop for KeyGuard<'_> {
    fn drop(&mut self) {
        drop(self.guard.take());
        let mut locks = self.locks.locks.lock().unwrap();
        if locks
            .get(&self.id)
            .is_some_and(|l| Arc::strong_count(l) == 1)
        {
            locks.remove(&self.id);
        }
    }
}

impl Replication {
    /// A component stores `value`: versioned newer than anything this
    /// region has seen of the key, recorded, logged (fsync'd) before it returns.
    pub async fn local_set(&self, label: &str, key: &str, value: Bytes) -> Result<(), Error> {
        let store = self.label(label)?;
        let _guard = self.locks.lock(label, key).await;
        let version = self.next_version(store, key).await?;
        let bytes = value.len() as u64;
        store.inner.set(key, value).await?;
        let record = Record {
            version: version.clone(),
            deleted: false,
        };
        store.records.put(key, &record).await?;
        self.append_many(vec![change(label, key, version, false, bytes)])
            .await?;
        self.changed(label, key, false, Origin::Local);
        Ok(())
    }

    /// A component deletes `key`: a tombstone newer than what this region
    /// has, recorded before the value goes, logged before it returns.
    pub async fn local_delete(&self, label: &str, key: &str) -> Result<(), Error> {
        let store = self.label(label)?;
        let _guard = self.locks.lock(label, key).await;
        let version = self.next_version(store, key).await?;
        let record = Record {
            version: version.clone(),
            deleted: true,
        };
        store.records.put(key, &record).await?;
        store.inner.delete(key).await?;
        self.append_many(vec![change(label, key, version, true, 0)])
            .await?;
        self.changed(label, key, true, Origin::Local);
        Ok(())
    }

    /// A version newer than `key`'s record, which another host of the
    /// region may have written with a clock ahead of ours.
    async fn next_version(&self, store: &LabelStore, key: &str) -> Result<Version, Error> {
        if let Some(current) = store.records.get(key).await? {
            self.clock.observe(&current.version);
        }
        Ok(self.clock.now())
    }

    /// Keeps a received value if `version` is newer than this region's;
    /// returns whether it did. An original must hash to its id. A change
    /// kept is passed on to the other peers (relayed) unless it came
    /// `from` the only one: logged after the value is durable and before
    /// its version record, so a crash in between makes the sender (who
    /// had no answer) send it again.
    pub async fn apply_put(
        &self,
        label: &str,
        key: &str,
        version: &Version,
        value: Bytes,
        from: Option<&str>,
    ) -> Result<bool, Refusal> {
        if !integrity::intact(key, &value) {
            return Err(Refusal::HashMismatch(key.to_string()));
        }
        let store = self.label(label)?;
        let _guard = self.locks.lock(label, key).await;
        self.clock.observe(version);
        if store.records.version(key).await? >= *version {
            return Ok(false);
        }
        let bytes = value.len() as u64;
        store.inner.set(key, value).await?;
        self.relay(vec![received(label, key, version, bytes, from, None)])
            .await?;
        let record = Record {
            version: version.clone(),
            deleted: false,
        };
        store.records.put(key, &record).await?;
        self.changed(label, key, false, Origin::Remote);
        Ok(true)
    }

    /// Applies a received tombstone if it is newer than this region's
    /// version of the key; returns whether it did (and relays it, as
    /// [`Replication::apply_put`] does).
    pub async fn apply_delete(
        &self,
        label: &str,
        key: &str,
        version: &Version,
        from: Option<&str>,
    ) -> Result<bool, Error> {
        let store = self.label(label)?;
        let _guard = self.locks.lock(label, key).await;
        self.clock.observe(version);
        if store.records.version(key).await? >= *version {
            return Ok(false);
        }
        self.relay(vec![received(label, key, version, DELETED, from, None)])
            .await?;
        let record = Record {
            version: version.clone(),
            deleted: true,
        };
        store.records.put(key, &record).await?;
        store.inner.delete(key).await?;
        self.changed(label, key, true, Origin::Remote);
        Ok(true)
    }

    /// Logs received changes for the peers that may still lack them (see
    /// [`owed`]).
    pub(super) async fn relay(&self, changes: Vec<Change>) -> Result<(), Error> {
        let onward: Vec<Change> = changes
            .into_iter()
            .filter(|c| self.config.peers.iter().any(|p| owed(c, &p.region)))
            .collect();
        if onward.is_empty() {
            return Ok(());
        }
        self.metrics.relayed(onward.len() as u64);
        self.append_many(onward).await
    }

    /// What follows a change: a failed pull of the key is forgotten, the
    /// other hosts of the region drop their copies, and a received delete of
    /// an image purges its responses and variants here (a local one did so
    /// already, through the component).
    pub(super) fn changed(&self, label: &str, key: &str, deleted: bool, origin: Origin) {
        self.pulls.forget(label, key);
        self.announce(label, key, deleted);
        if deleted && origin == Origin::Remote {
            if let Some(id) = image_id(key) {
                self.edge.purge(vec![id.to_string()]);
                self.drop_variants(id);
            }
        }
    }

    /// Deletes the encoded variants of image `id` and their index (the
    /// resize component's layout: `vars/{id}` lists `var/{id}/...` keys).
    fn drop_variants(&self, id: &str) {
        let Some(cache) = self.variants.clone() else {
            return;
        };
        let id = id.to_string();
        tokio::spawn(async move {
            let index = format!("vars/{id}");
            let prefix = format!("var/{id}/");
            let listed = match cache.get(&index).await {
                Ok(list) => list.unwrap_or_default(),
                Err(e) => {
                    tracing::warn!(%id, error = %e, "cannot read the variant index of a deleted image");
                    return;
                }
            };
            for key in listed.split(|&b| b == b'\n').filter(|k| !k.is_empty()) {
                let key = String::from_utf8_lossy(key);
                if key.starts_with(&prefix) {
                    let _ = cache.delete(&key).await;
                }
            }
            let _ = cache.delete(&index).await;
        });
    }
}

fn change(label: &str, key: &str, version: Version, deleted: bool, bytes: u64) -> Change {
    Change {
        label: label.to_string(),
        key: key.to_string(),
        version,
        deleted,
        from: None,
        seen: None,
        bytes,
        trace: crate::telemetry::current_traceparent(),
    }
}

/// What [`received`] takes for the value of a tombstone.
pub(super) const DELETED: Option<u64> = None;

/// A change received `from` a peer (or pulled from it), to relay: a put of
/// `bytes`, or a tombstone ([`DELETED`]); `seen` as a delivery said (see
/// [`Change::seen`]).
pub(super) fn received(
    label: &str,
    key: &str,
    version: &Version,
    bytes: impl Into<Option<u64>>,
    from: Option<&str>,
    seen: Option<Vec<String>>,
) -> Change {
    let bytes = bytes.into();
    Change {
        from: from.filter(|f| !f.is_empty()).map(str::to_string),
        seen,
        ..change(
            label,
            key,
            version.clone(),
            bytes.is_none(),
            bytes.unwrap_or(0),
        )
    }
}

/// Whether `change` must still be sent to `peer`: not to the peer it came
/// from, nor to the region that made it, nor to one that gets it from
/// another host's log.
pub(super) fn owed(change: &Change, peer: &str) -> bool {
    change.from.as_deref() != Some(peer)
        && change.version.region != peer
        && !change
            .seen
            .as_ref()
            .is_some_and(|seen| seen.iter().any(|s| s == peer))
}
