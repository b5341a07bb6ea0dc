//! End-to-end tests of one region behind a load balancer (issue 12): the
//! configuration in examples/nginx (nginx.conf, host-a.toml, host-b.toml),
//! with only its addresses replaced, running real nginx, two `edgeimg up`
//! hosts, moto's S3 server (the region's bucket) and redis-server (the
//! region's variant tier) on 127.0.0.1. One host is killed with SIGKILL in
//! the middle of traffic.

#[path = "support/services.rs"]
mod services;
#[path = "support/mod.rs"]
mod support;

use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use services::{free_port, MotoS3, RedisServer};
use support::nginx::Nginx;
use support::{
    app_manifest, built_manifest, corpus, repo_path, request_from, send, Body, Host, HostBuilder,
    Response, TempDir,
};

const KEY: &str = "test-replication-key-0123456789abcdef";

/// The example's addresses, and what a test puts in their place.
struct Addresses {
    host_a: u16,
    host_b: u16,
    nginx: u16,
    redis: String,
    s3_endpoint: String,
    bucket: String,
}

/// An example file with its addresses replaced; panics when one the test
/// means to replace is missing, so the example and the test cannot drift.
fn example(name: &str, at: &Addresses) -> String {
    let text = std::fs::read_to_string(repo_path(&format!("examples/nginx/{name}"))).unwrap();
    let mut out = text.clone();
    for (from, to) in [
        ("127.0.0.1:3011", format!("127.0.0.1:{}", at.host_a)),
        ("127.0.0.1:3012", format!("127.0.0.1:{}", at.host_b)),
        ("127.0.0.1:8080", format!("127.0.0.1:{}", at.nginx)),
        ("redis://127.0.0.1:6379", at.redis.clone()),
        ("http://127.0.0.1:9000", at.s3_endpoint.clone()),
        ("\"edgeimg-region\"", format!("{:?}", at.bucket)),
    ] {
        out = out.replace(from, &to);
    }
    let expected: &[&str] = match name {
        "nginx.conf" => &["127.0.0.1:3011", "127.0.0.1:3012", "127.0.0.1:8080"],
        _ => &[
            "127.0.0.1:301",
            "redis://127.0.0.1:6379",
            "http://127.0.0.1:9000",
        ],
    };
    for needle in expected {
        assert!(text.contains(needle), "examples/nginx/{name} lost {needle}");
    }
    out
}

/// The region: its services, two hosts and nginx in front.
struct Region {
    _moto: MotoS3,
    _redis: RedisServer,
    a: Option<Host>,
    b: Host,
    nginx: Nginx,
    _configs: TempDir,
}

impl Region {
    fn start(manifest: std::path::PathBuf) -> Self {
        let moto = MotoS3::start();
        let redis = RedisServer::start();
        let at = Addresses {
            host_a: free_port(),
            host_b: free_port(),
            nginx: free_port(),
            redis: redis.url(),
            s3_endpoint: moto.endpoint(),
            bucket: moto.bucket.clone(),
        };
        let configs = TempDir::new("lb-configs");
        let host = |name: &str, port: u16| {
            let rc = configs.path().join(format!("host-{name}.toml"));
            std::fs::write(&rc, example(&format!("host-{name}.toml"), &at)).unwrap();
            HostBuilder::new(&manifest)
                .port(port)
                .arg("--runtime-config-file")
                .arg(rc.to_string_lossy())
                .env("AWS_ACCESS_KEY_ID", "test")
                .env("AWS_SECRET_ACCESS_KEY", "test")
                .env("EDGEIMG_REPLICATION_KEY", KEY)
                .start()
        };
        let (a, b) = (host("a", at.host_a), host("b", at.host_b));
        let nginx = Nginx::start(&example("nginx.conf", &at), at.nginx);
        Region {
            _moto: moto,
            _redis: redis,
            a: Some(a),
            b,
            nginx,
            _configs: configs,
        }
    }

    fn a(&self) -> &Host {
        self.a.as_ref().expect("host a is running")
    }

    /// A request through nginx.
    fn request(&self, method: &str, path: &str, headers: &[(&str, &str)], body: &[u8]) -> Response {
        send(self.nginx.addr(), method, path, headers, Body::Fixed(body))
            .unwrap_or_else(|e| panic!("{method} {path} through nginx: {e}"))
    }

    fn get(&self, path: &str) -> Response {
        self.request("GET", path, &[], b"")
    }

    fn upload(&self, bytes: &[u8]) -> Response {
        self.request(
            "POST",
            "/upload",
            &[("content-type", "application/octet-stream")],
            bytes,
        )
    }
}

/// Distinct small PNGs: `n` of them, from `first` on.
fn pngs(first: u32, n: u32) -> Vec<Vec<u8>> {
    (first..first + n)
        .map(|i| edgeimg_common::testdata::png_with(8 + i % 90, 6 + i / 90, true))
        .collect()
}

