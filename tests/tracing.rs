//! OpenTelemetry traces (issue 28), received by a real OTLP/HTTP receiver
//! (`support/otlp_receiver.py`, decoding with opentelemetry-proto): a
//! request continues the client's W3C trace, with child spans for the
//! component's instantiation and execution and its store calls; edge-cache
//! hits and background jobs are spans too; an upload's replication is part
//! of the upload's trace, in the other region as well; and an unreachable
//! collector costs no request.

#[path = "support/regions.rs"]
mod regions;
#[path = "support/services.rs"]
mod services;
#[path = "support/mod.rs"]
mod support;

use std::time::{Duration, Instant};

use serde_json::Value;
use services::{free_port, OtlpReceiver};
use support::{app_manifest, corpus, HostBuilder};

const TRACE: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
const CLIENT_SPAN: &str = "00f067aa0ba902b7";

fn traced(otlp: &OtlpReceiver, service: &str) -> HostBuilder {
    HostBuilder::new(app_manifest())
        .env("OTEL_EXPORTER_OTLP_ENDPOINT", otlp.endpoint())
        .env("OTEL_SERVICE_NAME", service)
        .env("OTEL_BSP_SCHEDULE_DELAY", "100")
}

fn traceparent(trace: &str, span: &str) -> String {
    format!("00-{trace}-{span}-01")
}

/// Waits up to 20 s until `find` picks something from the spans received.
fn wait_for<T>(otlp: &OtlpReceiver, what: &str, mut find: impl FnMut(&[Value]) -> Option<T>) -> T {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let spans = otlp.spans();
        if let Some(found) = find(&spans) {
            return found;
        }
        assert!(
            Instant::now() < deadline,
            "no {what} after 20 s; spans received:\n{}",
            spans
                .iter()
                .map(Value::to_string)
                .collect::<Vec<_>>()
                .join("\n")
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The span `name` of trace `trace` that `service` made, and its child
/// span made by `child_service` (the peer that served it).
fn span_and_child(
    spans: &[Value],
    trace: &str,
    name: &str,
    service: &str,
    child_service: &str,
) -> Option<(Value, Value)> {
    let span = spans
        .iter()
        .find(|s| s["trace_id"] == trace && s["name"] == name && s["service"] == service)?;
    let child = spans
        .iter()
        .find(|s| s["service"] == child_service && s["parent_span_id"] == span["span_id"])?;
    Some((span.clone(), child.clone()))
}

fn attr<'a>(span: &'a Value, key: &str) -> &'a Value {
    &span["attributes"][key]
}

/// The spans of `trace` whose parent is `parent`, named `name`.
fn children<'a>(spans: &'a [Value], trace: &str, parent: &str, name: &str) -> Vec<&'a Value> {
    spans
        .iter()
        .filter(|s| s["trace_id"] == trace && s["parent_span_id"] == parent && s["name"] == name)
        .collect()
}

#[test]
fn a_request_continues_the_clients_trace_with_spans_for_the_component_and_its_store_calls() {
    let otlp = OtlpReceiver::start();
    let host = traced(&otlp, "edgeimg-eu").start();
    let photo = corpus("Aqua.jpg");
    let parent = traceparent(TRACE, CLIENT_SPAN);
    let r = host.post("/upload", &[("traceparent", parent.as_str())], &photo);
    assert_eq!(r.status, 201, "{}", r.text());
    let id = r.json()["id"].as_str().unwrap().to_string();

    let spans = wait_for(&otlp, "upload spans", |spans| {
        let request = children(spans, TRACE, CLIENT_SPAN, "POST /upload/...");
        let request = request.first()?;
        let id = request["span_id"].as_str()?;
        let execute = children(spans, TRACE, id, "execute");
        let execute = execute.first()?;
        let sets = children(spans, TRACE, execute["span_id"].as_str()?, "kv set");
        (!sets.is_empty()).then(|| spans.to_vec())
    });
    let request = children(&spans, TRACE, CLIENT_SPAN, "POST /upload/...")[0];
    assert_eq!(request["service"], "edgeimg-eu");
    assert_eq!(request["kind"], 2, "a server span");
    assert_eq!(attr(request, "http.response.status_code"), 201);
    assert_eq!(attr(request, "http.route"), "/upload/...");
    assert_eq!(attr(request, "edgeimg.component"), "upload");
    let request_id = request["span_id"].as_str().unwrap();
    assert_eq!(children(&spans, TRACE, request_id, "instantiate").len(), 1);
    let execute = children(&spans, TRACE, request_id, "execute")[0];
    let sets = children(
        &spans,
        TRACE,
        execute["span_id"].as_str().unwrap(),
        "kv set",
    );
    let keys: Vec<&str> = sets
        .iter()
        .filter_map(|s| attr(s, "edgeimg.kv.key").as_str())
        .collect();
    assert!(keys.contains(&format!("orig/{id}").as_str()), "{keys:?}");
    assert!(keys.contains(&format!("meta/{id}").as_str()), "{keys:?}");

    // A variant twice: the second answer comes from the edge cache, without
    // a component.
    let path = format!("/resize/width=100,format=webp/{id}");
    let mut spans_of = Vec::new();
    for (n, span) in ["00f067aa0ba902b8", "00f067aa0ba902b9"].iter().enumerate() {
        let tp = traceparent(TRACE, span);
        let r = host.request("GET", &path, &[("traceparent", tp.as_str())], b"");
        assert_eq!(r.status, 200, "request {n}: {}", r.text());
        spans_of.push(*span);
    }
    let (miss, hit) = wait_for(&otlp, "resize spans", |spans| {
        let miss = children(spans, TRACE, spans_of[0], "GET /resize/...")
            .first()
            .copied()?
            .clone();
        let hit = children(spans, TRACE, spans_of[1], "GET /resize/...")
            .first()
            .copied()?
            .clone();
        Some((miss, hit))
    });
    assert_eq!(attr(&miss, "edgeimg.edge_cache"), "miss");
    assert_eq!(attr(&hit, "edgeimg.edge_cache"), "hit");
    let spans = otlp.spans();
    let hit_id = hit["span_id"].as_str().unwrap();
    assert!(
        children(&spans, TRACE, hit_id, "execute").is_empty(),
        "a hit runs no component"
    );
}

