//! A worker per peer region drains the log: a batch of changes after the
//! peer's cursor, one request asking which of them the peer lacks
//! (idempotent: what it has is skipped), then the missing puts and deletes
//! with bounded concurrency; the cursor moves (durably) only when the whole
//! batch is in. Failures back off exponentially with jitter behind the
//! peer's circuit breaker; nothing is dropped while a peer is away.

use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use futures::stream::{self, StreamExt, TryStreamExt};
use tokio::sync::watch;

use super::config::Peer;
use super::log::Change;
use super::version::wall_millis;
use super::wire::Offer;
use super::Replication;

/// Changes per batch.
const BATCH: usize = 64;
const FIRST_BACKOFF: Duration = Duration::from_millis(200);
const MAX_BACKOFF: Duration = Duration::from_secs(30);
/// Without news from the log, a worker looks again this often anyway.
const IDLE_POLL: Duration = Duration::from_secs(5);

/// What one batch moved.
#[derive(Default)]
struct Sent {
    changes: u64,
    bytes: u64,
}

impl Replication {
    /// Delivers the log to `peer` until `shutdown` turns true.
    pub(super) async fn deliver(self: Arc<Self>, peer: Peer, mut shutdown: watch::Receiver<bool>) {
        let mut appended = self.appended.subscribe();
        let mut backoff = FIRST_BACKOFF;
        loop {
            if *shutdown.borrow() {
                return;
            }
            let pause = match self.deliver_once(&peer).await {
                Ok(Some(sent)) => {
                    self.breaker(&peer).success();
                    self.metrics
                        .delivered(&peer.region, sent.changes, sent.bytes);
                    backoff = FIRST_BACKOFF;
                    continue;
                }
                Ok(None) => None,
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
                _ = tokio::time::sleep(pause.unwrap_or(IDLE_POLL)) => {}
            }
        }
    }

    /// One batch: `Ok(None)` when the peer is up to date.
    async fn deliver_once(&self, peer: &Peer) -> Result<Option<Sent>, Pause> {
        let (cursor, last, batch) = self.pending(&peer.region).await.map_err(Pause::Failed)?;
        let lag = batch.first().map_or(0.0, |(_, c)| {
            wall_millis().saturating_sub(c.version.millis()) as f64 / 1e3
        });
        self.metrics
            .backlog(&peer.region, last.saturating_sub(cursor), lag);
        let Some((through, _)) = batch.last() else {
            return Ok(None);
        };
        let through = *through;
        let breaker = self.breaker(peer);
        if !breaker.allow() {
            return Err(Pause::Breaker(
                breaker.wait().max(Duration::from_millis(50)),
            ));
        }
        let started = std::time::Instant::now();
        let changes = batch.len();
        let sent = self.send_batch(peer, batch).await.map_err(Pause::Failed)?;
        tracing::debug!(peer = %peer.region, changes, sent = sent.changes, took_ms = started.elapsed().as_millis() as u64, "delivered a batch");
        let log = self.log.clone();
        let region = peer.region.clone();
        tokio::task::spawn_blocking(move || log.set_cursor(&region, through))
            .await
            .map_err(|e| Pause::Failed(e.into()))?
            .map_err(Pause::Failed)?;
        let remaining = last.saturating_sub(through);
        self.metrics.backlog(
            &peer.region,
            remaining,
            if remaining == 0 { 0.0 } else { lag },
        );
        Ok(Some(sent))
    }

    /// The peer's cursor, the last sequence number and the next batch.
    async fn pending(&self, peer: &str) -> Result<(u64, u64, Vec<(u64, Change)>)> {
        let log = self.log.clone();
        let peer = peer.to_string();
        tokio::task::spawn_blocking(move || {
            let cursor = log.cursor(&peer)?;
            Ok((cursor, log.last_seq()?, log.read_after(cursor, BATCH)?))
        })
        .await?
    }

    /// Offers the batch, then sends what the peer lacks.
    async fn send_batch(&self, peer: &Peer, batch: Vec<(u64, Change)>) -> Result<Sent> {
        let timeout = self.config.delivery_timeout;
        let offers: Vec<Offer> = batch
            .iter()
            .map(|(_, c)| Offer {
                label: c.label.clone(),
                key: c.key.clone(),
                version: c.version.clone(),
            })
            .collect();
        let needed = self.client.needed(&peer.url, &offers, timeout).await?;
        let todo: Vec<Change> = batch
            .into_iter()
            .zip(needed)
            .filter_map(|((_, change), needed)| needed.then_some(change))
            .collect();
        let sent = stream::iter(todo)
            .map(|change| self.send_change(peer, change))
            .buffer_unordered(self.config.delivery_concurrency)
            .try_fold(Sent::default(), |mut sum, bytes| async move {
                if let Some(bytes) = bytes {
                    sum.changes += 1;
                    sum.bytes += bytes;
                }
                Ok(sum)
            })
            .await?;
        Ok(sent)
    }

    /// Sends one change as it stands now; `None` when a newer change to the
    /// key superseded it (that one is delivered by whoever made it).
    async fn send_change(&self, peer: &Peer, change: Change) -> Result<Option<u64>> {
        let timeout = self.config.delivery_timeout;
        let store = self.label(&change.label)?;
        let current = store.records.get(&change.key).await?;
        if current.as_ref().map(|r| &r.version) != Some(&change.version) {
            return Ok(None);
        }
        if change.deleted {
            self.client
                .delete(
                    &peer.url,
                    &change.label,
                    &change.key,
                    &change.version,
                    timeout,
                )
                .await?;
            return Ok(Some(0));
        }
        let Some(value) = store
            .inner
            .get(&change.key)
            .await
            .with_context(|| format!("reading `{}` to deliver it", change.key))?
        else {
            return Ok(None);
        };
        let bytes = value.len() as u64;
        self.client
            .put(
                &peer.url,
                &change.label,
                &change.key,
                &change.version,
                value,
                timeout,
            )
            .await?;
        Ok(Some(bytes))
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
