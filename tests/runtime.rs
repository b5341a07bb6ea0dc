//! End-to-end tests of the host runtime (issue 2): `edgeimg up` serving the
//! probe component (tests/probe) on a free 127.0.0.1 port.
//!
//! Build the probe first: `target/release/edgeimg build -f tests/probe/spin.toml`.

#[path = "support/mod.rs"]
mod support;

use std::time::{Duration, Instant};

use support::{repo_path, Host, HostBuilder, TempDir};

fn probe_manifest() -> std::path::PathBuf {
    let wasm = repo_path("target/wasm32-wasip2/release/edgeimg_probe.wasm");
    assert!(
        wasm.is_file(),
        "{} is missing: run `target/release/edgeimg build -f tests/probe/spin.toml` first",
        wasm.display()
    );
    repo_path("tests/probe/spin.toml")
}

fn probe() -> Host {
    HostBuilder::new(probe_manifest()).start()
}

/// A manifest in a temp folder whose components use the probe wasm.
fn manifest_with(dir: &TempDir, body: &str) -> std::path::PathBuf {
    let wasm = repo_path("target/wasm32-wasip2/release/edgeimg_probe.wasm");
    let text = format!(
        "spin_manifest_version = 2\n[application]\nname = \"t\"\n{}",
        body.replace("PROBE", &wasm.display().to_string())
    );
    let path = dir.path().join("spin.toml");
    std::fs::write(&path, text).unwrap();
    let _ = probe_manifest();
    path
}

#[test]
fn routes_exact_wildcard_and_answers_404_json_for_no_route() {
    let host = probe();
    let table = [
        ("/echo", "/echo", ""),
        ("/wild", "/wild/...", ""),
        ("/wild/a/b", "/wild/...", "/a/b"),
        ("/items/special", "/items/special", ""),
        ("/items/42/x", "/items/:id/...", "/x"),
    ];
    for (path, route, info) in table {
        let r = host.get(path);
        assert_eq!(r.status, 200, "{path}: {}", r.text());
        let seen = r.json();
        assert_eq!(seen["headers"]["spin-matched-route"], route, "{path}");
        assert_eq!(seen["headers"]["spin-path-info"], info, "{path}");
    }
    for path in ["/nope", "/echo/extra", "/"] {
        let r = host.get(path);
        assert_eq!(r.status, 404, "{path}");
        assert_eq!(r.header("content-type"), Some("application/json"));
        assert_eq!(r.error_code(), "no_route");
    }
}

