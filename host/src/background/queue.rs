//! The durable queue of background jobs: deduplicated, ordered by priority
//! then age, bounded, and kept in redb (as the replication log is) so jobs
//! survive a restart or `kill -9`.
//!
//! The queue lives in memory, mirrored to disk: a push commits with
//! `Durability::Immediate` (fsync'd on return); a finish or a retry commits
//! without a sync of its own, so a crash may run a finished job once more,
//! which is harmless: a job is done once its result is stored, and running
//! it again finds the result. redb calls block; callers run them on the
//! blocking pool.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::Path;
use std::sync::Mutex;

use anyhow::{Context, Result};
use redb::{Database, Durability, ReadableDatabase, ReadableTable, TableDefinition};
use serde::{Deserialize, Serialize};

/// (priority, sequence number) → job (JSON).
const JOBS: TableDefinition<(u8, u64), &[u8]> = TableDefinition::new("jobs");
/// `seq`: the last sequence number handed out.
const STATE: TableDefinition<&str, u64> = TableDefinition::new("state");

/// Where a job stands in line: lower runs first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Priority {
    /// A browser asked for it and got a lesser format meanwhile.
    Upgrade = 0,
    /// Eager variants that are quick to make (WebP).
    Eager = 1,
    /// Eager variants that are slow to make (AVIF).
    EagerSlow = 2,
}

impl Priority {
    /// Whether jobs of this priority encode a slow format (AVIF): they run
    /// in fewer lanes, so quick work never waits behind them.
    pub fn is_slow(self) -> bool {
        self != Priority::Eager
    }
}

/// One background job: a GET the host makes against its own application.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Job {
    /// Path and query, as a client would ask (signed where signing is on).
    pub path: String,
    /// The `Accept` header sent with it.
    pub accept: String,
    /// The image the job is for, so a delete can drop its jobs.
    pub image: String,
    pub priority: Priority,
    /// Failed runs so far.
    pub attempts: u32,
    /// Not to run before this time (Unix ms): the back-off after a failure.
    pub not_before: u64,
    /// When it was first queued (Unix ms), for the age of the oldest job.
    pub enqueued: u64,
}

impl Job {
    /// What makes two jobs the same job.
    pub fn dedup_key(&self) -> String {
        format!("{}\n{}", self.accept, self.path)
    }
}

/// A job's place in the queue.
pub type Slot = (u8, u64);

/// What a push did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Pushed {
    /// New jobs queued.
    pub added: usize,
    /// Jobs already queued that moved up to a better priority.
    pub raised: usize,
    /// Jobs dropped because the queue was full (the lowest priority, newest first).
    pub dropped: Vec<Job>,
}

/// The next job to run, or when to look again.
#[derive(Debug, PartialEq, Eq)]
pub enum Next {
    Ready(Slot, Job),
    /// Nothing is due before this time (Unix ms).
    At(u64),
    Empty,
}

#[derive(Default)]
struct State {
    jobs: BTreeMap<Slot, Job>,
    by_key: HashMap<String, Slot>,
    running: HashSet<Slot>,
    seq: u64,
}

/// The queue of one host.
pub struct Queue {
    db: Database,
    max_jobs: usize,
    state: Mutex<State>,
}

