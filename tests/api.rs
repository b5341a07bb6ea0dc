//! End-to-end tests of the HTTP API (issue 4): the upload, fetch and resize
//! components of the repository's spin.toml under `edgeimg up` on a free
//! 127.0.0.1 port, with real photos from `scripts/corpus.sh` and small images
//! made here.
//!
//! Build first: `cargo build --release -p edgeimg` and
//! `target/release/edgeimg build -f spin.toml` (or the three
//! `cargo build --target wasm32-wasip2 --release -p edgeimg-{upload,fetch,resize}`).

#[path = "support/mod.rs"]
mod support;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};
use support::image::dims;
use support::{app_manifest, corpus, Host, HostBuilder, Response};

fn app() -> Host {
    HostBuilder::new(app_manifest()).start()
}

/// A 1×1 GIF.
const GIF: &[u8] = b"GIF89a\x01\x00\x01\x00\x80\x00\x00\xff\xff\xff\x00\x00\x00!\xf9\x04\x01\x00\x00\x00\x00,\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;";

/// A hand-made RGB PNG (see `edgeimg_common::testdata::png_with`).
fn png(width: u32, height: u32, with_data: bool) -> Vec<u8> {
    edgeimg_common::testdata::png_with(width, height, with_data)
}

fn upload(host: &Host, bytes: &[u8]) -> Response {
    host.post(
        "/upload",
        &[("content-type", "application/octet-stream")],
        bytes,
    )
}

fn get(host: &Host, path: &str, headers: &[(&str, &str)]) -> Response {
    host.request("GET", path, headers, b"")
}

/// Decodes `bytes` fully with our pipeline by uploading them: upload refuses
/// anything that does not decode (422). Returns `(format, width, height)`.
fn decodes(host: &Host, bytes: &[u8]) -> (String, u64, u64) {
    let j = upload(host, bytes).json();
    assert!(j["id"].is_string(), "does not decode: {j}");
    (
        j["format"].as_str().unwrap().to_string(),
        j["width"].as_u64().unwrap(),
        j["height"].as_u64().unwrap(),
    )
}

fn hmac_hex(key: &[u8], message: &str) -> String {
    let mut k = [0u8; 64];
    k[..key.len()].copy_from_slice(key);
    let pad = |byte: u8| k.iter().map(|x| x ^ byte).collect::<Vec<u8>>();
    let inner = Sha256::new()
        .chain_update(pad(0x36))
        .chain_update(message.as_bytes())
        .finalize();
    hex::encode(
        Sha256::new()
            .chain_update(pad(0x5c))
            .chain_update(inner)
            .finalize(),
    )
}

