//! End-to-end tests of storage (issue 5): originals and metadata survive a
//! host restart on `fs` and on S3 (moto), a burst of identical cold resize
//! requests costs one transform and one read of the original, and the Redis
//! cache tier is shared between hosts and may die without failing requests.
//!
//! Needs the built components (`target/release/edgeimg build`) and, on PATH,
//! `moto_server` (`pip install 'moto[server]'`) and `redis-server`
//! (`apt-get install -y redis-server`); the tests start both themselves.

#[path = "support/services.rs"]
mod services;
#[path = "support/mod.rs"]
mod support;

use std::sync::Barrier;

use services::{MotoS3, RedisServer};
use support::{app_manifest, corpus, Host, HostBuilder, TempDir};

/// Writes `text` as the runtime config of a host; returns its path.
fn runtime_config(dir: &TempDir, text: &str) -> String {
    let path = dir.path().join("runtime-config.toml");
    std::fs::write(&path, text).unwrap();
    path.to_string_lossy().into_owned()
}

/// The value of one sample of `/metrics` (0 when absent).
fn metric(host: &Host, name: &str, labels: &str) -> f64 {
    host.metric(&format!("{name}{{{labels}}}"))
}

/// Uploads, restarts the host (same config), and reads everything back.
fn survives_restart(first: HostBuilder, second: impl FnOnce() -> HostBuilder) {
    let photo = corpus("Aqua.jpg");
    let host = first.start();
    let id = host.upload(&photo);
    let meta = host.get(&format!("/images/{id}/meta"));
    assert_eq!(meta.status, 200, "{}", meta.text());
    assert!(host.stop().success());

    let host = second().start();
    let original = host.get(&format!("/images/{id}"));
    assert_eq!(original.status, 200, "{}", original.text());
    assert!(original.body == photo, "the original came back different");
    let again = host.get(&format!("/images/{id}/meta"));
    assert_eq!(again.status, 200);
    assert_eq!(again.json(), meta.json());
    let thumb = host.get(&format!("/resize/width=64/{id}"));
    assert_eq!(thumb.status, 200, "{}", thumb.text());
}

#[test]
fn originals_survive_a_restart_on_the_default_fs_store() {
    let data = TempDir::new("storage-fs");
    let host = || HostBuilder::new(app_manifest()).data_dir(data.path());
    survives_restart(host(), host);
    assert!(
        data.path().join("images").join("orig").is_dir(),
        "originals live under <data-dir>/images"
    );
}

#[test]
fn originals_survive_a_restart_on_s3() {
    let moto = MotoS3::start();
    let config_dir = TempDir::new("storage-s3");
    let config = runtime_config(
        &config_dir,
        &format!(
            "[key_value_store.images]\ntype = \"opendal\"\nscheme = \"s3\"\n{}",
            moto.runtime_config_lines()
        ),
    );
    // The second host has a fresh data dir: everything comes from S3.
    let host = || {
        HostBuilder::new(app_manifest())
            .arg("--runtime-config-file")
            .arg(config.clone())
    };
    survives_restart(host(), host);
}