impl Queue {
    /// Opens (or creates) the queue file at `path` and loads its jobs.
    pub fn open(path: &Path, max_jobs: usize) -> Result<Self> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("cannot create {}", dir.display()))?;
        }
        let db = Database::create(path)
            .with_context(|| format!("cannot open the background queue {}", path.display()))?;
        let txn = db.begin_write()?;
        txn.open_table(JOBS)?;
        txn.open_table(STATE)?;
        txn.commit()?;
        let mut state = State::default();
        {
            let txn = db.begin_read()?;
            state.seq = txn.open_table(STATE)?.get("seq")?.map_or(0, |v| v.value());
            for entry in txn.open_table(JOBS)?.iter()? {
                let (slot, json) = entry?;
                let job: Job = serde_json::from_slice(json.value())
                    .with_context(|| format!("background job {:?}", slot.value()))?;
                state.by_key.insert(job.dedup_key(), slot.value());
                state.jobs.insert(slot.value(), job);
            }
        }
        Ok(Self {
            db,
            max_jobs: max_jobs.max(1),
            state: Mutex::new(state),
        })
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Queues `jobs` durably. A job already queued keeps its place unless
    /// the new one has a better priority (then it moves up). When the queue
    /// is full, the lowest-priority, newest job gives way, or the new job is
    /// the one dropped if nothing queued ranks below it.
    pub fn push(&self, jobs: Vec<Job>) -> Result<Pushed> {
        let mut state = self.state();
        let mut pushed = Pushed::default();
        let txn = self.db.begin_write()?;
        {
            let mut table = txn.open_table(JOBS)?;
            for job in jobs {
                let key = job.dedup_key();
                if let Some(&slot) = state.by_key.get(&key) {
                    if (job.priority as u8) < slot.0 && !state.running.contains(&slot) {
                        let mut moved = state.jobs.remove(&slot).expect("indexed job");
                        table.remove(slot)?;
                        moved.priority = job.priority;
                        let new = (job.priority as u8, slot.1);
                        table.insert(new, serde_json::to_vec(&moved)?.as_slice())?;
                        state.jobs.insert(new, moved);
                        state.by_key.insert(key, new);
                        pushed.raised += 1;
                    }
                    continue;
                }
                let slot = (job.priority as u8, state.seq + 1);
                if state.jobs.len() >= self.max_jobs {
                    let worst = state
                        .jobs
                        .keys()
                        .rev()
                        .find(|s| !state.running.contains(s))
                        .copied();
                    match worst {
                        Some(worst) if worst > slot => {
                            let job = state.jobs.remove(&worst).expect("listed job");
                            state.by_key.remove(&job.dedup_key());
                            table.remove(worst)?;
                            pushed.dropped.push(job);
                        }
                        _ => {
                            pushed.dropped.push(job);
                            continue;
                        }
                    }
                }
                state.seq += 1;
                table.insert(slot, serde_json::to_vec(&job)?.as_slice())?;
                state.by_key.insert(key, slot);
                state.jobs.insert(slot, job);
                pushed.added += 1;
            }
            txn.open_table(STATE)?.insert("seq", state.seq)?;
        }
        txn.commit().context("background queue commit")?;
        Ok(pushed)
    }

    /// Takes the best job due at `now` (Unix ms) and marks it running;
    /// with `slow` false, only a quick one.
    pub fn next(&self, now: u64, slow: bool) -> Next {
        let mut state = self.state();
        match scan(&state, now, slow) {
            Next::Ready(slot, job) => {
                state.running.insert(slot);
                Next::Ready(slot, job)
            }
            other => other,
        }
    }

    /// What [`Queue::next`] would give at `now`, without taking it.
    pub fn peek(&self, now: u64, slow: bool) -> Next {
        scan(&self.state(), now, slow)
    }

    /// Removes a job that ended (done, or failed for good).
    pub fn finish(&self, slot: Slot) -> Result<()> {
        let mut state = self.state();
        state.running.remove(&slot);
        if let Some(job) = state.jobs.remove(&slot) {
            state.by_key.remove(&job.dedup_key());
        }
        let mut txn = self.db.begin_write()?;
        txn.set_durability(Durability::None)?;
        txn.open_table(JOBS)?.remove(slot)?;
        txn.commit()?;
        Ok(())
    }

    /// Puts a job that failed back in line, not to run before `not_before`.
    pub fn retry(&self, slot: Slot, not_before: u64) -> Result<()> {
        let mut state = self.state();
        state.running.remove(&slot);
        let Some(job) = state.jobs.get_mut(&slot) else {
            return Ok(());
        };
        job.attempts += 1;
        job.not_before = not_before;
        let json = serde_json::to_vec(job)?;
        let mut txn = self.db.begin_write()?;
        txn.set_durability(Durability::None)?;
        txn.open_table(JOBS)?.insert(slot, json.as_slice())?;
        txn.commit()?;
        Ok(())
    }

    /// Drops the queued (not running) jobs of `image`; returns how many.
    pub fn forget_image(&self, image: &str) -> Result<usize> {
        let mut state = self.state();
        let gone: Vec<Slot> = state
            .jobs
            .iter()
            .filter(|(slot, job)| job.image == image && !state.running.contains(slot))
            .map(|(slot, _)| *slot)
            .collect();
        if gone.is_empty() {
            return Ok(0);
        }
        let txn = self.db.begin_write()?;
        {
            let mut table = txn.open_table(JOBS)?;
            for slot in &gone {
                table.remove(*slot)?;
                if let Some(job) = state.jobs.remove(slot) {
                    state.by_key.remove(&job.dedup_key());
                }
            }
        }
        txn.commit()?;
        Ok(gone.len())
    }

    /// Jobs queued (running ones included) and running.
    pub fn depth(&self) -> (usize, usize) {
        let state = self.state();
        (state.jobs.len(), state.running.len())
    }

    /// When the oldest queued job was first queued (Unix ms).
    pub fn oldest(&self) -> Option<u64> {
        self.state().jobs.values().map(|j| j.enqueued).min()
    }
}