#[test]
fn uploads_real_photos_and_serves_identical_bytes_and_exact_variants() {
    let host = app();
    for (name, format) in [
        ("Elephants.jpg", "jpeg"),
        ("Flow.png", "png"),
        ("Arc-Colors-Transparent-Wallpaper.png", "png"),
    ] {
        let bytes = corpus(name);
        let r = upload(&host, &bytes);
        assert_eq!(r.status, 201, "{name}: {}", r.text());
        let j = r.json();
        let id = j["id"].as_str().unwrap().to_string();
        assert_eq!(
            id,
            hex::encode(Sha256::digest(&bytes)),
            "{name}: id is the SHA-256"
        );
        let (_, w, h) = dims(&bytes);
        assert_eq!(j["format"], format, "{name}");
        assert_eq!(
            (j["width"].as_u64(), j["height"].as_u64()),
            (Some(u64::from(w)), Some(u64::from(h))),
            "{name}"
        );
        assert_eq!(j["bytes"].as_u64(), Some(bytes.len() as u64));
        assert!(
            j["url"]
                .as_str()
                .unwrap()
                .ends_with(&format!("/images/{id}")),
            "{j}"
        );
        assert!(j["created"].as_str().unwrap().ends_with('Z'), "{j}");

        let original = get(&host, &format!("/images/{id}"), &[]);
        assert_eq!(original.status, 200);
        assert!(original.body == bytes, "{name}: fetched bytes differ");
        assert_eq!(
            original.header("content-type"),
            Some(format!("image/{format}").as_str())
        );
        assert_eq!(
            original.header("content-length"),
            Some(bytes.len().to_string().as_str())
        );
        assert_eq!(original.header("etag"), Some(format!("\"{id}\"").as_str()));
        assert_eq!(
            original.header("cache-control"),
            Some("public, max-age=31536000, immutable")
        );

        let head = host.request("HEAD", &format!("/images/{id}"), &[], b"");
        assert_eq!(head.status, 200);
        assert_eq!(
            head.header("content-length"),
            Some(bytes.len().to_string().as_str())
        );
        assert_eq!(
            head.header("content-type"),
            Some(format!("image/{format}").as_str())
        );

        let meta = get(&host, &format!("/images/{id}/meta"), &[]).json();
        assert_eq!(
            (meta["id"].as_str(), meta["width"].as_u64()),
            (Some(id.as_str()), Some(u64::from(w)))
        );

        let expected_h =
            |width: u32| (f64::from(h) * f64::from(width) / f64::from(w)).round() as u32;
        for (options, want_format) in [
            ("width=320", format),
            ("w=320,f=webp", "webp"),
            ("width=320,format=png", "png"),
            ("width=200,format=jpeg,quality=70", "jpeg"),
        ] {
            let r = get(&host, &format!("/resize/{options}/{id}"), &[]);
            assert_eq!(r.status, 200, "{name} {options}: {}", r.text());
            assert_eq!(
                r.header("content-type"),
                Some(format!("image/{want_format}").as_str()),
                "{name} {options}"
            );
            assert_eq!(
                r.header("content-length"),
                Some(r.body.len().to_string().as_str())
            );
            assert_eq!(
                r.header("cache-control"),
                Some("public, max-age=31536000, immutable")
            );
            assert!(r.header("etag").is_some_and(|e| e.starts_with('"')));
            let target = if options.contains("200") { 200 } else { 320 };
            let (got_format, got_w, got_h) = dims(&r.body);
            assert_eq!(got_format, want_format, "{name} {options}");
            assert_eq!(got_w, target, "{name} {options}");
            assert!(
                got_h.abs_diff(expected_h(target)) <= 1,
                "{name} {options}: height {got_h}, want {}",
                expected_h(target)
            );
            let (decoded_format, dw, dh) = decodes(&host, &r.body);
            assert_eq!(
                (decoded_format.as_str(), dw, dh),
                (want_format, u64::from(got_w), u64::from(got_h))
            );
        }

        let cover = get(
            &host,
            &format!("/resize/width=100,height=100,fit=cover/{id}"),
            &[],
        );
        let (_, cw, ch) = dims(&cover.body);
        assert_eq!((cw, ch), (100, 100), "{name}: cover fills 100×100");
    }
}

#[test]
fn uploads_each_format() {
    let host = app();
    let jpeg = corpus("FreshFlower.jpg");
    let jpeg_id = host.upload(&jpeg);
    let webp = get(
        &host,
        &format!("/resize/width=64,format=webp/{jpeg_id}"),
        &[],
    )
    .body;
    // An AVIF our own encoder made, uploaded back: AV1 decoded by rav1d.
    let avif = get(
        &host,
        &format!("/resize/width=96,format=avif/{jpeg_id}"),
        &[],
    )
    .body;
    let small_png = png(40, 30, true);
    for (bytes, format, (w, h)) in [
        (jpeg.clone(), "jpeg", (dims(&jpeg).1, dims(&jpeg).2)),
        (small_png.clone(), "png", (40, 30)),
        (GIF.to_vec(), "gif", (1, 1)),
        (webp.clone(), "webp", (dims(&webp).1, dims(&webp).2)),
        (avif.clone(), "avif", (96, dims(&avif).2)),
    ] {
        let r = upload(&host, &bytes);
        assert!(
            matches!(r.status, 200 | 201),
            "{format}: {} {}",
            r.status,
            r.text()
        );
        let j = r.json();
        assert_eq!(
            (
                j["format"].as_str(),
                j["width"].as_u64(),
                j["height"].as_u64()
            ),
            (Some(format), Some(u64::from(w)), Some(u64::from(h))),
            "{j}"
        );
        let id = j["id"].as_str().unwrap();
        let fetched = get(&host, &format!("/images/{id}"), &[]);
        assert!(fetched.body == bytes, "{format}: fetched bytes differ");
        assert_eq!(
            fetched.header("content-type"),
            Some(format!("image/{format}").as_str())
        );
        let resized = get(&host, &format!("/resize/width=20,format=png/{id}"), &[]);
        assert_eq!(resized.status, 200, "{format}: {}", resized.text());
        assert_eq!(dims(&resized.body).0, "png");
    }
}

