//! End-to-end tests of edgeimg under a hosted Spin platform's limits (issue
//! 12): deploy/hosted/spin.toml served by `edgeimg up --emulate`, which
//! offers only the `default` key-value label with values up to 1 MB, 10 MiB
//! bodies and 128 MiB per instance. The whole API runs with a photo several
//! times bigger than a value may be.

#[path = "support/mod.rs"]
mod support;

use std::path::{Path, PathBuf};

use support::image::dims;
use support::{app_manifest, built_manifest, corpus, repo_path, Host, HostBuilder, TempDir};

/// The largest value the emulated store takes (Fermyon Cloud's 1 MB).
const VALUE_CAP: u64 = 1_000_000;
/// The chunk size deploy/hosted/spin.toml sets.
const CHUNK: u64 = 983_040;

fn hosted_manifest() -> PathBuf {
    built_manifest(
        "deploy/hosted/spin.toml",
        &[
            "edgeimg_upload",
            "edgeimg_fetch",
            "edgeimg_resize",
            "edgeimg_site",
        ],
    )
}

/// A host emulating `platform` whose `default` store is files under `store`,
/// so the test can see what the platform would hold.
fn emulated(platform: &str, store: &Path, env: &[(&str, &str)]) -> (Host, TempDir) {
    let dir = TempDir::new("platform-rc");
    let rc = dir.path().join("rc.toml");
    std::fs::write(
        &rc,
        format!(
            "[key_value_store.default]\ntype = \"opendal\"\nscheme = \"fs\"\nroot = {:?}\nread_cache_bytes = 0\n",
            store.to_string_lossy()
        ),
    )
    .unwrap();
    let mut builder = HostBuilder::new(hosted_manifest())
        .args(["--emulate", platform, "--runtime-config-file"])
        .arg(rc.to_string_lossy());
    for (k, v) in env {
        builder = builder.env(*k, *v);
    }
    (builder.start(), dir)
}

/// Sizes of the values the store holds (one file each).
fn values(dir: &Path) -> Vec<u64> {
    let mut sizes = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let meta = entry.metadata().unwrap();
            if meta.is_dir() {
                stack.push(entry.path());
            } else {
                sizes.push(meta.len());
            }
        }
    }
    sizes
}

#[test]
fn the_whole_api_runs_under_wasm_functions_limits_with_a_photo_bigger_than_a_value() {
    let store = TempDir::new("platform-store");
    let (host, _rc) = emulated("wasm-functions", store.path(), &[]);
    assert!(
        host.logs().contains("emulating Fermyon Wasm Functions"),
        "{}",
        host.logs()
    );
    // 8.5 MB, 3840×2160: nine values' worth, under the 10 MiB body cap.
    let photo = corpus("Elephants_3840x2160.jpg");
    let len = photo.len() as u64;
    assert!(len > 5_000_000 && len < 10 << 20);

    let r = host.post("/upload", &[("content-type", "image/jpeg")], &photo);
    assert_eq!(r.status, 201, "{}", r.text());
    let meta = r.json();
    assert_eq!(
        (meta["width"].as_u64(), meta["height"].as_u64()),
        (Some(3840), Some(2160))
    );
    assert_eq!(meta["bytes"].as_u64(), Some(len));
    let id = meta["id"].as_str().unwrap().to_string();
    let again = host.post("/upload", &[("content-type", "image/jpeg")], &photo);
    assert_eq!(
        (again.status, again.json()["id"].as_str()),
        (200, Some(id.as_str()))
    );

    let sizes = values(store.path());
    assert!(
        sizes.iter().all(|&s| s <= VALUE_CAP),
        "a value over the cap: {sizes:?}"
    );
    let chunks = sizes.iter().filter(|&&s| s == CHUNK).count() as u64;
    assert_eq!(
        chunks,
        len / CHUNK,
        "the photo is stored in {CHUNK}-byte chunks"
    );

    // The original: whole, by range across a chunk boundary, HEAD, 304.
    let original = format!("/images/{id}");
    let r = host.get(&original);
    assert_eq!(r.status, 200);
    assert!(r.body == photo, "the original comes back byte for byte");
    assert_eq!(r.header("content-type"), Some("image/jpeg"));
    let (from, to) = (CHUNK - 3, CHUNK + 2);
    let range = format!("bytes={from}-{to}");
    let r = host.request("GET", &original, &[("range", &range)], b"");
    assert_eq!(r.status, 206);
    assert_eq!(r.body, photo[from as usize..=to as usize]);
    let expected_range = format!("bytes {from}-{to}/{len}");
    assert_eq!(r.header("content-range"), Some(expected_range.as_str()));
    let head = host.request("HEAD", &original, &[], b"");
    assert_eq!(
        head.header("content-length"),
        Some(len.to_string().as_str())
    );
    let etag = head.header("etag").unwrap().to_string();
    let r = host.request("GET", &original, &[("if-none-match", &etag)], b"");
    assert_eq!(r.status, 304);
    let r = host.get(&format!("/images/{id}/meta"));
    assert_eq!(
        (r.status, r.json()["id"].as_str()),
        (200, Some(id.as_str()))
    );

    // Variants, made within 128 MiB and cached in the same store.
    let thumb = format!("/resize/width=320/{id}");
    let r = host.get(&thumb);
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(dims(&r.body), ("jpeg", 320, 180));
    assert_eq!(host.get(&thumb).header("x-cache"), Some("hit"));
    let r = host.get(&format!("/resize/width=1920,format=webp/{id}"));
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(dims(&r.body), ("webp", 1920, 1080));

    let listing = host.get("/images?limit=10").json();
    assert_eq!(listing["images"][0]["id"].as_str(), Some(id.as_str()));
    assert_eq!(listing["images"].as_array().unwrap().len(), 1);
    assert_eq!(host.get("/").status, 200);

    // Bigger than the platform takes: a clear 413 before anything is stored.
    let big = corpus("Elephants_5640x3172.jpg");
    let r = host.post("/upload", &[("content-type", "image/jpeg")], &big);
    assert_eq!(r.status, 413, "{}", r.text());
    assert!(r.error_code().contains("too_large"), "{}", r.text());

    // A delete leaves nothing behind: no chunk, no variant, no index.
    assert_eq!(host.delete(&format!("/upload/{id}"), &[]).status, 204);
    for path in [original.clone(), thumb, format!("/images/{id}/meta")] {
        assert_eq!(host.get(&path).status, 404, "{path}");
    }
    assert_eq!(
        values(store.path()),
        Vec::<u64>::new(),
        "the store is empty again"
    );
}

