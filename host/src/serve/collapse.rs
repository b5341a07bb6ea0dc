//! Collapsed forwarding: concurrent identical GETs share one component
//! invocation.
//!
//! Requests are identical when they have the same route, full URL and
//! `Accept` class (which of `image/avif` and `image/webp` they accept, the
//! only part of `Accept` the components negotiate on). While one is being
//! answered, the others wait and get a copy of its response, so a burst of
//! requests for a new variant costs one transform. A response is shared only
//! if it allows it: no `Cache-Control: private` or `no-store`, no
//! `Set-Cookie`, no `Vary` beyond `Accept`, and a body up to
//! `max_shared_bytes`; otherwise the waiters are invoked on their own.
//! Requests carrying credentials, cookies, ranges or conditions are never
//! collapsed.
//!
//! ```toml
//! [collapsed_forwarding]
//! enabled = true                  # default: on for every GET route
//! max_shared_bytes = 33554432     # larger responses are not shared
//! [collapsed_forwarding.routes]
//! "/upload/..." = false           # per route (as written in spin.toml)
//! ```
//!
//! The leader runs in its caller's task; if its client goes away before the
//! response is ready, a waiter takes over as leader.

use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use futures::future::{BoxFuture, FutureExt, Shared};
use http::{header, HeaderMap, Method, Request, Response, StatusCode};
use http_body_util::combinators::UnsyncBoxBody;
use http_body_util::{BodyExt, Full};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::registry::Registry;
use tokio::sync::oneshot;

use super::request_key::{request_key, Purpose, RequestKey, VarySet};

/// Where collapsing applies: `[collapsed_forwarding]` of the runtime config.
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CollapseConfig {
    /// Default for every route.
    pub enabled: bool,
    /// Per-route overrides, by route as written in spin.toml.
    pub routes: HashMap<String, bool>,
    /// Larger responses are answered to their own request only.
    pub max_shared_bytes: u64,
}

impl Default for CollapseConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            routes: HashMap::new(),
            max_shared_bytes: 32 << 20,
        }
    }
}

impl CollapseConfig {
    fn enabled_for(&self, route: &str) -> bool {
        self.routes.get(route).copied().unwrap_or(self.enabled)
    }
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    route: String,
}

/// A response one invocation produced, as its waiters receive it.
struct SharedResponse {
    status: StatusCode,
    headers: HeaderMap,
    body: Bytes,
}

#[derive(Clone)]
enum Outcome {
    Shared(Arc<SharedResponse>),
    NotShared,
}

type Flight = Shared<BoxFuture<'static, Option<Outcome>>>;

/// Collapsed forwarding for one host.
pub struct Collapser {
    config: CollapseConfig,
    inflight: Mutex<HashMap<RequestKey, (u64, Flight)>>,
    next_id: AtomicU64,
    collapsed: Family<RouteLabels, Counter>,
    invocations: Family<RouteLabels, Counter>,
}

impl Collapser {
    pub fn new(config: CollapseConfig) -> Self {
        Self {
            config,
            inflight: Mutex::default(),
            next_id: AtomicU64::new(0),
            collapsed: Family::default(),
            invocations: Family::default(),
        }
    }

    /// Adds `edgeimg_http_collapsed_requests_total{route}` and
    /// `edgeimg_component_invocations_total{route}`.
    pub fn register(&self, registry: &mut Registry) {
        registry.register(
            "http_collapsed_requests",
            "Requests answered with the response of an identical request in flight",
            self.collapsed.clone(),
        );
        registry.register(
            "component_invocations",
            "Component invocations (one instance each), by route",
            self.invocations.clone(),
        );
    }

    /// Counts one component invocation for `route`.
    pub fn invoked(&self, route: &str) {
        self.invocations
            .get_or_create(&RouteLabels {
                route: route.to_string(),
            })
            .inc();
    }

