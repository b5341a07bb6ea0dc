//! A worker per peer region drains the log: batches of changes after the
//! peer's cursor, several in flight at once (pipelined, so a WAN round
//! trip is not paid per batch), each sent as one `POST batch` that the
//! peer makes durable with one sync before it answers. The cursor moves
//! (durably, in log order) only when every batch up to it is answered.
//!
//! What a batch carries: a change is never sent to the region that made
//! it, nor back to the peer it came from, nor to a region that gets it from
//! another host's log (each change carries the regions it was sent to and
//! their peers along its way: flooding without repeats). One superseded by
//! a newer change to its key is skipped (that one is delivered instead).
//! Values go with their change, except big values of a copy this host
//! pulled or repaired (the peer may well have them already), which are
//! offered first and sent only if the peer answers that it lacks them.
//!
//! Failures back off exponentially with jitter (at most [`MAX_BACKOFF`])
//! behind the peer's circuit breaker; a peer back from an outage answers a
//! ping within seconds, which wakes the worker. Nothing is dropped while a
//! peer is away.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use bytes::Bytes;
use futures::stream::{self, FuturesOrdered, StreamExt, TryStreamExt};
use tokio::sync::watch;
use tracing::Instrument;

use super::apply::owed;
use super::config::Peer;
use super::log::Change;
use super::peer_client::{ByIdRefused, NoBatchRoute};
use super::version::wall_millis;
use super::wire::{BatchEntry, Op, Outcome};
use super::Replication;
use crate::kv::Error;
use crate::telemetry::{self, SPANS};

/// Changes read from the log per batch.
const BATCH: usize = 256;
/// Value bytes per request (and per batch, as logged); a bigger value goes alone.
const REQUEST_BYTES: usize = 8 << 20;
/// Value bytes (as logged) in flight to one peer at most.
const IN_FLIGHT_BYTES: u64 = 32 << 20;
/// A relayed value up to this size is sent at once rather than offered.
const INLINE_MAX: usize = 64 << 10;
const FIRST_BACKOFF: Duration = Duration::from_millis(100);
const MAX_BACKOFF: Duration = Duration::from_secs(2);
/// Without news from the log, a worker looks again this often anyway.
const IDLE_POLL: Duration = Duration::from_secs(5);

/// What one batch moved.
#[derive(Default)]
struct Sent {
    changes: u64,
    bytes: u64,
}

/// A change as it stands now, ready to go.
enum Ready {
    Put(Bytes),
    Delete,
    /// Superseded, gone, or not for this peer.
    Skip,
}

impl Replication {
    /// Delivers the log to `peer` until `shutdown` turns true.
    pub(super) async fn deliver(self: Arc<Self>, peer: Peer, mut shutdown: watch::Receiver<bool>) {
        let mut appended = self.appended.subscribe();
        let wake = self.wakes[&peer.region].clone();
        let mut backoff = FIRST_BACKOFF;
        loop {
            if *shutdown.borrow() {
                return;
            }
            let pause = match self.drain(&peer).await {
                Ok(()) => {
                    backoff = FIRST_BACKOFF;
                    None
                }
                Err(Pause::Breaker(wait)) => Some(wait),
                Err(Pause::Failed(e)) => {
                    let error = format!("{e:#}");
                    tracing::debug!(peer = %peer.region, %error, "delivery failed");
                    self.breaker(&peer).failure(&error);
                    self.metrics.failed(&peer.region);
                    let wait = jitter(backoff);
                    backoff = (backoff * 2).min(MAX_BACKOFF);
                    Some(wait)
                }
            };
            self.metrics
                .breaker(&peer.region, self.breaker(&peer).state());
            tokio::select! {
                _ = shutdown.changed() => return,
                _ = appended.changed(), if pause.is_none() => {}
                _ = wake.notified() => {}
                _ = tokio::time::sleep(pause.unwrap_or(IDLE_POLL)) => {}
            }
        }
    }