#[test]
fn component_sees_spin_headers_and_the_full_url() {
    let host = probe();
    let r = host.request(
        "GET",
        "/items/42/thumb/small?x=1",
        &[("spin-client-addr", "6.6.6.6:6")],
        b"",
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let seen = r.json();
    let h = &seen["headers"];
    let full = host.url("/items/42/thumb/small?x=1");
    assert_eq!(h["spin-full-url"], full.as_str());
    assert_eq!(seen["uri"], full.as_str(), "the request URI is absolute");
    assert_eq!(h["spin-path-info"], "/thumb/small");
    assert_eq!(h["spin-matched-route"], "/items/:id/...");
    assert_eq!(h["spin-raw-component-route"], "/items/:id/...");
    assert_eq!(h["spin-component-route"], "/items/:id");
    assert_eq!(h["spin-base-path"], "/");
    assert_eq!(h["spin-path-match-id"], "42");
    let client = h["spin-client-addr"].as_str().unwrap();
    assert!(
        client.starts_with("127.0.0.1:"),
        "client addr {client} (a client-sent value must be replaced)"
    );
    assert_eq!(seen["method"], "GET");
    assert_eq!(seen["path"], "/items/42/thumb/small");
    assert_eq!(seen["query"], "x=1");
}

#[test]
fn key_value_persists_across_requests_and_denies_unlisted_labels() {
    let host = probe();
    assert_eq!(host.get("/echo?op=kv-set&key=k&value=v1").status, 200);
    let r = host.get("/echo?op=kv-get&key=k");
    assert_eq!(
        r.json()["value"],
        "v1",
        "a later request (new instance) sees the value"
    );
    assert_eq!(host.get("/echo?op=kv-exists&key=k").json()["exists"], true);
    assert_eq!(
        host.get("/echo?op=kv-keys").json()["keys"],
        serde_json::json!(["k"])
    );
    assert_eq!(host.get("/echo?op=kv-delete&key=k").status, 200);
    assert_eq!(
        host.get("/echo?op=kv-get&key=k").json()["value"],
        serde_json::Value::Null
    );

    // Labels are separate stores.
    assert_eq!(
        host.get("/echo?op=kv-set&label=images&key=k&value=img")
            .status,
        200
    );
    assert_eq!(
        host.get("/echo?op=kv-get&key=k").json()["value"],
        serde_json::Value::Null
    );
    assert_eq!(
        host.get("/echo?op=kv-get&label=images&key=k").json()["value"],
        "img"
    );

    // `cache` exists on the host but is not granted to the probe.
    let r = host.get("/echo?op=kv-get&label=cache&key=k");
    assert!(
        r.status == 403 && r.text().contains("AccessDenied"),
        "{}",
        r.text()
    );
    // The restricted component (same wasm) has no grant at all.
    let r = host.get("/restricted/x?op=kv-get&label=default&key=k");
    assert!(
        r.status == 403 && r.text().contains("AccessDenied"),
        "{}",
        r.text()
    );
}

#[test]
fn variables_use_defaults_and_spin_variable_environment() {
    let host = probe();
    assert_eq!(
        host.get("/echo?op=var&name=greeting").json()["value"],
        "hello from local"
    );
    let r = host.get("/echo?op=var&name=nope");
    assert_eq!(r.status, 404);
    assert!(
        r.json()["error"].as_str().unwrap().contains("Undefined"),
        "{}",
        r.text()
    );
    drop(host);

    let host = HostBuilder::new(probe_manifest())
        .env("SPIN_VARIABLE_REGION", "eu-west")
        .start();
    assert_eq!(
        host.get("/echo?op=var&name=greeting").json()["value"],
        "hello from eu-west"
    );
}

#[test]
fn missing_required_variable_stops_the_host_naming_it() {
    let dir = TempDir::new("manifest");
    let manifest = manifest_with(
        &dir,
        r#"
[variables]
signing_key = { required = true }
[[trigger.http]]
route = "/..."
component = "c"
[component.c]
source = "PROBE"
[component.c.variables]
key = "{{ signing_key }}"
"#,
    );
    let err = HostBuilder::new(&manifest).start_err();
    assert!(
        err.contains("signing_key") && err.contains("SPIN_VARIABLE_SIGNING_KEY"),
        "{err}"
    );
    let host = HostBuilder::new(&manifest)
        .env("SPIN_VARIABLE_SIGNING_KEY", "s3cret")
        .start();
    assert_eq!(host.get("/?op=var&name=key").json()["value"], "s3cret");
}

#[test]
fn a_trap_or_panic_is_a_500_json_and_the_server_keeps_serving() {
    let host = probe();
    for op in ["trap", "panic"] {
        let r = host.get(&format!("/echo?op={op}"));
        assert_eq!(r.status, 500, "{op}: {}", r.text());
        assert_eq!(r.header("content-type"), Some("application/json"));
        assert_eq!(r.error_code(), "trap", "{op}");
        assert_eq!(host.get("/echo").status, 200, "serving after {op}");
    }
    assert!(
        host.logs().contains("component trapped"),
        "a log line per trap:\n{}",
        host.logs()
    );
}

#[test]
fn a_looping_component_gets_504_within_the_deadline() {
    let host = HostBuilder::new(probe_manifest())
        .arg("--timeout-ms")
        .arg("500")
        .start();
    let started = Instant::now();
    let r = host.get("/echo?op=loop");
    let took = started.elapsed();
    assert_eq!(r.status, 504, "{}", r.text());
    assert_eq!(r.error_code(), "timeout");
    assert!(
        took < Duration::from_secs(3),
        "deadline 500 ms, answered after {took:?}"
    );
    assert_eq!(host.get("/echo").status, 200);
    assert!(
        host.logs().contains("execution deadline"),
        "{}",
        host.logs()
    );
}

#[test]
fn a_component_blocked_past_the_deadline_gets_504() {
    let host = HostBuilder::new(probe_manifest())
        .arg("--timeout-ms")
        .arg("300")
        .start();
    let r = host.get("/echo?op=sleep&ms=5000");
    assert_eq!(r.status, 504, "{}", r.text());
}

#[test]
fn allocating_past_the_memory_cap_is_a_clean_503() {
    let host = HostBuilder::new(probe_manifest())
        .arg("--memory-limit-mib")
        .arg("32")
        .start();
    let r = host.get("/echo?op=alloc&mib=64");
    assert_eq!(r.status, 503, "{}", r.text());
    assert_eq!(r.error_code(), "memory_limit");
    assert_eq!(
        host.get("/echo?op=alloc&mib=8").status,
        200,
        "within the cap"
    );
    assert_eq!(host.get("/echo").status, 200);
}

#[test]
fn memory_an_instance_wrote_is_zero_for_the_next_one() {
    // Slots are reused and keep pages resident (reset by the host, some by
    // memset, the rest by decommit): every size below, within and past
    // what stays resident must come back zeroed to whoever runs next,
    // one after another (the same slot) and side by side (other slots).
    let host = probe();
    let nonzero = |r: support::Response| -> u64 {
        assert_eq!(r.status, 200, "{}", r.text());
        r.json()["nonzero"].as_u64().expect("a count")
    };
    for mib in [8, 40, 100, 40, 8, 100] {
        assert_eq!(
            nonzero(host.get(&format!("/echo?op=residue&mib={mib}"))),
            0,
            "a fresh instance saw bytes of the last one ({mib} MiB)"
        );
    }
    std::thread::scope(|s| {
        let runs: Vec<_> = (0..4)
            .map(|_| s.spawn(|| nonzero(host.get("/echo?op=residue&mib=70"))))
            .collect();
        for run in runs {
            assert_eq!(run.join().unwrap(), 0, "side by side");
        }
    });
}

#[test]
fn a_body_over_the_limit_gets_413() {
    let host = HostBuilder::new(probe_manifest())
        .arg("--max-body-bytes")
        .arg("1024")
        .start();
    let small = vec![7u8; 1000];
    let r = host.post("/echo?op=body", &[], &small);
    assert_eq!((r.status, r.json()["body_len"].as_u64()), (200, Some(1000)));

    let big = vec![7u8; 4096];
    let r = host.post("/echo?op=body", &[], &big);
    assert_eq!(r.status, 413, "declared length: {}", r.text());
    assert_eq!(r.error_code(), "body_too_large");

    let r = host.request_chunked("POST", "/echo?op=body", &[], &big, 512);
    assert_eq!(r.status, 413, "streamed body: {}", r.text());
    assert_eq!(host.get("/echo").status, 200);
}

#[test]
fn bad_configuration_fails_at_start_naming_file_and_field() {
    let dir = TempDir::new("manifest");
    let cases = [
        // (manifest body, expected fragments of the error)
        (
            "[[trigger.http]]\nroute = \"/a\"\ncomponent = \"nope\"\n[component.c]\nsource = \"PROBE\"\n",
            vec!["spin.toml", "[[trigger.http]] #1 `component`", "\"nope\""],
        ),
        (
            "[[trigger.http]]\nroute = \"a/...\"\ncomponent = \"c\"\n[component.c]\nsource = \"PROBE\"\n",
            vec!["spin.toml", "`route`", "must start with '/'"],
        ),
        (
            "[[trigger.http]]\nroute = \"/a\"\ncomponent = \"c\"\n[component.c]\nsource = \"missing.wasm\"\n",
            vec!["spin.toml", "[component.c] `source`", "missing.wasm", "does not exist"],
        ),
        (
            "[[trigger.http]]\nroute = \"/a\"\ncomponent = \"c\"\n[component.c]\nsource = \"PROBE\"\nkey_value_stores = [\"nope\"]\n",
            vec!["spin.toml", "[component.c] `key_value_stores`", "\"nope\""],
        ),
        (
            "[[trigger.http]]\nroute = \"/a/:x\"\ncomponent = \"c\"\n[[trigger.http]]\nroute = \"/a/:y\"\ncomponent = \"c\"\n[component.c]\nsource = \"PROBE\"\n",
            vec!["spin.toml", "duplicates"],
        ),
    ];
    for (body, expected) in cases {
        let manifest = manifest_with(&dir, body);
        let err = HostBuilder::new(&manifest).start_err();
        for fragment in expected {
            assert!(err.contains(fragment), "expected {fragment:?} in:\n{err}");
        }
    }
    let err = HostBuilder::new(dir.path().join("absent.toml")).start_err();
    assert!(err.contains("absent.toml"), "{err}");

    let rc = dir.path().join("runtime-config.toml");
    std::fs::write(&rc, "[key_value_store.default]\ntype = \"nope\"\n").unwrap();
    let err = HostBuilder::new(probe_manifest())
        .arg("--runtime-config-file")
        .arg(rc.display().to_string())
        .start_err();
    assert!(
        err.contains("runtime-config.toml")
            && err.contains("[key_value_store.default]")
            && err.contains("nope"),
        "{err}"
    );
}

#[test]
fn runtime_config_declares_extra_labels() {
    let dir = TempDir::new("rc");
    let rc = dir.path().join("runtime-config.toml");
    std::fs::write(&rc, "[key_value_store.extra]\ntype = \"memory\"\n").unwrap();
    let manifest = manifest_with(
        &dir,
        "[[trigger.http]]\nroute = \"/...\"\ncomponent = \"c\"\n[component.c]\nsource = \"PROBE\"\nkey_value_stores = [\"extra\"]\n",
    );
    let host = HostBuilder::new(&manifest)
        .arg("--runtime-config-file")
        .arg(rc.display().to_string())
        .start();
    assert_eq!(
        host.get("/?op=kv-set&label=extra&key=a&value=b").status,
        200
    );
    assert_eq!(
        host.get("/?op=kv-get&label=extra&key=a").json()["value"],
        "b"
    );
}

#[test]
fn healthz_and_metrics_are_served_ahead_of_app_routes() {
    let dir = TempDir::new("manifest");
    let manifest = manifest_with(&dir, "[[trigger.http]]\nroute = \"/...\"\ncomponent = \"c\"\n[component.c]\nsource = \"PROBE\"\n");
    let host = HostBuilder::new(&manifest).start();
    assert_eq!(host.get("/healthz").json()["status"], "ok");
    assert_eq!(host.get("/anything").status, 200);
    let metrics = host.get("/metrics");
    assert_eq!(metrics.status, 200);
    let text = metrics.text();
    assert!(
        text.contains(r#"edgeimg_http_requests_total{route="/...",status="200"} 1"#),
        "{text}"
    );
    assert!(
        text.contains("edgeimg_http_request_duration_seconds_bucket"),
        "{text}"
    );
    let r = host.post("/healthz", &[], b"");
    assert_eq!((r.status, r.header("allow")), (405, Some("GET, HEAD")));
}

#[test]
fn concurrent_requests_get_their_own_instances() {
    let host = probe();
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..16)
            .map(|i| {
                let host = &host;
                s.spawn(move || {
                    for j in 0..5 {
                        let key = format!("t{i}-{j}");
                        let r = host.get(&format!("/echo?op=kv-set&key={key}&value={i}"));
                        assert_eq!(r.status, 200, "{}", r.text());
                        assert_eq!(
                            host.get(&format!("/echo?op=kv-get&key={key}")).json()["value"],
                            i.to_string()
                        );
                    }
                })
            })
            .collect();
        for h in handles {
            h.join().unwrap();
        }
    });
}