#[test]
fn format_auto_follows_accept_and_caches_per_format() {
    let host = app();
    let id = host.upload(&corpus("Aqua.jpg"));
    let path = format!("/resize/width=120,format=auto/{id}");
    let cases = [
        (
            "image/avif,image/webp,*/*",
            &["image/avif", "image/webp"][..],
        ),
        ("image/webp,*/*;q=0.8", &["image/webp"][..]),
        ("*/*", &["image/jpeg"][..]),
        ("text/html", &["image/jpeg"][..]),
    ];
    for (accept, allowed) in cases {
        let r = get(&host, &path, &[("accept", accept)]);
        assert_eq!(r.status, 200, "{accept}: {}", r.text());
        let ct = r.header("content-type").unwrap();
        assert!(allowed.contains(&ct), "Accept {accept} gave {ct}");
        assert_eq!(
            format!("image/{}", dims(&r.body).0),
            ct,
            "body matches content-type"
        );
        assert_eq!(r.header("vary"), Some("Accept"));
    }
    let r = get(&host, &path, &[]);
    assert_eq!(
        r.header("content-type"),
        Some("image/jpeg"),
        "no Accept: the original's family"
    );
    let fixed = get(
        &host,
        &format!("/resize/width=120,format=webp/{id}"),
        &[("accept", "image/avif")],
    );
    assert_eq!(
        (fixed.header("content-type"), fixed.header("vary")),
        (Some("image/webp"), None)
    );
}

#[test]
fn second_request_is_a_cache_hit_and_aliases_share_it() {
    let host = app();
    let id = host.upload(&corpus("Dune.jpg"));
    let first = get(&host, &format!("/resize/width=320,format=webp/{id}"), &[]);
    assert_eq!(
        (first.status, first.header("x-cache")),
        (200, Some("miss")),
        "{}",
        first.text()
    );
    let started = Instant::now();
    let second = get(&host, &format!("/resize/f=webp,w=320/{id}"), &[]);
    let hit_time = started.elapsed();
    assert_eq!(second.header("x-cache"), Some("hit"));
    assert!(second.body == first.body);
    assert_eq!(second.header("etag"), first.header("etag"));
    assert!(hit_time < Duration::from_secs(2), "a hit took {hit_time:?}");
    let etag = first.header("etag").unwrap();
    let again = get(
        &host,
        &format!("/resize/width=320,format=webp/{id}"),
        &[("if-none-match", etag)],
    );
    assert_eq!((again.status, again.body.len()), (304, 0));
}

