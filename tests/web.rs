//! End-to-end tests of what a web page needs from edgeimg (issue 11), over
//! HTTP against `edgeimg up` serving the repository's spin.toml: the demo
//! page and its `Accept-CH`, CORS on reads with preflights (and the stricter
//! policy of the token endpoints), client hints for `width=auto`/`dpr=auto`
//! with `Vary` naming exactly the hints used, `Save-Data`, and the upload
//! listing behind the demo page's gallery.
//!
//! Build first: `target/release/edgeimg build` (all four components).

#[path = "support/mod.rs"]
mod support;

use support::image::dims;
use support::{app_manifest, corpus, Host, HostBuilder, Response};

fn app() -> Host {
    HostBuilder::new(app_manifest()).start()
}

fn get(host: &Host, path: &str, headers: &[(&str, &str)]) -> Response {
    host.request("GET", path, headers, b"")
}

/// A preflight for `method` from `origin`.
fn preflight(host: &Host, path: &str, origin: &str, method: &str) -> Response {
    host.request(
        "OPTIONS",
        path,
        &[
            ("origin", origin),
            ("access-control-request-method", method),
            ("access-control-request-headers", "authorization"),
        ],
        b"",
    )
}

#[test]
fn the_demo_page_is_served_with_its_assets_and_asks_for_client_hints() {
    let host = app();
    let page = get(&host, "/", &[]);
    assert_eq!(page.status, 200, "{}", page.text());
    assert_eq!(
        page.header("content-type"),
        Some("text/html; charset=utf-8")
    );
    assert_eq!(
        page.header("accept-ch"),
        Some("Sec-CH-Width, Sec-CH-Viewport-Width, Sec-CH-DPR")
    );
    assert!(page
        .header("content-security-policy")
        .is_some_and(|p| p.contains("default-src 'self'")));
    let html = page.text();
    for asset in ["/assets/app.css", "/assets/app.js"] {
        assert!(html.contains(asset), "{asset}");
        let r = get(&host, asset, &[]);
        assert_eq!(r.status, 200, "{asset}");
        assert!(!r.body.is_empty());
        let etag = r.header("etag").unwrap().to_string();
        let again = get(&host, asset, &[("if-none-match", &etag)]);
        assert_eq!(again.status, 304, "{asset}");
    }
    let missing = get(&host, "/assets/nothing.js", &[]);
    assert_eq!(
        (missing.status, missing.error_code().as_str()),
        (404, "not_found")
    );
}

#[test]
fn images_variants_and_metadata_are_readable_cross_origin_and_preflights_are_answered() {
    let host = app();
    let id = host.upload(&corpus("Garden.jpg"));
    let origin = [("origin", "https://shop.example")];
    for path in [
        format!("/images/{id}"),
        format!("/images/{id}/meta"),
        format!("/resize/width=64,format=webp/{id}"),
        format!("/resize/width=64/{}", "0".repeat(64)),
    ] {
        let r = get(&host, &path, &origin);
        assert_eq!(r.header("access-control-allow-origin"), Some("*"), "{path}");
        assert_eq!(r.header("timing-allow-origin"), Some("*"), "{path}");
        assert!(
            r.header("access-control-expose-headers")
                .is_some_and(|h| h.contains("ETag")),
            "{path}"
        );
        assert!(
            r.header("vary").is_none_or(|v| !v.contains("Origin")),
            "`*` needs no Vary: Origin ({path})"
        );
        let head = host.request("HEAD", &path, &origin, b"");
        assert_eq!(
            head.header("access-control-allow-origin"),
            Some("*"),
            "HEAD {path}"
        );

        let pre = preflight(&host, &path, "https://shop.example", "GET");
        assert_eq!(pre.status, 204, "{path}: {}", pre.text());
        assert_eq!(pre.header("access-control-allow-origin"), Some("*"));
        assert_eq!(
            pre.header("access-control-allow-methods"),
            Some("GET, HEAD")
        );
        assert!(pre
            .header("access-control-allow-headers")
            .is_some_and(|h| h.contains("Range") && h.contains("Sec-CH-Width")));
    }

    // Uploads, deletes and the listing are same-origin only by default.
    for (path, method) in [
        ("/upload".to_string(), "POST"),
        (format!("/upload/{id}"), "DELETE"),
        ("/images".to_string(), "GET"),
    ] {
        let pre = preflight(&host, &path, "https://shop.example", method);
        assert_eq!(pre.status, 204, "{path}");
        assert_eq!(pre.header("access-control-allow-origin"), None, "{path}");
    }
    let r = host.post("/upload", &origin, &corpus("Spring.png"));
    assert_eq!(
        (r.status, r.header("access-control-allow-origin")),
        (201, None)
    );
    let r = get(&host, "/images", &origin);
    assert_eq!(
        (r.status, r.header("access-control-allow-origin")),
        (200, None)
    );
}

