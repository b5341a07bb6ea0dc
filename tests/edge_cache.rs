//! End-to-end tests of the host's edge cache: repeated GETs of variants and
//! originals are answered without invoking a component, `format=auto`
//! variants are kept per `Accept` class, a delete purges every cached URL of
//! its image, and personal requests or unshareable responses are never
//! answered from the cache.
//!
//! Needs the built app and probe components: `target/release/edgeimg build`
//! and `target/release/edgeimg build -f tests/probe/spin.toml`.

#[path = "support/mod.rs"]
mod support;

use support::{built_manifest, corpus, Host, HostBuilder, Response};

fn app() -> Host {
    HostBuilder::new(built_manifest(
        "spin.toml",
        &["edgeimg_upload", "edgeimg_fetch", "edgeimg_resize"],
    ))
    .start()
}

fn probe() -> Host {
    HostBuilder::new(built_manifest("tests/probe/spin.toml", &["edgeimg_probe"])).start()
}

fn upload(host: &Host, name: &str) -> String {
    let r = host.post(
        "/upload",
        &[("content-type", "application/octet-stream")],
        &corpus(name),
    );
    assert!(matches!(r.status, 200 | 201), "{} {}", r.status, r.text());
    r.json()["id"].as_str().unwrap().to_string()
}

fn get(host: &Host, path: &str, headers: &[(&str, &str)]) -> Response {
    host.request("GET", path, headers, b"")
}