    /// Sends batches until the peer has the whole log, up to
    /// `delivery_concurrency` of them in flight; changes logged meanwhile
    /// join the pipeline at once rather than after the batches in flight.
    async fn drain(self: &Arc<Self>, peer: &Peer) -> Result<(), Pause> {
        let mut appended = self.appended.subscribe();
        let mut cursor = self.cursor(&peer.region).await.map_err(Pause::Failed)?;
        let mut next = cursor;
        let mut inflight = FuturesOrdered::new();
        // (last sequence number, wall time of the oldest change, bytes) per batch in flight.
        let mut window: VecDeque<(u64, u64, u64)> = VecDeque::new();
        let breaker = self.breaker(peer);
        let room = |window: &VecDeque<(u64, u64, u64)>| {
            window.len() < self.config.delivery_concurrency
                && window.iter().map(|(_, _, b)| b).sum::<u64>() < IN_FLIGHT_BYTES
        };
        loop {
            while room(&window) {
                appended.borrow_and_update();
                let batch = self.read_log(next).await.map_err(Pause::Failed)?;
                let Some((through, _)) = batch.last() else {
                    break;
                };
                if !breaker.allow() {
                    if inflight.is_empty() {
                        return Err(Pause::Breaker(
                            breaker.wait().max(Duration::from_millis(50)),
                        ));
                    }
                    break;
                }
                let through = *through;
                let oldest = batch
                    .iter()
                    .map(|(_, c)| c.version.millis())
                    .min()
                    .unwrap_or(0);
                let bytes = batch.iter().map(|(_, c)| c.bytes).sum();
                window.push_back((through, oldest, bytes));
                next = through;
                let this = self.clone();
                let peer = peer.clone();
                inflight.push_back(async move { this.send_batch(&peer, batch).await });
            }
            self.report_backlog(&peer.region, cursor, &window);
            if inflight.is_empty() {
                return Ok(());
            }
            let done = tokio::select! {
                done = inflight.next() => done.expect("not empty"),
                _ = appended.changed(), if room(&window) => continue,
            };
            let sent = done.map_err(Pause::Failed)?;
            let (through, _, _) = window.pop_front().expect("one entry per batch");
            self.set_cursor(&peer.region, through)
                .await
                .map_err(Pause::Failed)?;
            cursor = through;
            breaker.success();
            self.metrics
                .delivered(&peer.region, sent.changes, sent.bytes);
        }
    }

    /// Backlog (changes after the cursor) and lag (age of the oldest).
    fn report_backlog(&self, peer: &str, cursor: u64, window: &VecDeque<(u64, u64, u64)>) {
        let last = *self.appended.borrow();
        let lag = window.front().map_or(0.0, |(_, oldest, _)| {
            wall_millis().saturating_sub(*oldest) as f64 / 1e3
        });
        self.metrics.backlog(peer, last.saturating_sub(cursor), lag);
    }

    async fn cursor(&self, peer: &str) -> Result<u64> {
        let (log, peer) = (self.log.clone(), peer.to_string());
        tokio::task::spawn_blocking(move || log.cursor(&peer)).await?
    }

    async fn set_cursor(&self, peer: &str, seq: u64) -> Result<()> {
        let (log, peer) = (self.log.clone(), peer.to_string());
        tokio::task::spawn_blocking(move || log.set_cursor(&peer, seq)).await?
    }

    async fn read_log(&self, after: u64) -> Result<Vec<(u64, Change)>> {
        let log = self.log.clone();
        tokio::task::spawn_blocking(move || log.read_after(after, BATCH, REQUEST_BYTES as u64))
            .await?
    }

