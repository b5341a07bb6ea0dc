//! Delivery to a peer of an older release, during a rolling upgrade: it
//! answers `POST batch` with 404, so its changes go one by one through the
//! per-key routes it has (`PUT`/`DELETE objects/...`, each versioned and
//! signed), several at once. The batch route is tried again every
//! [`RETRY_BATCH`], so an upgraded peer gets batches within minutes.

use std::collections::{HashMap, HashSet};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use anyhow::Result;
use bytes::Bytes;
use futures::{stream, StreamExt, TryStreamExt};

use super::config::Peer;
use super::wire::{BatchEntry, Op, Outcome};
use super::Replication;

/// How long a peer without `POST batch` is served change by change before
/// the batch route is tried again.
const RETRY_BATCH: Duration = Duration::from_secs(300);
/// Changes sent to such a peer at once.
const AT_ONCE: usize = 8;

/// What a ping answer lists when the host reads batches signed with
/// their originals named by id ([`super::signing::BY_ID`]).
pub const DIGEST_BY_ID: &str = "batch-digest-by-id";

/// Per peer: until when it is sent changes one by one, and whether its
/// last ping said it reads batch digests by id (older releases do not:
/// they are sent whole-body digests).
#[derive(Default)]
pub struct OlderPeers {
    until: Mutex<HashMap<String, Instant>>,
    by_id: Mutex<HashSet<String>>,
}

impl OlderPeers {
    /// Whether `peer` is known to lack `POST batch` (for now).
    pub fn lacks_batch(&self, peer: &str) -> bool {
        let mut until = self.until.lock().unwrap();
        match until.get(peer) {
            Some(t) if Instant::now() < *t => true,
            Some(_) => {
                until.remove(peer);
                false
            }
            None => false,
        }
    }

    /// What `peer`'s ping answer listed in `features`.
    pub fn pinged(&self, peer: &str, features: &[String]) {
        let mut by_id = self.by_id.lock().unwrap();
        match features.iter().any(|f| f == DIGEST_BY_ID) {
            true => by_id.insert(peer.to_string()),
            false => by_id.remove(peer),
        };
    }

    /// Whether `peer` reads batches signed by id (as its last ping said).
    pub fn reads_digest_by_id(&self, peer: &str) -> bool {
        self.by_id.lock().unwrap().contains(peer)
    }

    /// `peer` answered a batch signed by id with 401: whole-body digests
    /// until a ping lists the feature again.
    pub fn refused_digest_by_id(&self, peer: &str) {
        if self.by_id.lock().unwrap().remove(peer) {
            tracing::warn!(%peer, "the peer refused a batch signed by id (rolled back to an older release?): signing its batches over the whole body");
        }
    }

    /// `peer` answered `POST batch` with 404: one by one for a while.
    pub fn found(&self, peer: &str) {
        let first = self
            .until
            .lock()
            .unwrap()
            .insert(peer.to_string(), Instant::now() + RETRY_BATCH)
            .is_none();
        if first {
            tracing::warn!(%peer, "the peer has no POST batch (an older release?): delivering change by change until it is upgraded");
        }
    }
}

impl Replication {
    /// Applies `entries` at `peer` one change at a time, answered as a batch
    /// would be. An offer is answered [`Outcome::Needed`] without asking:
    /// such a peer cannot say, and the value follows.
    pub(super) async fn post_one_by_one(
        &self,
        peer: &Peer,
        entries: &[(BatchEntry, Option<Bytes>)],
    ) -> Result<Vec<Outcome>> {
        // Owned, so the requests' future is `Send` for any lifetime.
        let sends: Vec<_> = entries
            .iter()
            .map(|(entry, value)| (entry.clone(), value.clone(), self.client.clone()))
            .collect();
        let (url, timeout) = (peer.url.clone(), self.config.delivery_timeout);
        stream::iter(sends)
            .map(|(entry, value, client)| {
                let url = url.clone();
                async move {
                    match entry.op {
                        Op::Offer => Ok(Outcome::Needed),
                        Op::Put | Op::Delete => {
                            client.apply_one(&url, &entry, value, timeout).await
                        }
                    }
                }
            })
            .buffered(AT_ONCE)
            .try_collect()
            .await
    }
}
