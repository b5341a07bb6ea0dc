//! End-to-end tests of background work (issue 23) on real `edgeimg up`
//! processes: the eager ladder is made after an upload without any request,
//! `format=auto` answers WebP at once while the AVIF is made in the
//! background and AVIF once it is stored, queued jobs survive `kill -9`, an
//! original replicated into another region gets its ladder made there, and
//! interactive requests keep their speed while jobs run.
//!
//! The tests of this file run one at a time ([`serial`]): one of them times
//! interactive requests, and the others' background encodes would skew it.

#[path = "support/services.rs"]
mod services;
#[path = "support/mod.rs"]
mod support;

use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use services::free_port;
use support::{app_manifest, corpus, Host, HostBuilder, Response, TempDir};

/// What Chrome, Firefox and Safari 16+ send for images.
const CHROME_ACCEPT: &str = "image/avif,image/webp,image/apng,image/svg+xml,image/*,*/*;q=0.8";

/// Gauge of queued jobs and counter of finished ones.
const JOBS: &str = "edgeimg_background_jobs";
const DONE: &str = "edgeimg_background_jobs_done_total";
const ENQUEUED: &str = "edgeimg_background_jobs_enqueued_total";
const FAILED: &str = "edgeimg_background_jobs_failed_total";

fn serial() -> MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    LOCK.lock().unwrap_or_else(|e| e.into_inner())
}

