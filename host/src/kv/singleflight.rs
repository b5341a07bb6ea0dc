//! Single flight: concurrent callers asking for the same key share one
//! execution of the work.
//!
//! The work runs in its own task, so a caller that goes away (a client that
//! disconnects) neither cancels the others' result nor leaves a stale flight:
//! the flight leaves the table when its work finishes, whoever awaits it.

use std::collections::HashMap;
use std::future::Future;
use std::hash::Hash;
use std::sync::{Arc, Mutex};

use futures::future::{BoxFuture, FutureExt, Shared};

type Flight<V> = Shared<BoxFuture<'static, Option<V>>>;

/// A table of flights in the air, by key.
pub struct Flights<K, V> {
    inflight: Arc<Mutex<HashMap<K, Flight<V>>>>,
}

impl<K, V> Default for Flights<K, V> {
    fn default() -> Self {
        Self {
            inflight: Default::default(),
        }
    }
}

/// Whether a caller started the flight or joined one in the air.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// This caller's work ran.
    Leader,
    /// This caller waited for another caller's work.
    Follower,
}

impl<K, V> Flights<K, V>
where
    K: Hash + Eq + Clone + Send + 'static,
    V: Clone + Send + Sync + 'static,
{
    /// Runs `work` for `key`, or joins the flight already running for it.
    /// Returns `None` when the work panicked.
    pub async fn run<F>(&self, key: K, work: F) -> (Option<V>, Role)
    where
        F: Future<Output = V> + Send + 'static,
    {
        let (flight, role) = {
            let mut inflight = self.inflight.lock().unwrap();
            match inflight.get(&key) {
                Some(flight) => (flight.clone(), Role::Follower),
                None => {
                    let landing = Landing {
                        inflight: self.inflight.clone(),
                        key: Some(key.clone()),
                    };
                    let task = tokio::spawn(async move {
                        let _landing = landing;
                        work.await
                    });
                    let flight = task.map(Result::ok).boxed().shared();
                    inflight.insert(key, flight.clone());
                    (flight, Role::Leader)
                }
            }
        };
        (flight.await, role)
    }

    /// Flights in the air (for tests).
    #[cfg(test)]
    pub fn in_flight(&self) -> usize {
        self.inflight.lock().unwrap().len()
    }
}

/// Removes a flight from the table when its work ends, even by panic.
struct Landing<K: Hash + Eq, V> {
    inflight: Arc<Mutex<HashMap<K, Flight<V>>>>,
    key: Option<K>,
}

impl<K: Hash + Eq, V> Drop for Landing<K, V> {
    fn drop(&mut self) {
        if let Some(key) = self.key.take() {
            self.inflight.lock().unwrap().remove(&key);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_callers_share_one_execution() {
        let flights = Arc::new(Flights::<String, usize>::default());
        let runs = Arc::new(AtomicUsize::new(0));
        let mut tasks = Vec::new();
        for _ in 0..100 {
            let (flights, runs) = (flights.clone(), runs.clone());
            tasks.push(tokio::spawn(async move {
                flights
                    .run("k".to_string(), async move {
                        tokio::time::sleep(Duration::from_millis(100)).await;
                        runs.fetch_add(1, Ordering::SeqCst) + 42
                    })
                    .await
            }));
        }
        let mut leaders = 0;
        for task in tasks {
            let (value, role) = task.await.unwrap();
            assert_eq!(value, Some(42));
            leaders += (role == Role::Leader) as usize;
        }
        assert_eq!(runs.load(Ordering::SeqCst), 1);
        assert_eq!(leaders, 1);
        assert_eq!(flights.in_flight(), 0);
    }

    #[tokio::test]
    async fn a_cancelled_leader_does_not_cancel_followers() {
        let flights = Arc::new(Flights::<u32, u32>::default());
        let f = flights.clone();
        let leader = tokio::spawn(async move {
            f.run(1, async {
                tokio::time::sleep(Duration::from_millis(50)).await;
                7
            })
            .await
        });
        tokio::time::sleep(Duration::from_millis(10)).await;
        let follower = flights.run(1, async { 8 });
        leader.abort();
        assert_eq!(follower.await, (Some(7), Role::Follower));
        assert_eq!(flights.in_flight(), 0);
    }

    #[tokio::test]
    async fn a_panicking_flight_lands_and_reports_none() {
        let flights = Flights::<u32, u32>::default();
        let (value, _) = flights.run(1, async { panic!("boom") }).await;
        assert_eq!(value, None);
        assert_eq!(flights.in_flight(), 0);
        assert_eq!(flights.run(1, async { 3 }).await.0, Some(3));
    }
}
