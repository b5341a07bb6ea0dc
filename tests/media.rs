//! End-to-end tests of issue 26 on a real host (`edgeimg up` on a free
//! 127.0.0.1 port): placeholders in the metadata, `gravity=auto`, animated
//! GIF → animated WebP, SVG rasterised (and loading nothing), TIFF (8/16
//! bit, ICC) and BMP inputs, hostile files of each new format answered
//! with 4xx JSON, and JPEG chroma upsampling (the components' wasm SIMD
//! path) against libjpeg's. Fixtures and every check of an output are made and read
//! with Pillow/LittleCMS (`tests/media/*.py`), not with edgeimg's code.
//!
//! Build first: `cargo build --release -p edgeimg` and
//! `target/release/edgeimg build`.

#[path = "support/mod.rs"]
mod support;

use std::net::TcpListener;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use serde_json::Value;
use support::{app_manifest, corpus, repo_path, Host, HostBuilder, TempDir};

fn app() -> Host {
    HostBuilder::new(app_manifest()).start()
}

/// Makes the fixtures into a fresh folder.
fn fixtures() -> TempDir {
    let dir = TempDir::new("media");
    let status = Command::new("python3")
        .arg(repo_path("tests/media/make_fixtures.py"))
        .arg(dir.path())
        .status()
        .expect("python3 (with Pillow) runs");
    assert!(status.success(), "make_fixtures.py failed");
    dir
}

