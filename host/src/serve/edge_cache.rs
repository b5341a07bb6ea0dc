//! The edge cache: whole HTTP responses kept in front of the components, so
//! a repeated GET of a variant or an original is answered without
//! instantiating anything (what a CDN edge does).
//!
//! Only responses that say they may be shared are kept: status 200,
//! `Cache-Control: public` with `s-maxage`/`max-age` (or `immutable`), no
//! `private`, `no-store` or `no-cache`, no `Set-Cookie`, `Vary` at most
//! `Accept`. An entry expires at its max-age. Requests are keyed as for
//! collapsed forwarding ([`super::request_key::request_key`]: route, full URL,
//! `Accept` class); those with credentials, cookies, ranges or conditions
//! bypass the cache. HEAD is answered from a GET's entry.
//!
//! Purge by tag (the `Cache-Tag` convention of CDNs): a component names the
//! tags of a cacheable response in `Cache-Tag: a b` (space- or
//! comma-separated); a response to a non-GET request that carries
//! `Cache-Purge-Tag: a` drops every entry tagged `a` before it goes out. Both
//! headers are removed from what clients get. A response produced while a
//! purge ran is not stored, so a delete never leaves a stale copy behind.
//!
//! ```toml
//! [edge_cache]
//! max_bytes = 268435456       # default 256 MiB; 0 disables the cache
//! max_entry_bytes = 33554432  # larger responses are not kept
//! ```

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::{header, HeaderMap, HeaderName, HeaderValue, Method, Response, StatusCode};
use http_body_util::combinators::UnsyncBoxBody;
use http_body_util::{BodyExt, Empty, Full};
use moka::sync::Cache;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;

use super::request_key::{RequestKey, VarySet};

/// Response header naming the tags of a cacheable response.
pub const CACHE_TAG: HeaderName = HeaderName::from_static("cache-tag");
/// Response header naming the tags to purge (on non-GET responses).
pub const CACHE_PURGE_TAG: HeaderName = HeaderName::from_static("cache-purge-tag");
const X_CACHE: HeaderName = HeaderName::from_static("x-cache");

/// The longest an entry is kept, whatever its max-age (also `immutable`'s).
const MAX_TTL: Duration = Duration::from_secs(365 * 24 * 3600);

/// Size limits of the edge cache: `[edge_cache]` of the runtime config.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EdgeCacheConfig {
    /// Bytes of response bodies and headers kept; 0 disables the cache.
    pub max_bytes: u64,
    /// Larger responses are passed through without being kept.
    pub max_entry_bytes: u64,
}

impl Default for EdgeCacheConfig {
    fn default() -> Self {
        Self {
            max_bytes: 256 << 20,
            max_entry_bytes: 32 << 20,
        }
    }
}

/// A kept response.
struct Entry {
    status: StatusCode,
    headers: HeaderMap,
    body: Bytes,
    tags: Box<[String]>,
    stored: Instant,
    ttl: Duration,
}

impl Entry {
    /// Body, headers and tags, plus a guess for the key and bookkeeping.
    fn weight(&self) -> u32 {
        let headers: usize = self
            .headers
            .iter()
            .map(|(n, v)| n.as_str().len() + v.len())
            .sum();
        let tags: usize = self.tags.iter().map(String::len).sum();
        let total = self.body.len() + headers + tags + 256;
        u32::try_from(total).unwrap_or(u32::MAX)
    }

    fn to_response<E: Send + 'static>(&self, head: bool) -> Response<UnsyncBoxBody<Bytes, E>> {
        let body = if head {
            empty_body()
        } else {
            full_body(self.body.clone())
        };
        let mut response = Response::new(body);
        *response.status_mut() = self.status;
        *response.headers_mut() = self.headers.clone();
        let headers = response.headers_mut();
        headers.insert(X_CACHE, HeaderValue::from_static("hit"));
        headers.insert(
            header::AGE,
            HeaderValue::from(self.stored.elapsed().as_secs()),
        );
        response
    }
}

/// Headers a 304 repeats from the response it stands for (RFC 9110 15.4.5).
const NOT_MODIFIED_HEADERS: [HeaderName; 5] = [
    header::CACHE_CONTROL,
    header::CONTENT_LOCATION,
    header::ETAG,
    header::EXPIRES,
    header::VARY,
];

