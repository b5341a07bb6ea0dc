//! What `edgeimg status` shows: this host's region, each peer with its
//! backlog, lag and breaker, and the hosts of this region it tells of changes.

use serde::Serialize;

use super::Replication;

#[derive(Debug, Serialize)]
pub struct Status {
    pub region: String,
    pub labels: Vec<String>,
    pub last_seq: u64,
    pub peers: Vec<PeerStatus>,
    pub siblings: Vec<String>,
}

#[derive(Debug, Serialize)]
pub struct PeerStatus {
    pub region: String,
    pub url: String,
    pub backlog: i64,
    pub lag_seconds: f64,
    pub delivered: u64,
    pub failed_batches: u64,
    pub breaker: &'static str,
    /// Smoothed ping RTT in milliseconds (`null` until measured).
    pub rtt_ms: Option<f64>,
}

impl Replication {
    pub fn status(&self) -> Status {
        let mut labels: Vec<String> = self.labels.keys().cloned().collect();
        labels.sort();
        Status {
            region: self.config.region.clone(),
            labels,
            last_seq: *self.appended.borrow(),
            peers: self
                .config
                .peers
                .iter()
                .map(|p| {
                    let (backlog, lag_seconds, delivered, failed_batches) =
                        self.metrics.of(&p.region);
                    PeerStatus {
                        region: p.region.clone(),
                        url: p.url.clone(),
                        backlog,
                        lag_seconds,
                        delivered,
                        failed_batches,
                        breaker: self.breaker(p).state().as_str(),
                        rtt_ms: self.rtts.srtt(&p.region).map(|d| d.as_secs_f64() * 1e3),
                    }
                })
                .collect(),
            siblings: self.config.siblings.clone(),
        }
    }
}
