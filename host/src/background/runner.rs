//! Runs queued jobs: waits until one is due, then for spare capacity, then
//! runs it as a GET through the application and settles it by its status.

use std::sync::Arc;
use std::time::{Duration, Instant};

use http::StatusCode;
use tokio::sync::{watch, Semaphore};

use super::queue::{Job, Next, Slot};
use super::{unix_ms, Background};
use crate::app::App;
use crate::telemetry::SPANS;
use tracing::Instrument;

/// What became of one run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Done,
    /// Run again after this back-off.
    Retry(Duration),
    GiveUp,
}

/// A 404 may mean the original is still on its way from a peer (its
/// metadata came first): a few tries, then it is gone for good.
const NOT_FOUND_ATTEMPTS: u32 = 3;
/// The first back-off; each later one is four times the last, up to [`MAX_BACKOFF`].
const FIRST_BACKOFF: Duration = Duration::from_secs(1);
const MAX_BACKOFF: Duration = Duration::from_secs(300);

/// Settles a run that answered `status` after `attempts` earlier failures.
pub fn verdict(status: StatusCode, attempts: u32, max_attempts: u32) -> Verdict {
    let failures = attempts + 1;
    let retry = |limit: u32| {
        if failures >= limit {
            return Verdict::GiveUp;
        }
        let base = FIRST_BACKOFF.saturating_mul(4u32.saturating_pow(failures - 1));
        // Jitter: 50 % to 150 %, so jobs that failed together spread out.
        let jittered = base.min(MAX_BACKOFF).mul_f64(0.5 + fastrand::f64());
        Verdict::Retry(jittered)
    };
    match status.as_u16() {
        200..=299 | 304 => Verdict::Done,
        404 => retry(NOT_FOUND_ATTEMPTS.min(max_attempts)),
        408 | 429 | 500..=599 => retry(max_attempts),
        _ => Verdict::GiveUp,
    }
}

/// Runs jobs until `shutdown` turns true. Jobs in flight then are dropped
/// unfinished and run again after a restart.
pub async fn run(app: Arc<App>, background: Arc<Background>, mut shutdown: watch::Receiver<bool>) {
    let mut gauges = tokio::time::interval(Duration::from_secs(1));
    let slow_lanes = Arc::new(Semaphore::new(background.config.slow_concurrency));
    loop {
        // Wait until a job is due, without taking it yet (a quick one while
        // every slow lane is busy).
        let slow = slow_lanes.available_permits() > 0;
        let delay = match background.queue.peek(unix_ms(), slow) {
            Next::Ready(..) => None,
            Next::At(at) => Some(Duration::from_millis(at.saturating_sub(unix_ms()))),
            Next::Empty => Some(Duration::from_secs(3600)),
        };
        if let Some(delay) = delay {
            tokio::select! {
                _ = tokio::time::sleep(delay) => {}
                _ = background.wake.notified() => {}
                _ = gauges.tick() => background.refresh_gauges(),
                _ = shutdown.changed() => return,
            }
            continue;
        }
        // Then for capacity interactive requests leave free.
        let slot = tokio::select! {
            slot = app.pool.admit_background() => slot,
            _ = shutdown.changed() => return,
        };
        // Then take the best job due now (a better one may have come).
        let mut slow_lane = slow_lanes.clone().try_acquire_owned().ok();
        let Next::Ready(place, job) = background.queue.next(unix_ms(), slow_lane.is_some()) else {
            continue;
        };
        if !job.priority.is_slow() {
            slow_lane = None;
        }
        background.refresh_gauges();
        let (app, background) = (app.clone(), background.clone());
        tokio::spawn(async move {
            let span = tracing::trace_span!(
                target: SPANS,
                "background job",
                otel.kind = "internal",
                http.request.method = "GET",
                url.path = job.path.as_str(),
                edgeimg.priority = ?job.priority,
                edgeimg.attempts = job.attempts,
                http.response.status_code = tracing::field::Empty,
            );
            let started = Instant::now();
            let status = app
                .run_job(&job, slot, &span)
                .instrument(span.clone())
                .await;
            span.record("http.response.status_code", i64::from(status.as_u16()));
            // Free the lane before settling wakes the runner to fill it.
            drop(slow_lane);
            background
                .metrics
                .duration
                .observe(started.elapsed().as_secs_f64());
            settle(&background, place, job, status).await;
        });
    }
}

/// Records what became of a run (on the blocking pool: redb).
async fn settle(background: &Arc<Background>, place: Slot, job: Job, status: StatusCode) {
    let verdict = verdict(status, job.attempts, background.config.max_attempts);
    let metrics = &background.metrics;
    match verdict {
        Verdict::Done => {
            metrics.done.inc();
        }
        Verdict::Retry(after) => {
            metrics.retried.inc();
            tracing::info!(path = %job.path, status = status.as_u16(), attempt = job.attempts + 1, retry_in_ms = after.as_millis() as u64, "background job failed; will retry");
        }
        Verdict::GiveUp => {
            metrics.failed.inc();
            background.given_up.insert(job.dedup_key(), ());
            tracing::warn!(path = %job.path, status = status.as_u16(), attempts = job.attempts + 1, "background job given up");
        }
    }
    let queue = background.queue.clone();
    let stored = tokio::task::spawn_blocking(move || match verdict {
        Verdict::Retry(after) => queue.retry(place, unix_ms() + after.as_millis() as u64),
        Verdict::Done | Verdict::GiveUp => queue.finish(place),
    })
    .await;
    if let Ok(Err(e)) | Err(e) = stored.map_err(anyhow::Error::from) {
        tracing::error!(error = %format!("{e:#}"), "background queue: cannot settle a job");
    }
    background.refresh_gauges();
    background.wake.notify_one();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settles_by_status_and_backs_off() {
        assert_eq!(verdict(StatusCode::OK, 0, 5), Verdict::Done);
        assert_eq!(verdict(StatusCode::BAD_REQUEST, 0, 5), Verdict::GiveUp);
        assert_eq!(
            verdict(StatusCode::UNPROCESSABLE_ENTITY, 0, 5),
            Verdict::GiveUp
        );
        let Verdict::Retry(first) = verdict(StatusCode::SERVICE_UNAVAILABLE, 0, 5) else {
            panic!("503 is retried")
        };
        assert!(first >= FIRST_BACKOFF / 2 && first <= FIRST_BACKOFF * 3 / 2);
        let Verdict::Retry(third) = verdict(StatusCode::GATEWAY_TIMEOUT, 2, 5) else {
            panic!("504 is retried")
        };
        assert!(third >= FIRST_BACKOFF * 8, "{third:?}");
        assert_eq!(
            verdict(StatusCode::INTERNAL_SERVER_ERROR, 4, 5),
            Verdict::GiveUp
        );
        assert!(matches!(
            verdict(StatusCode::NOT_FOUND, 1, 5),
            Verdict::Retry(_)
        ));
        assert_eq!(verdict(StatusCode::NOT_FOUND, 2, 5), Verdict::GiveUp);
    }
}
