//! End-to-end test of the execution pool (issue 13): while guest code burns
//! CPU on every execution slot, requests that need no guest (`/healthz`, an
//! edge-cache hit) still answer at once, one request waits in the queue, and
//! the next is refused with `503 busy` and `Retry-After` without waiting.

#[path = "support/mod.rs"]
mod support;

use std::time::{Duration, Instant};

use support::{built_manifest, Host, HostBuilder};

fn probe() -> Host {
    HostBuilder::new(built_manifest("tests/probe/spin.toml", &["edgeimg_probe"]))
        .args([
            "--exec-threads",
            "2",
            "--exec-slots",
            "2",
            "--queue-depth",
            "1",
            "--queue-timeout-ms",
            "30000",
        ])
        .start()
}

fn wait_for(host: &Host, what: &str, check: impl Fn(&Host) -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !check(host) {
        assert!(
            Instant::now() < deadline,
            "timed out waiting until {what}; metrics:\n{}\nlog:\n{}",
            host.get("/metrics").text(),
            host.logs()
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn cheap_requests_never_wait_behind_guests_that_occupy_every_slot() {
    let host = probe();
    let cached = "/echo?op=headers&set=cache-control:public,%20max-age=60";
    assert_eq!(host.get(cached).status, 200);
    assert_eq!(host.get(cached).header("x-cache"), Some("hit"));

    std::thread::scope(|s| {
        // Distinct URLs: identical GETs would collapse into one invocation.
        let burners: Vec<_> = (0..2)
            .map(|n| {
                let host = &host;
                s.spawn(move || host.get(&format!("/echo?op=burn&ms=3000&n={n}")))
            })
            .collect();
        // Both burners hold a slot and none waits: a slot can still be held
        // for a moment by the request before (its instance ends after its
        // response), and a burner queued behind it would take the queue's
        // place meant for the request below.
        wait_for(&host, "both slots burn", |h| {
            h.metric("edgeimg_exec_busy_slots") == 2.0
                && h.metric("edgeimg_exec_queue_depth") == 0.0
        });
        let queued = s.spawn(|| host.get("/echo?op=burn&ms=10"));
        wait_for(&host, "one request waits", |h| {
            h.metric("edgeimg_exec_queue_depth") == 1.0
        });

        let started = Instant::now();
        let refused = host.get("/echo?op=hello&n=3");
        assert!(
            started.elapsed() < Duration::from_millis(900),
            "refused at once, not after a wait"
        );
        assert_eq!(refused.status, 503, "{}", refused.text());
        assert_eq!(refused.json()["error"]["code"], "busy");
        let retry: u64 = refused
            .header("retry-after")
            .expect("Retry-After")
            .parse()
            .unwrap();
        assert!(retry >= 1);

        for path in ["/healthz", cached, "/metrics"] {
            let started = Instant::now();
            let r = host.get(path);
            let took = started.elapsed();
            assert_eq!(r.status, 200, "{path}");
            assert!(
                took < Duration::from_millis(900),
                "{path} took {took:?} while every slot burned"
            );
        }
        assert_eq!(host.get(cached).header("x-cache"), Some("hit"));

        for burner in burners {
            assert_eq!(burner.join().unwrap().status, 200);
        }
        let queued = queued.join().unwrap();
        assert_eq!(
            queued.status,
            200,
            "the queued request ran once a slot freed: {}\nlog:\n{}",
            queued.text(),
            host.logs()
        );
    });
    assert_eq!(
        host.metric("edgeimg_exec_rejected_total{reason=\"queue_full\"}"),
        1.0
    );
    let logs = host.logs();
    assert!(
        logs.contains("queued_ms"),
        "the access log says how long a request waited:\n{logs}"
    );
}
