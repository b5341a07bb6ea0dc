//! Background work: what need not happen inside a request does not.
//!
//! A durable, bounded queue of jobs (`queue`), each a GET the host makes
//! against its own application, through the same router, execution pool and
//! component code as a client's request (so a job's result lands under the
//! same cache key a browser's request uses), but only on capacity that
//! interactive requests leave free (`runner`, and
//! [`crate::wasm::pool::ExecPool::admit_background`]).
//!
//! Jobs come from two places:
//! - the eager ladder (`ladder`, `[eager]`): when a new image's metadata is
//!   written to the watched store (`watch`) — an upload here, a change
//!   replicated from a peer, a pull-through copy — the requests its srcset
//!   widths and presets will get are queued, as a browser would make them;
//! - deferred work a component hands back: a response header
//!   `edgeimg-defer: <path>` (removed before the response goes out) queues
//!   that GET as a slow job, ahead of eager work when a client's request
//!   deferred it. The resize component does this when `format=auto` would
//!   pick AVIF and the AVIF is not stored yet: it answers the next best
//!   format at once, with a short max-age, and defers the AVIF. The host
//!   offers this by setting `edgeimg-defer-ok: 1` on the requests it serves
//!   (jobs included, so a ladder job makes the WebP before the AVIF); under
//!   Spin, which sets no such header, components encode in the request.
//!
//! A job is done when its GET answers 2xx (its result is stored); 404, 429
//! and 5xx answers are retried with exponential back-off and jitter, other
//! 4xx are given up at once. Given-up jobs are not queued again for a while.

pub mod config;
pub mod ladder;
pub mod metrics;
pub mod queue;
pub mod runner;
pub mod watch;

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Result;
use tokio::sync::Notify;

use self::config::BackgroundConfig;
use self::ladder::{Ladder, AVIF_ACCEPT};
use self::metrics::BackgroundMetrics;
use self::queue::{Job, Priority, Queue};
use self::watch::ImageEvents;

/// Request header the host sets on interactive requests: deferring is on offer.
pub const DEFER_OK: http::HeaderName = http::HeaderName::from_static("edgeimg-defer-ok");
/// Response header naming a GET to run in the background.
pub const DEFER: http::HeaderName = http::HeaderName::from_static("edgeimg-defer");

/// Longest path a component may defer.
const MAX_DEFER_PATH: usize = 2048;
/// How long a given-up job is not queued again.
const GIVEN_UP_FOR: Duration = Duration::from_secs(600);

/// The background work of one host.
pub struct Background {
    pub config: BackgroundConfig,
    queue: Arc<Queue>,
    ladder: Option<Ladder>,
    metrics: BackgroundMetrics,
    /// Rung when a job may have become due (a push, a retry, a finish).
    wake: Arc<Notify>,
    /// Dedup keys of jobs given up recently.
    given_up: moka::sync::Cache<String, ()>,
    /// The `Host` clients last used: jobs are made as for it, so a client's
    /// request for the same URL joins a running job (collapsed forwarding
    /// keys on the full URL).
    client_host: std::sync::RwLock<String>,
}

/// Milliseconds since the Unix epoch.
pub fn unix_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

impl Background {
    /// Opens the queue under `data_dir`; `ladder` is `None` when eager
    /// variants are off.
    pub fn open(config: BackgroundConfig, ladder: Option<Ladder>, data_dir: &Path) -> Result<Self> {
        let queue = Queue::open(
            &data_dir.join("background").join("queue.redb"),
            config.max_jobs,
        )?;
        let background = Self {
            config,
            queue: Arc::new(queue),
            ladder,
            metrics: BackgroundMetrics::default(),
            wake: Arc::new(Notify::new()),
            given_up: moka::sync::Cache::builder()
                .max_capacity(10_000)
                .time_to_live(GIVEN_UP_FOR)
                .build(),
            client_host: std::sync::RwLock::new("localhost".into()),
        };
        background.refresh_gauges();
        Ok(background)
    }

    pub fn metrics(&self) -> &BackgroundMetrics {
        &self.metrics
    }

    /// Queues `jobs` durably on the blocking pool, without waiting for it.
    pub fn enqueue(&self, jobs: Vec<Job>) {
        let jobs: Vec<Job> = jobs
            .into_iter()
            .filter(|j| !self.given_up.contains_key(&j.dedup_key()))
            .collect();
        if jobs.is_empty() {
            return;
        }
        let (queue, metrics, wake) = (self.queue.clone(), self.metrics.clone(), self.wake.clone());
        let push = move || match queue.push(jobs) {
            Ok(pushed) => {
                metrics.enqueued.inc_by(pushed.added as u64);
                for job in &pushed.dropped {
                    metrics.dropped.inc();
                    tracing::warn!(path = %job.path, priority = ?job.priority, "background queue full: job dropped");
                }
                metrics.jobs.set(queue.depth().0 as i64);
                wake.notify_one();
            }
            Err(e) => {
                tracing::error!(error = %format!("{e:#}"), "background queue: cannot queue jobs")
            }
        };
        match tokio::runtime::Handle::try_current() {
            Ok(handle) => drop(handle.spawn_blocking(push)),
            Err(_) => push(),
        }
    }

    /// Queues the GET a component deferred (`edgeimg-defer`) at `priority`.
    pub fn defer(&self, path: &str, priority: Priority) {
        if !path.starts_with('/') || path.len() > MAX_DEFER_PATH {
            tracing::warn!(path, "ignored a deferred path that is not a local path");
            return;
        }
        let now = unix_ms();
        let image = path.rsplit('/').next().unwrap_or_default().to_string();
        self.enqueue(vec![Job {
            path: path.to_string(),
            accept: AVIF_ACCEPT.to_string(),
            image,
            priority,
            attempts: 0,
            not_before: now,
            enqueued: now,
        }]);
    }

    /// Remembers the `Host` of a client's request (cheap when unchanged).
    pub fn note_client_host(&self, host: &str) {
        let same = self
            .client_host
            .read()
            .map(|h| h.as_str() == host)
            .unwrap_or(true);
        if !same {
            if let Ok(mut h) = self.client_host.write() {
                *h = host.to_string();
            }
        }
    }

    /// The `Host` jobs are sent with.
    pub fn client_host(&self) -> String {
        self.client_host
            .read()
            .map(|h| h.clone())
            .unwrap_or_else(|_| "localhost".into())
    }

    /// Sets the depth and age gauges from the queue.
    pub fn refresh_gauges(&self) {
        let (jobs, running) = self.queue.depth();
        self.metrics.jobs.set(jobs as i64);
        self.metrics.running.set(running as i64);
        let age = self
            .queue
            .oldest()
            .map_or(0, |t| unix_ms().saturating_sub(t) / 1000);
        self.metrics.oldest_age_seconds.set(age as i64);
    }
}

impl ImageEvents for Background {
    fn arrived(&self, id: &str) {
        if let Some(ladder) = &self.ladder {
            self.enqueue(ladder.jobs(id, unix_ms()));
        }
    }

    fn deleted(&self, id: &str) {
        let (queue, id) = (self.queue.clone(), id.to_string());
        let forget = move || match queue.forget_image(&id) {
            Ok(n) if n > 0 => {
                tracing::debug!(image = %id, jobs = n, "background jobs of a deleted image dropped")
            }
            Ok(_) => {}
            Err(e) => {
                tracing::warn!(error = %format!("{e:#}"), "background queue: cannot drop a deleted image's jobs")
            }
        };
        match tokio::runtime::Handle::try_current() {
            Ok(handle) => drop(handle.spawn_blocking(forget)),
            Err(_) => forget(),
        }
    }
}
