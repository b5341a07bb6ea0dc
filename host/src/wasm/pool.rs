//! The execution pool: guest code runs on threads of its own, so the
//! threads that accept connections and answer `/healthz`, `/metrics`,
//! edge-cache hits, 304s and collapsed followers are never occupied by a
//! transform.
//!
//! A request that needs a component takes a slot for as long as its
//! instance lives; the instance's memory is what the slots bound, so a burst
//! of big images never holds more decoded pixels than there are slots.
//! There are more slots than threads (twice as many by default): while one
//! instance waits for storage, another computes on its thread. Waiting for a slot is first come, first
//! served, and bounded in depth and in time, as imgproxy's queue is: past
//! either, the request is answered `503 busy` with `Retry-After` at once
//! rather than slowly.
//!
//! Background jobs (eager variants, AVIF upgrades) share the slots but not
//! the line: [`ExecPool::admit_background`] takes a slot only while nobody
//! waits and more than `threads` slots are free, so an interactive request
//! always finds one, and their guests run on threads of their own at the
//! lowest scheduling priority, so they get the CPU interactive guests leave.

use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// Sizes of the pool and of the wait in front of it.
#[derive(Debug, Clone, Copy)]
pub struct PoolConfig {
    /// Threads that run guest code.
    pub threads: usize,
    /// Instances alive at once.
    pub slots: usize,
    /// Requests that may wait for a slot; more are refused at once.
    pub queue_depth: usize,
    /// The longest a request waits for a slot.
    pub max_wait: Duration,
    /// Threads (and at most as many slots) that run background jobs.
    pub background_threads: usize,
}

/// Whose guest a slot runs: a client's request, or a background job.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lane {
    Interactive,
    Background,
}

/// Why a request got no slot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rejected {
    QueueFull,
    WaitedTooLong,
}

impl Rejected {
    fn label(self) -> &'static str {
        match self {
            Rejected::QueueFull => "queue_full",
            Rejected::WaitedTooLong => "wait_timeout",
        }
    }
}

/// A slot, held by an instance for its whole life.
pub struct Slot {
    _permit: OwnedSemaphorePermit,
    /// A background job's place among the background threads.
    _background: Option<OwnedSemaphorePermit>,
    busy: Gauge,
    /// How long the request waited for it.
    pub waited: Duration,
    pub lane: Lane,
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.busy.dec();
    }
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ReasonLabels {
    reason: String,
}

/// The pool: a runtime whose threads run only guest code, and its slots.
pub struct ExecPool {
    config: PoolConfig,
    /// `Option` so `Drop` can shut it down without blocking (a runtime must
    /// not be dropped from async code).
    runtime: Option<tokio::runtime::Runtime>,
    /// Background jobs' guests, on threads of the lowest priority.
    background: Option<tokio::runtime::Runtime>,
    slots: Arc<Semaphore>,
    /// Slots background jobs may hold at once.
    background_slots: Arc<Semaphore>,
    waiting: AtomicUsize,
    queue_depth: Gauge,
    busy: Gauge,
    wait_seconds: Histogram,
    rejected: Family<ReasonLabels, Counter>,
}

impl ExecPool {
    pub fn new(config: PoolConfig) -> std::io::Result<Self> {
        let threads = config.threads.max(1);
        let slots = config.slots.max(1);
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(threads)
            .thread_name("edgeimg-exec")
            .on_thread_start(|| lower_priority(EXEC_NICENESS))
            .enable_all()
            .build()?;
        let background_threads = config.background_threads.max(1);
        let background = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(background_threads)
            .thread_name("edgeimg-background")
            .on_thread_start(idle_priority)
            .enable_all()
            .build()?;
        Ok(Self {
            config: PoolConfig {
                threads,
                slots,
                background_threads,
                ..config
            },
            runtime: Some(runtime),
            background: Some(background),
            slots: Arc::new(Semaphore::new(slots)),
            background_slots: Arc::new(Semaphore::new(background_threads)),
            waiting: AtomicUsize::new(0),
            queue_depth: Gauge::default(),
            busy: Gauge::default(),
            wait_seconds: Histogram::new([
                0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1.0, 2.5, 5.0, 10.0,
            ]),
            rejected: Family::default(),
        })
    }

    pub fn config(&self) -> PoolConfig {
        self.config
    }

    /// Adds `edgeimg_exec_*`: queue depth, slots in use, wait times, rejections.
    pub fn register(&self, registry: &mut Registry) {
        let r = registry.sub_registry_with_prefix("exec");
        r.register(
            "queue_depth",
            "Requests waiting for an execution slot",
            self.queue_depth.clone(),
        );
        r.register(
            "busy_slots",
            "Execution slots held by live instances",
            self.busy.clone(),
        );
        r.register(
            "wait_seconds",
            "Time requests waited for an execution slot",
            self.wait_seconds.clone(),
        );
        r.register(
            "rejected",
            "Requests answered 503 busy without a slot, by reason",
            self.rejected.clone(),
        );
    }

