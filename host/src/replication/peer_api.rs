//! The server side of the peer API under `/.well-known/edgeimg/` (see
//! [`super::wire`]): every request must carry a valid signature (401 JSON
//! otherwise); objects are read from and written to this host's own
//! stores, and a read that allows it (`onward_ms`) may pull onward once
//! with requests that do not, so misses never loop.

use std::sync::Arc;

use bytes::Bytes;
use http::{HeaderMap, Method, StatusCode};

use super::apply::Refusal;
use super::pull::PullScope;
use super::record::is_reserved;
use super::signing::{self, body_sha256, unix_now, Refused, BY_ID};
use super::version::Version;
use super::wire::{
    self, Applied, BatchAnswer, Invalidate, KeysPage, Needed, Offer, DELETED, VERSION,
};
use super::Replication;

/// A response of the peer API, for the HTTP layer to send.
pub struct PeerResponse {
    pub status: StatusCode,
    pub headers: Vec<(&'static str, String)>,
    pub body: Bytes,
}

impl PeerResponse {
    fn json<T: serde::Serialize>(status: StatusCode, value: &T) -> Self {
        Self {
            status,
            headers: vec![("content-type", "application/json".into())],
            body: Bytes::from(serde_json::to_vec(value).unwrap_or_default()),
        }
    }

