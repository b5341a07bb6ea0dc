//! End-to-end tests of edgeimg under a hosted Spin platform's limits (issue
//! 12): deploy/hosted/spin.toml served by `edgeimg up --emulate`, which
//! offers only the `default` key-value label with values up to 1 MB, 10 MiB
//! bodies and 128 MiB per instance. The whole API runs with a photo several
//! times bigger than a value may be. And deploy/spinkube: its SpinApp uses
//! only fields of spin-operator's CRD, and its runtime config serves the app
//! from Redis.

#[path = "support/services.rs"]
mod services;
#[path = "support/mod.rs"]
mod support;

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;
use services::RedisServer;

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

/// The fields of spin-operator's `SpinApp` (core.spinkube.dev/v1alpha1), as
/// spinframework/spin-operator api/v1alpha1/spinapp_types.go (commit
/// 00ab008f) declares them: JSON names and kinds, required ones marked.
mod crd {
    pub enum Kind {
        Str,
        Int,
        Bool,
        /// String keys to strings or numbers (annotations, resource lists).
        Map,
        /// Kubernetes core types passed through as is (volumes, metadata).
        Any,
        Obj(&'static [Field]),
        List(&'static Kind),
    }
    pub struct Field(pub &'static str, pub Kind, pub Required);
    #[derive(PartialEq)]
    pub enum Required {
        Yes,
        No,
    }
    use Kind::*;
    use Required::{No, Yes};

    const KEY_SELECTOR: Kind = Obj(&[
        Field("name", Str, No),
        Field("key", Str, Yes),
        Field("optional", Bool, No),
    ]);
    const OPTION: Kind = Obj(&[
        Field("name", Str, Yes),
        Field("value", Str, No),
        Field(
            "valueFrom",
            Obj(&[
                Field("configMapKeyRef", KEY_SELECTOR, No),
                Field("secretKeyRef", KEY_SELECTOR, No),
            ]),
            No,
        ),
    ]);
    const STORE: Kind = Obj(&[
        Field("name", Str, Yes),
        Field("type", Str, Yes),
        Field("options", List(&OPTION), No),
    ]);
    const PROBE: Kind = Obj(&[
        Field(
            "httpGet",
            Obj(&[
                Field("path", Str, Yes),
                Field(
                    "httpHeaders",
                    List(&Obj(&[Field("name", Str, Yes), Field("value", Str, Yes)])),
                    No,
                ),
            ]),
            No,
        ),
        Field("initialDelaySeconds", Int, No),
        Field("timeoutSeconds", Int, No),
        Field("periodSeconds", Int, No),
        Field("successThreshold", Int, No),
        Field("failureThreshold", Int, No),
    ]);
    const VARIABLE: Kind = Obj(&[
        Field("name", Str, Yes),
        Field("value", Str, No),
        Field(
            "valueFrom",
            Obj(&[
                Field("configMapKeyRef", KEY_SELECTOR, No),
                Field("secretKeyRef", KEY_SELECTOR, No),
                Field("fieldRef", Any, No),
                Field("resourceFieldRef", Any, No),
            ]),
            No,
        ),
    ]);
    const SPEC: Kind = Obj(&[
        Field("executor", Str, No),
        Field("image", Str, Yes),
        Field(
            "imagePullSecrets",
            List(&Obj(&[Field("name", Str, No)])),
            No,
        ),
        Field(
            "checks",
            Obj(&[Field("readiness", PROBE, No), Field("liveness", PROBE, No)]),
            No,
        ),
        Field("replicas", Int, No),
        Field("enableAutoscaling", Bool, No),
        Field(
            "runtimeConfig",
            Obj(&[
                Field("loadFromSecret", Str, No),
                Field("sqliteDatabases", List(&STORE), No),
                Field("keyValueStores", List(&STORE), No),
                Field(
                    "llmCompute",
                    Obj(&[Field("type", Str, Yes), Field("options", List(&OPTION), No)]),
                    No,
                ),
            ]),
            No,
        ),
        Field("volumes", List(&Any), No),
        Field("volumeMounts", List(&Any), No),
        Field("variables", List(&VARIABLE), No),
        Field("serviceAnnotations", Map, No),
        Field("deploymentAnnotations", Map, No),
        Field("podAnnotations", Map, No),
        Field("podLabels", Map, No),
        Field(
            "resources",
            Obj(&[Field("limits", Map, No), Field("requests", Map, No)]),
            No,
        ),
        Field("components", List(&Str), No),
        Field("serviceAccountName", Str, No),
        Field("invocationLimits", Map, No),
    ]);
    pub const SPIN_APP: Kind = Obj(&[
        Field("apiVersion", Str, Yes),
        Field("kind", Str, Yes),
        Field("metadata", Any, Yes),
        Field("spec", SPEC, Yes),
    ]);

    /// Every place `value` does not fit `kind`, by JSON path.
    pub fn check(kind: &Kind, value: &serde_json::Value, path: &str, errors: &mut Vec<String>) {
        let ok = match (kind, value) {
            (Str, v) => v.is_string(),
            (Int, v) => v.is_i64(),
            (Bool, v) => v.is_boolean(),
            (Map, v) => v
                .as_object()
                .is_some_and(|m| m.values().all(|x| x.is_string() || x.is_number())),
            (Any, _) => true,
            (List(item), v) => match v.as_array() {
                Some(items) => {
                    for (i, x) in items.iter().enumerate() {
                        check(item, x, &format!("{path}[{i}]"), errors);
                    }
                    true
                }
                None => false,
            },
            (Obj(fields), v) => match v.as_object() {
                Some(map) => {
                    for (name, x) in map {
                        match fields.iter().find(|f| f.0 == name) {
                            Some(f) => check(&f.1, x, &format!("{path}.{name}"), errors),
                            None => errors.push(format!("{path}.{name}: no such field")),
                        }
                    }
                    for f in fields.iter().filter(|f| f.2 == Yes) {
                        if !map.contains_key(f.0) {
                            errors.push(format!("{path}.{}: required", f.0));
                        }
                    }
                    true
                }
                None => false,
            },
        };
        if !ok {
            errors.push(format!("{path}: wrong type"));
        }
    }
}

/// A YAML file as JSON, read by Python's PyYAML (which moto, installed by
/// scripts/install-deps, depends on).
fn yaml(path: &str) -> Value {
    let out = Command::new("python3")
        .args([
            "-c",
            "import json, sys, yaml; json.dump(yaml.safe_load(open(sys.argv[1])), sys.stdout)",
        ])
        .arg(repo_path(path))
        .output()
        .expect("python3");
    assert!(
        out.status.success(),
        "PyYAML could not read {path}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn the_spinkube_spinapp_uses_only_fields_of_the_crd_and_names_what_the_app_has() {
    let app = yaml("deploy/spinkube/spinapp.yaml");
    let mut errors = Vec::new();
    crd::check(&crd::SPIN_APP, &app, "", &mut errors);
    assert!(errors.is_empty(), "not a valid SpinApp: {errors:#?}");
    assert_eq!(app["apiVersion"], "core.spinkube.dev/v1alpha1");
    assert_eq!(app["kind"], "SpinApp");

    let manifest: toml::Table =
        toml::from_str(&std::fs::read_to_string(repo_path("spin.toml")).unwrap()).unwrap();
    for variable in app["spec"]["variables"].as_array().unwrap() {
        let name = variable["name"].as_str().unwrap();
        assert!(
            manifest["variables"].get(name).is_some(),
            "spin.toml has no variable {name}"
        );
    }
    assert!(app["spec"]["runtimeConfig"]["loadFromSecret"].is_string());
    let runtime: toml::Table = toml::from_str(
        &std::fs::read_to_string(repo_path("deploy/spinkube/runtime-config.toml")).unwrap(),
    )
    .unwrap();
    for label in ["images", "cache"] {
        assert_eq!(
            runtime["key_value_store"][label]["type"].as_str(),
            Some("redis"),
            "{label}"
        );
    }
}

/// Keys in the Redis at `port` (`DBSIZE`).
fn redis_keys(port: u16) -> u64 {
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream.write_all(b"DBSIZE\r\n").unwrap();
    let mut reply = [0u8; 32];
    let n = stream.read(&mut reply).unwrap();
    let text = std::str::from_utf8(&reply[..n]).unwrap();
    text.trim().trim_start_matches(':').parse().unwrap()
}

#[test]
fn the_spinkube_runtime_config_serves_the_app_from_redis() {
    let redis = RedisServer::start();
    let text = std::fs::read_to_string(repo_path("deploy/spinkube/runtime-config.toml")).unwrap();
    let local = text
        .replace("redis://edgeimg-images-redis:6379", &redis.url())
        .replace("redis://edgeimg-cache-redis:6379", &redis.url());
    assert_eq!(
        local.matches(&redis.url()).count(),
        2,
        "both labels on Redis"
    );
    let dir = TempDir::new("spinkube-rc");
    let rc = dir.path().join("runtime-config.toml");
    std::fs::write(&rc, local).unwrap();
    let host = HostBuilder::new(app_manifest())
        .arg("--runtime-config-file")
        .arg(rc.to_string_lossy())
        .start();

    let photo = corpus("Blinds.jpg");
    let id = host.upload(&photo);
    assert_eq!(host.get(&format!("/images/{id}")).body, photo);
    let r = host.get(&format!("/resize/width=100/{id}"));
    assert_eq!((r.status, dims(&r.body).1), (200, 100));
    assert!(
        redis_keys(redis.port) >= 4,
        "original, metadata, index and variant"
    );
    assert_eq!(host.delete(&format!("/upload/{id}"), &[]).status, 204);
    assert_eq!(
        redis_keys(redis.port),
        0,
        "a delete leaves nothing in Redis"
    );
}