#[test]
fn configured_origins_are_echoed_with_vary_origin_and_upload_origins_may_send_the_token() {
    let host = HostBuilder::new(app_manifest())
        .env(
            "SPIN_VARIABLE_CORS_ORIGINS",
            "https://shop.example, https://blog.example",
        )
        .env("SPIN_VARIABLE_UPLOAD_CORS_ORIGINS", "https://admin.example")
        .env("SPIN_VARIABLE_UPLOAD_TOKEN", "s3cret")
        .start();
    let auth = [("authorization", "Bearer s3cret")];
    let id = host.upload_with(&corpus("FreshFlower.jpg"), &auth);
    let path = format!("/images/{id}");
    let r = get(&host, &path, &[("origin", "https://blog.example")]);
    assert_eq!(
        r.header("access-control-allow-origin"),
        Some("https://blog.example")
    );
    assert_eq!(r.header("vary"), Some("Origin"));
    let r = get(&host, &path, &[("origin", "https://evil.example")]);
    assert_eq!(
        (r.status, r.header("access-control-allow-origin")),
        (200, None)
    );
    assert_eq!(r.header("vary"), Some("Origin"));

    for (path, method) in [("/upload", "POST"), ("/images", "GET")] {
        let pre = preflight(&host, path, "https://admin.example", method);
        assert_eq!(
            pre.header("access-control-allow-origin"),
            Some("https://admin.example"),
            "{path}"
        );
        assert!(pre
            .header("access-control-allow-headers")
            .is_some_and(|h| h.contains("Authorization")));
        let refused = preflight(&host, path, "https://shop.example", method);
        assert_eq!(
            refused.header("access-control-allow-origin"),
            None,
            "{path}"
        );
    }
    let listed = get(
        &host,
        "/images",
        &[("origin", "https://admin.example"), auth[0]],
    );
    assert_eq!(listed.status, 200, "{}", listed.text());
    assert_eq!(
        listed.header("access-control-allow-origin"),
        Some("https://admin.example")
    );
}

#[test]
fn width_auto_and_dpr_auto_follow_client_hints_and_vary_exactly_on_the_hints_used() {
    let host = app();
    let id = host.upload(&corpus("LadyBird.jpg"));
    let path = format!("/resize/width=auto,format=webp/{id}");

    // One URL, different screens: each answer is right for its hint, also
    // when repeated (a cache in front must key on what Vary names).
    for round in 0..2 {
        for (hint, want) in [("600", 640), ("300", 320), ("1000", 1080)] {
            let r = get(&host, &path, &[("sec-ch-width", hint)]);
            assert_eq!(r.status, 200, "{}", r.text());
            assert_eq!(dims(&r.body).1, want, "Sec-CH-Width {hint}, round {round}");
            assert_eq!(r.header("vary"), Some("Sec-CH-Width, Save-Data"));
            if round == 1 {
                assert_eq!(
                    r.header("x-cache"),
                    Some("hit"),
                    "snapped widths share a variant"
                );
            }
        }
    }
    /// Request headers, the width they give, the `Vary` answered.
    type Case<'a> = (&'a [(&'a str, &'a str)], u32, &'a str);
    let cases: [Case; 4] = [
        (&[("width", "500")], 640, "Sec-CH-Width, Width, Save-Data"),
        (
            &[("sec-ch-viewport-width", "400"), ("sec-ch-dpr", "2")],
            960,
            "Sec-CH-Width, Width, Sec-CH-Viewport-Width, Sec-CH-DPR, Save-Data",
        ),
        (
            &[],
            1280,
            "Sec-CH-Width, Width, Sec-CH-Viewport-Width, Save-Data",
        ),
        (&[("sec-ch-width", "9000")], 2560, "Sec-CH-Width, Save-Data"),
    ];
    for (headers, want, vary) in cases {
        let r = get(&host, &path, headers);
        assert_eq!(dims(&r.body).1, want, "{headers:?}");
        assert_eq!(r.header("vary"), Some(vary), "{headers:?}");
    }

    let auto = get(
        &host,
        &format!("/resize/width=auto,format=auto/{id}"),
        &[("accept", "image/webp,*/*"), ("sec-ch-width", "300")],
    );
    assert_eq!(auto.header("content-type"), Some("image/webp"));
    assert_eq!(auto.header("vary"), Some("Accept, Sec-CH-Width, Save-Data"));

    let dpr = get(
        &host,
        &format!("/resize/width=200,dpr=auto,format=jpeg/{id}"),
        &[("sec-ch-dpr", "1.3"), ("sec-ch-width", "999")],
    );
    assert_eq!(dims(&dpr.body).1, 300, "1.3 rounds up to 1.5");
    assert_eq!(dpr.header("vary"), Some("Sec-CH-DPR, Save-Data"));

    let fixed = get(
        &host,
        &format!("/resize/width=200,format=jpeg/{id}"),
        &[("sec-ch-width", "999"), ("save-data", "on")],
    );
    assert_eq!((dims(&fixed.body).1, fixed.header("vary")), (200, None));

    let bad = get(&host, &format!("/resize/width=auto,height=100/{id}"), &[]);
    assert_eq!(
        (bad.status, bad.error_code().as_str()),
        (400, "bad_option_value")
    );
}