fn id_of(r: &Response) -> String {
    assert!(
        r.status == 201 || r.status == 200,
        "{} {}",
        r.status,
        r.text()
    );
    r.json()["id"].as_str().unwrap().to_string()
}

/// Component calls a host logged for `path` (edge-cache hits log none).
fn calls(host: &Host, path: &str) -> usize {
    host.logs()
        .lines()
        .filter(|l| l.contains("component call") && l.contains(&format!("path=\"{path}\"")))
        .count()
}

/// Component calls each host logged for `path`, once the first is in the
/// logs (they are read from the hosts' stderr as it comes).
fn logged_calls(a: &Host, b: &Host, path: &str) -> (usize, usize) {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let counts = (calls(a, path), calls(b, path));
        if counts != (0, 0) || Instant::now() > deadline {
            return counts;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn a_region_behind_nginx_survives_losing_a_host_mid_traffic_and_loses_no_upload() {
    let mut region = Region::start(app_manifest());

    // Uploads go round robin; each variant URL goes to one host, which makes
    // it once and then answers from its edge cache.
    let mut ids = Vec::new();
    let mut on = [Vec::new(), Vec::new()];
    for png in pngs(0, 40) {
        let id = id_of(&region.upload(&png));
        let path = format!("/resize/width=4,format=png/{id}");
        for _ in 0..3 {
            let r = region.get(&path);
            assert_eq!(r.status, 200, "{}", r.text());
        }
        let (a, b) = logged_calls(region.a(), &region.b, &path);
        assert_eq!(a + b, 1, "{path}: made once, by one host (a: {a}, b: {b})");
        on[usize::from(b == 1)].push(path);
        ids.push((id, png));
        if ids.len() >= 8 && on.iter().all(|paths| paths.len() >= 2) {
            break;
        }
    }
    assert!(
        on.iter().all(|paths| paths.len() >= 2),
        "both hosts hold variants: {on:?}"
    );
    for host in [region.a(), &region.b] {
        assert!(
            host.logs().contains("path=\"/upload\""),
            "both hosts take uploads"
        );
    }

    // A photo streams through in both directions, never through nginx's disk.
    let photo = corpus("Blinds.jpg");
    let photo_id = id_of(&region.upload(&photo));
    assert_eq!(region.get(&format!("/images/{photo_id}")).body, photo);

    // A delete through one host is honoured by the other at once (siblings).
    let (gone, _) = ids.pop().unwrap();
    for paths in &mut on {
        paths.retain(|p| !p.ends_with(&gone));
    }
    assert_eq!(region.get(&format!("/images/{gone}")).status, 200);
    assert_eq!(
        region
            .request("DELETE", &format!("/upload/{gone}"), &[], b"")
            .status,
        204
    );
    let deadline = Instant::now() + Duration::from_secs(2);
    while region.get(&format!("/images/{gone}")).status != 404 {
        assert!(
            Instant::now() < deadline,
            "the deleted image is still served"
        );
        std::thread::sleep(Duration::from_millis(20));
    }

    // Traffic from three clients; host a is killed while it flows.
    let log: Arc<Mutex<Vec<Outcome>>> = Arc::default();
    let killed_at: Arc<Mutex<Option<Instant>>> = Arc::default();
    let done = Arc::new(AtomicUsize::new(0));
    let after_kill = 12;
    let a = region.a.take().unwrap();
    let nginx = region.nginx.addr();
    std::thread::scope(|s| {
        for client in 0..3u32 {
            let (log, killed_at, done, ids) = (&log, &killed_at, &done, &ids);
            s.spawn(move || {
                let mut made = 0;
                for round in 0u32.. {
                    let killed = *killed_at.lock().unwrap();
                    if killed.is_some_and(|_| made >= after_kill) {
                        break;
                    }
                    let png = &pngs(1000 + client * 1000 + round, 1)[0];
                    let (old_id, old_png) = &ids[round as usize % ids.len()];
                    for step in traffic_round(nginx, png, old_id, old_png) {
                        let later = killed.is_some();
                        log.lock().unwrap().push(Outcome { later, ..step });
                    }
                    done.fetch_add(1, Ordering::Relaxed);
                    if killed.is_some() {
                        made += 1;
                    }
                }
            });
        }
        while done.load(Ordering::Relaxed) < 6 {
            std::thread::sleep(Duration::from_millis(5));
        }
        a.signal("KILL");
        a.wait();
        *killed_at.lock().unwrap() = Some(Instant::now());
    });

    let log = log.lock().unwrap();
    let later: Vec<&Outcome> = log.iter().filter(|o| o.later).collect();
    assert!(
        later.len() >= 3 * after_kill * 3,
        "traffic went on after the kill"
    );
    let failed: Vec<String> = later
        .iter()
        .filter(|o| !o.ok)
        .map(|o| format!("{} -> {}", o.what, o.status))
        .collect();
    assert!(
        failed.is_empty(),
        "requests after the kill failed: {failed:#?}"
    );

    // Nothing acknowledged is lost: every upload that got 201/200 (before or
    // after the kill) is served whole, and resizes, by the surviving host.
    let acked: Vec<&Outcome> = log.iter().filter(|o| o.acked.is_some()).collect();
    assert!(acked.len() >= 3 * after_kill);
    for o in acked {
        let (id, png) = o.acked.as_ref().unwrap();
        let r = region.get(&format!("/images/{id}"));
        assert_eq!(
            (r.status, r.body == *png),
            (200, true),
            "upload {id} was lost"
        );
    }
    for (id, png) in &ids {
        assert_eq!(region.get(&format!("/images/{id}")).body, *png);
    }
    // Variants host a made are hits on host b: the region's Redis has them.
    for path in &on[0] {
        let r = region.get(path);
        assert_eq!(
            (r.status, r.header("x-cache")),
            (200, Some("hit")),
            "{path}"
        );
    }
    let errors = region.nginx.error_log();
    assert!(
        !errors.contains("buffered to a temporary file"),
        "nginx buffered a body to disk:\n{errors}"
    );
}

/// One request of the traffic and how it went.
struct Outcome {
    what: String,
    status: u16,
    ok: bool,
    /// Sent after host a was dead.
    later: bool,
    /// An acknowledged upload: its id and bytes.
    acked: Option<(String, Vec<u8>)>,
}

/// An upload of `png`, its resize, and reads of an earlier image. An upload
/// that failed is sent again, as a client would (it is content-addressed).
fn traffic_round(nginx: SocketAddr, png: &[u8], old_id: &str, old_png: &[u8]) -> Vec<Outcome> {
    let mut out = Vec::new();
    let mut id = None;
    for _ in 0..2 {
        let r = send(nginx, "POST", "/upload", &[], Body::Fixed(png));
        let (mut outcome, r) = outcome("upload", r, |r| matches!(r.status, 200 | 201));
        id = r.and_then(|r| r.json()["id"].as_str().map(str::to_string));
        outcome.acked = id.clone().map(|id| (id, png.to_vec()));
        out.push(outcome);
        if id.is_some() {
            break;
        }
    }
    let mut reads = Vec::new();
    if let Some(id) = &id {
        reads.push((format!("/resize/width=5,format=png/{id}"), None));
    }
    reads.push((format!("/images/{old_id}"), Some(old_png)));
    reads.push((format!("/resize/width=4,format=png/{old_id}"), None));
    for (path, expected) in reads {
        let r = send(nginx, "GET", &path, &[], Body::Fixed(b""));
        let (o, _) = outcome(&path, r, |r| {
            r.status == 200 && expected.is_none_or(|bytes| r.body == bytes)
        });
        out.push(o);
    }
    out
}

/// How one request went; the response when it went well.
fn outcome(
    what: &str,
    r: std::io::Result<Response>,
    ok: impl Fn(&Response) -> bool,
) -> (Outcome, Option<Response>) {
    let (status, good) = match &r {
        Ok(r) => (r.status, ok(r)),
        Err(_) => (0, false),
    };
    let outcome = Outcome {
        what: what.to_string(),
        status,
        ok: good,
        later: false,
        acked: None,
    };
    (outcome, r.ok().filter(|_| good))
}

#[test]
fn components_see_the_client_behind_the_trusted_proxy_and_nobody_else_can_claim_an_address() {
    let manifest = built_manifest("tests/probe/spin.toml", &["edgeimg_probe"]);
    let region = Region::start(manifest);
    let client: IpAddr = "127.0.0.7".parse().unwrap();
    let echo = |addr: SocketAddr, headers: &[(&str, &str)]| {
        let r = request_from(client, addr, "GET", "/echo", headers).unwrap();
        assert_eq!(r.status, 200, "{}", r.text());
        r.json()["headers"]["spin-client-addr"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let forged = [("x-forwarded-for", "203.0.113.9")];
    // Through nginx: the client's address, whatever it claims.
    assert_eq!(echo(region.nginx.addr(), &[]), "127.0.0.7:0");
    assert_eq!(echo(region.nginx.addr(), &forged), "127.0.0.7:0");
    // Straight to a host from an untrusted address: the claim is ignored.
    let direct = echo(region.b.addr, &forged);
    assert!(
        direct.starts_with("127.0.0.7:") && direct != "127.0.0.7:0",
        "{direct}"
    );
    let logs = region.a().logs() + region.b.logs().as_str();
    assert!(
        logs.contains("client=127.0.0.7:0"),
        "the access log names the client"
    );
}