    /// The flight a request belongs to, or `None` if it must be invoked on
    /// its own. `full_url` is the URL the component sees.
    pub fn key<B>(&self, route: &str, full_url: &str, req: &Request<B>) -> Option<RequestKey> {
        if req.method() != Method::GET || !self.config.enabled_for(route) {
            return None;
        }
        request_key(route, full_url, req, Purpose::Collapse)
    }

    /// Answers the request of `key` with `invoke`, unless an identical one
    /// is in flight: then with a copy of its response.
    pub async fn forward<E, F, Fut>(
        &self,
        key: RequestKey,
        invoke: F,
    ) -> Response<UnsyncBoxBody<Bytes, E>>
    where
        E: std::fmt::Debug + Send + 'static,
        F: FnOnce() -> Fut,
        Fut: Future<Output = Response<UnsyncBoxBody<Bytes, E>>>,
    {
        let mut invoke = Some(invoke);
        loop {
            let turn = {
                let mut inflight = self.inflight.lock().unwrap();
                match inflight.get(&key) {
                    Some((_, flight)) => Err(flight.clone()),
                    None => {
                        let (tx, rx) = oneshot::channel();
                        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
                        inflight.insert(key.clone(), (id, rx.map(Result::ok).boxed().shared()));
                        Ok(Leader {
                            collapser: self,
                            key: &key,
                            id,
                            tx: Some(tx),
                        })
                    }
                }
            };
            match turn {
                Ok(mut leader) => {
                    let invoke = invoke.take().expect("a caller leads at most once");
                    let (response, outcome) = self.share(invoke().await).await;
                    leader.land(outcome);
                    return response;
                }
                Err(flight) => match flight.await {
                    Some(Outcome::Shared(shared)) => {
                        self.collapsed
                            .get_or_create(&RouteLabels {
                                route: key.route.clone(),
                            })
                            .inc();
                        return shared.to_response();
                    }
                    Some(Outcome::NotShared) => {
                        let invoke = invoke.take().expect("a caller invokes at most once");
                        return invoke().await;
                    }
                    // The leader's client went away before it had a response.
                    None => continue,
                },
            }
        }
    }

    /// Buffers a shareable response; answers the leader either way.
    async fn share<E: std::fmt::Debug + Send + 'static>(
        &self,
        response: Response<UnsyncBoxBody<Bytes, E>>,
    ) -> (Response<UnsyncBoxBody<Bytes, E>>, Outcome) {
        let max = self.config.max_shared_bytes;
        let declared = response
            .headers()
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        if !shareable(response.headers()) || declared.is_some_and(|len| len > max) {
            return (response, Outcome::NotShared);
        }
        let (parts, body) = response.into_parts();
        let body = match body.collect().await {
            Ok(collected) => collected.to_bytes(),
            Err(e) => {
                tracing::warn!(error = ?e, "response body failed while buffering it for collapsed requests");
                let mut failed = Response::new(full_body(Bytes::from_static(
                    br#"{"error":{"code":"body_error","message":"the component's response body failed"}}"#,
                )));
                *failed.status_mut() = StatusCode::BAD_GATEWAY;
                failed.headers_mut().insert(
                    header::CONTENT_TYPE,
                    header::HeaderValue::from_static("application/json"),
                );
                return (failed, Outcome::NotShared);
            }
        };
        let outcome = if body.len() as u64 <= max {
            Outcome::Shared(Arc::new(SharedResponse {
                status: parts.status,
                headers: parts.headers.clone(),
                body: body.clone(),
            }))
        } else {
            Outcome::NotShared
        };
        (Response::from_parts(parts, full_body(body)), outcome)
    }
}

/// Whether response headers allow giving the response to other requests.
fn shareable(headers: &HeaderMap) -> bool {
    let cache_control = headers
        .get_all(header::CACHE_CONTROL)
        .iter()
        .filter_map(|v| v.to_str().ok());
    let personal = cache_control
        .flat_map(|v| v.split(','))
        .map(|d| {
            d.split('=')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase()
        })
        .any(|d| d == "private" || d == "no-store");
    !personal && VarySet::of(headers).is_some() && !headers.contains_key(header::SET_COOKIE)
}