#[test]
fn conditional_and_range_requests_on_originals() {
    let host = app();
    let bytes = corpus("Garden.jpg");
    let id = host.upload(&bytes);
    let path = format!("/images/{id}");
    let etag = format!("\"{id}\"");
    let r = get(&host, &path, &[("if-none-match", &etag)]);
    assert_eq!((r.status, r.body.len()), (304, 0));
    assert_eq!(r.header("etag"), Some(etag.as_str()));
    assert_eq!(
        get(&host, &path, &[("if-none-match", "\"other\"")]).status,
        200
    );

    let r = get(&host, &path, &[("range", "bytes=100-1099")]);
    assert_eq!(r.status, 206);
    assert!(r.body == bytes[100..1100]);
    assert_eq!(
        r.header("content-range"),
        Some(format!("bytes 100-1099/{}", bytes.len()).as_str())
    );
    assert_eq!(r.header("content-length"), Some("1000"));
    let r = get(&host, &path, &[("range", "bytes=-10")]);
    assert!(r.status == 206 && r.body == bytes[bytes.len() - 10..]);
    let r = get(
        &host,
        &path,
        &[("range", format!("bytes={}-", bytes.len()).as_str())],
    );
    assert_eq!(r.status, 416);
    assert_eq!(
        r.header("content-range"),
        Some(format!("bytes */{}", bytes.len()).as_str())
    );
    assert_eq!(r.error_code(), "range_not_satisfiable");
}

#[test]
fn delete_removes_original_metadata_and_variants() {
    let host = app();
    let bytes = corpus("LadyBird.jpg");
    let id = host.upload(&bytes);
    let variant = format!("/resize/width=64/{id}");
    assert_eq!(get(&host, &variant, &[]).header("x-cache"), Some("miss"));
    assert_eq!(get(&host, &variant, &[]).header("x-cache"), Some("hit"));

    let r = host.delete(&format!("/upload/{id}"), &[]);
    assert_eq!(r.status, 204, "{}", r.text());
    for path in [
        format!("/images/{id}"),
        format!("/images/{id}/meta"),
        variant.clone(),
        format!("/resize/width=65/{id}"),
    ] {
        let r = get(&host, &path, &[]);
        assert_eq!(r.status, 404, "{path}: {}", r.text());
        assert_eq!(r.error_code(), "not_found");
    }
    assert_eq!(host.delete(&format!("/upload/{id}"), &[]).status, 404);

    // Uploading again starts from scratch: 201, and the variant is made anew.
    assert_eq!(upload(&host, &bytes).status, 201);
    assert_eq!(get(&host, &variant, &[]).header("x-cache"), Some("miss"));
}

#[test]
fn re_upload_returns_the_same_id_with_200() {
    let host = app();
    let bytes = corpus("Spring.png");
    let first = upload(&host, &bytes);
    assert_eq!(first.status, 201);
    let again = upload(&host, &bytes);
    assert_eq!(again.status, 200);
    assert_eq!(again.json()["id"], first.json()["id"]);
    assert_eq!(again.json()["created"], first.json()["created"]);

    let mut form = b"--XB\r\nContent-Disposition: form-data; name=\"note\"\r\n\r\nhi\r\n--XB\r\nContent-Disposition: form-data; name=\"file\"; filename=\"s.png\"\r\nContent-Type: image/png\r\n\r\n".to_vec();
    form.extend_from_slice(&bytes);
    form.extend_from_slice(b"\r\n--XB--\r\n");
    let multipart = host.post(
        "/upload",
        &[("content-type", "multipart/form-data; boundary=XB")],
        &form,
    );
    assert_eq!(multipart.status, 200, "{}", multipart.text());
    assert_eq!(multipart.json()["id"], first.json()["id"]);
}