impl Entry {
    /// Whether `If-None-Match` names this entry's ETag (weak comparison).
    fn etag_matches(&self, if_none_match: &str) -> bool {
        let Some(etag) = self.headers.get(header::ETAG).and_then(|v| v.to_str().ok()) else {
            return false;
        };
        let bare = |t: &str| t.trim().trim_start_matches("W/").to_string();
        if_none_match.trim() == "*" || if_none_match.split(',').any(|t| bare(t) == bare(etag))
    }

    fn not_modified<E: Send + 'static>(&self) -> Response<UnsyncBoxBody<Bytes, E>> {
        let mut response = Response::new(empty_body());
        *response.status_mut() = StatusCode::NOT_MODIFIED;
        let headers = response.headers_mut();
        for name in NOT_MODIFIED_HEADERS {
            for value in self.headers.get_all(&name) {
                headers.append(name.clone(), value.clone());
            }
        }
        headers.insert(X_CACHE, HeaderValue::from_static("hit"));
        headers.insert(
            header::AGE,
            HeaderValue::from(self.stored.elapsed().as_secs()),
        );
        response
    }
}

struct ExpireAtMaxAge;

impl moka::Expiry<RequestKey, Arc<Entry>> for ExpireAtMaxAge {
    fn expire_after_create(
        &self,
        _: &RequestKey,
        entry: &Arc<Entry>,
        _: Instant,
    ) -> Option<Duration> {
        Some(entry.ttl)
    }

    fn expire_after_update(
        &self,
        _: &RequestKey,
        entry: &Arc<Entry>,
        _: Instant,
        _: Option<Duration>,
    ) -> Option<Duration> {
        Some(entry.ttl)
    }
}

/// What to do with a request.
pub enum Lookup<E> {
    /// Answered from the cache.
    Hit(Response<UnsyncBoxBody<Bytes, E>>),
    /// Invoke the component; with a [`Fill`], keep its response if it may be shared.
    Miss(Option<Fill>),
}

/// Permission to store the response of one invocation, taken before it
/// starts so that a purge meanwhile can veto the store.
pub struct Fill {
    key: RequestKey,
    generation: u64,
}

/// The host's edge cache.
pub struct EdgeCache {
    config: EdgeCacheConfig,
    /// `None` when disabled. Keys are projected on what the resource's
    /// responses vary on ([`RequestKey::project`]).
    cache: Option<Cache<RequestKey, Arc<Entry>>>,
    /// Per resource (route and URL): every header its stored responses
    /// named in `Vary`, so lookups key on all of them.
    varies: Cache<(String, String), VarySet>,
    /// Purges hold it for writing, stores for reading: a store sees either the
    /// purge's generation bump (and skips) or lands before the purge's predicate.
    purge_gate: RwLock<()>,
    generation: AtomicU64,
    hits: Counter,
    misses: Counter,
    purges: Counter,
    stored_bytes: Gauge,
}

impl EdgeCache {
    pub fn new(config: EdgeCacheConfig) -> Self {
        let cache = (config.max_bytes > 0).then(|| {
            Cache::builder()
                .max_capacity(config.max_bytes)
                .weigher(|_: &RequestKey, entry: &Arc<Entry>| entry.weight())
                .expire_after(ExpireAtMaxAge)
                .support_invalidation_closures()
                .build()
        });
        Self {
            config,
            cache,
            varies: Cache::new(100_000),
            purge_gate: RwLock::new(()),
            generation: AtomicU64::new(0),
            hits: Counter::default(),
            misses: Counter::default(),
            purges: Counter::default(),
            stored_bytes: Gauge::default(),
        }
    }

    /// Adds `edgeimg_edge_cache_{hits,misses,purges}_total` and
    /// `edgeimg_edge_cache_stored_bytes`.
    pub fn register(&self, registry: &mut Registry) {
        registry.register(
            "edge_cache_hits",
            "Requests answered from the edge cache",
            self.hits.clone(),
        );
        registry.register(
            "edge_cache_misses",
            "Cacheable GET/HEAD requests the edge cache could not answer",
            self.misses.clone(),
        );
        registry.register(
            "edge_cache_purges",
            "Tags purged from the edge cache",
            self.purges.clone(),
        );
        registry.register(
            "edge_cache_stored_bytes",
            "Bytes held by the edge cache (approximate)",
            self.stored_bytes.clone(),
        );
    }

