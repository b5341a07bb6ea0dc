//! Round-trip times to the peers, measured by a small signed ping every
//! couple of seconds: pull-through asks the nearest peer first and gives
//! each one a deadline sized by its RTT (plus, when the peer may pull
//! onward, by the RTT to *its* farthest peer, which the ping reports). The
//! ping is also the breaker's probe: a peer back from an outage answers it
//! within [`PING_EVERY`], which closes its breaker and wakes its delivery
//! worker at once, whatever backoff that worker was in.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use tokio::sync::watch;

use super::breaker::State;
use super::config::Peer;
use super::Replication;

/// How often each peer is pinged.
pub const PING_EVERY: Duration = Duration::from_secs(2);
/// Deadline of a ping.
const PING_TIMEOUT: Duration = Duration::from_secs(2);
/// A pull's deadline before the peer's RTT is known.
const UNMEASURED: Duration = Duration::from_millis(1_000);
/// What a deadline allows beyond round trips: the peer's store, transfer.
const SLACK: Duration = Duration::from_millis(200);
/// Bounds of an RTT-sized deadline.
const MIN_DEADLINE: Duration = Duration::from_millis(250);
const MAX_DEADLINE: Duration = Duration::from_secs(5);

/// The answer to `GET ping`.
#[derive(Debug, Serialize, Deserialize)]
pub struct Pong {
    pub region: String,
    /// The largest smoothed RTT from the answering host to its own peers,
    /// in milliseconds (0 when none is known): what an onward pull costs.
    pub peer_rtt_ms: f64,
    /// What the answering host reads beyond the first release's peer API
    /// ([`super::legacy::DIGEST_BY_ID`]); absent from older releases.
    #[serde(default)]
    pub features: Vec<String>,
}

/// Smoothed RTT (and onward RTT) of one peer, in microseconds; 0 = unknown.
#[derive(Default)]
struct Estimate {
    srtt_us: AtomicU64,
    onward_us: AtomicU64,
}

/// The estimates of every peer.
#[derive(Default)]
pub struct Rtts {
    peers: HashMap<String, Estimate>,
}

fn known(us: u64) -> Option<Duration> {
    (us > 0).then(|| Duration::from_micros(us))
}

impl Rtts {
    pub fn new(peers: &[Peer]) -> Self {
        Self {
            peers: peers
                .iter()
                .map(|p| (p.region.clone(), Estimate::default()))
                .collect(),
        }
    }

    /// Folds one measurement in (weight 1/8, as TCP's SRTT).
    pub fn sample(&self, region: &str, rtt: Duration) {
        let Some(e) = self.peers.get(region) else {
            return;
        };
        let sample = rtt.as_micros().max(1) as u64;
        let old = e.srtt_us.load(Ordering::Relaxed);
        let new = if old == 0 {
            sample
        } else {
            (old * 7 + sample) / 8
        };
        e.srtt_us.store(new.max(1), Ordering::Relaxed);
    }

    pub fn srtt(&self, region: &str) -> Option<Duration> {
        known(self.peers.get(region)?.srtt_us.load(Ordering::Relaxed))
    }

    fn set_onward(&self, region: &str, rtt: Duration) {
        if let Some(e) = self.peers.get(region) {
            e.onward_us.store(rtt.as_micros() as u64, Ordering::Relaxed);
        }
    }

    fn onward(&self, region: &str) -> Option<Duration> {
        known(self.peers.get(region)?.onward_us.load(Ordering::Relaxed))
    }

    /// The largest known RTT to any peer.
    fn largest(&self) -> Duration {
        self.peers
            .keys()
            .filter_map(|p| self.srtt(p))
            .max()
            .unwrap_or_default()
    }
}

/// A deadline for an exchange of a few round trips over a link of `rtt`.
fn sized(rtt: Option<Duration>) -> Duration {
    rtt.map_or(UNMEASURED, |rtt| {
        (rtt * 4 + SLACK).clamp(MIN_DEADLINE, MAX_DEADLINE)
    })
}