#[test]
fn a_restart_serves_from_the_compiled_code_cache() {
    let data = TempDir::new("cache");
    let first = HostBuilder::new(probe_manifest())
        .data_dir(data.path())
        .start();
    assert!(first.logs().contains("compiled"), "{}", first.logs());
    drop(first);
    let second = HostBuilder::new(probe_manifest())
        .data_dir(data.path())
        .start();
    let r = second.get("/echo");
    let ready = second.started.elapsed();
    assert_eq!(r.status, 200);
    assert!(
        second
            .logs()
            .contains("loaded from the compiled-code cache"),
        "{}",
        second.logs()
    );
    eprintln!("restart with a warm cache: first response {ready:?} after spawn");
}

#[test]
fn sigterm_lets_in_flight_requests_finish() {
    let host = probe();
    std::thread::scope(|s| {
        let slow = s.spawn(|| host.get("/echo?op=sleep&ms=1500"));
        std::thread::sleep(Duration::from_millis(400));
        host.signal("TERM");
        let r = slow.join().unwrap();
        assert_eq!(r.status, 200, "in-flight request finished: {}", r.text());
    });
    let status = host.wait();
    assert!(status.success(), "clean exit: {status:?}");
}

#[test]
fn serves_h2c_with_prior_knowledge() {
    let Ok(version) = std::process::Command::new("curl").arg("--version").output() else {
        eprintln!("curl not installed: skipping the h2c check");
        return;
    };
    if !String::from_utf8_lossy(&version.stdout).contains("HTTP2") {
        eprintln!("curl without HTTP/2: skipping the h2c check");
        return;
    }
    let host = probe();
    let out = std::process::Command::new("curl")
        .args(["-s", "--http2-prior-knowledge", "-w", "\n%{http_version}"])
        .arg(host.url("/echo?op=hello"))
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout), "hello, world\n\n2");
}

