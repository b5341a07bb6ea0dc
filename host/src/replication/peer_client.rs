//! Signed requests to another host's peer API (a peer region's load
//! balancer, or a host of this region), each with its own deadline.

use std::time::Duration;

use anyhow::{bail, Context, Result};
use bytes::Bytes;
use http::{Method, StatusCode};

use super::rtt::Pong;
use super::signing::{body_sha256, sign, unix_now, BY_ID};
use super::version::Version;
use super::wire::{
    self, Applied, BatchAnswer, BatchEntry, Invalidate, KeysPage, Outcome, DELETED, PREFIX, VERSION,
};

/// What a peer has of a key.
#[derive(Debug)]
pub enum Fetched {
    Found {
        version: Version,
        value: Bytes,
    },
    /// Deleted at this version (a tombstone).
    Deleted(Version),
    Missing,
}

/// The peer answered `POST batch` as a host of an older release does: it
/// has no such route, and takes changes one by one.
#[derive(Debug, thiserror::Error)]
#[error("the peer has no `POST batch` (an older release): delivering change by change")]
pub struct NoBatchRoute;

/// A batch signed by id ([`BY_ID`]) was answered 401: the peer reads only
/// whole-body digests (rolled back to an older release since its last
/// ping said otherwise), or the key is wrong, which a whole-body retry
/// tells apart.
#[derive(Debug, thiserror::Error)]
#[error("the peer refused a batch signed by id (401)")]
pub struct ByIdRefused;

/// An HTTP client that signs with the deployment's key.
#[derive(Clone)]
pub struct PeerClient {
    http: reqwest::Client,
    key: std::sync::Arc<[u8]>,
    /// `?from=` of the changes this host sends: its region, escaped.
    from: String,
}