    /// Looks `key` up for a GET or HEAD; `key` is `None` for requests that
    /// must reach the component (see [`super::request_key::request_key`]).
    /// An entry whose ETag the request's `If-None-Match` names answers 304.
    pub fn lookup<E: Send + 'static>(
        &self,
        method: &Method,
        key: Option<RequestKey>,
        if_none_match: Option<&str>,
    ) -> Lookup<E> {
        let (Some(cache), Some(key)) = (&self.cache, key) else {
            return Lookup::Miss(None);
        };
        let head = *method == Method::HEAD;
        if !head && *method != Method::GET {
            return Lookup::Miss(None);
        }
        if let Some(entry) = cache.get(&self.stored_key(&key)) {
            self.hits.inc();
            if if_none_match.is_some_and(|inm| entry.etag_matches(inm)) {
                return Lookup::Hit(entry.not_modified());
            }
            return Lookup::Hit(entry.to_response(head));
        }
        self.misses.inc();
        // A HEAD response has no body to keep.
        Lookup::Miss((!head).then(|| Fill {
            key,
            generation: self.generation.load(Ordering::Acquire),
        }))
    }

    /// `key` as entries of its resource are stored.
    fn stored_key(&self, key: &RequestKey) -> RequestKey {
        key.project(self.varies.get(&key.resource()).unwrap_or_default())
    }

    /// The entry a [`Fill`] is for, if an identical request stored it since
    /// the lookup (it finished between this request's lookup and its turn to
    /// invoke): answered from the cache rather than invoking again.
    pub fn recheck<E: Send + 'static>(
        &self,
        fill: Option<&Fill>,
    ) -> Option<Response<UnsyncBoxBody<Bytes, E>>> {
        let entry = self.cache.as_ref()?.get(&self.stored_key(&fill?.key))?;
        self.hits.inc();
        Some(entry.to_response(false))
    }

    /// Post-processes a component's response: takes its tags, runs the purge
    /// it asks for (non-GET/HEAD requests only), keeps it when `fill` allows
    /// and it may be shared.
    pub async fn after_invoke<E: std::fmt::Debug + Send + 'static>(
        &self,
        method: &Method,
        fill: Option<Fill>,
        mut response: Response<UnsyncBoxBody<Bytes, E>>,
    ) -> Response<UnsyncBoxBody<Bytes, E>> {
        let tags = take_tags(response.headers_mut(), &CACHE_TAG);
        let purge = take_tags(response.headers_mut(), &CACHE_PURGE_TAG);
        if !purge.is_empty() && *method != Method::GET && *method != Method::HEAD {
            self.purge(purge);
        }
        let (Some(fill), Some(cache)) = (fill, &self.cache) else {
            return response;
        };
        let Some(ttl) = ttl(response.status(), response.headers()) else {
            return response;
        };
        let Some(vary) = VarySet::of(response.headers()) else {
            return response;
        };
        let max = self.config.max_entry_bytes;
        let declared = response
            .headers()
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        if declared.is_some_and(|len| len > max) {
            return response;
        }
        let (parts, body) = response.into_parts();
        let body = match body.collect().await {
            Ok(collected) => collected.to_bytes(),
            Err(e) => {
                tracing::warn!(error = ?e, "response body failed while buffering it for the edge cache");
                return bad_gateway();
            }
        };
        if body.len() as u64 <= max {
            let mut headers = parts.headers.clone();
            headers.remove(header::TRANSFER_ENCODING);
            headers.insert(header::CONTENT_LENGTH, HeaderValue::from(body.len()));
            let entry = Entry {
                status: parts.status,
                headers,
                body: body.clone(),
                tags: tags.into_boxed_slice(),
                stored: Instant::now(),
                ttl,
            };
            let _gate = self.purge_gate.read().unwrap_or_else(|e| e.into_inner());
            if self.generation.load(Ordering::Acquire) == fill.generation {
                let resource = fill.key.resource();
                let vary = self.varies.get(&resource).unwrap_or_default().union(vary);
                self.varies.insert(resource, vary);
                cache.insert(fill.key.project(vary), Arc::new(entry));
                // Applies the insert (and any eviction it causes) to the size now;
                // a miss already paid for a component invocation.
                cache.run_pending_tasks();
                self.stored_bytes
                    .set(i64::try_from(cache.weighted_size()).unwrap_or(i64::MAX));
            }
        }
        Response::from_parts(parts, full_body(body))
    }

    /// Drops every entry tagged with one of `tags`, and vetoes the stores
    /// of responses produced meanwhile.
    pub fn purge(&self, tags: Vec<String>) {
        let Some(cache) = &self.cache else { return };
        let _gate = self.purge_gate.write().unwrap_or_else(|e| e.into_inner());
        self.generation.fetch_add(1, Ordering::AcqRel);
        self.purges.inc_by(tags.len() as u64);
        tracing::debug!(?tags, "edge cache purge");
        cache
            .invalidate_entries_if(move |_, entry| entry.tags.iter().any(|t| tags.contains(t)))
            .expect("the cache is built with invalidation closures");
        cache.run_pending_tasks();
        self.stored_bytes
            .set(i64::try_from(cache.weighted_size()).unwrap_or(i64::MAX));
    }
}

