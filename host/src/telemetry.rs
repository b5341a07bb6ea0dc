//! Logs and OpenTelemetry traces.
//!
//! Logs go to stderr (`EDGEIMG_LOG` filters them). Traces are exported over
//! OTLP/HTTP (protobuf) when `OTEL_EXPORTER_OTLP_ENDPOINT` or
//! `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` is set, configured the way Spin and
//! every OpenTelemetry SDK are: `OTEL_SERVICE_NAME` (default `edgeimg`),
//! `OTEL_RESOURCE_ATTRIBUTES`, `OTEL_TRACES_SAMPLER` and
//! `OTEL_TRACES_SAMPLER_ARG` (default: parent-based, always on),
//! `OTEL_EXPORTER_OTLP_HEADERS`, `OTEL_BSP_SCHEDULE_DELAY`, ...
//!
//! Spans are created at `TRACE` level under [`SPANS`], which only the
//! OpenTelemetry layer enables: with no endpoint configured there is no such
//! layer, every span callsite is disabled and costs a cached check. Spans
//! are exported by a batch processor on a thread of its own through a
//! bounded queue: an unreachable or slow collector drops spans, it never
//! slows or fails a request.

use std::io::IsTerminal;

use opentelemetry::propagation::{Extractor, Injector, TextMapPropagator};
use opentelemetry::trace::{TraceContextExt, TracerProvider};
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::SdkTracerProvider;
use opentelemetry_sdk::Resource;
use tracing_opentelemetry::OpenTelemetrySpanExt;
use tracing_subscriber::filter::{EnvFilter, Targets};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::Layer;

/// The target of every span edgeimg exports (`tracing::trace_span!(target: SPANS, ...)`).
pub const SPANS: &str = "edgeimg::span";

/// Whether an OTLP endpoint is configured.
fn configured() -> bool {
    [
        "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
        "OTEL_EXPORTER_OTLP_ENDPOINT",
    ]
    .iter()
    .any(|name| std::env::var(name).is_ok_and(|v| !v.trim().is_empty()))
}

/// Keeps the trace exporter alive; dropping it flushes what is queued.
pub struct Telemetry {
    provider: Option<SdkTracerProvider>,
}

impl Drop for Telemetry {
    fn drop(&mut self) {
        if let Some(provider) = self.provider.take() {
            if let Err(e) = provider.shutdown() {
                eprintln!("edgeimg: flushing traces failed: {e}");
            }
        }
    }
}

/// Installs the global subscriber: logs to stderr, and traces when
/// configured. Call once, before anything logs.
pub fn init() -> Telemetry {
    let logs = tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .with_filter(
            EnvFilter::try_from_env("EDGEIMG_LOG").unwrap_or_else(|_| EnvFilter::new("info")),
        );
    let provider = configured().then(provider).and_then(|built| match built {
        Ok(provider) => Some(provider),
        Err(e) => {
            eprintln!("edgeimg: traces are off: {e}");
            None
        }
    });
    let traces = provider.as_ref().map(|provider| {
        tracing_opentelemetry::layer()
            .with_tracer(provider.tracer("edgeimg"))
            .with_level(false)
            .with_threads(false)
            .with_location(false)
            .with_filter(Targets::new().with_target(SPANS, tracing::Level::TRACE))
    });
    tracing_subscriber::registry()
        .with(logs)
        .with(traces)
        .init();
    if let Some(provider) = &provider {
        opentelemetry::global::set_tracer_provider(provider.clone());
        tracing::info!("exporting traces over OTLP/HTTP");
    }
    Telemetry { provider }
}

/// The tracer provider: an OTLP/HTTP exporter behind a batch processor,
/// sampler and resource from the standard environment variables.
fn provider() -> anyhow::Result<SdkTracerProvider> {
    use opentelemetry_otlp::WithExportConfig;
    // The exporter's HTTPS client uses rustls with the process's provider.
    crate::kv::opendal::install_tls();
    let exporter = opentelemetry_otlp::SpanExporter::builder()
        .with_http()
        .with_protocol(opentelemetry_otlp::Protocol::HttpBinary)
        .with_timeout(std::time::Duration::from_secs(5))
        .build()?;
    let service = std::env::var("OTEL_SERVICE_NAME").unwrap_or_else(|_| "edgeimg".into());
    Ok(SdkTracerProvider::builder()
        .with_batch_exporter(exporter)
        .with_resource(Resource::builder().with_service_name(service).build())
        .build())
}

/// Reads a W3C `traceparent`/`tracestate` from request headers.
struct HeaderReader<'a>(&'a http::HeaderMap);

impl Extractor for HeaderReader<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).and_then(|v| v.to_str().ok())
    }

    fn keys(&self) -> Vec<&str> {
        self.0.keys().map(http::HeaderName::as_str).collect()
    }
}

/// Writes a W3C `traceparent`/`tracestate` into request headers.
struct HeaderWriter<'a>(&'a mut http::HeaderMap);

impl Injector for HeaderWriter<'_> {
    fn set(&mut self, key: &str, value: String) {
        if let (Ok(name), Ok(value)) = (
            http::HeaderName::from_bytes(key.as_bytes()),
            http::HeaderValue::from_str(&value),
        ) {
            self.0.insert(name, value);
        }
    }
}

/// Makes `span` a child of the trace a client's `traceparent` names, if any.
pub fn continue_trace(span: &tracing::Span, headers: &http::HeaderMap) {
    if span.is_disabled() || !headers.contains_key("traceparent") {
        return;
    }
    let parent = TraceContextPropagator::new().extract(&HeaderReader(headers));
    let _ = span.set_parent(parent);
}

/// Adds the `traceparent` of `span` to outgoing request headers (to peers
/// and siblings), so their spans join this trace.
pub fn propagate(span: &tracing::Span, headers: &mut http::HeaderMap) {
    if span.is_disabled() {
        return;
    }
    TraceContextPropagator::new().inject_context(&span.context(), &mut HeaderWriter(headers));
}

/// The W3C `traceparent` of the current span, to keep beside work that
/// continues later (a logged change is delivered after its request ended);
/// `None` when traces are off.
pub fn current_traceparent() -> Option<String> {
    let span = tracing::Span::current();
    if span.is_disabled() {
        return None;
    }
    let mut headers = http::HeaderMap::new();
    propagate(&span, &mut headers);
    headers
        .get("traceparent")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

/// Makes `span` a child of the span a kept `traceparent` names, and links it
/// to the spans `others` name (work of several traces done at once).
pub fn continue_kept(span: &tracing::Span, parent: Option<&str>, others: &[&str]) {
    if span.is_disabled() {
        return;
    }
    let context_of = |traceparent: &str| {
        let mut headers = http::HeaderMap::new();
        let value = http::HeaderValue::from_str(traceparent).ok()?;
        headers.insert("traceparent", value);
        Some(TraceContextPropagator::new().extract(&HeaderReader(&headers)))
    };
    if let Some(parent) = parent.and_then(context_of) {
        let _ = span.set_parent(parent);
    }
    for other in others.iter().filter_map(|o| context_of(o)) {
        span.add_link(other.span().span_context().clone());
    }
}
