//! The request path: host endpoints, routing, Spin headers, body limit, the
//! edge cache, the component call and mapping failures to JSON errors. Runs
//! per request.

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::atomic::Ordering;
use std::time::Instant;

use bytes::Bytes;
use http::{header, HeaderMap, HeaderValue, Method, Request, Response, StatusCode, Uri};
use http_body_util::{BodyExt, Empty};
use hyper::body::{Body as HttpBody, Incoming};
use tracing::Instrument;

use super::body_limit::LimitedBody;
use super::edge_cache::Lookup;
use super::errors::{full_body, json_response, text_response, Body, HostError};
use super::request_key::{request_key, Purpose};
use super::spin_headers::{self, SpinRequestInfo};
use crate::app::App;
use crate::background::queue::{Job, Priority};
use crate::background::{DEFER, DEFER_OK};
use crate::replication::wire;
use crate::telemetry::{self, SPANS};
use crate::wasm::instance::{self, Failure};
use crate::wasm::pool::{Rejected, Slot};

/// Where a request's guest runs.
pub enum Admission {
    /// A client's request: waits in line for a slot.
    Interactive,
    /// A background job, with the slot it was given.
    Background(Slot),
}

/// The client address background jobs are made from.
const JOB_CLIENT: SocketAddr = SocketAddr::new(std::net::IpAddr::V4(Ipv4Addr::LOCALHOST), 0);

impl App {
    /// Answers one request; never fails (errors become JSON responses).
    pub async fn handle(&self, req: Request<Incoming>, client: SocketAddr) -> Response<Body> {
        let span = tracing::trace_span!(
            target: SPANS,
            "request",
            otel.name = tracing::field::Empty,
            otel.kind = "server",
            http.request.method = %req.method(),
            url.path = req.uri().path(),
            http.route = tracing::field::Empty,
            http.response.status_code = tracing::field::Empty,
            edgeimg.region = %self.region,
            edgeimg.component = tracing::field::Empty,
            edgeimg.edge_cache = tracing::field::Empty,
            edgeimg.queued_ms = tracing::field::Empty,
        );
        if !span.is_disabled() {
            // Named before it starts: OpenTelemetry fixes a span's name then.
            let route = self.route_of(req.uri().path());
            span.record("otel.name", format!("{} {route}", req.method()));
            span.record("http.route", route);
            telemetry::continue_trace(&span, req.headers());
        }
        let response = self
            .answer(req, client, &span)
            .instrument(span.clone())
            .await;
        if !span.is_disabled() {
            span.record(
                "http.response.status_code",
                i64::from(response.status().as_u16()),
            );
            if let Some(cache) = response
                .headers()
                .get("x-cache")
                .and_then(|v| v.to_str().ok())
            {
                span.record("edgeimg.edge_cache", cache);
            }
        }
        response
    }