    /// Sends one batch: the changes with their values (big relayed ones
    /// offered first), then the offered values the peer lacks.
    async fn send_batch(self: &Arc<Self>, peer: &Peer, batch: Vec<(u64, Change)>) -> Result<Sent> {
        let span = tracing::trace_span!(
            target: SPANS,
            "replication deliver",
            otel.kind = "client",
            edgeimg.peer = %peer.region,
            edgeimg.changes = batch.len(),
        );
        if !span.is_disabled() {
            // Part of the trace of the request that made the first change,
            // linked to those of the others.
            let mut traces: Vec<&str> = batch
                .iter()
                .filter_map(|(_, c)| c.trace.as_deref())
                .collect();
            traces.dedup();
            let (first, others) = traces
                .split_first()
                .map_or((None, &[][..]), |(f, o)| (Some(*f), o));
            telemetry::continue_kept(&span, first, others);
        }
        self.send_prepared(peer, batch).instrument(span).await
    }

    async fn send_prepared(
        self: &Arc<Self>,
        peer: &Peer,
        batch: Vec<(u64, Change)>,
    ) -> Result<Sent> {
        let started = std::time::Instant::now();
        let count = batch.len();
        let prepared: Vec<(Change, Ready)> = stream::iter(batch)
            .map(|(_, change)| async move {
                let ready = self.ready(peer, &change).await?;
                Ok::<_, anyhow::Error>((change, ready))
            })
            .buffered(16)
            .try_collect()
            .await?;
        let mut first = Vec::new();
        let mut offered = Vec::new();
        for (change, ready) in prepared {
            let entry = |op: Op, len: usize| BatchEntry {
                label: change.label.clone(),
                key: change.key.clone(),
                version: change.version.clone(),
                op,
                len: len as u64,
                seen: self.seen_after_sending(&change),
            };
            // A copy pulled or repaired here may well be at the peer already.
            let offer = change.from.is_some() && change.seen.is_none();
            match ready {
                Ready::Skip => {}
                Ready::Delete => first.push((entry(Op::Delete, 0), None)),
                Ready::Put(value) if offer && value.len() > INLINE_MAX => {
                    first.push((entry(Op::Offer, 0), None));
                    offered.push((entry(Op::Put, value.len()), Some(value)));
                }
                Ready::Put(value) => first.push((entry(Op::Put, value.len()), Some(value))),
            }
        }
        let mut sent = Sent::default();
        let answers = self.post(peer, &first, &mut sent).await?;
        let needed: Vec<(BatchEntry, Option<Bytes>)> = first
            .iter()
            .zip(&answers)
            .filter(|((e, _), outcome)| e.op == Op::Offer && **outcome == Outcome::Needed)
            .filter_map(|((e, _), _)| {
                offered
                    .iter()
                    .find(|(o, _)| o.key == e.key && o.label == e.label)
                    .cloned()
            })
            .collect();
        if !needed.is_empty() {
            self.post(peer, &needed, &mut sent).await?;
        }
        tracing::debug!(peer = %peer.region, changes = count, sent = sent.changes, bytes = sent.bytes, took_ms = started.elapsed().as_millis() as u64, "delivered a batch");
        Ok(sent)
    }

    /// Posts `entries` in requests of at most [`REQUEST_BYTES`] of values;
    /// counts what the peer applied into `sent`; the outcomes in order.
    async fn post(
        &self,
        peer: &Peer,
        entries: &[(BatchEntry, Option<Bytes>)],
        sent: &mut Sent,
    ) -> Result<Vec<Outcome>> {
        let mut outcomes = Vec::with_capacity(entries.len());
        let mut start = 0;
        while start < entries.len() {
            let mut end = start;
            let mut bytes = 0;
            while end < entries.len() {
                let len = entries[end].1.as_ref().map_or(0, Bytes::len);
                if end > start && bytes + len > REQUEST_BYTES {
                    break;
                }
                bytes += len;
                end += 1;
            }
            let part = &entries[start..end];
            let results = self.post_part(peer, part).await?;
            for ((entry, value), outcome) in part.iter().zip(&results) {
                match outcome {
                    Outcome::Applied => {
                        sent.changes += 1;
                        sent.bytes += value.as_ref().map_or(0, |v| v.len() as u64);
                    }
                    Outcome::Refused => {
                        tracing::error!(peer = %peer.region, key = %entry.key, "the peer refused a change (not replicated there, or damaged)")
                    }
                    Outcome::Kept | Outcome::Needed => {}
                }
            }
            outcomes.extend(results);
            start = end;
        }
        Ok(outcomes)
    }