#[test]
fn upload_and_delete_need_the_token_when_one_is_set() {
    let host = HostBuilder::new(app_manifest())
        .env("SPIN_VARIABLE_UPLOAD_TOKEN", "s3cret")
        .start();
    let bytes = png(8, 8, true);
    let r = upload(&host, &bytes);
    assert_eq!((r.status, r.error_code().as_str()), (401, "unauthorized"));
    assert_eq!(r.header("www-authenticate"), Some("Bearer"));
    let r = host.post("/upload", &[("authorization", "Bearer nope")], &bytes);
    assert_eq!((r.status, r.error_code().as_str()), (403, "forbidden"));
    let r = host.post("/upload", &[("authorization", "Bearer s3cret")], &bytes);
    assert_eq!(r.status, 201, "{}", r.text());
    let id = r.json()["id"].as_str().unwrap().to_string();

    assert_eq!(
        get(&host, &format!("/images/{id}"), &[]).status,
        200,
        "reads stay open"
    );
    assert_eq!(host.delete(&format!("/upload/{id}"), &[]).status, 401);
    assert_eq!(
        host.delete(
            &format!("/upload/{id}"),
            &[("authorization", "Bearer nope")]
        )
        .status,
        403
    );
    assert_eq!(
        host.delete(
            &format!("/upload/{id}"),
            &[("authorization", "Bearer s3cret")]
        )
        .status,
        204
    );
}

#[test]
fn resize_needs_a_signature_when_a_key_is_set_except_for_presets() {
    let host = HostBuilder::new(app_manifest())
        .env("SPIN_VARIABLE_SIGNING_KEY", "k3y")
        .start();
    let id = host.upload(&corpus("Aqua.jpg"));
    let r = get(&host, &format!("/resize/width=32/{id}"), &[]);
    assert_eq!(
        (r.status, r.error_code().as_str()),
        (403, "signature_required")
    );

    let sig = hmac_hex(b"k3y", &format!("/resize/width=32/{id}"));
    let r = get(&host, &format!("/resize/width=32,sig={sig}/{id}"), &[]);
    assert_eq!(r.status, 200, "{}", r.text());
    let r = get(&host, &format!("/resize/w=32,sig={sig}/{id}"), &[]);
    assert_eq!(
        r.status,
        200,
        "the canonical form is what is signed: {}",
        r.text()
    );
    let r = get(&host, &format!("/resize/width=33,sig={sig}/{id}"), &[]);
    assert_eq!((r.status, r.error_code().as_str()), (403, "bad_signature"));

    for (preset, size) in [("thumb", (160, 160)), ("card", (640, 360))] {
        let r = get(&host, &format!("/resize/{preset}/{id}"), &[]);
        assert_eq!(r.status, 200, "{preset}: {}", r.text());
        let (_, w, h) = dims(&r.body);
        assert_eq!((w, h), size, "{preset}");
    }
    assert_eq!(
        get(&host, &format!("/resize/nosuch/{id}"), &[]).error_code(),
        "unknown_preset"
    );
}