    /// The route a path is answered by, as `http_requests_total` labels it.
    fn route_of<'a>(&'a self, path: &str) -> &'a str {
        match path {
            "/healthz" => "/healthz",
            "/metrics" => "/metrics",
            path if path.starts_with(wire::PREFIX) => wire::PREFIX,
            path => self.router.route(path).map_or("none", |m| m.route.raw()),
        }
    }

    /// [`App::handle`] within its span.
    async fn answer(
        &self,
        req: Request<Incoming>,
        client: SocketAddr,
        span: &tracing::Span,
    ) -> Response<Body> {
        let started = Instant::now();
        let _in_flight = self.metrics.in_flight();
        let (route, response) = match req.uri().path() {
            "/healthz" => (
                "/healthz".to_string(),
                host_endpoint(&req, || json_response(StatusCode::OK, r#"{"status":"ok"}"#)),
            ),
            "/metrics" => (
                "/metrics".to_string(),
                host_endpoint(&req, || {
                    text_response(
                        StatusCode::OK,
                        "application/openmetrics-text; version=1.0.0; charset=utf-8",
                        self.metrics.encode(),
                    )
                }),
            ),
            path if path.starts_with(wire::PREFIX) => {
                (wire::PREFIX.to_string(), self.handle_peer(req).await)
            }
            _ => {
                self.handle_app(req, client, Admission::Interactive, span)
                    .await
            }
        };
        self.metrics
            .observe(&route, response.status().as_u16(), started.elapsed());
        response
    }

    /// Runs background `job` on `slot` as a GET through the application,
    /// within `span`; its status says what became of it.
    pub async fn run_job(&self, job: &Job, slot: Slot, span: &tracing::Span) -> StatusCode {
        let host = self
            .background
            .as_ref()
            .map_or_else(|| "localhost".to_string(), |b| b.client_host());
        let req = Request::get(job.path.as_str())
            .header(header::HOST, host)
            .header(header::ACCEPT, job.accept.as_str())
            .header(header::USER_AGENT, "edgeimg-background")
            .body(Empty::<Bytes>::new().map_err(
                |never: std::convert::Infallible| -> wasmtime_wasi_http::Error { match never {} },
            ));
        let req = match req {
            Ok(req) => req,
            Err(_) => return StatusCode::BAD_REQUEST,
        };
        let (_, response) = self
            .handle_app(req, JOB_CLIENT, Admission::Background(slot), span)
            .await;
        let status = response.status();
        // Reading the body to its end lets the guest finish writing it.
        if let Err(e) = response.into_body().collect().await {
            tracing::warn!(path = %job.path, error = ?e, "background job: the response body failed");
            return StatusCode::BAD_GATEWAY;
        }
        status
    }

    async fn handle_app<B>(
        &self,
        mut req: Request<B>,
        client: SocketAddr,
        admission: Admission,
        span: &tracing::Span,
    ) -> (String, Response<Body>)
    where
        B: HttpBody<Data = Bytes> + Send + Unpin + 'static,
        B::Error: Into<wasmtime_wasi_http::Error>,
    {
        let path = req.uri().path().to_string();
        let Some(m) = self.router.route(&path) else {
            return (
                "none".to_string(),
                HostError::not_found(&path).into_response(),
            );
        };
        let route = m.route.raw().to_string();
        let component = m.target.clone();
        span.record("edgeimg.component", component.id.as_str());

        let host = req
            .uri()
            .authority()
            .map(|a| a.to_string())
            .or_else(|| {
                req.headers()
                    .get(header::HOST)
                    .and_then(|h| h.to_str().ok())
                    .map(str::to_string)
            })
            .unwrap_or_else(|| "localhost".to_string());
        let path_and_query = req
            .uri()
            .path_and_query()
            .map_or("/", |pq| pq.as_str())
            .to_string();
        let full_url = format!("http://{host}{path_and_query}");
        let declared = req
            .headers()
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        if declared.is_some_and(|len| len > self.max_body_bytes) {
            tracing::warn!(component = %component.id, %route, content_length = declared, limit = self.max_body_bytes, "413: request body over the limit");
            return (
                route,
                HostError::body_too_large(self.max_body_bytes).into_response(),
            );
        }
        // The edge cache first: a hit needs none of what the component would see.
        let method = req.method().clone();
        let if_none_match = req
            .headers()
            .get(header::IF_NONE_MATCH)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let key = request_key(&route, &full_url, &req, Purpose::EdgeCache);
        let fill = match self
            .edge_cache
            .lookup(&method, key, if_none_match.as_deref())
        {
            Lookup::Hit(response) => return (route, response),
            Lookup::Miss(fill) => fill,
        };
        match full_url.parse::<Uri>() {
            Ok(uri) => *req.uri_mut() = uri,
            Err(_) => {
                let e = HostError::new(
                    StatusCode::BAD_REQUEST,
                    "bad_request",
                    format!("invalid Host header {host:?}"),
                );
                return (route, e.into_response());
            }
        }
        let client = self.trusted_proxies.client(client, req.headers());
        spin_headers::apply(
            req.headers_mut(),
            &SpinRequestInfo {
                full_url: &full_url,
                route: m.route,
                path_info: &m.path_info,
                params: &m.params,
                client_addr: client,
            },
        );
        if !req.headers().contains_key(header::HOST) {
            if let Ok(value) = HeaderValue::from_str(&host) {
                req.headers_mut().insert(header::HOST, value);
            }
        }
        // Only the host offers deferring (a client cannot ask for it).
        req.headers_mut().remove(DEFER_OK);
        if let Some(background) = &self.background {
            if matches!(admission, Admission::Interactive) {
                background.note_client_host(&host);
            }
            req.headers_mut()
                .insert(DEFER_OK, HeaderValue::from_static("1"));
        }
        // What a client waits for comes before eager work.
        let deferred_priority = match admission {
            Admission::Interactive => Priority::Upgrade,
            Admission::Background(_) => Priority::EagerSlow,
        };

        let flight = self.collapse.key(&route, &full_url, &req);
        let (req, tripped) = {
            let (parts, body) = req.into_parts();
            let (body, tripped) = LimitedBody::new(body, self.max_body_bytes);
            (Request::from_parts(parts, body), tripped)
        };

        let (route_ref, component_ref, tripped_ref, method_ref, path_ref) =
            (&route, &component, &tripped, &method, path.as_str());
        let invoke = move || async move {
            if let Some(response) = self.edge_cache.recheck(fill.as_ref()) {
                return response;
            }
            let slot = match admission {
                Admission::Background(slot) => slot,
                Admission::Interactive => match self.pool.admit().await {
                    Ok(slot) => slot,
                    Err(why) => return self.busy(&component_ref.id, route_ref, why),
                },
            };
            let waited = slot.waited;
            span.record("edgeimg.queued_ms", waited.as_secs_f64() * 1e3);
            let started = Instant::now();
            self.collapse.invoked(route_ref);
            let result = instance::call(
                component_ref,
                self.limits,
                self.metrics.instantiate(),
                &self.pool,
                slot,
                req,
            )
            .await;
            tracing::info!(
                target: "edgeimg::access",
                component = %component_ref.id,
                %client,
                method = %method_ref,
                path = path_ref,
                status = result.as_ref().map_or(0, |r| r.status().as_u16()),
                queued_ms = waited.as_secs_f64() * 1e3,
                ms = started.elapsed().as_secs_f64() * 1e3,
                "component call"
            );
            if tripped_ref.load(Ordering::Relaxed) {
                tracing::warn!(component = %component_ref.id, route = %route_ref, limit = self.max_body_bytes, "413: streamed request body over the limit");
                return HostError::body_too_large(self.max_body_bytes).into_response();
            }
            match result {
                Ok(mut response) => {
                    self.take_deferred(response.headers_mut(), deferred_priority);
                    self.edge_cache
                        .after_invoke(method_ref, fill, response)
                        .await
                }
                Err(failure) => self.failure_response(&component_ref.id, route_ref, failure),
            }
        };
        let response = match flight {
            Some(key) => self.collapse.forward(key, invoke).await,
            None => invoke().await,
        };
        (route, response)
    }

    /// Queues the GETs a component deferred (`edgeimg-defer`) and removes
    /// the header, which is for the host only.
    fn take_deferred(&self, headers: &mut HeaderMap, priority: Priority) {
        let header::Entry::Occupied(entry) = headers.entry(DEFER) else {
            return;
        };
        let (_, paths) = entry.remove_entry_mult();
        let Some(background) = &self.background else {
            return;
        };
        for path in paths {
            match path.to_str() {
                Ok(path) => background.defer(path, priority),
                Err(_) => tracing::warn!("ignored a deferred path that is not text"),
            }
        }
    }

    /// `503 busy` with `Retry-After`: no execution slot within the queue's
    /// bounds.
    fn busy(&self, component: &str, route: &str, why: Rejected) -> Response<Body> {
        let waited = match why {
            Rejected::QueueFull => "the queue is full",
            Rejected::WaitedTooLong => "no slot freed in time",
        };
        tracing::warn!(component, route, reason = waited, "503: no execution slot");
        let mut response = HostError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "busy",
            format!("too many requests in flight ({waited}); retry shortly"),
        )
        .into_response();
        response.headers_mut().insert(
            header::RETRY_AFTER,
            HeaderValue::from(self.pool.retry_after_secs()),
        );
        response
    }

    /// The peer API of replication; 404 when this host does not replicate.
    async fn handle_peer(&self, req: Request<Incoming>) -> Response<Body> {
        let path = req.uri().path().to_string();
        let Some(replication) = &self.replication else {
            return HostError::not_found(&path).into_response();
        };
        let path_and_query = req
            .uri()
            .path_and_query()
            .map_or(path.clone(), |pq| pq.as_str().to_string());
        let (parts, body) = req.into_parts();
        let (body, tripped) = LimitedBody::new(body, self.max_body_bytes);
        let body = match body.collect().await {
            Ok(collected) => collected.to_bytes(),
            Err(_) if tripped.load(Ordering::Relaxed) => {
                return HostError::body_too_large(self.max_body_bytes).into_response()
            }
            Err(e) => {
                let message = format!("the request body could not be read: {e}");
                return HostError::new(StatusCode::BAD_REQUEST, "bad_body", message)
                    .into_response();
            }
        };
        let answer = replication
            .peer_api(&parts.method, &path_and_query, &parts.headers, body)
            .await;
        let mut response = Response::new(full_body(answer.body));
        *response.status_mut() = answer.status;
        for (name, value) in answer.headers {
            if let Ok(value) = HeaderValue::from_str(&value) {
                response.headers_mut().insert(name, value);
            }
        }
        response
    }

    fn failure_response(&self, component: &str, route: &str, failure: Failure) -> Response<Body> {
        let error = match failure {
            Failure::Timeout => {
                let ms = self.limits.timeout.as_millis();
                tracing::warn!(
                    component,
                    route,
                    timeout_ms = ms as u64,
                    "504: component exceeded its execution deadline"
                );
                HostError::new(
                    StatusCode::GATEWAY_TIMEOUT,
                    "timeout",
                    format!("the component did not answer within {ms} ms"),
                )
            }
            Failure::MemoryLimit => {
                let mib = self.limits.memory >> 20;
                tracing::warn!(
                    component,
                    route,
                    memory_limit_mib = mib,
                    "503: component exceeded its memory limit"
                );
                HostError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "memory_limit",
                    format!("the component exceeded its memory limit of {mib} MiB"),
                )
            }
            Failure::Busy => {
                tracing::warn!(component, route, "503: no free instance slot");
                HostError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "busy",
                    "too many requests in flight; retry shortly",
                )
            }
            Failure::Trap { cause, detail } => {
                tracing::error!(component, route, error = %detail, "500: component trapped");
                HostError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "trap",
                    format!("the component failed: {cause}"),
                )
            }
            Failure::NoResponse => {
                tracing::error!(
                    component,
                    route,
                    "500: component returned without a response"
                );
                HostError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "no_response",
                    "the component returned without a response",
                )
            }
            Failure::Guest(code) => {
                tracing::error!(component, route, error = ?code, "500: component answered with an error code");
                HostError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "component_error",
                    format!("the component failed: {code:?}"),
                )
            }
            Failure::Host(message) => {
                tracing::error!(component, route, error = %message, "500: cannot hand the request to the component");
                HostError::new(StatusCode::INTERNAL_SERVER_ERROR, "host_error", message)
            }
        };
        error.into_response()
    }
}

/// GET/HEAD only; anything else is 405 with `Allow`.
fn host_endpoint(req: &Request<Incoming>, ok: impl FnOnce() -> Response<Body>) -> Response<Body> {
    if req.method() == Method::GET || req.method() == Method::HEAD {
        return ok();
    }
    let mut response = HostError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        format!("{} is not allowed on {}", req.method(), req.uri().path()),
    )
    .into_response();
    response
        .headers_mut()
        .insert(header::ALLOW, HeaderValue::from_static("GET, HEAD"));
    response
}