#[test]
fn outbound_http_only_reaches_allowed_hosts() {
    let host = probe();
    let target = host.url("/healthz");
    let r = host.get(&format!("/echo?op=fetch&url={target}"));
    assert!(
        r.status == 502 && r.text().contains("HttpRequestDenied"),
        "no allowed_outbound_hosts: {}",
        r.text()
    );

    let dir = TempDir::new("manifest");
    let manifest = manifest_with(
        &dir,
        "[[trigger.http]]\nroute = \"/...\"\ncomponent = \"c\"\n[component.c]\nsource = \"PROBE\"\nallowed_outbound_hosts = [\"http://127.0.0.1:*\"]\n",
    );
    let allowed = HostBuilder::new(&manifest).start();
    let r = allowed.get(&format!("/?op=fetch&url={target}"));
    assert_eq!(
        (r.status, r.json()["status"].as_u64()),
        (200, Some(200)),
        "{}",
        r.text()
    );
    let r = allowed.get("/?op=fetch&url=http://localhost:1/");
    assert!(
        r.text().contains("HttpRequestDenied"),
        "localhost is not 127.0.0.1: {}",
        r.text()
    );
}

#[test]
fn a_component_importing_what_spin_lacks_is_rejected_at_load() {
    let dir = TempDir::new("imports");
    // Component text is accepted where a .wasm is expected (wasmtime's `wat`
    // feature); an empty instance import is enough to exercise the check.
    let wasm = dir.path().join("sqlite.wasm");
    std::fs::write(
        &wasm,
        r#"(component (import "fermyon:spin/sqlite@2.0.0" (instance)))"#,
    )
    .unwrap();
    let manifest = dir.path().join("spin.toml");
    std::fs::write(
        &manifest,
        "spin_manifest_version = 2\n[application]\nname = \"t\"\n[[trigger.http]]\nroute = \"/\"\ncomponent = \"c\"\n[component.c]\nsource = \"sqlite.wasm\"\n",
    )
    .unwrap();
    let err = HostBuilder::new(&manifest).start_err();
    assert!(
        err.contains("[component.c]")
            && err.contains("fermyon:spin/sqlite@2.0.0")
            && err.contains("Spin 4.x"),
        "{err}"
    );
}

#[test]
fn requests_beyond_the_instance_pool_get_503_busy() {
    let host = HostBuilder::new(probe_manifest())
        .arg("--max-instances")
        .arg("1")
        .start();
    std::thread::scope(|s| {
        let slow = s.spawn(|| host.get("/echo?op=sleep&ms=1500"));
        std::thread::sleep(Duration::from_millis(400));
        let r = host.get("/echo");
        assert_eq!(
            (r.status, r.error_code()),
            (503, "busy".to_string()),
            "{}",
            r.text()
        );
        assert_eq!(slow.join().unwrap().status, 200);
    });
    assert_eq!(host.get("/echo").status, 200, "the slot is free again");
}
