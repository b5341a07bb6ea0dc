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
    busy: Gauge,
    /// How long the request waited for it.
    pub waited: Duration,
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
    slots: Arc<Semaphore>,
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
            .on_thread_start(lower_priority)
            .enable_all()
            .build()?;
        Ok(Self {
            config: PoolConfig {
                threads,
                slots,
                ..config
            },
            runtime: Some(runtime),
            slots: Arc::new(Semaphore::new(slots)),
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
        self.busy.inc();
        Ok(Slot {
            _permit: permit,
            busy: self.busy.clone(),
            waited,
        })
    }

    fn reject(&self, why: Rejected) -> Rejected {
        self.rejected
            .get_or_create(&ReasonLabels {
                reason: why.label().to_string(),
            })
            .inc();
        why
    }

    /// Runs `task` (a guest's whole life) on the pool's threads.
    pub fn spawn<F>(&self, task: F) -> tokio::task::JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.runtime
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

/// Lowers the calling thread's scheduling priority, so that when guests
/// keep every core busy, a connection thread that wakes up (a health check,
/// a cache hit) runs within a scheduler tick rather than after a time slice
/// of guest code. Guests still get all the CPU nobody else wants.
fn lower_priority() {
    #[cfg(target_os = "linux")]
    {
        // SAFETY: gettid and setpriority take no pointers; PRIO_PROCESS
        // with a thread id changes only that thread on Linux.
        let failed = unsafe {
            let tid = libc::gettid();
            libc::setpriority(libc::PRIO_PROCESS, tid as libc::id_t, EXEC_NICENESS) != 0
        };
        if failed {
            tracing::debug!(error = %std::io::Error::last_os_error(), "could not lower an execution thread's priority");
        }
    }
}

impl Drop for ExecPool {
    fn drop(&mut self) {
        if let Some(runtime) = self.runtime.take() {
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
        let name = pool
            .spawn(async { std::thread::current().name().map(str::to_string) })
            .await
            .unwrap();
        assert_eq!(name.as_deref(), Some("edgeimg-exec"));
    }
}