#[test]
fn without_chunks_the_platform_refuses_the_photo_and_the_client_is_told_why() {
    let store = TempDir::new("platform-nochunks");
    let (host, _rc) = emulated(
        "fermyon-cloud",
        store.path(),
        &[("SPIN_VARIABLE_KV_CHUNK_BYTES", "0")],
    );
    let photo = corpus("Blinds.jpg");
    let r = host.post("/upload", &[("content-type", "image/jpeg")], &photo);
    assert_eq!(r.status, 503, "{}", r.text());
    assert_eq!(r.error_code(), "storage_unavailable");
    let message = r.json()["error"]["message"].as_str().unwrap().to_string();
    assert!(
        message.contains("exceeds the Fermyon Cloud limit of 1000000 bytes"),
        "{message}"
    );
}

#[test]
fn the_app_manifest_is_refused_under_emulation_naming_the_label_the_platform_lacks() {
    let err = HostBuilder::new(app_manifest())
        .args(["--emulate", "fermyon-cloud"])
        .start_err();
    assert!(err.contains("unknown label \"images\""), "{err}");
}

/// deploy/hosted/spin.toml must be ../../spin.toml with only the `default`
/// label granted and platform-sized defaults, so it cannot drift.
#[test]
fn the_hosted_manifest_is_the_app_manifest_with_only_default_granted() {
    let read = |path: &str| -> toml::Table {
        toml::from_str(&std::fs::read_to_string(repo_path(path)).unwrap()).unwrap()
    };
    let (app, hosted) = (read("spin.toml"), read("deploy/hosted/spin.toml"));
    assert_eq!(app["application"], hosted["application"]);
    assert_eq!(app["trigger"], hosted["trigger"]);

    let changed = [
        ("max_upload_bytes", "9934464"),
        ("max_pixels", "10000000"),
        ("images_label", "default"),
        ("cache_label", "default"),
        ("kv_chunk_bytes", "983040"),
    ];
    let (app_vars, hosted_vars) = (
        app["variables"].as_table().unwrap(),
        hosted["variables"].as_table().unwrap(),
    );
    assert_eq!(
        app_vars.keys().collect::<Vec<_>>(),
        hosted_vars.keys().collect::<Vec<_>>()
    );
    for (name, value) in app_vars {
        match changed.iter().find(|(n, _)| n == name) {
            Some((_, v)) => assert_eq!(hosted_vars[name]["default"].as_str(), Some(*v), "{name}"),
            None => assert_eq!(&hosted_vars[name], value, "{name}"),
        }
    }
    // The upload limit plus multipart framing is the platforms' 10 MB body cap.
    assert_eq!(9_934_464 + 64 * 1024, 10_000_000);

    let (app_c, hosted_c) = (
        app["component"].as_table().unwrap(),
        hosted["component"].as_table().unwrap(),
    );
    assert_eq!(
        app_c.keys().collect::<Vec<_>>(),
        hosted_c.keys().collect::<Vec<_>>()
    );
    for (id, component) in app_c {
        let h = &hosted_c[id];
        assert_eq!(
            h["source"].as_str().unwrap(),
            format!("../../{}", component["source"].as_str().unwrap()),
            "{id}"
        );
        assert_eq!(h.get("variables"), component.get("variables"), "{id}");
        let granted = component
            .get("key_value_stores")
            .map(|_| toml::Value::Array(vec!["default".into()]));
        assert_eq!(h.get("key_value_stores"), granted.as_ref(), "{id}");
        assert_eq!(h["build"]["command"], component["build"]["command"], "{id}");
        assert_eq!(h["build"]["workdir"].as_str(), Some("../.."), "{id}");
    }
}