impl crate::replication::EdgePurge for EdgeCache {
    fn purge(&self, tags: Vec<String>) {
        EdgeCache::purge(self, tags);
    }
}

/// Removes header `name` and returns the tags it listed.
fn take_tags(headers: &mut HeaderMap, name: &HeaderName) -> Vec<String> {
    let header::Entry::Occupied(entry) = headers.entry(name) else {
        return Vec::new();
    };
    let (_, values) = entry.remove_entry_mult();
    values
        .filter_map(|v| v.to_str().ok().map(str::to_string))
        .flat_map(|v| {
            v.split([',', ' '])
                .filter(|t| !t.is_empty())
                .map(str::to_string)
                .collect::<Vec<_>>()
        })
        .collect()
}

/// How long a response may be kept, or `None` when it must not be shared.
fn ttl(status: StatusCode, headers: &HeaderMap) -> Option<Duration> {
    if status != StatusCode::OK
        || headers.contains_key(header::SET_COOKIE)
        || VarySet::of(headers).is_none()
    {
        return None;
    }
    let (mut public, mut immutable, mut max_age, mut s_maxage) = (false, false, None, None);
    for directive in headers
        .get_all(header::CACHE_CONTROL)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
    {
        let (name, value) = directive.split_once('=').unwrap_or((directive, ""));
        let seconds = || value.trim().trim_matches('"').parse::<u64>().ok();
        match name.trim().to_ascii_lowercase().as_str() {
            "private" | "no-store" | "no-cache" => return None,
            "public" => public = true,
            "immutable" => immutable = true,
            "max-age" => max_age = seconds(),
            "s-maxage" => s_maxage = seconds(),
            _ => {}
        }
    }
    let ttl = match s_maxage.or(max_age) {
        Some(0) => return None,
        Some(seconds) => Duration::from_secs(seconds).min(MAX_TTL),
        None if immutable => MAX_TTL,
        None => return None,
    };
    public.then_some(ttl)
}

fn full_body<E: Send + 'static>(bytes: Bytes) -> UnsyncBoxBody<Bytes, E> {
    Full::new(bytes)
        .map_err(|never| match never {})
        .boxed_unsync()
}

fn empty_body<E: Send + 'static>() -> UnsyncBoxBody<Bytes, E> {
    Empty::new().map_err(|never| match never {}).boxed_unsync()
}