/// The best job not running and due at `now` (a quick one unless `slow`),
/// else the soonest due time.
fn scan(state: &State, now: u64, slow: bool) -> Next {
    let mut soonest = None::<u64>;
    for (slot, job) in &state.jobs {
        if state.running.contains(slot) || (!slow && job.priority.is_slow()) {
            continue;
        }
        if job.not_before <= now {
            return Next::Ready(*slot, job.clone());
        }
        soonest = Some(soonest.map_or(job.not_before, |s| s.min(job.not_before)));
    }
    soonest.map_or(Next::Empty, Next::At)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kv::backend_tests::tempdir;

    fn job(path: &str, priority: Priority) -> Job {
        Job {
            path: path.to_string(),
            accept: "image/avif".into(),
            image: path.rsplit('/').next().unwrap().to_string(),
            priority,
            attempts: 0,
            not_before: 0,
            enqueued: 1,
        }
    }

    fn ready(q: &Queue, now: u64) -> Option<(Slot, Job)> {
        match q.next(now, true) {
            Next::Ready(slot, job) => Some((slot, job)),
            _ => None,
        }
    }

    #[test]
    fn runs_by_priority_then_age_and_dedups() {
        let dir = tempdir();
        let q = Queue::open(&dir.path().join("q.redb"), 100).unwrap();
        let pushed = q
            .push(vec![
                job("/r/a", Priority::EagerSlow),
                job("/r/b", Priority::Eager),
                job("/r/b", Priority::Eager),
                job("/r/c", Priority::Eager),
            ])
            .unwrap();
        assert_eq!((pushed.added, pushed.raised), (3, 0));
        // A browser now waits for /r/a: it moves ahead of the eager work.
        let pushed = q.push(vec![job("/r/a", Priority::Upgrade)]).unwrap();
        assert_eq!((pushed.added, pushed.raised), (0, 1));
        let order: Vec<String> =
            std::iter::from_fn(|| ready(&q, 10).map(|(_, j)| j.path)).collect();
        assert_eq!(order, ["/r/a", "/r/b", "/r/c"]);
        assert_eq!(q.depth(), (3, 3));
    }

    #[test]
    fn quick_work_is_taken_past_slow_work_when_asked() {
        let dir = tempdir();
        let q = Queue::open(&dir.path().join("q.redb"), 100).unwrap();
        q.push(vec![
            job("/r/avif", Priority::Upgrade),
            job("/r/webp", Priority::Eager),
        ])
        .unwrap();
        let Next::Ready(_, quick) = q.next(0, false) else {
            panic!("a quick job is due")
        };
        assert_eq!(quick.path, "/r/webp");
        assert_eq!(q.peek(0, false), Next::Empty);
        assert!(matches!(q.peek(0, true), Next::Ready(_, j) if j.path == "/r/avif"));
    }

    #[test]
    fn jobs_survive_a_reopen_and_finished_ones_do_not_come_back() {
        let dir = tempdir();
        let path = dir.path().join("q.redb");
        {
            let q = Queue::open(&path, 100).unwrap();
            q.push(vec![
                job("/r/a", Priority::Eager),
                job("/r/b", Priority::Eager),
            ])
            .unwrap();
            let (slot, _) = ready(&q, 0).unwrap();
            q.finish(slot).unwrap();
            // A running job that never finished (the host was killed).
            ready(&q, 0).unwrap();
            // Pushes sync, so the finish above is on disk too.
            q.push(vec![job("/r/c", Priority::Eager)]).unwrap();
        }
        let q = Queue::open(&path, 100).unwrap();
        let order: Vec<String> = std::iter::from_fn(|| ready(&q, 0).map(|(_, j)| j.path)).collect();
        assert_eq!(order, ["/r/b", "/r/c"]);
        q.push(vec![job("/r/d", Priority::Eager)]).unwrap();
        let (slot, _) = ready(&q, 0).unwrap();
        assert!(slot.1 > 3, "numbering continues after a reopen: {slot:?}");
    }

    #[test]
    fn a_failed_job_waits_its_back_off() {
        let dir = tempdir();
        let q = Queue::open(&dir.path().join("q.redb"), 100).unwrap();
        q.push(vec![job("/r/a", Priority::Eager)]).unwrap();
        let (slot, _) = ready(&q, 0).unwrap();
        q.retry(slot, 5_000).unwrap();
        assert_eq!(q.next(1_000, true), Next::At(5_000));
        let (_, again) = ready(&q, 5_000).unwrap();
        assert_eq!(again.attempts, 1);
    }

    #[test]
    fn a_full_queue_drops_the_lowest_priority_newest_work() {
        let dir = tempdir();
        let q = Queue::open(&dir.path().join("q.redb"), 2).unwrap();
        q.push(vec![
            job("/r/a", Priority::Eager),
            job("/r/b", Priority::EagerSlow),
        ])
        .unwrap();
        let pushed = q.push(vec![job("/r/c", Priority::Upgrade)]).unwrap();
        assert_eq!(pushed.dropped, vec![job("/r/b", Priority::EagerSlow)]);
        let pushed = q.push(vec![job("/r/d", Priority::EagerSlow)]).unwrap();
        assert_eq!(
            pushed.dropped,
            vec![job("/r/d", Priority::EagerSlow)],
            "nothing queued ranks below it"
        );
        assert_eq!(q.depth(), (2, 0));
    }

    #[test]
    fn forgetting_an_image_drops_its_waiting_jobs() {
        let dir = tempdir();
        let q = Queue::open(&dir.path().join("q.redb"), 100).unwrap();
        q.push(vec![
            job("/r/w=1/x", Priority::Eager),
            job("/r/w=2/x", Priority::Eager),
            job("/r/w=1/y", Priority::Eager),
        ])
        .unwrap();
        assert_eq!(q.forget_image("x").unwrap(), 2);
        assert_eq!(ready(&q, 0).unwrap().1.image, "y");
    }
}