    /// One request's worth of `entries`: a batch, or one by one to a peer
    /// of an older release (see [`super::legacy`]).
    async fn post_part(
        &self,
        peer: &Peer,
        part: &[(BatchEntry, Option<Bytes>)],
    ) -> Result<Vec<Outcome>> {
        if !self.older.lacks_batch(&peer.region) {
            let timeout = self.config.delivery_timeout;
            let by_id = self.older.reads_digest_by_id(&peer.region);
            let mut answered = self.client.batch(&peer.url, part, by_id, timeout).await;
            if answered.as_ref().is_err_and(|e| e.is::<ByIdRefused>()) {
                // Sent again at once, signed over the whole body, rather
                // than after a back-off and the peer's next ping.
                self.older.refused_digest_by_id(&peer.region);
                answered = self.client.batch(&peer.url, part, false, timeout).await;
            }
            match answered {
                Err(e) if e.is::<NoBatchRoute>() => self.older.found(&peer.region),
                answered => return answered,
            }
        }
        self.post_one_by_one(peer, part).await
    }

    /// The regions that will have `change` once this host has sent it: what
    /// it was told, this region and its peers (this host's log owes it to
    /// each of them).
    fn seen_after_sending(&self, change: &Change) -> Vec<String> {
        let mut seen = change.seen.clone().unwrap_or_default();
        let ours =
            std::iter::once(&self.config.region).chain(self.config.peers.iter().map(|p| &p.region));
        for region in ours {
            if !seen.contains(region) {
                seen.push(region.clone());
            }
        }
        seen
    }

    /// `change` as it stands now, for `peer`. Read under the key's lock,
    /// so a change being applied here is seen whole. A damaged original is
    /// healed from another peer first, or skipped (with an error logged)
    /// if none has a good copy: rot must not travel.
    async fn ready(self: &Arc<Self>, peer: &Peer, change: &Change) -> Result<Ready> {
        if !owed(change, &peer.region) {
            return Ok(Ready::Skip);
        }
        let store = self.label(&change.label)?;
        let value = {
            let _guard = self.locks.lock(&change.label, &change.key).await;
            let current = store.records.get(&change.key).await?;
            if current.as_ref().map(|r| &r.version) != Some(&change.version) {
                return Ok(Ready::Skip);
            }
            if change.deleted {
                return Ok(Ready::Delete);
            }
            store.inner.get(&change.key).await
        };
        match value {
            Ok(Some(value)) => Ok(Ready::Put(value)),
            Ok(None) => {
                // Its record says this version is here: the value went
                // behind replication's back (or a read lost a race).
                tracing::warn!(peer = %peer.region, key = %change.key, version = %change.version, "not delivered: recorded here but the value is missing");
                Ok(Ready::Skip)
            }
            Err(Error::Corrupt(_)) => match self.heal(&change.label, &change.key).await {
                Ok(value) => Ok(Ready::Put(value)),
                Err(e) => {
                    tracing::error!(peer = %peer.region, key = %change.key, error = %e, "not delivered: damaged here and nowhere to repair it from");
                    Ok(Ready::Skip)
                }
            },
            Err(e) => Err(e).with_context(|| format!("reading `{}` to deliver it", change.key)),
        }
    }
}

/// Why a worker waits before its next batch.
enum Pause {
    /// The peer's breaker is open for this long.
    Breaker(Duration),
    Failed(anyhow::Error),
}

/// `base` ± 50 %, so retries of many hosts do not arrive in step.
fn jitter(base: Duration) -> Duration {
    base.mul_f64(0.5 + fastrand::f64())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jitter_stays_within_half_of_the_base() {
        for _ in 0..100 {
            let d = jitter(Duration::from_secs(2));
            assert!(d >= Duration::from_secs(1) && d <= Duration::from_secs(3));
        }
    }
}
