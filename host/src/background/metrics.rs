//! `edgeimg_background_*`: how deep and how old the queue is, and what
//! became of its jobs.

use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;

/// The queue's metrics (cheap to clone).
#[derive(Clone)]
pub struct BackgroundMetrics {
    pub jobs: Gauge,
    pub running: Gauge,
    pub oldest_age_seconds: Gauge,
    pub enqueued: Counter,
    pub done: Counter,
    pub failed: Counter,
    pub retried: Counter,
    pub dropped: Counter,
    pub duration: Histogram,
}

impl Default for BackgroundMetrics {
    fn default() -> Self {
        Self {
            jobs: Gauge::default(),
            running: Gauge::default(),
            oldest_age_seconds: Gauge::default(),
            enqueued: Counter::default(),
            done: Counter::default(),
            failed: Counter::default(),
            retried: Counter::default(),
            dropped: Counter::default(),
            // 1 ms to ~33 s.
            duration: Histogram::new(exponential_buckets(0.001, 2.0, 16)),
        }
    }
}

impl BackgroundMetrics {
    pub fn register(&self, registry: &mut Registry) {
        let r = registry.sub_registry_with_prefix("background");
        r.register(
            "jobs",
            "Background jobs queued (running ones included)",
            self.jobs.clone(),
        );
        r.register(
            "jobs_running",
            "Background jobs running",
            self.running.clone(),
        );
        r.register(
            "oldest_job_age_seconds",
            "Age of the oldest queued background job",
            self.oldest_age_seconds.clone(),
        );
        r.register(
            "jobs_enqueued",
            "Background jobs queued (a job already queued is not counted again)",
            self.enqueued.clone(),
        );
        r.register(
            "jobs_done",
            "Background jobs whose result is stored",
            self.done.clone(),
        );
        r.register(
            "jobs_failed",
            "Background jobs given up (a 4xx, or too many failed runs)",
            self.failed.clone(),
        );
        r.register(
            "jobs_retried",
            "Failed background runs put back in line",
            self.retried.clone(),
        );
        r.register(
            "jobs_dropped",
            "Background jobs dropped because the queue was full",
            self.dropped.clone(),
        );
        r.register(
            "job_duration_seconds",
            "Time a background job ran, from its slot to its answer",
            self.duration.clone(),
        );
    }
}