    /// Takes a slot, waiting in line if none is free.
    pub async fn admit(&self) -> Result<Slot, Rejected> {
        let started = Instant::now();
        let permit = match self.slots.clone().try_acquire_owned() {
            Ok(permit) => permit,
            Err(_) => {
                if self.waiting.fetch_add(1, Ordering::SeqCst) >= self.config.queue_depth {
                    self.waiting.fetch_sub(1, Ordering::SeqCst);
                    return Err(self.reject(Rejected::QueueFull));
                }
                self.queue_depth.inc();
                let waited =
                    tokio::time::timeout(self.config.max_wait, self.slots.clone().acquire_owned())
                        .await;
                self.waiting.fetch_sub(1, Ordering::SeqCst);
                self.queue_depth.dec();
                match waited {
                    Ok(Ok(permit)) => permit,
                    _ => return Err(self.reject(Rejected::WaitedTooLong)),
                }
            }
        };
        let waited = started.elapsed();
        self.wait_seconds.observe(waited.as_secs_f64());
        Ok(self.slot(permit, None, waited))
    }

    fn slot(
        &self,
        permit: OwnedSemaphorePermit,
        background: Option<OwnedSemaphorePermit>,
        waited: Duration,
    ) -> Slot {
        self.busy.inc();
        Slot {
            _permit: permit,
            lane: if background.is_some() {
                Lane::Background
            } else {
                Lane::Interactive
            },
            _background: background,
            busy: self.busy.clone(),
            waited,
        }
    }

    /// Takes a slot for a background job once interactive requests leave
    /// one free: nobody waits in line, and more than `threads` slots are
    /// free, so the next `threads` requests start at once. Waits as long as
    /// that takes (background work has no deadline for starting).
    pub async fn admit_background(&self) -> Slot {
        let started = Instant::now();
        // At most `background_threads` jobs at once, each for its whole life.
        let lane = self
            .background_slots
            .clone()
            .acquire_owned()
            .await
            .expect("the background semaphore is never closed");
        loop {
            if self.waiting.load(Ordering::SeqCst) == 0
                && self.slots.available_permits() > self.config.threads
            {
                if let Ok(permit) = self.slots.clone().try_acquire_owned() {
                    return self.slot(permit, Some(lane), started.elapsed());
                }
            }
            tokio::time::sleep(BACKGROUND_POLL).await;
        }
    }

    fn reject(&self, why: Rejected) -> Rejected {
        self.rejected
            .get_or_create(&ReasonLabels {
                reason: why.label().to_string(),
            })
            .inc();
        why
    }

    /// Runs `task` (a guest's whole life) on the threads of `lane`.
    pub fn spawn<F>(&self, lane: Lane, task: F) -> tokio::task::JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        let runtime = match lane {
            Lane::Interactive => &self.runtime,
            Lane::Background => &self.background,
        };
        runtime
            .as_ref()
            .expect("the pool runs until dropped")
            .spawn(task)
    }

    /// Seconds a client should wait before retrying a request refused here.
    pub fn retry_after_secs(&self) -> u64 {
        self.config.max_wait.as_secs().clamp(1, 30)
    }
}

/// How much the kernel should favour the connection threads over guest
/// code (a nice value; 0 is the process's own).
const EXEC_NICENESS: i32 = 10;

/// Where `SCHED_IDLE` is refused, background guests still yield most of a
/// shared core to interactive ones (nice 19 weighs 15 against nice 10's 110).
const BACKGROUND_NICENESS: i32 = 19;

/// How often a background job waiting for spare capacity looks again.
const BACKGROUND_POLL: Duration = Duration::from_millis(20);

/// Lowers the calling thread's scheduling priority to `niceness`, so that
/// when guests keep every core busy, a connection thread that wakes up (a
/// health check, a cache hit) runs within a scheduler tick rather than
/// after a time slice of guest code. Guests still get all the CPU nobody
/// else wants.
fn lower_priority(niceness: i32) {
    #[cfg(target_os = "linux")]
    {
        // SAFETY: gettid and setpriority take no pointers; PRIO_PROCESS
        // with a thread id changes only that thread on Linux.
        let failed = unsafe {
            let tid = libc::gettid();
            libc::setpriority(libc::PRIO_PROCESS, tid as libc::id_t, niceness) != 0
        };
        if failed {
            tracing::debug!(error = %std::io::Error::last_os_error(), "could not lower an execution thread's priority");
        }
    }
}