    fn error(status: StatusCode, code: &str, message: impl std::fmt::Display) -> Self {
        let body = serde_json::json!({"error": {"code": code, "message": message.to_string()}});
        Self::json(status, &body)
    }
}

/// A decoded `POST batch` body.
type Batch = Vec<(wire::BatchEntry, Option<Bytes>)>;

/// Whether `body` is what the signed `content` says it is: its SHA-256, or
/// for a batch (`route`) signed [`BY_ID`], its digest by id, for which the
/// batch is decoded and handed back.
fn body_matches(content: &str, route: &str, body: &Bytes) -> (bool, Option<Batch>) {
    match content.strip_prefix(BY_ID) {
        Some(digest) if route == "batch" => {
            let Ok(entries) = wire::decode_batch(body) else {
                return (false, None);
            };
            let matches = wire::digest_by_id(body, &entries).as_deref() == Some(digest);
            (matches, Some(entries))
        }
        Some(_) => (false, None),
        None => (content == body_sha256(body), None),
    }
}

impl Replication {
    /// Answers one peer API request (`path_and_query` starts with
    /// [`wire::PREFIX`]; `body` was read whole, within the host's body limit).
    pub async fn peer_api(
        self: &Arc<Self>,
        method: &Method,
        path_and_query: &str,
        headers: &HeaderMap,
        body: Bytes,
    ) -> PeerResponse {
        let tail = &path_and_query[wire::PREFIX.len()..];
        // A batch signed by id is decoded to be checked, and kept.
        let mut batch = None;
        let verified = signing::signed(headers, unix_now()).and_then(|claim| {
            let route = tail.split('?').next().unwrap_or_default();
            let (matches, decoded) = body_matches(claim.content, route, &body);
            batch = decoded;
            if !matches {
                return Err(Refused::BodyMismatch);
            }
            let check = |key: &[u8]| claim.check(key, method.as_str(), path_and_query);
            match (check(&self.config.key), &self.config.previous_key) {
                (Err(Refused::Wrong), Some(previous)) => check(previous),
                (result, _) => result,
            }
        });
        if let Err(refused) = verified {
            tracing::warn!(%method, path = path_and_query, reason = %refused, "401: peer API request refused");
            return PeerResponse::error(StatusCode::UNAUTHORIZED, "unauthorized", refused);
        }
        let (path, query) = tail.split_once('?').unwrap_or((tail, ""));
        let version =
            wire::request_version(query, headers.get(VERSION).and_then(|v| v.to_str().ok()));
        let from = wire::query_param(query, "from").filter(|f| !f.is_empty());
        let from = from.as_deref();
        match (method.as_str(), path) {
            (_, p) if p.starts_with("objects/") => {
                let Some((label, key)) = wire::parse_object_path(&p["objects/".len()..]) else {
                    return PeerResponse::error(
                        StatusCode::BAD_REQUEST,
                        "bad_path",
                        "expected objects/{label}/{key}",
                    );
                };
                if !self.labels.contains_key(&label) || is_reserved(&key) {
                    return PeerResponse::error(
                        StatusCode::NOT_FOUND,
                        "not_replicated",
                        format!("`{label}` / `{key}` is not replicated here"),
                    );
                }
                match (method.as_str(), version) {
                    ("GET" | "HEAD", _) => {
                        let onward = wire::query_param(query, "onward_ms")
                            .and_then(|ms| ms.parse().ok())
                            .map(std::time::Duration::from_millis);
                        self.serve_object(&label, &key, from, onward).await
                    }
                    ("PUT" | "DELETE", Some(Ok(version))) => {
                        self.receive(method, &label, &key, &version, body, from)
                            .await
                    }
                    ("PUT" | "DELETE", _) => PeerResponse::error(
                        StatusCode::BAD_REQUEST,
                        "bad_version",
                        format!("{VERSION} is missing or malformed"),
                    ),
                    _ => PeerResponse::error(
                        StatusCode::METHOD_NOT_ALLOWED,
                        "method_not_allowed",
                        "objects take GET, HEAD, PUT and DELETE",
                    ),
                }
            }
            ("POST", "batch") => match batch.map_or_else(|| wire::decode_batch(&body), Ok) {
                Ok(entries) => match self.apply_batch(from, entries).await {
                    Ok(results) => PeerResponse::json(StatusCode::OK, &BatchAnswer { results }),
                    Err(e) => PeerResponse::error(StatusCode::SERVICE_UNAVAILABLE, "storage", e),
                },
                Err(e) => PeerResponse::error(StatusCode::BAD_REQUEST, "bad_batch", e),
            },
            ("GET", "ping") => PeerResponse::json(StatusCode::OK, &self.pong()),
            ("POST", "scrub") => match self.scrub().await {
                Ok(report) => PeerResponse::json(StatusCode::OK, &report),
                Err(e) => PeerResponse::error(StatusCode::SERVICE_UNAVAILABLE, "storage", e),
            },
            // Hosts of an older release offer changes this way before they
            // send them one by one (`PUT objects`), so a rolling upgrade
            // keeps delivering in both directions.
            ("POST", "versions") => match serde_json::from_slice::<Vec<Offer>>(&body) {
                Ok(offers) => self.needed(&offers).await,
                Err(e) => PeerResponse::error(StatusCode::BAD_REQUEST, "bad_json", e),
            },
            ("GET", "keys") => self.keys_page(query).await,
            ("POST", "invalidate") => match serde_json::from_slice::<Invalidate>(&body) {
                Ok(message) => {
                    self.on_invalidate(&message).await;
                    PeerResponse::json(StatusCode::OK, &serde_json::json!({"invalidated": true}))
                }
                Err(e) => PeerResponse::error(StatusCode::BAD_REQUEST, "bad_json", e),
            },
            ("GET", "status") => PeerResponse::json(StatusCode::OK, &self.status()),
            ("POST", "repair") => match wire::query_param(query, "peer") {
                Some(peer) => match self.repair(&peer).await {
                    Ok(report) => PeerResponse::json(StatusCode::OK, &report),
                    Err(e) => PeerResponse::error(
                        StatusCode::BAD_GATEWAY,
                        "repair_failed",
                        format!("{e:#}"),
                    ),
                },
                None => PeerResponse::error(
                    StatusCode::BAD_REQUEST,
                    "bad_query",
                    "repair needs ?peer=REGION",
                ),
            },
            _ => PeerResponse::error(
                StatusCode::NOT_FOUND,
                "no_route",
                format!("no peer API route {method} {path}"),
            ),
        }
    }