#[test]
fn a_background_job_is_a_trace_of_its_own() {
    let otlp = OtlpReceiver::start();
    let host = traced(&otlp, "edgeimg-eu")
        .env("EDGEIMG_EAGER", "on")
        .start();
    let id = host.upload(&corpus("Aqua.jpg"));
    let job = wait_for(&otlp, "a background job span", |spans| {
        spans
            .iter()
            .find(|s| {
                s["name"] == "background job"
                    && attr(s, "url.path")
                        .as_str()
                        .is_some_and(|p| p.ends_with(&id))
                    && attr(s, "http.response.status_code") == 200
            })
            .cloned()
    });
    assert_eq!(job["parent_span_id"], "", "a root span");
    let trace = job["trace_id"].as_str().unwrap().to_string();
    let id_of_job = job["span_id"].as_str().unwrap().to_string();
    wait_for(&otlp, "the job's component call", |spans| {
        children(spans, &trace, &id_of_job, "execute")
            .first()
            .map(|_| ())
    });
}

#[test]
fn an_unreachable_collector_costs_no_request() {
    // Nothing listens there: every export fails.
    let dead = format!("http://127.0.0.1:{}", free_port());
    let host = HostBuilder::new(app_manifest())
        .env("OTEL_EXPORTER_OTLP_ENDPOINT", dead)
        .env("OTEL_BSP_SCHEDULE_DELAY", "50")
        .start();
    let id = host.upload(&corpus("Aqua.jpg"));
    let started = Instant::now();
    for width in 100..140 {
        let r = host.get(&format!("/resize/width={width},format=webp/{id}"));
        assert_eq!(r.status, 200, "{}", r.text());
    }
    let healthz = Instant::now();
    assert_eq!(host.get("/healthz").status, 200);
    assert!(
        healthz.elapsed() < Duration::from_millis(500),
        "/healthz answered in {:?}",
        healthz.elapsed()
    );
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "40 variants took {:?}",
        started.elapsed()
    );
}

#[test]
fn an_uploads_replication_and_a_pull_through_join_the_requests_traces_across_regions() {
    let otlp = OtlpReceiver::start();
    // eu and us replicate to each other; ap asks eu, which never delivers to it.
    let deployment = regions::topology(&[("eu", &["us"]), ("us", &["eu"]), ("ap", &["eu"])], "");
    let hosts: Vec<_> = deployment
        .iter()
        .map(|region| {
            region
                .builder()
                .env("OTEL_EXPORTER_OTLP_ENDPOINT", otlp.endpoint())
                .env("OTEL_SERVICE_NAME", format!("edgeimg-{}", region.name))
                .env("OTEL_BSP_SCHEDULE_DELAY", "100")
                .start()
        })
        .collect();
    let (eu, ap) = (&hosts[0], &hosts[2]);

    let parent = traceparent(TRACE, CLIENT_SPAN);
    let r = eu.post(
        "/upload",
        &[("traceparent", parent.as_str())],
        &corpus("Aqua.jpg"),
    );
    assert_eq!(r.status, 201, "{}", r.text());
    let id = r.json()["id"].as_str().unwrap().to_string();
    let (deliver, received) = wait_for(&otlp, "the upload's delivery to us", |spans| {
        span_and_child(
            spans,
            TRACE,
            "replication deliver",
            "edgeimg-eu",
            "edgeimg-us",
        )
    });
    assert_eq!(attr(&deliver, "edgeimg.peer"), "us");
    assert_eq!(received["trace_id"], TRACE, "one trace across regions");
    assert_eq!(received["kind"], 2, "us serves the delivery");
    assert_eq!(attr(&received, "http.route"), "/.well-known/edgeimg/");

    // ap has not got it: its fetch pulls from eu, within the fetch's trace.
    let pull_trace = "0af7651916cd43dd8448eb211c80319c";
    let parent = traceparent(pull_trace, "b7ad6b7169203331");
    let r = ap.request(
        "GET",
        &format!("/images/{id}"),
        &[("traceparent", parent.as_str())],
        b"",
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let (pull, answered) = wait_for(&otlp, "ap's pull from eu", |spans| {
        span_and_child(
            spans,
            pull_trace,
            "replication pull",
            "edgeimg-ap",
            "edgeimg-eu",
        )
    });
    assert_eq!(attr(&pull, "edgeimg.peer"), "eu");
    assert_eq!(answered["trace_id"], pull_trace);
}