/// Waits up to `secs` for `check`, polling.
fn eventually(secs: u64, what: &str, host: &Host, mut check: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while !check() {
        assert!(
            Instant::now() < deadline,
            "timed out waiting until {what}; host log:\n{}",
            host.logs()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// A host of the app with eager variants on, runtime config `rc` (if not empty).
fn eager_host(dir: &TempDir, rc: &str) -> HostBuilder {
    let mut builder = HostBuilder::new(app_manifest()).env("EDGEIMG_EAGER", "on");
    if !rc.is_empty() {
        let path = dir.path().join("rc.toml");
        std::fs::write(&path, rc).unwrap();
        builder = builder
            .arg("--runtime-config-file")
            .arg(path.to_string_lossy());
    }
    builder
}

fn get_with(host: &Host, path: &str, accept: &str) -> Response {
    let r = host.request("GET", path, &[("accept", accept)], b"");
    assert_eq!(r.status, 200, "{path}: {}", r.text());
    r
}

/// Asserts `path` is answered from a cache (edge or key-value), i.e. was made before.
fn assert_made(host: &Host, path: &str, accept: &str, content_type: &str) {
    let r = get_with(host, path, accept);
    assert_eq!(r.header("content-type"), Some(content_type), "{path}");
    assert_eq!(
        r.header("x-cache"),
        Some("hit"),
        "{path} was made before anyone asked"
    );
    assert_eq!(
        r.header("cache-control"),
        Some("public, max-age=31536000, immutable"),
        "{path}"
    );
}

#[test]
fn the_ladder_is_made_after_an_upload_without_any_request() {
    let _serial = serial();
    let dir = TempDir::new("eager");
    let host = eager_host(&dir, "").start();
    let r = host.post("/upload", &[], &corpus("Blinds.jpg"));
    assert_eq!(r.status, 201, "{}", r.text());
    assert_eq!(r.header("edgeimg-defer"), None);
    let id = r.json()["id"].as_str().unwrap().to_string();
    // The 201 did not wait for the ladder: it is queued behind it (4 widths
    // and 2 presets, each making WebP and deferring its AVIF).
    eventually(5, "the ladder is queued", &host, || {
        host.metric(ENQUEUED) >= 6.0
    });
    assert!(
        host.metric(JOBS) > 0.0,
        "jobs were still queued after the 201"
    );
    drained(&host, 12.0);
    assert_eq!(host.metric(FAILED), 0.0, "{}", host.logs());
    // What a browser's srcset asks for is there in its best format, and so
    // is the WebP for browsers without AVIF.
    for width in [320, 640, 960, 1280] {
        let path = format!("/resize/width={width},format=auto/{id}");
        assert_made(&host, &path, CHROME_ACCEPT, "image/avif");
        assert_made(&host, &path, "image/webp,*/*", "image/webp");
    }
    assert_made(
        &host,
        &format!("/resize/thumb/{id}"),
        CHROME_ACCEPT,
        "image/avif",
    );
    assert_made(
        &host,
        &format!("/resize/card/{id}"),
        "image/webp",
        "image/webp",
    );
}

/// Waits until the queue is empty, has been so for a second (a job's
/// deferred AVIF is queued just after it answers) and has taken at least
/// `enqueued` jobs.
fn drained(host: &Host, enqueued: f64) {
    eventually(180, "the queue drains", host, || {
        host.metric(JOBS) == 0.0 && host.metric(ENQUEUED) >= enqueued && {
            std::thread::sleep(Duration::from_secs(1));
            host.metric(JOBS) == 0.0
        }
    });
}

#[test]
fn format_auto_answers_webp_at_once_and_avif_once_it_is_stored() {
    let _serial = serial();
    let host = HostBuilder::new(app_manifest()).start();
    let id = host.upload(&corpus("Dune.jpg"));
    let path = format!("/resize/width=640,format=auto/{id}");

    let first = get_with(&host, &path, CHROME_ACCEPT);
    assert_eq!(first.header("content-type"), Some("image/webp"));
    assert_eq!(first.header("vary"), Some("Accept"));
    let cache_control = first.header("cache-control").unwrap();
    assert!(
        cache_control.contains("max-age=60") && !cache_control.contains("immutable"),
        "a provisional answer is cached briefly: {cache_control}"
    );
    assert_eq!(first.header("edgeimg-defer"), None, "the host keeps it");

    let deadline = Instant::now() + Duration::from_secs(60);
    let upgraded = loop {
        let r = get_with(&host, &path, CHROME_ACCEPT);
        if r.header("content-type") == Some("image/avif") {
            break r;
        }
        assert_eq!(r.header("content-type"), Some("image/webp"));
        assert!(
            Instant::now() < deadline,
            "no AVIF after 60 s: {}",
            host.logs()
        );
        std::thread::sleep(Duration::from_millis(200));
    };
    assert_eq!(
        upgraded.header("cache-control"),
        Some("public, max-age=31536000, immutable")
    );
    assert_eq!(&upgraded.body[4..12], b"ftypavif");
    assert!(host.metric(DONE) >= 1.0);
    // A browser without AVIF never waited for it either.
    let webp = get_with(&host, &path, "image/webp,*/*");
    assert_eq!(webp.header("content-type"), Some("image/webp"));

    // An explicit format=avif waits for its AVIF.
    let explicit = get_with(&host, &format!("/resize/width=200,format=avif/{id}"), "*/*");
    assert_eq!(explicit.header("content-type"), Some("image/avif"));
}

#[test]
fn queued_jobs_survive_kill_9_and_run_after_a_restart() {
    let _serial = serial();
    let dir = TempDir::new("eager-kill");
    let data = TempDir::new("eager-kill-data");
    // Variants on disk, so what was made before the kill is still there after.
    let rc = format!(
        "[key_value_store.cache]\ntype = \"opendal\"\nscheme = \"fs\"\nroot = {:?}\nread_cache_bytes = 0\n\
         [eager]\nwidths = [320, 640]\npresets = []\n",
        dir.path().join("variants").to_string_lossy()
    );
    let host = eager_host(&dir, &rc).data_dir(data.path()).start();
    let ids: Vec<String> = ["Blinds.jpg", "Dune.jpg", "Aqua.jpg"]
        .iter()
        .map(|name| host.upload(&corpus(name)))
        .collect();
    eventually(5, "every ladder is queued", &host, || {
        host.metric(ENQUEUED) >= 6.0
    });
    assert!(
        host.metric(JOBS) > 0.0,
        "jobs are queued when the host dies"
    );
    host.signal("KILL");
    host.wait();

    let host = eager_host(&dir, &rc).data_dir(data.path()).start();
    assert!(host.metric(JOBS) > 0.0, "the queue came back from disk");
    drained(&host, 0.0);
    assert!(host.metric(DONE) >= 1.0, "jobs ran after the restart");
    for id in &ids {
        for width in [320, 640] {
            for (format, accept) in [("webp", "image/webp,*/*"), ("avif", CHROME_ACCEPT)] {
                let path = format!("/resize/width={width},format=auto/{id}");
                assert_made(&host, &path, accept, &format!("image/{format}"));
            }
        }
    }
}

#[test]
fn a_replicated_original_gets_its_ladder_made_in_the_region_it_reaches() {
    let _serial = serial();
    let key = "test-replication-key-0123456789abcdef";
    let (eu_port, us_port) = (free_port(), free_port());
    let dirs = [TempDir::new("eager-eu"), TempDir::new("eager-us")];
    let start = |dir: &TempDir, region: &str, peer: &str, port: u16, peer_port: u16| {
        let rc = format!(
            "[replication]\nkey = \"{key}\"\n[[replication.peers]]\nregion = \"{peer}\"\n\
             url = \"http://127.0.0.1:{peer_port}\"\n[eager]\nwidths = [320]\nformats = [\"webp\"]\npresets = []\n"
        );
        eager_host(dir, &rc)
            .port(port)
            .args(["--region", region])
            .start()
    };
    let eu = start(&dirs[0], "eu", "us", eu_port, us_port);
    let us = start(&dirs[1], "us", "eu", us_port, eu_port);
    let id = eu.upload(&corpus("Aqua.jpg"));
    // Nobody asks `us` for anything but its metrics until its ladder is made.
    eventually(
        30,
        "us made the ladder of the replicated original",
        &us,
        || us.metric(DONE) >= 1.0,
    );
    let path = format!("/resize/width=320,format=webp/{id}");
    assert_made(&us, &path, "*/*", "image/webp");
    assert_made(&eu, &path, "*/*", "image/webp");
}

/// Median time of a cold `/resize` of `id` for each width of `widths`.
fn median_cold(host: &Host, id: &str, widths: impl Iterator<Item = u32>) -> Duration {
    let mut times: Vec<Duration> = widths
        .map(|w| {
            let started = Instant::now();
            let r = get_with(host, &format!("/resize/width={w},format=jpeg/{id}"), "*/*");
            let took = started.elapsed();
            assert_eq!(r.header("x-cache"), Some("miss"), "a cold variant");
            took
        })
        .collect();
    times.sort();
    times[times.len() / 2]
}

#[test]
fn interactive_requests_keep_their_speed_while_jobs_run() {
    let _serial = serial();
    let dir = TempDir::new("eager-speed");
    let host = eager_host(&dir, "").start();
    let id = host.upload(&corpus("Blinds.jpg"));
    // Best of two attempts, each idle then busy with a big photo's ladder:
    // one measurement can be thrown by load from outside the test.
    let mut seen = Vec::new();
    for (attempt, big) in ["Elephants_5640x3172.jpg", "Elephants_3840x2160.jpg"]
        .iter()
        .enumerate()
    {
        // Every ladder so far (12 jobs each) is made.
        drained(&host, 12.0 * (attempt + 1) as f64);
        let widths = 1001 + 200 * attempt as u32;
        let idle = median_cold(&host, &id, widths..widths + 7);
        host.upload(&corpus(big));
        eventually(10, "its jobs run", &host, || {
            host.metric("edgeimg_background_jobs_running") >= 1.0
        });
        let busy = median_cold(&host, &id, widths + 100..widths + 107);
        assert!(
            host.metric(JOBS) > 0.0,
            "the background was still busy when the measurement ended"
        );
        let ratio = busy.as_secs_f64() / idle.as_secs_f64();
        eprintln!("cold resize median: {idle:?} idle, {busy:?} while jobs ran ({ratio:.2}x)");
        if ratio <= 1.5 {
            return;
        }
        seen.push(format!(
            "{busy:?} while jobs ran, {idle:?} idle ({ratio:.2}x)"
        ));
    }
    panic!("cold resizes slowed down by more than 1.5x: {seen:?}");
}