impl SharedResponse {
    fn to_response<E: Send + 'static>(&self) -> Response<UnsyncBoxBody<Bytes, E>> {
        let mut response = Response::new(full_body(self.body.clone()));
        *response.status_mut() = self.status;
        *response.headers_mut() = self.headers.clone();
        response
    }
}

fn full_body<E: Send + 'static>(bytes: Bytes) -> UnsyncBoxBody<Bytes, E> {
    Full::new(bytes)
        .map_err(|never| match never {})
        .boxed_unsync()
}

/// The caller whose invocation answers a flight. Dropping it unanswered
/// (the client went away) releases the waiters to try again.
struct Leader<'a> {
    collapser: &'a Collapser,
    key: &'a RequestKey,
    id: u64,
    tx: Option<oneshot::Sender<Outcome>>,
}

impl Leader<'_> {
    fn land(&mut self, outcome: Outcome) {
        self.remove();
        if let Some(tx) = self.tx.take() {
            let _ = tx.send(outcome);
        }
    }

    fn remove(&self) {
        let mut inflight = self.collapser.inflight.lock().unwrap();
        if inflight.get(self.key).is_some_and(|(id, _)| *id == self.id) {
            inflight.remove(self.key);
        }
    }
}

impl Drop for Leader<'_> {
    fn drop(&mut self) {
        self.remove();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::runtime_config::section;
    use std::convert::Infallible;
    use std::sync::atomic::AtomicUsize;
    use std::time::Duration;

    type Body = UnsyncBoxBody<Bytes, Infallible>;

    fn get(headers: &[(&str, &str)]) -> Request<()> {
        let mut req = Request::get("http://h/resize/w=10/abc");
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        req.body(()).unwrap()
    }

    fn response(headers: &[(&str, &str)], body: &'static str) -> Response<Body> {
        let mut r = Response::new(full_body(Bytes::from_static(body.as_bytes())));
        for (k, v) in headers {
            r.headers_mut().insert(
                header::HeaderName::from_bytes(k.as_bytes()).unwrap(),
                v.parse().unwrap(),
            );
        }
        r
    }

    async fn burst(
        collapser: Arc<Collapser>,
        n: usize,
        headers: &'static [(&'static str, &'static str)],
    ) -> (usize, Vec<Bytes>) {
        let calls = Arc::new(AtomicUsize::new(0));
        let tasks: Vec<_> = (0..n)
            .map(|_| {
                let (collapser, calls) = (collapser.clone(), calls.clone());
                tokio::spawn(async move {
                    let key = collapser
                        .key("/resize/...", "http://h/resize/w=10/abc", &get(&[]))
                        .unwrap();
                    let response = collapser
                        .forward(key, || async {
                            calls.fetch_add(1, Ordering::SeqCst);
                            tokio::time::sleep(Duration::from_millis(200)).await;
                            response(headers, "variant")
                        })
                        .await;
                    response.into_body().collect().await.unwrap().to_bytes()
                })
            })
            .collect();
        let mut bodies = Vec::new();
        for t in tasks {
            bodies.push(t.await.unwrap());
        }
        (calls.load(Ordering::SeqCst), bodies)
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_burst_of_identical_gets_costs_one_invocation() {
        let collapser = Arc::new(Collapser::new(CollapseConfig::default()));
        let (calls, bodies) = burst(
            collapser.clone(),
            100,
            &[("cache-control", "public, max-age=60")],
        )
        .await;
        assert_eq!(calls, 1);
        assert!(bodies.iter().all(|b| b == "variant"));
        assert_eq!(
            collapser
                .collapsed
                .get_or_create(&RouteLabels {
                    route: "/resize/...".into()
                })
                .get(),
            99
        );
        assert!(collapser.inflight.lock().unwrap().is_empty());
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn private_and_no_store_responses_are_never_shared() {
        for cc in [
            &[("cache-control", "private, max-age=60")][..],
            &[("cache-control", "no-store")][..],
            &[("set-cookie", "a=b")][..],
            &[("vary", "Cookie")][..],
        ] {
            let cc: &'static [(&'static str, &'static str)] =
                Box::leak(cc.to_vec().into_boxed_slice());
            let collapser = Arc::new(Collapser::new(CollapseConfig::default()));
            let (calls, bodies) = burst(collapser, 10, cc).await;
            assert_eq!(calls, 10, "{cc:?}");
            assert!(bodies.iter().all(|b| b == "variant"));
        }
    }

    #[tokio::test]
    async fn a_waiter_takes_over_when_the_leader_goes_away() {
        let collapser = Arc::new(Collapser::new(CollapseConfig::default()));
        let key = collapser.key("/r", "u", &get(&[])).unwrap();
        let (c, k) = (collapser.clone(), key.clone());
        let leader = tokio::spawn(async move {
            c.forward(k, || async {
                tokio::time::sleep(Duration::from_secs(10)).await;
                response(&[], "never")
            })
            .await
        });
        tokio::time::sleep(Duration::from_millis(20)).await;
        let c = collapser.clone();
        let waiter = tokio::spawn(async move {
            c.forward(key, || async { response(&[], "taken over") })
                .await
        });
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert!(
            !waiter.is_finished(),
            "the waiter joined the leader's flight"
        );
        leader.abort();
        let body = waiter
            .await
            .unwrap()
            .into_body()
            .collect()
            .await
            .unwrap()
            .to_bytes();
        assert_eq!(body, "taken over");
        assert!(collapser.inflight.lock().unwrap().is_empty());
    }

    #[test]
    fn only_plain_gets_of_enabled_routes_collapse() {
        let mut config = CollapseConfig::default();
        config.routes.insert("/upload/...".into(), false);
        let c = Collapser::new(config);
        assert!(c.key("/resize/...", "u", &get(&[])).is_some());
        assert!(c.key("/upload/...", "u", &get(&[])).is_none());
        let head = Request::head("http://h/x").body(()).unwrap();
        assert!(c.key("/resize/...", "u", &head).is_none());
        for h in ["authorization", "cookie", "range", "if-none-match"] {
            assert!(
                c.key("/resize/...", "u", &get(&[(h, "x")])).is_none(),
                "{h}"
            );
        }
    }

    #[test]
    fn accept_classes_follow_negotiation() {
        let c = Collapser::new(CollapseConfig::default());
        let key = |accept: &str| c.key("/r", "u", &get(&[("accept", accept)])).unwrap();
        let chrome = key("image/avif,image/webp,image/apng,image/*,*/*;q=0.8");
        assert_eq!(chrome, key("image/webp,image/avif"));
        assert_ne!(chrome, key("image/webp,*/*"));
        assert_eq!(key("image/png,image/*;q=0.8"), key("*/*"));
        assert_eq!(key("image/webp;q=0,*/*"), key("*/*"));
    }

    #[test]
    fn reads_its_runtime_config_section() {
        let raw: toml::Table = toml::from_str(
            "[collapsed_forwarding]\nenabled = false\nmax_shared_bytes = 10\n[collapsed_forwarding.routes]\n\"/resize/...\" = true\n",
        )
        .unwrap();
        let config: CollapseConfig = section(&raw, "collapsed_forwarding").unwrap();
        assert!(!config.enabled_for("/images/..."));
        assert!(config.enabled_for("/resize/..."));
        assert_eq!(config.max_shared_bytes, 10);
        let bad: toml::Table = toml::from_str("[collapsed_forwarding]\nenable = true\n").unwrap();
        assert!(section::<CollapseConfig>(&bad, "collapsed_forwarding").is_err());
    }
}