fn read(dir: &Path, name: &str) -> Vec<u8> {
    std::fs::read(dir.join(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// What Pillow sees in `bytes`: format, size, frames, durations, loop and
/// the first frame's RGBA.
struct Seen {
    format: String,
    width: u32,
    height: u32,
    frames: u64,
    durations: Vec<Value>,
    loop_count: Value,
    rgba: Vec<u8>,
}

impl Seen {
    fn of(bytes: &[u8]) -> Seen {
        let dir = TempDir::new("inspect");
        let path = dir.path().join("image");
        std::fs::write(&path, bytes).unwrap();
        let out = Command::new("python3")
            .arg(repo_path("tests/media/inspect.py"))
            .arg(&path)
            .output()
            .expect("python3 runs");
        assert!(
            out.status.success(),
            "Pillow cannot read it: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let j: Value = serde_json::from_slice(&out.stdout).unwrap();
        Seen {
            format: j["format"].as_str().unwrap().to_string(),
            width: j["width"].as_u64().unwrap() as u32,
            height: j["height"].as_u64().unwrap() as u32,
            frames: j["frames"].as_u64().unwrap(),
            durations: j["durations"].as_array().unwrap().clone(),
            loop_count: j["loop"].clone(),
            rgba: hex::decode(j["rgba"].as_str().unwrap()).unwrap(),
        }
    }

    fn at(&self, x: u32, y: u32) -> [u8; 4] {
        let i = ((y * self.width + x) * 4) as usize;
        self.rgba[i..i + 4].try_into().unwrap()
    }

    /// Pixels matching `pred`.
    fn count(&self, pred: impl Fn([u8; 4]) -> bool) -> usize {
        self.rgba
            .chunks_exact(4)
            .filter(|p| pred([p[0], p[1], p[2], p[3]]))
            .count()
    }
}

fn assert_close(got: [u8; 4], want: &Value, tolerance: u8, what: &str) {
    let want: Vec<u8> = want
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_u64().unwrap() as u8)
        .collect();
    let near = got[..3]
        .iter()
        .zip(&want)
        .all(|(g, w)| g.abs_diff(*w) <= tolerance);
    assert!(near, "{what}: got {got:?}, want {want:?} ± {tolerance}");
}

fn resize(host: &Host, options: &str, id: &str, headers: &[(&str, &str)]) -> support::Response {
    let r = host.request("GET", &format!("/resize/{options}/{id}"), headers, b"");
    assert_eq!(r.status, 200, "{options}: {}", r.text());
    r
}

#[test]
fn meta_and_listing_carry_a_thumbhash_and_a_dominant_colour() {
    let host = app();
    let photo = corpus("FreshFlower.jpg");
    let id = host.upload(&photo);
    let meta = host.get(&format!("/images/{id}/meta")).json();
    let hash = meta["thumbhash"].as_str().expect("thumbhash");
    let colour = meta["dominant_color"].as_str().expect("dominant_color");
    assert!(
        colour.len() == 7 && colour.starts_with('#'),
        "dominant_color {colour}"
    );

    // The hash decodes to the photo's colours: its average against the
    // mean of a small variant, as Pillow reads it.
    let bytes = base64_decode(hash);
    let (r, g, b, a) = thumbhash::thumb_hash_to_average_rgba(&bytes).unwrap();
    let small = Seen::of(&resize(&host, "width=64,format=png", &id, &[]).body);
    let n = (small.width * small.height) as f32;
    let mean = |c: usize| {
        small
            .rgba
            .chunks_exact(4)
            .map(|p| f32::from(p[c]))
            .sum::<f32>()
            / n
            / 255.0
    };
    for (name, got, want) in [("r", r, mean(0)), ("g", g, mean(1)), ("b", b, mean(2))] {
        assert!(
            (got - want).abs() < 0.06,
            "thumbhash {name} {got:.3}, photo {want:.3}"
        );
    }
    assert!(a > 0.99, "an opaque photo: alpha {a}");
    let (w, h, _) = thumbhash::thumb_hash_to_rgba(&bytes).unwrap();
    let aspect = w as f32 / h as f32;
    let photo_aspect = small.width as f32 / small.height as f32;
    assert!(
        (aspect - photo_aspect).abs() < 0.25,
        "{aspect} vs {photo_aspect}"
    );

    // A flat colour's dominant colour is that colour, exactly.
    let fixtures = fixtures();
    let bmp = host.upload(&read(fixtures.path(), "plain.bmp"));
    let bmp_meta = host.get(&format!("/images/{bmp}/meta")).json();
    // Half (200, 60, 40), half (40, 160, 90): one of the two.
    let dominant = bmp_meta["dominant_color"].as_str().unwrap();
    assert!(
        ["#c83c28", "#28a05a"].contains(&dominant),
        "dominant {dominant}"
    );

    let listing = host.get("/images?limit=10").json();
    let entry = listing["images"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["id"] == id.as_str())
        .expect("listed");
    assert_eq!(entry["thumbhash"], meta["thumbhash"]);
    assert_eq!(entry["dominant_color"], meta["dominant_color"]);
}

/// Standard base64 with padding, as the metadata carries it.
fn base64_decode(s: &str) -> Vec<u8> {
    const ABC: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut bits = 0u32;
    let mut n = 0;
    let mut out = Vec::new();
    for c in s.bytes().filter(|&c| c != b'=') {
        let v = ABC.iter().position(|&a| a == c).expect("base64") as u32;
        bits = bits << 6 | v;
        n += 6;
        if n >= 8 {
            n -= 8;
            out.push((bits >> n) as u8);
        }
    }
    out
}

#[test]
fn gravity_auto_keeps_a_subject_at_the_edge_that_a_centre_crop_loses() {
    let host = app();
    let fixtures = fixtures();
    let id = host.upload(&read(fixtures.path(), "subject.png"));
    let subject = |p: [u8; 4]| p[0] > 180 && p[2] < 100;
    let centre = Seen::of(&resize(&host, "w=200,h=200,fit=cover,f=png", &id, &[]).body);
    let auto = Seen::of(&resize(&host, "w=200,h=200,fit=cover,gravity=auto,f=png", &id, &[]).body);
    assert_eq!((auto.width, auto.height), (200, 200));
    assert_eq!(centre.count(subject), 0, "the centre crop misses it");
    // The disc is ~5,000 px (radius 40): nearly all of it is kept.
    let kept = auto.count(subject);
    assert!(kept > 4000, "gravity=auto kept {kept} subject pixels");
    // fit=crop too, and a square from a portrait turn of the same image.
    let crop = Seen::of(&resize(&host, "w=150,h=150,fit=crop,g=auto,f=png", &id, &[]).body);
    assert!(crop.count(subject) > 2000);
}

#[test]
fn an_animated_gif_becomes_an_animated_webp_with_its_frames_and_timing() {
    let host = app();
    let fixtures = fixtures();
    let gif = read(fixtures.path(), "animated.gif");
    let id = host.upload(&gif);
    let meta = host.get(&format!("/images/{id}/meta")).json();
    assert_eq!(meta["frames"], 3);

    let chrome = [("accept", "image/avif,image/webp,image/apng,*/*;q=0.8")];
    for options in ["width=30,format=webp", "width=30,format=auto"] {
        let r = resize(&host, options, &id, &chrome);
        assert_eq!(r.header("content-type"), Some("image/webp"), "{options}");
        let seen = Seen::of(&r.body);
        assert_eq!(
            (seen.format.as_str(), seen.width, seen.height),
            ("WEBP", 30, 20)
        );
        assert_eq!(seen.frames, 3, "{options}");
        assert_eq!(seen.durations, [100, 200, 300], "{options}");
        assert_eq!(seen.loop_count, 0, "{options}: loops forever, as the GIF");
        assert_close(
            seen.at(15, 10),
            &serde_json::json!([255, 0, 0]),
            20,
            options,
        );
    }
    // A still when asked, or when the format has no animation.
    for (options, format) in [
        ("width=30,format=webp,anim=false", "WEBP"),
        ("width=30,format=jpeg", "JPEG"),
        ("width=30,format=auto,anim=false", "WEBP"),
    ] {
        let seen = Seen::of(&resize(&host, options, &id, &chrome).body);
        assert_eq!(
            (seen.format.as_str(), seen.frames),
            (format, 1),
            "{options}"
        );
        assert_close(
            seen.at(15, 10),
            &serde_json::json!([255, 0, 0]),
            20,
            options,
        );
    }
}

#[test]
fn an_svg_rasterises_at_the_requested_size_and_loads_nothing() {
    let host = app();
    let svg = br##"<svg xmlns="http://www.w3.org/2000/svg" width="30" height="20" viewBox="0 0 3 2"><rect width="1.5" height="1" fill="#f00"/><rect x="1.5" width="1.5" height="1" fill="#00f"/><rect y="1" width="3" height="1" fill="#0a0"/></svg>"##;
    let id = host.upload(svg);
    let meta = host.get(&format!("/images/{id}/meta")).json();
    assert_eq!(
        (
            meta["format"].as_str(),
            meta["width"].as_u64(),
            meta["height"].as_u64()
        ),
        (Some("svg"), Some(30), Some(20))
    );
    let r = resize(&host, "width=300,format=png", &id, &[]);
    let seen = Seen::of(&r.body);
    assert_eq!((seen.width, seen.height), (300, 200), "drawn at 300 px");
    assert_close(seen.at(75, 50), &serde_json::json!([255, 0, 0]), 0, "red");
    assert_close(seen.at(225, 50), &serde_json::json!([0, 0, 255]), 0, "blue");
    assert_close(
        seen.at(150, 150),
        &serde_json::json!([0, 170, 0]),
        0,
        "green",
    );
    // Vector, not a 30 px bitmap scaled 10×: the red/blue edge is sharp.
    let blended = (140..160)
        .map(|x| seen.at(x, 50))
        .filter(|p| p[0] != 0 && p[0] != 255)
        .count();
    assert!(blended <= 1, "edge spread over {blended} pixels");

    // The original is served with a policy that stops script.
    let original = host.get(&format!("/images/{id}"));
    assert_eq!(original.header("content-type"), Some("image/svg+xml"));
    assert_eq!(
        original.header("content-security-policy"),
        Some("default-src 'none'; style-src 'unsafe-inline'; sandbox")
    );
    assert_eq!(original.header("x-content-type-options"), Some("nosniff"));

    // References to a listener this test runs: nothing connects to it.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let port = listener.local_addr().unwrap().port();
    let hostile = format!(
        r##"<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY ext SYSTEM "http://127.0.0.1:{port}/entity">]><svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="40" height="40"><style>@import url(http://127.0.0.1:{port}/style.css); circle {{ fill: url(http://127.0.0.1:{port}/paint.svg#p) }}</style><circle cx="30" cy="30" r="8"/><image href="http://127.0.0.1:{port}/x.png" width="40" height="40"/><image xlink:href="http://127.0.0.1:{port}/y.png" width="40" height="40"/><use href="http://127.0.0.1:{port}/z.svg#a"/><rect width="10" height="10" fill="#00f"/><script href="http://127.0.0.1:{port}/s.js"/></svg>"##
    );
    let r = host.post(
        "/upload",
        &[("content-type", "image/svg+xml")],
        hostile.as_bytes(),
    );
    assert_eq!(r.status, 201, "{}", r.text());
    let id = r.json()["id"].as_str().unwrap().to_string();
    let drawn = Seen::of(&resize(&host, "width=80,format=png", &id, &[]).body);
    // Only what the file itself holds is drawn: the blue square.
    assert_close(
        drawn.at(5, 5),
        &serde_json::json!([0, 0, 255]),
        0,
        "the square",
    );
    assert_eq!(drawn.at(76, 4)[3], 0, "nothing drawn from outside");
    resize(&host, "width=64,format=webp", &id, &[]);
    std::thread::sleep(Duration::from_millis(200));
    assert!(
        listener.accept().is_err(),
        "the SVG made a request to 127.0.0.1:{port}"
    );
}

#[test]
fn tiff_and_bmp_give_correct_jpeg_variants() {
    let host = app();
    let fixtures = fixtures();
    let expected: Value = serde_json::from_slice(&read(fixtures.path(), "expected.json")).unwrap();
    for (file, left, right) in [
        ("adobe8.tif", "adobe_left", "adobe_right"),
        ("adobe16.tif", "adobe_left", "adobe_right"),
        ("plain.bmp", "plain_left", "plain_right"),
    ] {
        let id = host.upload(&read(fixtures.path(), file));
        let meta = host.get(&format!("/images/{id}/meta")).json();
        assert_eq!(
            (meta["width"].as_u64(), meta["height"].as_u64()),
            (Some(64), Some(48)),
            "{file}"
        );
        let r = resize(&host, "width=32,format=jpeg,quality=95", &id, &[]);
        assert_eq!(r.header("content-type"), Some("image/jpeg"));
        let seen = Seen::of(&r.body);
        assert_eq!(
            (seen.format.as_str(), seen.width, seen.height),
            ("JPEG", 32, 24),
            "{file}"
        );
        // As a colour-managed viewer shows the original (LittleCMS).
        assert_close(seen.at(4, 12), &expected[left], 4, &format!("{file} left"));
        assert_close(
            seen.at(28, 12),
            &expected[right],
            4,
            &format!("{file} right"),
        );
        // The original format's family, when none is asked for: JPEG for
        // TIFF (photos), PNG for BMP.
        let plain = resize(&host, "width=32", &id, &[]);
        let want = if file.ends_with(".tif") {
            "image/jpeg"
        } else {
            "image/png"
        };
        assert_eq!(plain.header("content-type"), Some(want), "{file}");
    }
    // A multi-page TIFF gives its first page.
    let id = host.upload(&read(fixtures.path(), "pages.tif"));
    let seen = Seen::of(&resize(&host, "width=16,format=jpeg", &id, &[]).body);
    assert_close(seen.at(8, 6), &expected["plain_left"], 4, "first page");
    let id = host.upload(&read(fixtures.path(), "grey16.tif"));
    let seen = Seen::of(&resize(&host, "width=16,format=jpeg", &id, &[]).body);
    let grey = expected["grey16"].as_u64().unwrap() as u8;
    assert!(
        seen.at(8, 6)[..3].iter().all(|v| v.abs_diff(grey) <= 2),
        "{:?}",
        seen.at(8, 6)
    );
}

#[test]
fn subsampled_jpeg_chroma_decodes_as_libjpeg_decodes_it() {
    // Full size (no resampling), PNG out: what the JPEG decoder made. Its
    // chroma upsampling runs in wasm SIMD in the component, eight samples a
    // step, with a scalar tail at the odd width: a wrong lane or step shows
    // as colour fringes tens of levels off.
    let host = app();
    let fixtures = fixtures();
    for name in ["chroma420", "chroma422"] {
        let id = host.upload(&read(fixtures.path(), &format!("{name}.jpg")));
        let ours = Seen::of(&resize(&host, "width=203,format=png", &id, &[]).body);
        let libjpeg = Seen::of(&read(fixtures.path(), &format!("{name}.libjpeg.png")));
        assert_eq!((ours.width, ours.height), (203, 131), "{name}");
        let diffs: Vec<u8> = ours
            .rgba
            .iter()
            .zip(&libjpeg.rgba)
            .map(|(a, b)| a.abs_diff(*b))
            .collect();
        let mean = diffs.iter().map(|&d| f64::from(d)).sum::<f64>() / diffs.len() as f64;
        let max = diffs.iter().copied().max().unwrap_or(0);
        // Measured: mean 0.08 / 0.20, at most 3 (a float IDCT against libjpeg's integer one).
        assert!(mean < 0.5 && max <= 6, "{name}: mean {mean:.3}, max {max}");
    }
}

#[test]
fn bad_and_hostile_files_of_each_new_format_get_4xx_json() {
    let host = app();
    let fixtures = fixtures();
    let tiff = read(fixtures.path(), "adobe8.tif");
    let bmp = read(fixtures.path(), "plain.bmp");
    let gif = read(fixtures.path(), "animated.gif");
    let mut tiff_bomb = tiff.clone();
    // ImageWidth, ImageLength and RowsPerStrip of the first IFD: a small
    // file that claims 100,000 × 100,000 pixels in one strip.
    let ifd = u32::from_le_bytes(tiff[4..8].try_into().unwrap()) as usize;
    let entries = usize::from(u16::from_le_bytes([tiff[ifd], tiff[ifd + 1]]));
    for entry in 0..entries {
        let at = ifd + 2 + entry * 12;
        let tag = u16::from_le_bytes([tiff[at], tiff[at + 1]]);
        if matches!(tag, 256 | 257 | 278) {
            tiff_bomb[at + 2..at + 4].copy_from_slice(&4u16.to_le_bytes());
            tiff_bomb[at + 8..at + 12].copy_from_slice(&100_000u32.to_le_bytes());
        }
    }
    let mut bmp_bomb = bmp.clone();
    bmp_bomb[18..22].copy_from_slice(&60_000i32.to_le_bytes());
    bmp_bomb[22..26].copy_from_slice(&60_000i32.to_le_bytes());
    // 2,000 frames of 1 px: over the frame limit (1,000) before decoding.
    let mut many = b"GIF89a\x01\x00\x01\x00\x80\x00\x00\xff\xff\xff\x00\x00\x00".to_vec();
    for _ in 0..2000 {
        many.extend_from_slice(b",\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00");
    }
    many.push(b';');
    let laughs = {
        let mut defs = String::from(r#"<g id="l0"><rect width="1" height="1"/></g>"#);
        for i in 1..=9 {
            defs.push_str(&format!(r#"<g id="l{i}">"#));
            for _ in 0..10 {
                defs.push_str(&format!(r##"<use href="#l{}"/>"##, i - 1));
            }
            defs.push_str("</g>");
        }
        format!(
            r##"<svg xmlns="http://www.w3.org/2000/svg" width="9" height="9">{defs}<use href="#l9"/></svg>"##
        )
    };
    let deep = format!(
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="9" height="9">{}{}</svg>"#,
        "<g>".repeat(20_000),
        "</g>".repeat(20_000)
    );
    let entities = {
        let mut dtd = String::from(r#"<!ENTITY e0 "lollollollollollol">"#);
        for i in 1..=9 {
            dtd.push_str(&format!(
                r#"<!ENTITY e{i} "{}">"#,
                format!("&e{};", i - 1).repeat(10)
            ));
        }
        format!(
            r#"<?xml version="1.0"?><!DOCTYPE svg [{dtd}]><svg xmlns="http://www.w3.org/2000/svg" width="9" height="9"><desc>&e9;</desc></svg>"#
        )
    };
    let huge_svg = br#"<svg xmlns="http://www.w3.org/2000/svg" width="100000" height="100000"/>"#;
    let cases: Vec<(&str, Vec<u8>, u16, &str)> = vec![
        (
            "truncated TIFF",
            tiff[..tiff.len() / 2].to_vec(),
            422,
            "decode_failed",
        ),
        ("TIFF header only", tiff[..8].to_vec(), 422, "decode_failed"),
        ("TIFF bomb", tiff_bomb, 422, "pixel_limit"),
        ("truncated BMP", bmp[..200].to_vec(), 422, "decode_failed"),
        ("BMP bomb", bmp_bomb, 422, "pixel_limit"),
        (
            "ICO with no entries",
            b"\0\0\x01\0\x01\0\x10\x10\0\0\x01\0\x20\0\x00\x10\0\0\x16\0\0\0".to_vec(),
            422,
            "decode_failed",
        ),
        (
            "QOI header only",
            b"qoif\0\0\0\x10\0\0\0\x10\x04\x00".to_vec(),
            422,
            "decode_failed",
        ),
        (
            "QOI bomb",
            b"qoif\0\x01\0\0\0\x01\0\0\x04\x00\0\0\0\0\0\0\0\x01".to_vec(),
            422,
            "pixel_limit",
        ),
        ("2,000-frame GIF", many, 422, "pixel_limit"),
        (
            "SVG use billion laughs",
            laughs.into_bytes(),
            422,
            "too_complex",
        ),
        (
            "SVG entity billion laughs",
            entities.into_bytes(),
            422,
            "decode_failed",
        ),
        (
            "SVG nested 20,000 deep",
            deep.into_bytes(),
            422,
            "too_complex",
        ),
        (
            "SVG 100,000 px a side",
            huge_svg.to_vec(),
            422,
            "pixel_limit",
        ),
        (
            "SVG that is not XML",
            b"<svg xmlns='http://www.w3.org/2000/svg'><g></svg>".to_vec(),
            422,
            "decode_failed",
        ),
        (
            "HTML",
            b"<!DOCTYPE html><html><body><svg></svg></body></html>".to_vec(),
            415,
            "unsupported_format",
        ),
    ];
    for (name, body, status, code) in cases {
        let r = host.post(
            "/upload",
            &[("content-type", "application/octet-stream")],
            &body,
        );
        assert_eq!(r.status, status, "{name}: {}", r.text());
        assert_eq!(r.error_code(), code, "{name}: {}", r.text());
    }
    // A GIF cut in a later frame uploads (its first frame decodes), and
    // its animation is refused when that frame is reached.
    let cut = &gif[..gif.len() - 20];
    let r = host.post("/upload", &[("content-type", "image/gif")], cut);
    if r.status == 201 {
        let id = r.json()["id"].as_str().unwrap().to_string();
        let anim = host.get(&format!("/resize/width=30,format=webp/{id}"));
        assert_eq!(
            (anim.status, anim.error_code().as_str()),
            (422, "decode_failed"),
            "{}",
            anim.text()
        );
        let still = host.get(&format!("/resize/width=30,format=png/{id}"));
        assert_eq!(still.status, 200);
    } else {
        assert_eq!(r.status, 422, "{}", r.text());
    }
    // The host is still well.
    assert_eq!(host.get("/healthz").status, 200);
}

/// AVIF uploads as the resize component decodes them (in wasm, where the
/// chroma, matrix and byte conversions take their SIMD paths) against
/// avifdec's decode of the same files: the fixtures of the imaging crate's
/// own AVIF test (every subsampling, 8/10/12 bits, both ranges, BT.601,
/// BT.2020 and identity matrices, straight and premultiplied alpha,
/// irot/imir), served at full size as PNG, both read by Pillow.
#[test]
fn avif_uploads_are_served_as_libavif_decodes_them() {
    let dir = TempDir::new("avif");
    let status = Command::new("python3")
        .arg(repo_path("components/imaging/tests/avif/make_fixtures.py"))
        .arg(support::corpus_path("FreshFlower.jpg"))
        .arg(support::corpus_path("Gulp.png"))
        .arg(dir.path())
        .status()
        .expect("python3 (with Pillow) runs");
    assert!(
        status.success(),
        "make_fixtures.py failed (scripts/install-deps installs libavif-bin)"
    );
    let cases = std::fs::read_to_string(dir.path().join("cases.tsv")).unwrap();
    let host = app();
    let mut checked = 0;
    for case in cases.lines() {
        let (input, reference) = case.split_once('\t').unwrap();
        let name = Path::new(input)
            .file_name()
            .unwrap()
            .to_string_lossy()
            .into_owned();
        let id = host.upload(&std::fs::read(input).unwrap());
        let r = host.get(&format!("/resize/format=png/{id}"));
        assert_eq!(r.status, 200, "{name}: {}", r.text());
        // Both read by Pillow; mean difference per channel (colour weighted
        // by alpha) and the largest, in 8-bit levels, the bounds of
        // tests/avif.rs.
        let (got, want) = (
            Seen::of(&r.body),
            Seen::of(&std::fs::read(reference).unwrap()),
        );
        assert_eq!(
            (got.width, got.height),
            (want.width, want.height),
            "{name}: size"
        );
        let (mut sums, mut worst) = ([0f64; 4], 0f64);
        for (g, w) in got.rgba.chunks_exact(4).zip(want.rgba.chunks_exact(4)) {
            for c in 0..4 {
                let weight = if c == 3 { 1.0 } else { f64::from(w[3]) / 255.0 };
                let d = f64::from(g[c].abs_diff(w[c])) * weight;
                sums[c] += d;
                worst = worst.max(d.round());
            }
        }
        let pixels = (got.rgba.len() / 4) as f64;
        let mean = sums.iter().fold(0f64, |m, s| m.max(s / pixels));
        assert!(
            mean <= 1.0 && worst <= 12.0,
            "{name}: mean {mean:.2}, worst {worst}"
        );
        checked += 1;
    }
    assert_eq!(checked, 12, "every fixture was checked");
}