    /// The local value and its version; a tombstone answers 404 with its
    /// version. A miss with an `onward` budget pulls from this host's other
    /// peers (never back from `from`, and without letting them go further).
    async fn serve_object(
        self: &Arc<Self>,
        label: &str,
        key: &str,
        from: Option<&str>,
        onward: Option<std::time::Duration>,
    ) -> PeerResponse {
        let store = &self.labels[label];
        let read = async {
            let mut value = store.inner.get(key).await?;
            let mut record = store.records.get(key).await?;
            let live = record.as_ref().is_none_or(|r| !r.deleted);
            if let (None, Some(budget), true) = (&value, onward, live) {
                let scope = PullScope {
                    exclude: from.map(str::to_string),
                    onward: false,
                    budget: Some(budget),
                };
                if let Some(pulled) = self.pull_within(label, key, scope).await? {
                    value = Some(pulled);
                }
                record = store.records.get(key).await?;
            }
            Ok::<_, crate::kv::Error>((value, record))
        };
        match read.await {
            Ok((Some(value), record)) => {
                let version = record.map_or_else(Version::zero, |r| r.version);
                PeerResponse {
                    status: StatusCode::OK,
                    headers: vec![
                        ("content-type", "application/octet-stream".into()),
                        (VERSION, version.to_string()),
                    ],
                    body: value,
                }
            }
            Ok((None, Some(record))) if record.deleted => {
                let mut r = PeerResponse::error(
                    StatusCode::NOT_FOUND,
                    "deleted",
                    format!("`{key}` was deleted"),
                );
                r.headers.push((DELETED, record.version.to_string()));
                r
            }
            Ok((None, _)) => PeerResponse::error(
                StatusCode::NOT_FOUND,
                "not_found",
                format!("no `{key}` here"),
            ),
            // A damaged copy is no copy: the asker tries another peer.
            // (Never healed from here: two damaged regions would ask each
            // other back and forth.)
            Err(e @ crate::kv::Error::Corrupt(_)) => {
                PeerResponse::error(StatusCode::NOT_FOUND, "corrupt", e)
            }
            Err(e) => PeerResponse::error(StatusCode::SERVICE_UNAVAILABLE, "storage", e),
        }
    }

    /// A put or a tombstone from a peer.
    async fn receive(
        &self,
        method: &Method,
        label: &str,
        key: &str,
        version: &Version,
        body: Bytes,
        from: Option<&str>,
    ) -> PeerResponse {
        let result = if method == Method::PUT {
            self.apply_put(label, key, version, body, from).await
        } else {
            self.apply_delete(label, key, version, from)
                .await
                .map_err(Refusal::from)
        };
        match result {
            Ok(applied) => PeerResponse::json(StatusCode::OK, &Applied { applied }),
            Err(e @ Refusal::HashMismatch(_)) => {
                PeerResponse::error(StatusCode::UNPROCESSABLE_ENTITY, "hash_mismatch", e)
            }
            Err(Refusal::Store(e)) => {
                PeerResponse::error(StatusCode::SERVICE_UNAVAILABLE, "storage", e)
            }
        }
    }

    /// Which offered versions are newer than ours.
    async fn needed(&self, offers: &[Offer]) -> PeerResponse {
        let mut needed = Vec::with_capacity(offers.len());
        for offer in offers {
            let Some(store) = self.labels.get(&offer.label) else {
                needed.push(false);
                continue;
            };
            self.clock.observe(&offer.version);
            match store.records.version(&offer.key).await {
                Ok(ours) => needed.push(ours < offer.version),
                Err(e) => {
                    return PeerResponse::error(StatusCode::SERVICE_UNAVAILABLE, "storage", e)
                }
            }
        }
        PeerResponse::json(StatusCode::OK, &Needed { needed })
    }

    /// `keys?label=&after=&limit=`.
    async fn keys_page(&self, query: &str) -> PeerResponse {
        let Some(label) = wire::query_param(query, "label").filter(|l| self.labels.contains_key(l))
        else {
            return PeerResponse::error(
                StatusCode::BAD_REQUEST,
                "bad_query",
                "keys needs ?label= of a replicated label",
            );
        };
        let limit = wire::query_param(query, "limit")
            .and_then(|l| l.parse().ok())
            .unwrap_or(super::repair::PAGE)
            .clamp(1, 10 * super::repair::PAGE);
        let after = wire::query_param(query, "after");
        match self.entries(&label, after.as_deref(), limit).await {
            Ok((entries, next)) => PeerResponse::json(StatusCode::OK, &KeysPage { entries, next }),
            Err(e) => {
                PeerResponse::error(StatusCode::SERVICE_UNAVAILABLE, "storage", format!("{e:#}"))
            }
        }
    }
}
