//! A plain HTTP response value the handlers return; the Spin glue converts it.

/// Status, headers and body of a response, independent of spin-sdk so that
/// handler logic can be asserted on in native tests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Reply {
    /// An empty response with `status`.
    pub fn new(status: u16) -> Self {
        Reply {
            status,
            headers: Vec::new(),
            body: Vec::new(),
        }
    }

    /// A JSON response; serialization of our own plain structs cannot fail.
    pub fn json<T: serde::Serialize>(status: u16, value: &T) -> Self {
        let body = serde_json::to_vec(value).unwrap_or_else(|_| b"{}".to_vec());
        Reply::new(status)
            .header("content-type", "application/json")
            .with_body(body)
    }

    /// Adds a header (builder style).
    pub fn header(mut self, name: &str, value: impl Into<String>) -> Self {
        self.headers.push((name.to_string(), value.into()));
        self
    }

    /// Adds `name` to the `Vary` header, keeping one comma-separated header
    /// without duplicates.
    pub fn vary(mut self, name: &str) -> Self {
        match self
            .headers
            .iter_mut()
            .find(|(n, _)| n.eq_ignore_ascii_case("vary"))
        {
            Some((_, value)) => {
                if !value
                    .split(',')
                    .any(|v| v.trim().eq_ignore_ascii_case(name))
                {
                    value.push_str(", ");
                    value.push_str(name);
                }
                self
            }
            None => self.header("vary", name),
        }
    }

    /// Sets the body (`finish` derives `content-length` from it).
    pub fn with_body(mut self, body: Vec<u8>) -> Self {
        self.body = body;
        self
    }

    /// The first value of header `name` (case-insensitive).
    pub fn get(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Drops the body but keeps `content-length` as it would be for GET, which
    /// is what a HEAD response must carry.
    pub fn for_head(mut self) -> Self {
        if self.get("content-length").is_none() {
            let len = self.body.len();
            self = self.header("content-length", len.to_string());
        }
        self.body = Vec::new();
        self
    }

    /// Sets `content-length` from the body unless already present or the
    /// status carries no body (204, 304).
    pub fn finish(self) -> Self {
        if self.get("content-length").is_some() || matches!(self.status, 204 | 304) {
            return self;
        }
        let len = self.body.len();
        self.header("content-length", len.to_string())
    }
}

impl From<Reply> for spin_sdk::http::Response {
    fn from(reply: Reply) -> Self {
        spin_sdk::http::Response::builder()
            .status(reply.status)
            .headers(reply.headers)
            .body(reply.body)
            .build()
    }
}

/// `Cache-Control` for anything addressed by content: originals and variants.
pub const IMMUTABLE: &str = "public, max-age=31536000, immutable";

/// `Cache-Control` for a lesser format served while the better one is made
/// in the background: browsers keep it a minute, shared caches not at all,
/// so the better format reaches them as soon as it is stored.
pub const PROVISIONAL: &str = "public, max-age=60, s-maxage=0";

/// Request header edgeimg's host sets when it can run work in the
/// background; Spin sets no such header, so there work stays in the request.
pub const DEFER_OK: &str = "edgeimg-defer-ok";

/// Response header naming a GET (path and query) the host should run in
/// the background; the host removes it before the response goes out.
pub const DEFER: &str = "edgeimg-defer";

/// Response header naming the tags a cacheable response belongs to
/// (space- or comma-separated), so a CDN in front can purge by tag.
pub const CACHE_TAG: &str = "cache-tag";

/// Response header of a write (e.g. a delete) naming tags whose cached
/// responses are now stale; edgeimg's edge cache drops them before the
/// response goes out. Spin and other runtimes pass it through.
pub const CACHE_PURGE_TAG: &str = "cache-purge-tag";