#[test]
fn a_burst_of_identical_cold_resizes_costs_one_transform_and_one_original_read() {
    let host = HostBuilder::new(app_manifest()).start();
    let photo = corpus("Elephants.jpg");
    let id = host.upload(&photo);
    let path = format!("/resize/width=320,format=jpeg/{id}");
    let route = r#"route="/resize/...""#;
    let images_fs = r#"store="images",tier="fs""#;
    let invocations = metric(&host, "edgeimg_component_invocations_total", route);
    let reads = metric(&host, "edgeimg_kv_backend_reads_total", images_fs);
    let read_bytes = metric(&host, "edgeimg_kv_read_bytes_total", images_fs);

    let barrier = Barrier::new(100);
    let bodies: Vec<Vec<u8>> = std::thread::scope(|s| {
        let threads: Vec<_> = (0..100)
            .map(|_| {
                s.spawn(|| {
                    barrier.wait();
                    let r = host.get(&path);
                    assert_eq!(r.status, 200, "{}", r.text());
                    r.body
                })
            })
            .collect();
        threads.into_iter().map(|t| t.join().unwrap()).collect()
    });
    assert!(bodies.iter().all(|b| *b == bodies[0] && !b.is_empty()));

    assert_eq!(
        metric(&host, "edgeimg_component_invocations_total", route) - invocations,
        1.0,
        "transforms"
    );
    // The others shared its response in flight, or (arriving after it) got
    // it from the edge cache.
    let edge_hits = host
        .get("/metrics")
        .text()
        .lines()
        .find_map(|l| l.strip_prefix("edgeimg_edge_cache_hits_total "))
        .map_or(0.0, |v| v.trim().parse::<f64>().unwrap());
    assert_eq!(
        metric(&host, "edgeimg_http_collapsed_requests_total", route) + edge_hits,
        99.0
    );
    // One invocation reads meta/{id} and orig/{id} from the object store, once each.
    assert_eq!(
        metric(&host, "edgeimg_kv_backend_reads_total", images_fs) - reads,
        2.0
    );
    let read = metric(&host, "edgeimg_kv_read_bytes_total", images_fs) - read_bytes;
    assert!(
        read >= photo.len() as f64 && read < 2.0 * photo.len() as f64,
        "read {read} bytes"
    );
}

fn redis_cache_config(dir: &TempDir, redis: &RedisServer) -> String {
    runtime_config(
        dir,
        &format!(
            "[key_value_store.images]\ntype = \"opendal\"\nroot = {:?}\n\n\
             [key_value_store.cache]\ntype = \"cache\"\n\
             [[key_value_store.cache.tiers]]\ntype = \"redis\"\nurl = {:?}\nretry_after_ms = 500\n",
            dir.path().join("images").to_string_lossy(),
            redis.url()
        ),
    )
}

#[test]
fn hosts_of_a_region_share_variants_through_redis() {
    let redis = RedisServer::start();
    let dir = TempDir::new("storage-redis");
    let config = redis_cache_config(&dir, &redis);
    let a = HostBuilder::new(app_manifest())
        .arg("--runtime-config-file")
        .arg(config.clone())
        .start();
    let b = HostBuilder::new(app_manifest())
        .arg("--runtime-config-file")
        .arg(config.clone())
        .start();
    let id = a.upload(&corpus("Aqua.jpg"));
    let path = format!("/resize/width=100,format=webp/{id}");
    let first = a.get(&path);
    assert_eq!(
        (first.status, first.header("x-cache")),
        (200, Some("miss")),
        "{}",
        first.text()
    );
    let second = b.get(&path);
    assert_eq!(
        (second.status, second.header("x-cache")),
        (200, Some("hit"))
    );
    assert_eq!(second.body, first.body);
    assert_eq!(
        metric(
            &b,
            "edgeimg_kv_cache_hits_total",
            r#"store="cache",tier="redis""#
        ),
        1.0
    );
}

#[test]
fn a_redis_outage_degrades_to_the_memory_tier() {
    let mut redis = RedisServer::start();
    let dir = TempDir::new("storage-redis-down");
    let config = redis_cache_config(&dir, &redis);
    // Without the edge cache, so that hits below come from the memory tier.
    let host = HostBuilder::new(app_manifest())
        .arg("--runtime-config-file")
        .arg(config)
        .arg("--edge-cache-bytes")
        .arg("0")
        .start();
    let id = host.upload(&corpus("Aqua.jpg"));
    let cached = format!("/resize/width=90/{id}");
    assert_eq!(host.get(&cached).status, 200);

    redis.kill();
    for width in 91..101 {
        let r = host.get(&format!("/resize/width={width}/{id}"));
        assert_eq!(r.status, 200, "{}", r.text());
        let hit = host.get(&cached);
        assert_eq!((hit.status, hit.header("x-cache")), (200, Some("hit")));
    }
    assert_eq!(host.get(&format!("/images/{id}")).status, 200);
    let errors = host.get("/metrics").text();
    assert!(
        errors.contains(r#"edgeimg_kv_backend_errors_total{store="cache",tier="redis""#),
        "{errors}"
    );
}