/// Puts the calling thread in Linux's `SCHED_IDLE` class: it runs only on
/// CPU time no other thread wants (weight 3 against nice 10's 110), so a
/// background job never slows a request down by more than a sliver of a
/// core. Falls back to the lowest nice value.
fn idle_priority() {
    #[cfg(target_os = "linux")]
    {
        let param = libc::sched_param { sched_priority: 0 };
        // SAFETY: `param` outlives the call; pid 0 is the calling thread.
        if unsafe { libc::sched_setscheduler(0, libc::SCHED_IDLE, &param) } == 0 {
            return;
        }
        tracing::debug!(error = %std::io::Error::last_os_error(), "SCHED_IDLE refused; using nice {BACKGROUND_NICENESS}");
    }
    lower_priority(BACKGROUND_NICENESS);
}

impl Drop for ExecPool {
    fn drop(&mut self) {
        for runtime in [self.runtime.take(), self.background.take()]
            .into_iter()
            .flatten()
        {
            runtime.shutdown_background();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pool(threads: usize, queue_depth: usize, max_wait_ms: u64) -> ExecPool {
        ExecPool::new(PoolConfig {
            threads,
            slots: threads,
            queue_depth,
            max_wait: Duration::from_millis(max_wait_ms),
            background_threads: 1,
        })
        .unwrap()
    }

    #[tokio::test]
    async fn waits_in_line_then_refuses_past_the_queue_or_the_wait() {
        let pool = pool(1, 1, 200);
        let first = pool.admit().await.unwrap();
        assert!(first.waited < Duration::from_millis(50));
        let (second, third) = tokio::join!(pool.admit(), async {
            tokio::time::sleep(Duration::from_millis(20)).await;
            pool.admit().await
        });
        assert_eq!(
            third.err(),
            Some(Rejected::QueueFull),
            "one may wait, the next is refused"
        );
        assert_eq!(second.err(), Some(Rejected::WaitedTooLong));
        drop(first);
        assert!(pool.admit().await.is_ok());
    }

    #[tokio::test]
    async fn a_freed_slot_goes_to_the_first_in_line() {
        let pool = Arc::new(pool(1, 8, 5_000));
        let held = pool.admit().await.unwrap();
        let order = Arc::new(std::sync::Mutex::new(Vec::new()));
        let mut waiters = Vec::new();
        for i in 0..3 {
            let (pool, order) = (pool.clone(), order.clone());
            waiters.push(tokio::spawn(async move {
                let slot = pool.admit().await.unwrap();
                order.lock().unwrap().push(i);
                tokio::time::sleep(Duration::from_millis(5)).await;
                drop(slot);
            }));
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        drop(held);
        for w in waiters {
            w.await.unwrap();
        }
        assert_eq!(*order.lock().unwrap(), vec![0, 1, 2]);
    }

    #[tokio::test]
    async fn guest_code_runs_on_the_pool_threads() {
        let pool = pool(2, 1, 100);
        let name = |lane| {
            pool.spawn(lane, async {
                std::thread::current().name().map(str::to_string)
            })
        };
        assert_eq!(
            name(Lane::Interactive).await.unwrap().as_deref(),
            Some("edgeimg-exec")
        );
        assert_eq!(
            name(Lane::Background).await.unwrap().as_deref(),
            Some("edgeimg-background")
        );
    }

    #[tokio::test]
    async fn background_jobs_take_only_slots_interactive_requests_leave() {
        // Two threads, four slots: a background job starts only while more
        // than two slots are free and nobody waits.
        let pool = Arc::new(
            ExecPool::new(PoolConfig {
                threads: 2,
                slots: 4,
                queue_depth: 8,
                max_wait: Duration::from_secs(5),
                background_threads: 1,
            })
            .unwrap(),
        );
        let a = pool.admit().await.unwrap();
        let b = pool.admit().await.unwrap();
        let waiting = tokio::spawn({
            let pool = pool.clone();
            async move { pool.admit_background().await }
        });
        tokio::time::sleep(BACKGROUND_POLL * 5).await;
        assert!(!waiting.is_finished(), "two free slots are the reserve");
        drop(a);
        let job = tokio::time::timeout(Duration::from_secs(2), waiting)
            .await
            .expect("a third free slot lets the job start")
            .unwrap();
        assert_eq!(job.lane, Lane::Background);
        let second = tokio::spawn({
            let pool = pool.clone();
            async move { pool.admit_background().await }
        });
        tokio::time::sleep(BACKGROUND_POLL * 5).await;
        assert!(!second.is_finished(), "one background thread, one job");
        // Interactive requests still find the reserve at once.
        let c = pool.admit().await.unwrap();
        assert!(c.waited < Duration::from_millis(50));
        drop((b, c, job));
        tokio::time::timeout(Duration::from_secs(2), second)
            .await
            .expect("the job's place frees")
            .unwrap();
    }
}