impl Replication {
    /// The peers, nearest (smallest measured RTT) first; unmeasured ones
    /// after, in the configured order.
    pub(super) fn peers_by_rtt(&self) -> Vec<&Peer> {
        let mut peers: Vec<&Peer> = self.config.peers.iter().collect();
        peers.sort_by_key(|p| self.rtts.srtt(&p.region).unwrap_or(Duration::MAX));
        peers
    }

    /// How long a pull from `peer` may take, and of that how much the peer
    /// may spend pulling onward (zero unless `onward`).
    pub(super) fn pull_deadline(&self, peer: &str, onward: bool) -> (Duration, Duration) {
        let direct = self
            .config
            .pull_timeout
            .unwrap_or_else(|| sized(self.rtts.srtt(peer)));
        let budget = match (onward, self.config.pull_timeout) {
            (false, _) => Duration::ZERO,
            (true, Some(fixed)) => fixed,
            (true, None) => self
                .rtts
                .onward(peer)
                .map_or(Duration::ZERO, |rtt| sized(Some(rtt))),
        };
        (direct + budget, budget)
    }

    /// What this host answers to a ping.
    pub(super) fn pong(&self) -> Pong {
        Pong {
            region: self.config.region.clone(),
            peer_rtt_ms: self.rtts.largest().as_secs_f64() * 1e3,
            features: vec![super::legacy::DIGEST_BY_ID.to_string()],
        }
    }

    /// Pings `peer` every [`PING_EVERY`] until `shutdown`.
    pub(super) async fn ping_loop(
        self: Arc<Self>,
        peer: Peer,
        mut shutdown: watch::Receiver<bool>,
    ) {
        let mut tick = tokio::time::interval(PING_EVERY);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = tick.tick() => {}
                _ = shutdown.changed() => return,
            }
            let started = Instant::now();
            let breaker = self.breaker(&peer);
            let was = breaker.state();
            match self.client.ping(&peer.url, PING_TIMEOUT).await {
                Ok(pong) => {
                    self.rtts.sample(&peer.region, started.elapsed());
                    self.older.pinged(&peer.region, &pong.features);
                    self.rtts.set_onward(
                        &peer.region,
                        Duration::from_secs_f64(pong.peer_rtt_ms / 1e3),
                    );
                    if was != State::Closed {
                        breaker.success();
                        self.wake(&peer.region);
                    }
                }
                Err(e) => {
                    if was == State::Closed {
                        breaker.failure(&format!("ping: {e:#}"));
                    }
                }
            }
            if let Some(rtt) = self.rtts.srtt(&peer.region) {
                self.metrics.rtt(&peer.region, rtt.as_secs_f64());
            }
            self.metrics.breaker(&peer.region, breaker.state());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn peer(region: &str) -> Peer {
        Peer {
            region: region.into(),
            url: "http://127.0.0.1:9".into(),
        }
    }

    #[test]
    fn the_estimate_moves_an_eighth_of_the_way_to_each_sample() {
        let rtts = Rtts::new(&[peer("us"), peer("ap")]);
        assert_eq!(rtts.srtt("us"), None);
        rtts.sample("us", Duration::from_millis(80));
        assert_eq!(rtts.srtt("us"), Some(Duration::from_millis(80)));
        rtts.sample("us", Duration::from_millis(160));
        assert_eq!(rtts.srtt("us"), Some(Duration::from_millis(90)));
        rtts.sample("nobody", Duration::from_millis(1));
        assert_eq!(rtts.largest(), Duration::from_millis(90));
    }

    #[test]
    fn deadlines_grow_with_the_rtt_within_bounds() {
        assert_eq!(sized(None), UNMEASURED);
        assert_eq!(sized(Some(Duration::from_millis(1))), MIN_DEADLINE);
        assert_eq!(
            sized(Some(Duration::from_millis(100))),
            Duration::from_millis(600)
        );
        assert_eq!(sized(Some(Duration::from_secs(10))), MAX_DEADLINE);
    }
}