fn bad_gateway<E: Send + 'static>() -> Response<UnsyncBoxBody<Bytes, E>> {
    let mut failed = Response::new(full_body(Bytes::from_static(
        br#"{"error":{"code":"body_error","message":"the component's response body failed"}}"#,
    )));
    *failed.status_mut() = StatusCode::BAD_GATEWAY;
    failed.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    failed
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::runtime_config::section;
    use crate::serve::request_key::{request_key, Purpose};
    use http::Request;
    use std::convert::Infallible;

    type Body = UnsyncBoxBody<Bytes, Infallible>;

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        pairs
            .iter()
            .map(|(k, v)| {
                (
                    HeaderName::from_bytes(k.as_bytes()).unwrap(),
                    v.parse().unwrap(),
                )
            })
            .collect()
    }

    fn response(pairs: &[(&str, &str)], body: &'static str) -> Response<Body> {
        let mut r = Response::new(full_body(Bytes::from_static(body.as_bytes())));
        *r.headers_mut() = headers(pairs);
        r
    }

    fn key(url: &str, req_headers: &[(&str, &str)]) -> Option<RequestKey> {
        let mut req = Request::get(url);
        for (k, v) in req_headers {
            req = req.header(*k, *v);
        }
        request_key(
            "/resize/...",
            url,
            &req.body(()).unwrap(),
            Purpose::EdgeCache,
        )
    }

    async fn body(r: Response<Body>) -> Bytes {
        r.into_body().collect().await.unwrap().to_bytes()
    }

    /// Requests `url` once through the cache, `made` standing for the
    /// component's response; the answer and whether it was a hit.
    async fn get(
        cache: &EdgeCache,
        method: Method,
        url: &str,
        made: Response<Body>,
    ) -> (Response<Body>, bool) {
        match cache.lookup(&method, key(url, &[]), None) {
            Lookup::Hit(r) => (r, true),
            Lookup::Miss(fill) => (cache.after_invoke(&method, fill, made).await, false),
        }
    }

    #[test]
    fn only_explicitly_shareable_responses_are_kept() {
        let year = Some(MAX_TTL);
        type Case<'a> = (&'a [(&'a str, &'a str)], Option<Duration>);
        let cases: &[Case] = &[
            (
                &[("cache-control", "public, max-age=31536000, immutable")],
                year,
            ),
            (
                &[("cache-control", "public, max-age=60")],
                Some(Duration::from_secs(60)),
            ),
            (
                &[("cache-control", "public, max-age=60, s-maxage=5")],
                Some(Duration::from_secs(5)),
            ),
            (&[("cache-control", "public, immutable")], year),
            (
                &[("cache-control", "public, max-age=60"), ("vary", "Accept")],
                Some(Duration::from_secs(60)),
            ),
            (&[], None),
            (&[("cache-control", "max-age=60")], None),
            (&[("cache-control", "public")], None),
            (&[("cache-control", "public, max-age=0")], None),
            (&[("cache-control", "public, max-age=60, private")], None),
            (&[("cache-control", "public, max-age=60, no-store")], None),
            (&[("cache-control", "no-cache, public, max-age=60")], None),
            (
                &[
                    ("cache-control", "public, max-age=60"),
                    ("set-cookie", "a=b"),
                ],
                None,
            ),
            (
                &[
                    ("cache-control", "public, max-age=60"),
                    ("vary", "Accept, Cookie"),
                ],
                None,
            ),
            (
                &[("cache-control", "public, max-age=60"), ("vary", "*")],
                None,
            ),
        ];
        for (pairs, expected) in cases {
            assert_eq!(ttl(StatusCode::OK, &headers(pairs)), *expected, "{pairs:?}");
        }
        let immutable = headers(&[("cache-control", "public, max-age=60")]);
        for status in [
            StatusCode::NOT_FOUND,
            StatusCode::PARTIAL_CONTENT,
            StatusCode::NOT_MODIFIED,
        ] {
            assert_eq!(ttl(status, &immutable), None, "{status}");
        }
    }

    #[test]
    fn credentials_ranges_and_conditions_bypass() {
        assert!(key("http://h/r", &[]).is_some());
        for h in ["authorization", "cookie", "range", "if-modified-since"] {
            assert!(key("http://h/r", &[(h, "x")]).is_none(), "{h}");
        }
    }

    #[tokio::test]
    async fn a_second_get_is_a_hit_with_age_and_tags_are_stripped() {
        let cache = EdgeCache::new(EdgeCacheConfig::default());
        let cc = ("cache-control", "public, max-age=60");
        let (first, hit) = get(
            &cache,
            Method::GET,
            "http://h/a",
            response(&[cc, ("cache-tag", "img1 all")], "v1"),
        )
        .await;
        assert!(!hit);
        assert_eq!(first.headers().get("cache-tag"), None);
        assert_eq!(body(first).await, "v1");

        let (second, hit) = get(&cache, Method::GET, "http://h/a", response(&[cc], "v2")).await;
        assert!(hit);
        assert_eq!(second.headers()["x-cache"], "hit");
        assert_eq!(second.headers()["age"], "0");
        assert_eq!(second.headers()["content-length"], "2");
        assert_eq!(second.headers().get("cache-tag"), None);
        assert_eq!(body(second).await, "v1");

        let (head, hit) = get(&cache, Method::HEAD, "http://h/a", response(&[], "")).await;
        assert!(hit);
        assert_eq!(head.headers()["content-length"], "2");
        assert_eq!(body(head).await, "");
        assert_eq!((cache.hits.get(), cache.misses.get()), (2, 1));
    }

    /// Requests `url` with `req_headers` through the cache.
    async fn get_with(
        cache: &EdgeCache,
        url: &str,
        req_headers: &[(&str, &str)],
        made: Response<Body>,
    ) -> (Response<Body>, bool) {
        let inm = req_headers
            .iter()
            .find(|(n, _)| *n == "if-none-match")
            .map(|(_, v)| *v);
        match cache.lookup(&Method::GET, key(url, req_headers), inm) {
            Lookup::Hit(r) => (r, true),
            Lookup::Miss(fill) => (cache.after_invoke(&Method::GET, fill, made).await, false),
        }
    }

    #[tokio::test]
    async fn a_conditional_get_of_a_kept_response_is_a_304_from_the_cache() {
        let cache = EdgeCache::new(EdgeCacheConfig::default());
        let made = || {
            response(
                &[("cache-control", "public, max-age=60"), ("etag", "\"v1\"")],
                "v1",
            )
        };
        get_with(&cache, "http://h/a", &[], made()).await;
        let (r, hit) = get_with(&cache, "http://h/a", &[("if-none-match", "\"v1\"")], made()).await;
        assert!(hit);
        assert_eq!(r.status(), StatusCode::NOT_MODIFIED);
        assert_eq!(r.headers()["etag"], "\"v1\"");
        assert_eq!(body(r).await, "");
        let (r, hit) = get_with(
            &cache,
            "http://h/a",
            &[("if-none-match", "\"old\"")],
            made(),
        )
        .await;
        assert!(hit);
        assert_eq!(r.status(), StatusCode::OK);
        assert_eq!(body(r).await, "v1");
    }

    #[tokio::test]
    async fn responses_that_vary_on_client_hints_are_kept_per_hint_value() {
        let cache = EdgeCache::new(EdgeCacheConfig::default());
        let made = |body: &'static str| {
            response(
                &[
                    ("cache-control", "public, max-age=60"),
                    ("vary", "Accept, Sec-CH-Width"),
                ],
                body,
            )
        };
        let w400 = [("sec-ch-width", "400"), ("accept", "image/webp")];
        let w800 = [("sec-ch-width", "800"), ("accept", "image/webp")];
        assert!(
            !get_with(&cache, "http://h/auto", &w400, made("400"))
                .await
                .1
        );
        assert!(
            !get_with(&cache, "http://h/auto", &w800, made("800"))
                .await
                .1
        );
        let (r, hit) = get_with(&cache, "http://h/auto", &w400, made("wrong")).await;
        assert!(hit);
        assert_eq!(body(r).await, "400");
        let (r, hit) = get_with(&cache, "http://h/auto", &w800, made("wrong")).await;
        assert!(hit);
        assert_eq!(body(r).await, "800");
        // A hint the responses do not vary on does not split the entry.
        let with_dpr = [
            ("sec-ch-width", "800"),
            ("accept", "image/webp"),
            ("sec-ch-dpr", "2"),
        ];
        assert!(
            get_with(&cache, "http://h/auto", &with_dpr, made("wrong"))
                .await
                .1
        );
        // Nor may a response that varies on something else be kept.
        let cookie = response(
            &[("cache-control", "public, max-age=60"), ("vary", "Cookie")],
            "c",
        );
        get_with(&cache, "http://h/c", &[], cookie).await;
        let again = response(
            &[("cache-control", "public, max-age=60"), ("vary", "Cookie")],
            "c",
        );
        assert!(!get_with(&cache, "http://h/c", &[], again).await.1);
    }

    #[tokio::test]
    async fn a_purge_drops_tagged_entries_only() {
        let cache = EdgeCache::new(EdgeCacheConfig::default());
        let cc = ("cache-control", "public, max-age=60");
        get(
            &cache,
            Method::GET,
            "http://h/a",
            response(&[cc, ("cache-tag", "img1")], "a"),
        )
        .await;
        get(
            &cache,
            Method::GET,
            "http://h/b",
            response(&[cc, ("cache-tag", "img2, other")], "b"),
        )
        .await;
        // A GET cannot purge; its purge header is stripped all the same.
        let (r, _) = get(
            &cache,
            Method::GET,
            "http://h/c",
            response(&[("cache-purge-tag", "img1")], "c"),
        )
        .await;
        assert_eq!(r.headers().get("cache-purge-tag"), None);
        assert!(
            get(&cache, Method::GET, "http://h/a", response(&[], ""))
                .await
                .1
        );

        let deleted = cache
            .after_invoke(
                &Method::DELETE,
                None,
                response(&[("cache-purge-tag", "img1")], ""),
            )
            .await;
        assert_eq!(deleted.headers().get("cache-purge-tag"), None);
        assert!(
            !get(&cache, Method::GET, "http://h/a", response(&[], ""))
                .await
                .1
        );
        assert!(
            get(&cache, Method::GET, "http://h/b", response(&[], ""))
                .await
                .1
        );
        assert_eq!(cache.purges.get(), 1);
    }

    #[tokio::test]
    async fn a_response_made_while_a_purge_ran_is_not_kept() {
        let cache = EdgeCache::new(EdgeCacheConfig::default());
        let Lookup::<Infallible>::Miss(fill) =
            cache.lookup(&Method::GET, key("http://h/a", &[]), None)
        else {
            panic!("empty cache hit")
        };
        cache
            .after_invoke(
                &Method::DELETE,
                None,
                response(&[("cache-purge-tag", "img1")], ""),
            )
            .await;
        let cc = ("cache-control", "public, max-age=60");
        cache
            .after_invoke(
                &Method::GET,
                fill,
                response(&[cc, ("cache-tag", "img1")], "stale"),
            )
            .await;
        assert!(
            !get(&cache, Method::GET, "http://h/a", response(&[], ""))
                .await
                .1
        );
    }

    #[tokio::test]
    async fn disabled_and_oversized_pass_through() {
        let cc = ("cache-control", "public, max-age=60");
        let off = EdgeCache::new(EdgeCacheConfig {
            max_bytes: 0,
            ..Default::default()
        });
        get(&off, Method::GET, "http://h/a", response(&[cc], "a")).await;
        assert!(
            !get(&off, Method::GET, "http://h/a", response(&[cc], "a"))
                .await
                .1
        );
        let small = EdgeCache::new(EdgeCacheConfig {
            max_entry_bytes: 3,
            ..Default::default()
        });
        get(&small, Method::GET, "http://h/a", response(&[cc], "long")).await;
        assert!(
            !get(&small, Method::GET, "http://h/a", response(&[cc], "long"))
                .await
                .1
        );
    }

    #[test]
    fn reads_its_runtime_config_section() {
        let raw: toml::Table =
            toml::from_str("[edge_cache]\nmax_bytes = 0\nmax_entry_bytes = 10\n").unwrap();
        assert_eq!(
            section::<EdgeCacheConfig>(&raw, "edge_cache").unwrap(),
            EdgeCacheConfig {
                max_bytes: 0,
                max_entry_bytes: 10
            }
        );
        let bad: toml::Table = toml::from_str("[edge_cache]\nsize = 1\n").unwrap();
        assert!(section::<EdgeCacheConfig>(&bad, "edge_cache").is_err());
    }
}