/// The sum of the samples of metric `name` whose labels contain `labels`
/// (0 when absent).
fn metric(host: &Host, name: &str, labels: &str) -> f64 {
    host.get("/metrics")
        .text()
        .lines()
        .filter(|l| {
            l.strip_prefix(name)
                .is_some_and(|rest| rest.starts_with([' ', '{']) && rest.contains(labels))
        })
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

fn invocations(host: &Host, route: &str) -> f64 {
    metric(
        host,
        "edgeimg_component_invocations_total",
        &format!("route=\"{route}\""),
    )
}

#[test]
fn a_repeated_get_is_answered_without_invoking_the_component() {
    let host = app();
    let id = upload(&host, "Aqua.jpg");
    for (route, path) in [
        ("/resize/...", format!("/resize/width=320/{id}")),
        ("/images/...", format!("/images/{id}")),
    ] {
        let first = get(&host, &path, &[]);
        assert_eq!(first.status, 200, "{path}: {}", first.text());
        assert_eq!(first.header("cache-tag"), None, "tags stay inside the host");
        let before = invocations(&host, route);
        let hits = metric(&host, "edgeimg_edge_cache_hits_total", "");
        let second = get(&host, &path, &[]);
        assert_eq!(second.status, 200);
        assert!(second.body == first.body, "{path}");
        assert_eq!(second.header("x-cache"), Some("hit"));
        assert!(second.header("age").is_some(), "{path}");
        assert_eq!(second.header("etag"), first.header("etag"));
        assert_eq!(second.header("content-type"), first.header("content-type"));
        let head = host.request("HEAD", &path, &[], b"");
        assert_eq!((head.status, head.header("x-cache")), (200, Some("hit")));
        assert_eq!(
            head.header("content-length"),
            Some(first.body.len().to_string().as_str())
        );
        assert_eq!(invocations(&host, route), before, "{path}: no invocation");
        assert_eq!(
            metric(&host, "edgeimg_edge_cache_hits_total", "") - hits,
            2.0
        );
    }
    assert!(metric(&host, "edgeimg_edge_cache_stored_bytes", "") > 0.0);
    assert!(metric(&host, "edgeimg_edge_cache_misses_total", "") >= 2.0);
}

#[test]
fn format_auto_is_kept_per_accept_class() {
    let host = app();
    let id = upload(&host, "Garden.jpg");
    let path = format!("/resize/width=200,format=auto/{id}");
    let webp = [("accept", "image/webp,*/*")];
    let plain = [("accept", "*/*")];
    let first_webp = get(&host, &path, &webp);
    let first_plain = get(&host, &path, &plain);
    assert_eq!(first_webp.header("content-type"), Some("image/webp"));
    assert_eq!(first_plain.header("content-type"), Some("image/jpeg"));
    let before = invocations(&host, "/resize/...");
    for _ in 0..3 {
        let w = get(&host, &path, &webp);
        let p = get(&host, &path, &plain);
        assert_eq!(
            (w.header("content-type"), w.header("x-cache")),
            (Some("image/webp"), Some("hit"))
        );
        assert_eq!(w.header("vary"), Some("Accept"));
        assert!(w.body == first_webp.body);
        assert_eq!(
            (p.header("content-type"), p.header("x-cache")),
            (Some("image/jpeg"), Some("hit"))
        );
        assert!(p.body == first_plain.body);
    }
    assert_eq!(invocations(&host, "/resize/..."), before);
}

#[test]
fn a_delete_purges_every_cached_url_of_the_image() {
    let host = app();
    let id = upload(&host, "LadyBird.jpg");
    let other = upload(&host, "FreshFlower.jpg");
    let paths = [
        format!("/images/{id}"),
        format!("/resize/width=64/{id}"),
        format!("/resize/width=64,format=auto/{id}"),
    ];
    let kept = format!("/resize/width=64/{other}");
    for path in paths.iter().chain([&kept]) {
        assert_eq!(get(&host, path, &[]).status, 200, "{path}");
        assert_eq!(
            get(&host, path, &[]).header("x-cache"),
            Some("hit"),
            "{path}"
        );
    }

    let deleted = host.delete(&format!("/upload/{id}"), &[]);
    assert_eq!(deleted.status, 204, "{}", deleted.text());
    assert_eq!(deleted.header("cache-purge-tag"), None);
    for path in &paths {
        for method in ["GET", "HEAD"] {
            let r = host.request(method, path, &[], b"");
            assert_eq!(r.status, 404, "{method} {path} served a stale copy");
        }
    }
    assert!(metric(&host, "edgeimg_edge_cache_purges_total", "") >= 1.0);
    let r = get(&host, &kept, &[]);
    assert_eq!(
        (r.status, r.header("x-cache")),
        (200, Some("hit")),
        "other images stay"
    );

    // Uploaded again, the image is served afresh.
    upload(&host, "LadyBird.jpg");
    assert_eq!(get(&host, &paths[1], &[]).header("x-cache"), Some("miss"));
}

#[test]
fn credentials_and_ranges_bypass_the_cache() {
    let host = app();
    let id = upload(&host, "Aqua.jpg");
    let path = format!("/images/{id}");
    assert_eq!(get(&host, &path, &[]).status, 200);
    assert_eq!(get(&host, &path, &[]).header("x-cache"), Some("hit"));
    let before = invocations(&host, "/images/...");
    let auth = get(&host, &path, &[("authorization", "Bearer x")]);
    assert_eq!((auth.status, auth.header("x-cache")), (200, None));
    let range = get(&host, &path, &[("range", "bytes=0-9")]);
    assert_eq!((range.status, range.body.len()), (206, 10));
    assert_eq!(range.header("x-cache"), None);
    assert_eq!(invocations(&host, "/images/..."), before + 2.0);
}

#[test]
fn only_shareable_responses_are_kept() {
    let host = probe();
    let route = "/wild/...";
    let cases = [
        ("public,%20max-age=60", true),
        ("public,%20max-age=60,%20no-store", false),
        ("no-store", false),
        ("private,%20max-age=60", false),
        ("max-age=60", false),
    ];
    for (i, (cache_control, kept)) in cases.into_iter().enumerate() {
        let path =
            format!("/wild/cc/{i}?op=headers&set=cache-control:{cache_control}&set=cache-tag:t{i}");
        let first = get(&host, &path, &[]);
        assert_eq!(first.status, 200, "{}", first.text());
        assert_eq!(first.header("cache-tag"), None);
        let before = invocations(&host, route);
        let second = get(&host, &path, &[]);
        assert_eq!(second.text(), "probe");
        let invoked = invocations(&host, route) - before;
        assert_eq!(invoked == 0.0, kept, "{cache_control}: invoked {invoked}");
    }
    let cookie =
        "/wild/cookie?op=headers&set=cache-control:public,%20max-age=60&set=set-cookie:a=b";
    get(&host, cookie, &[]);
    let before = invocations(&host, route);
    get(&host, cookie, &[]);
    assert_eq!(
        invocations(&host, route) - before,
        1.0,
        "Set-Cookie is never shared"
    );

    // A write purges the tags it names: /cc/0 was kept with tag t0.
    let purge = host.request(
        "POST",
        "/wild/x?op=headers&set=cache-purge-tag:t0",
        &[],
        b"",
    );
    assert_eq!((purge.status, purge.header("cache-purge-tag")), (200, None));
    let r = get(
        &host,
        "/wild/cc/0?op=headers&set=cache-control:public,%20max-age=60&set=cache-tag:t0",
        &[],
    );
    assert_eq!(r.header("x-cache"), None, "purged");
}