#[test]
fn bad_inputs_get_json_errors_with_the_right_status() {
    let host = app();
    let photo = corpus("Storm.jpg");
    let id = host.upload(&photo);
    let unknown = hex::encode(Sha256::digest(b"never uploaded"));
    let uploads: [(&str, Vec<u8>, u16, &str); 6] = [
        ("empty body", Vec::new(), 400, "empty_body"),
        (
            "text file",
            b"just some text, not an image\n".to_vec(),
            415,
            "unsupported_format",
        ),
        (
            "truncated JPEG",
            photo[..photo.len() / 2].to_vec(),
            422,
            "decode_failed",
        ),
        ("bomb PNG", png(60_000, 60_000, false), 422, "pixel_limit"),
        (
            "PNG without pixels",
            png(100, 100, false),
            422,
            "decode_failed",
        ),
        (
            // Found by the fuzzer: made rav1d 1.1 abort (vendor/rav1d/PATCHED.md).
            "AVIF with corrupt tile data",
            include_bytes!(
                "../components/imaging/tests/fuzz-regressions/avif-corrupt-tile-aborted-rav1d.avif"
            )
            .to_vec(),
            422,
            "decode_failed",
        ),
    ];
    for (what, body, status, code) in uploads {
        let r = upload(&host, &body);
        assert_eq!(
            (r.status, r.error_code().as_str()),
            (status, code),
            "{what}: {}",
            r.text()
        );
        assert_eq!(r.header("content-type"), Some("application/json"), "{what}");
    }
    let gets = [
        (format!("/resize/width=abc/{id}"), 400, "bad_option_value"),
        (format!("/resize/bogus=1/{id}"), 400, "unknown_option"),
        (
            format!("/resize/width=99999999/{id}"),
            400,
            "option_out_of_range",
        ),
        (format!("/resize/width=100/{unknown}"), 404, "not_found"),
        (format!("/images/{unknown}"), 404, "not_found"),
        (format!("/images/{unknown}/meta"), 404, "not_found"),
        ("/images/not-an-id".to_string(), 400, "bad_id"),
        (format!("/images/{}", id.to_uppercase()), 400, "bad_id"),
        ("/resize/width=10/..%2f..%2fetc".to_string(), 400, "bad_id"),
    ];
    for (path, status, code) in gets {
        let r = get(&host, &path, &[]);
        assert_eq!(
            (r.status, r.error_code().as_str()),
            (status, code),
            "{path}: {}",
            r.text()
        );
    }
    assert_eq!(host.delete(&format!("/upload/{unknown}"), &[]).status, 404);
    assert_eq!(host.delete("/upload/xyz", &[]).error_code(), "bad_id");
    assert_eq!(
        host.request("PUT", &format!("/images/{id}"), &[], b"")
            .status,
        405
    );
    assert_eq!(host.request("GET", "/upload", &[], b"").status, 405);
    // Nothing above trapped, and the host still serves the image.
    assert_eq!(get(&host, &format!("/images/{id}"), &[]).status, 200);
    assert!(
        !host.logs().contains("component trapped"),
        "a bad input trapped:\n{}",
        host.logs()
    );
}

#[test]
fn huge_bodies_are_refused_before_they_are_buffered() {
    let host = HostBuilder::new(app_manifest())
        .env("SPIN_VARIABLE_MAX_UPLOAD_BYTES", "1000000")
        .start();
    // Declares more than the limit and sends 64 KiB: an answer can only come
    // from the header. 10 MB is under the host's own body limit, so the 413
    // is the component's (its message names the configured limit, plus
    // multipart framing); 1 GiB may be refused by either.
    for declared in [10_000_000u64, 1 << 30] {
        let started = Instant::now();
        let r = declare_and_stall(&host, declared);
        assert_eq!(r.status, 413, "{declared}: {}", r.text());
        assert!(started.elapsed() < Duration::from_secs(15));
        if declared == 10_000_000 {
            assert_eq!(r.error_code(), "too_large");
            assert!(r.text().contains("limit is 1065536"), "{}", r.text());
        }
    }

    // Chunked, no Content-Length: refused once the limit is crossed.
    let body = vec![0u8; 3_000_000];
    let r = host.request_chunked("POST", "/upload", &[], &body, 64 * 1024);
    assert_eq!(r.status, 413, "{}", r.text());

    // Just under the limit still works.
    let photo = corpus("Aqua.jpg");
    assert!(photo.len() < 1_000_000);
    assert_eq!(upload(&host, &photo).status, 201);
}

/// Sends a POST /upload declaring `declared` bytes but only 64 KiB of them,
/// then reads the answer.
fn declare_and_stall(host: &Host, declared: u64) -> Response {
    let mut stream = TcpStream::connect(host.addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    let head = format!(
        "POST /upload HTTP/1.1\r\nHost: {}\r\nContent-Length: {declared}\r\nConnection: close\r\n\r\n",
        host.addr
    );
    stream.write_all(head.as_bytes()).unwrap();
    let _ = stream.write_all(&vec![0xAB; 64 * 1024]);
    let mut raw = Vec::new();
    let _ = stream.read_to_end(&mut raw);
    let text = String::from_utf8_lossy(&raw);
    let (head, body) = text
        .split_once("\r\n\r\n")
        .unwrap_or_else(|| panic!("no response: {text:?}"));
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let headers = head
        .lines()
        .skip(1)
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    Response {
        status,
        headers,
        body: body.as_bytes().to_vec(),
    }
}
