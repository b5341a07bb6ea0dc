//! The Grafana dashboard (`deploy/grafana/edgeimg.json`, issue 28) queries
//! only metrics a running host exports: every `edgeimg_*` name in its
//! PromQL is checked against a real host's `/metrics` (with replication and
//! the background queue on, so their metrics are registered), with the
//! suffixes Prometheus gives counters (`_total`) and histograms (`_bucket`,
//! `_sum`, `_count`).

#[path = "support/services.rs"]
mod services;
#[path = "support/mod.rs"]
mod support;

use std::collections::BTreeSet;

use serde_json::Value;
use services::free_port;
use support::{app_manifest, repo_path, HostBuilder, TempDir};

/// Every `expr` of every panel (rows included).
fn exprs(panels: &[Value], out: &mut Vec<String>) {
    for panel in panels {
        for target in panel["targets"].as_array().into_iter().flatten() {
            out.push(target["expr"].as_str().unwrap_or_default().to_string());
        }
        if let Some(inner) = panel["panels"].as_array() {
            exprs(inner, out);
        }
    }
}

/// The `edgeimg_*` metric names in a PromQL expression.
fn metric_names(expr: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut rest = expr;
    while let Some(at) = rest.find("edgeimg_") {
        let name: String = rest[at..]
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        rest = &rest[at + name.len()..];
        names.push(name);
    }
    names
}

/// The sample names `/metrics` can carry, from its `# TYPE` lines.
fn exported(metrics: &str) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    for line in metrics.lines() {
        let mut words = line.split_whitespace();
        if words.next() != Some("#") || words.next() != Some("TYPE") {
            continue;
        }
        let (Some(name), Some(kind)) = (words.next(), words.next()) else {
            continue;
        };
        match kind {
            "counter" => {
                names.insert(format!("{name}_total"));
            }
            "histogram" => {
                for suffix in ["_bucket", "_sum", "_count"] {
                    names.insert(format!("{name}{suffix}"));
                }
            }
            _ => {
                names.insert(name.to_string());
            }
        }
    }
    names
}

#[test]
fn every_metric_the_dashboard_queries_is_one_the_host_exports() {
    let text = std::fs::read_to_string(repo_path("deploy/grafana/edgeimg.json")).unwrap();
    let dashboard: Value = serde_json::from_str(&text).expect("the dashboard is JSON");
    let panels = dashboard["panels"].as_array().expect("panels");
    let graphs: Vec<&Value> = panels.iter().filter(|p| p["type"] != "row").collect();
    assert!(graphs.len() >= 15, "{} panels", graphs.len());
    for panel in &graphs {
        assert!(panel["title"].as_str().is_some_and(|t| !t.is_empty()));
        assert!(
            !panel["targets"].as_array().unwrap().is_empty(),
            "{}",
            panel["title"]
        );
    }
    let mut all = Vec::new();
    exprs(panels, &mut all);
    let queried: BTreeSet<String> = all.iter().flat_map(|e| metric_names(e)).collect();
    // What the issue asks a dashboard to show.
    for needed in [
        "edgeimg_http_requests_total",
        "edgeimg_http_request_duration_seconds_bucket",
        "edgeimg_edge_cache_hits_total",
        "edgeimg_exec_busy_slots",
        "edgeimg_exec_queue_depth",
        "edgeimg_exec_rejected_total",
        "edgeimg_background_jobs",
        "edgeimg_replication_backlog",
        "edgeimg_replication_lag_seconds",
        "edgeimg_replication_breaker_state",
        "edgeimg_kv_backend_errors_total",
    ] {
        assert!(queried.contains(needed), "the dashboard shows {needed}");
    }

    // A host with a peer (nobody listens there) and the background queue.
    let dir = TempDir::new("dashboard");
    let rc = dir.path().join("rc.toml");
    std::fs::write(
        &rc,
        format!(
            "[replication]\nkey = \"dashboard-test-key-0123456789abcdef\"\n\
             [[replication.peers]]\nregion = \"us\"\nurl = \"http://127.0.0.1:{}\"\n",
            free_port()
        ),
    )
    .unwrap();
    let host = HostBuilder::new(app_manifest())
        .args(["--region", "eu", "--runtime-config-file"])
        .arg(rc.to_string_lossy())
        .start();
    let metrics = host.get("/metrics").text();
    let exported = exported(&metrics);
    let missing: Vec<&String> = queried.difference(&exported).collect();
    assert!(
        missing.is_empty(),
        "the dashboard queries metrics the host does not export: {missing:?}\nexported: {exported:?}"
    );
}