impl PeerClient {
    /// A client for a host of `region` (empty for a command-line tool).
    pub fn new(key: &[u8], region: &str) -> Result<Self> {
        crate::kv::opendal::install_tls();
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(3))
            .pool_idle_timeout(Duration::from_secs(60))
            // Small requests (offers, pings) go out at once, not after
            // Nagle waits for an ACK a WAN round trip away.
            .tcp_nodelay(true)
            .build()
            .context("cannot build the replication HTTP client")?;
        Ok(Self {
            http,
            key: key.into(),
            from: wire::query_value(region),
        })
    }

    /// `path` with `?from=` (or `&from=`) this host's region.
    fn with_from(&self, path: &str) -> String {
        wire::with_param(path, "from", &self.from)
    }

    async fn send(
        &self,
        base: &str,
        method: Method,
        path_and_query: &str,
        body: Bytes,
        version: Option<&Version>,
        timeout: Duration,
    ) -> Result<reqwest::Response> {
        let content = body_sha256(&body);
        self.send_signed(
            base,
            method,
            path_and_query,
            body,
            content,
            version,
            timeout,
        )
        .await
    }

    /// [`Self::send`] with the body's signed summary given (`content`).
    #[allow(clippy::too_many_arguments)]
    async fn send_signed(
        &self,
        base: &str,
        method: Method,
        path_and_query: &str,
        body: Bytes,
        content: String,
        version: Option<&Version>,
        timeout: Duration,
    ) -> Result<reqwest::Response> {
        let path_and_query = match version {
            Some(version) => wire::with_version(path_and_query, version),
            None => path_and_query.to_string(),
        };
        let mut request = self
            .http
            .request(method.clone(), format!("{base}{path_and_query}"))
            .timeout(timeout);
        for (name, value) in sign(
            &self.key,
            method.as_str(),
            &path_and_query,
            unix_now(),
            content,
        ) {
            request = request.header(name, value);
        }
        if let Some(version) = version {
            request = request.header(VERSION, version.to_string());
        }
        // The peer's spans join the trace of whatever sends this.
        let mut trace = http::HeaderMap::new();
        crate::telemetry::propagate(&tracing::Span::current(), &mut trace);
        let response = request
            .headers(trace)
            .body(body)
            .send()
            .await
            .with_context(|| format!("{method} {base}{path_and_query}"))?;
        Ok(response)
    }

    async fn json<T: serde::de::DeserializeOwned>(
        what: &str,
        response: reqwest::Response,
    ) -> Result<T> {
        let status = response.status();
        if !status.is_success() {
            let text = response.text().await.unwrap_or_default();
            bail!(
                "{what}: {status}: {}",
                text.chars().take(300).collect::<String>()
            );
        }
        let body = response
            .bytes()
            .await
            .with_context(|| format!("{what}: reading the answer"))?;
        serde_json::from_slice(&body).with_context(|| format!("{what}: unreadable answer"))
    }

    /// Stores `value` at `version` on the host at `base`; whether it applied.
    pub async fn put(
        &self,
        base: &str,
        label: &str,
        key: &str,
        version: &Version,
        value: Bytes,
        timeout: Duration,
    ) -> Result<bool> {
        let path = self.with_from(&wire::object_path(label, key));
        let r = self
            .send(base, Method::PUT, &path, value, Some(version), timeout)
            .await?;
        Ok(Self::json::<Applied>("put", r).await?.applied)
    }

    /// Deletes `key` at `version` (a tombstone); whether it applied.
    pub async fn delete(
        &self,
        base: &str,
        label: &str,
        key: &str,
        version: &Version,
        timeout: Duration,
    ) -> Result<bool> {
        let path = self.with_from(&wire::object_path(label, key));
        let r = self
            .send(
                base,
                Method::DELETE,
                &path,
                Bytes::new(),
                Some(version),
                timeout,
            )
            .await?;
        Ok(Self::json::<Applied>("delete", r).await?.applied)
    }

    /// What the host at `base` has of `key`: from its own store only, or,
    /// with an `onward` budget, pulled from its other peers if it lacks it.
    pub async fn get(
        &self,
        base: &str,
        label: &str,
        key: &str,
        onward: Option<Duration>,
        timeout: Duration,
    ) -> Result<Fetched> {
        let mut path = self.with_from(&wire::object_path(label, key));
        if let Some(budget) = onward.filter(|b| !b.is_zero()) {
            path.push_str(&format!("&onward_ms={}", budget.as_millis().max(1)));
        }
        let response = self
            .send(base, Method::GET, &path, Bytes::new(), None, timeout)
            .await?;
        let header = |name: &str| -> Result<Option<Version>> {
            match response.headers().get(name) {
                None => Ok(None),
                Some(v) => Ok(Some(
                    v.to_str()
                        .ok()
                        .and_then(|s| s.parse().ok())
                        .with_context(|| format!("bad {name} header"))?,
                )),
            }
        };
        match response.status() {
            StatusCode::OK => {
                let version = header(VERSION)?.context("answer without a version")?;
                let value = response.bytes().await.context("reading the value")?;
                Ok(Fetched::Found { version, value })
            }
            StatusCode::NOT_FOUND => Ok(match header(DELETED)? {
                Some(version) => Fetched::Deleted(version),
                None => Fetched::Missing,
            }),
            status => bail!("get {key}: {status}"),
        }
    }

    /// Sends one batch of changes, signed with its originals named by id
    /// when the peer reads that (`by_id`, see [`BY_ID`]); what the host
    /// did with each.
    pub async fn batch(
        &self,
        base: &str,
        entries: &[(BatchEntry, Option<Bytes>)],
        by_id: bool,
        timeout: Duration,
    ) -> Result<Vec<Outcome>> {
        let body = wire::encode_batch(entries);
        let content = match by_id {
            true => wire::digest_by_id(&body, entries)
                .map(|digest| format!("{BY_ID}{digest}"))
                .expect("an encoded batch holds its entries"),
            false => body_sha256(&body),
        };
        let path = self.with_from(&format!("{PREFIX}batch"));
        let r = self
            .send_signed(base, Method::POST, &path, body, content, None, timeout)
            .await?;
        if matches!(
            r.status(),
            StatusCode::NOT_FOUND | StatusCode::METHOD_NOT_ALLOWED
        ) {
            // This release answers a batch with 200, 400, 401 or 503 only.
            return Err(NoBatchRoute.into());
        }
        if by_id && r.status() == StatusCode::UNAUTHORIZED {
            return Err(ByIdRefused.into());
        }
        let results = Self::json::<BatchAnswer>("batch", r).await?.results;
        if results.len() != entries.len() {
            bail!(
                "batch: {} answers to {} changes",
                results.len(),
                entries.len()
            );
        }
        Ok(results)
    }

    /// Applies one change of a batch the way hosts without `POST batch`
    /// take it (`PUT` or `DELETE objects/...`), answered as a batch would
    /// be: a value that does not hash to its id, or a label not replicated
    /// there, is [`Outcome::Refused`] rather than an error to retry.
    pub async fn apply_one(
        &self,
        base: &str,
        entry: &BatchEntry,
        value: Option<Bytes>,
        timeout: Duration,
    ) -> Result<Outcome> {
        let path = self.with_from(&wire::object_path(&entry.label, &entry.key));
        let (method, body) = match value {
            Some(value) => (Method::PUT, value),
            None => (Method::DELETE, Bytes::new()),
        };
        let r = self
            .send(base, method, &path, body, Some(&entry.version), timeout)
            .await?;
        if matches!(
            r.status(),
            StatusCode::UNPROCESSABLE_ENTITY | StatusCode::NOT_FOUND
        ) {
            return Ok(Outcome::Refused);
        }
        let applied = Self::json::<Applied>("put", r).await?.applied;
        Ok(if applied {
            Outcome::Applied
        } else {
            Outcome::Kept
        })
    }

    /// A signed ping: the peer's region and its RTT to its own peers.
    pub async fn ping(&self, base: &str, timeout: Duration) -> Result<Pong> {
        let path = self.with_from(&format!("{PREFIX}ping"));
        let r = self
            .send(base, Method::GET, &path, Bytes::new(), None, timeout)
            .await?;
        Self::json("ping", r).await
    }

    /// One page of the keys (with versions) of `label` after `after`.
    pub async fn keys(
        &self,
        base: &str,
        label: &str,
        after: Option<&str>,
        limit: usize,
        timeout: Duration,
    ) -> Result<KeysPage> {
        let mut path = format!(
            "{PREFIX}keys?label={}&limit={limit}",
            wire::query_value(label)
        );
        if let Some(after) = after {
            path.push_str(&format!("&after={}", wire::query_value(after)));
        }
        let r = self
            .send(base, Method::GET, &path, Bytes::new(), None, timeout)
            .await?;
        Self::json("keys", r).await
    }

    /// Tells another host of this region that a shared key changed.
    pub async fn invalidate(
        &self,
        base: &str,
        message: &Invalidate,
        timeout: Duration,
    ) -> Result<()> {
        let body = Bytes::from(serde_json::to_vec(message)?);
        let r = self
            .send(
                base,
                Method::POST,
                &format!("{PREFIX}invalidate"),
                body,
                None,
                timeout,
            )
            .await?;
        if !r.status().is_success() {
            bail!("invalidate: {}", r.status());
        }
        Ok(())
    }

    /// A signed request whose JSON answer is returned as is (status, repair).
    pub async fn call_json(
        &self,
        base: &str,
        method: Method,
        path_and_query: &str,
        timeout: Duration,
    ) -> Result<serde_json::Value> {
        let r = self
            .send(base, method, path_and_query, Bytes::new(), None, timeout)
            .await?;
        Self::json(path_and_query, r).await
    }
}
