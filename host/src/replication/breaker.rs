//! A circuit breaker per peer: after repeated failures the peer is left
//! alone for a while (open), then one request probes it (half-open); a
//! success closes the breaker, a failure opens it again for longer. Delivery
//! and pull-through both consult it, so a dead or hanging peer costs one
//! timeout now and then instead of one per request.

use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Consecutive failures that open the breaker.
const FAILURES_TO_OPEN: u32 = 3;
/// First open period; doubled on each failed probe up to [`MAX_OPEN`].
const FIRST_OPEN: Duration = Duration::from_secs(2);
/// Short: the peer's ping (see `rtt`) closes an open breaker as soon as
/// the peer answers again anyway.
const MAX_OPEN: Duration = Duration::from_secs(10);

/// The breaker's state as metrics and status report it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    Closed,
    HalfOpen,
    Open,
}

impl State {
    /// 0 closed, 1 half-open, 2 open (the metric's value).
    pub fn code(self) -> i64 {
        match self {
            State::Closed => 0,
            State::HalfOpen => 1,
            State::Open => 2,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            State::Closed => "closed",
            State::HalfOpen => "half-open",
            State::Open => "open",
        }
    }
}

struct Inner {
    failures: u32,
    open_for: Duration,
    /// When open: until when; a request after that is the probe.
    open_until: Option<Instant>,
    probing: bool,
}

/// One peer's breaker.
pub struct Breaker {
    peer: String,
    inner: Mutex<Inner>,
}

impl Breaker {
    pub fn new(peer: &str) -> Self {
        Self {
            peer: peer.to_string(),
            inner: Mutex::new(Inner {
                failures: 0,
                open_for: FIRST_OPEN,
                open_until: None,
                probing: false,
            }),
        }
    }

    /// Whether a request may go to the peer now; when the open period is
    /// over, the first caller becomes the probe.
    pub fn allow(&self) -> bool {
        let mut inner = self.inner.lock().unwrap();
        match inner.open_until {
            None => true,
            Some(until) if Instant::now() >= until && !inner.probing => {
                inner.probing = true;
                true
            }
            Some(_) => false,
        }
    }

    /// How long until a probe may go (zero when closed).
    pub fn wait(&self) -> Duration {
        let inner = self.inner.lock().unwrap();
        inner.open_until.map_or(Duration::ZERO, |until| {
            until.saturating_duration_since(Instant::now())
        })
    }

    pub fn state(&self) -> State {
        let inner = self.inner.lock().unwrap();
        match inner.open_until {
            None => State::Closed,
            Some(until) if Instant::now() >= until => State::HalfOpen,
            Some(_) => State::Open,
        }
    }

    pub fn success(&self) {
        let mut inner = self.inner.lock().unwrap();
        if inner.open_until.is_some() {
            tracing::info!(peer = %self.peer, "replication: peer answers again; breaker closed");
        }
        inner.failures = 0;
        inner.open_for = FIRST_OPEN;
        inner.open_until = None;
        inner.probing = false;
    }

    pub fn failure(&self, error: &str) {
        let mut inner = self.inner.lock().unwrap();
        inner.failures += 1;
        if inner.probing {
            inner.probing = false;
            inner.open_for = (inner.open_for * 2).min(MAX_OPEN);
            inner.open_until = Some(Instant::now() + inner.open_for);
            tracing::warn!(peer = %self.peer, error, open_s = inner.open_for.as_secs(), "replication: probe failed; breaker open again");
        } else if inner.open_until.is_none() && inner.failures >= FAILURES_TO_OPEN {
            inner.open_until = Some(Instant::now() + inner.open_for);
            tracing::warn!(peer = %self.peer, error, failures = inner.failures, open_s = inner.open_for.as_secs(), "replication: breaker open");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn opens_after_repeated_failures_and_probes_once() {
        let b = Breaker::new("us");
        for _ in 0..FAILURES_TO_OPEN - 1 {
            b.failure("x");
            assert!(b.allow());
        }
        b.failure("x");
        assert_eq!(b.state(), State::Open);
        assert!(!b.allow());
        assert!(b.wait() > Duration::ZERO);
        b.inner.lock().unwrap().open_until = Some(Instant::now());
        assert_eq!(b.state(), State::HalfOpen);
        assert!(b.allow(), "the first caller probes");
        assert!(!b.allow(), "only one probe at a time");
        b.failure("still down");
        assert_eq!(b.state(), State::Open);
        assert_eq!(b.inner.lock().unwrap().open_for, FIRST_OPEN * 2);
        b.inner.lock().unwrap().open_until = Some(Instant::now());
        assert!(b.allow());
        b.success();
        assert_eq!(b.state(), State::Closed);
        assert!(b.allow() && b.allow());
    }
}