#[test]
fn concurrent_requests_for_one_url_with_different_hints_each_get_their_own_width() {
    let host = app();
    let id = host.upload(&corpus("Storm.jpg"));
    let path = format!("/resize/width=auto,format=jpeg/{id}");
    let hints = [("300", 320), ("600", 640), ("1000", 1080)];
    let barrier = std::sync::Barrier::new(hints.len() * 4);
    std::thread::scope(|s| {
        for round in 0..4 {
            for (hint, want) in hints {
                let (host, path, barrier) = (&host, &path, &barrier);
                s.spawn(move || {
                    barrier.wait();
                    let r = get(host, path, &[("sec-ch-width", hint)]);
                    assert_eq!(r.status, 200, "{}", r.text());
                    assert_eq!(dims(&r.body).1, want, "Sec-CH-Width {hint}, round {round}");
                });
            }
        }
    });
}

#[test]
fn save_data_lowers_the_quality_of_hinted_lossy_images() {
    let host = app();
    let id = host.upload(&corpus("Aqua.jpg"));
    let path = format!("/resize/width=auto,format=jpeg/{id}");
    let hint = ("sec-ch-width", "640");
    let full = get(&host, &path, &[hint]);
    let light = get(&host, &path, &[hint, ("save-data", "on")]);
    assert_eq!((full.status, light.status), (200, 200));
    assert_eq!(dims(&full.body).1, dims(&light.body).1);
    assert!(
        light.body.len() * 10 < full.body.len() * 9,
        "Save-Data: {} bytes, without: {}",
        light.body.len(),
        full.body.len()
    );
    assert_eq!(light.header("vary"), Some("Sec-CH-Width, Save-Data"));

    let off = HostBuilder::new(app_manifest())
        .env("SPIN_VARIABLE_SAVE_DATA_QUALITY_DROP", "0")
        .start();
    let id = off.upload(&corpus("Aqua.jpg"));
    let r = get(
        &off,
        &format!("/resize/width=auto,format=jpeg/{id}"),
        &[hint, ("save-data", "on")],
    );
    assert_eq!(r.header("vary"), Some("Sec-CH-Width"));
    assert!(r.body == full.body, "drop 0 ignores Save-Data");
}

#[test]
fn the_listing_pages_uploads_newest_first_and_forgets_deleted_ones() {
    let host = app();
    let names = ["Spring.png", "FreshFlower.jpg", "Aqua.jpg"];
    let ids: Vec<String> = names.iter().map(|n| host.upload(&corpus(n))).collect();
    let page = |query: &str| {
        let r = get(&host, &format!("/images{query}"), &[]);
        assert_eq!(r.status, 200, "{query}: {}", r.text());
        assert_eq!(r.header("cache-control"), Some("private, no-store"));
        r.json()
    };
    let listed = |page: &serde_json::Value| -> Vec<String> {
        page["images"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["id"].as_str().unwrap().to_string())
            .collect()
    };
    let first = page("?limit=2");
    assert_eq!(listed(&first), vec![ids[2].clone(), ids[1].clone()]);
    assert_eq!(first["images"][0]["width"], 2560);
    assert_eq!(first["images"][0]["format"], "jpeg");
    let next = first["next"]
        .as_str()
        .expect("a next cursor")
        .replace('/', "%2F");
    let second = page(&format!("?limit=2&after={next}"));
    assert_eq!(listed(&second), vec![ids[0].clone()]);
    assert!(second["next"].is_null());

    assert_eq!(host.delete(&format!("/upload/{}", ids[1]), &[]).status, 204);
    assert_eq!(listed(&page("")), vec![ids[2].clone(), ids[0].clone()]);
    // Uploading the same bytes again does not list it twice.
    host.upload(&corpus("Aqua.jpg"));
    assert_eq!(listed(&page("/")), vec![ids[2].clone(), ids[0].clone()]);

    for bad in ["?limit=0", "?limit=500", "?after=garbage"] {
        let r = get(&host, &format!("/images{bad}"), &[]);
        assert_eq!(
            (r.status, r.error_code().as_str()),
            (400, "bad_query"),
            "{bad}"
        );
    }
}

#[test]
fn the_listing_needs_the_upload_token_when_one_is_set() {
    let host = HostBuilder::new(app_manifest())
        .env("SPIN_VARIABLE_UPLOAD_TOKEN", "s3cret")
        .start();
    let id = host.upload_with(&corpus("Spring.png"), &[("authorization", "Bearer s3cret")]);
    let r = get(&host, "/images", &[]);
    assert_eq!((r.status, r.error_code().as_str()), (401, "unauthorized"));
    assert!(!r.text().contains(&id), "a refused listing reveals no id");
    let r = get(&host, "/images", &[("authorization", "Bearer nope")]);
    assert_eq!(r.status, 403);
    let r = get(&host, "/images", &[("authorization", "Bearer s3cret")]);
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["images"][0]["id"], id.as_str());
    assert_eq!(
        get(&host, &format!("/images/{id}"), &[]).status,
        200,
        "reads stay open"
    );
}
