//! What makes two GET requests the same request, for collapsed forwarding
//! and the edge cache: route, full URL, and the request headers a response
//! may vary on — the `Accept` class (which of `image/avif` and `image/webp`
//! it accepts, the only part of `Accept` the components negotiate on) and
//! the client hints (`Sec-CH-Width`, `Sec-CH-DPR`, `Save-Data`, ...).
//! Requests whose response may be specific to them (credentials, cookies,
//! ranges, conditions) have no key.
//!
//! Collapsing keys on all of them (it cannot know a response's `Vary` before
//! the response); the edge cache keys on those its responses for the URL
//! named in `Vary` ([`RequestKey::project`]).

use http::{header, HeaderMap, HeaderName, Method, Request};

/// Request headers a shared response may vary on, besides `Accept`.
pub const HINTS: [&str; 7] = [
    "sec-ch-width",
    "width",
    "sec-ch-viewport-width",
    "viewport-width",
    "sec-ch-dpr",
    "dpr",
    "save-data",
];

/// What makes two requests identical (see [`request_key`]).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RequestKey {
    pub route: String,
    url: String,
    accept: Option<AcceptClass>,
    /// Values of [`HINTS`], in order.
    hints: [Option<Box<str>>; HINTS.len()],
}

/// The headers a response varies on, as far as they may be shared: bit 0
/// is `Accept`, bit i + 1 is `HINTS[i]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct VarySet(u8);

impl VarySet {
    /// The set a response's `Vary` names, or `None` when it names anything
    /// else (`*`, `Cookie`, ...): such a response is never shared.
    pub fn of(headers: &HeaderMap) -> Option<Self> {
        let mut set = 0u8;
        for name in headers
            .get_all(header::VARY)
            .iter()
            .map(|v| v.to_str().unwrap_or("*"))
            .flat_map(|v| v.split(','))
            .map(str::trim)
            .filter(|n| !n.is_empty())
        {
            if name.eq_ignore_ascii_case("accept") {
                set |= 1;
            } else {
                let i = HINTS.iter().position(|h| name.eq_ignore_ascii_case(h))?;
                set |= 2 << i;
            }
        }
        Some(Self(set))
    }

    pub fn union(self, other: Self) -> Self {
        Self(self.0 | other.0)
    }
}

/// Which of the negotiated image types an `Accept` header lists with q > 0.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct AcceptClass {
    avif: bool,
    webp: bool,
}

impl AcceptClass {
    fn of(headers: &HeaderMap) -> Self {
        let accept = headers
            .get_all(header::ACCEPT)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .collect::<Vec<_>>()
            .join(",");
        Self {
            avif: accepts(&accept, "image/avif"),
            webp: accepts(&accept, "image/webp"),
        }
    }
}

/// Whether `accept` lists `media_type` explicitly with a non-zero q (the
/// rule the resize component negotiates by).
fn accepts(accept: &str, media_type: &str) -> bool {
    accept.split(',').any(|item| {
        let mut parts = item.split(';').map(str::trim);
        parts
            .next()
            .is_some_and(|t| t.eq_ignore_ascii_case(media_type))
            && !parts.any(|p| {
                p.strip_prefix("q=")
                    .and_then(|q| q.trim().parse::<f32>().ok())
                    .is_some_and(|q| q <= 0.0)
            })
    })
}

/// Request headers whose presence makes a response specific to its request.
const PERSONAL_REQUEST_HEADERS: [HeaderName; 7] = [
    header::AUTHORIZATION,
    header::COOKIE,
    header::RANGE,
    header::IF_NONE_MATCH,
    header::IF_MODIFIED_SINCE,
    header::IF_MATCH,
    header::IF_UNMODIFIED_SINCE,
];

/// Who asks for a key: the edge cache answers `If-None-Match` itself (a
/// 304 from an entry), collapsing must not share one request's 304.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    Collapse,
    EdgeCache,
}

/// The key of a GET or HEAD request (route, full URL, every negotiated
/// header), or `None` when its response may be specific to it
/// (credentials, cookies, ranges, conditions).
pub fn request_key<B>(
    route: &str,
    full_url: &str,
    req: &Request<B>,
    purpose: Purpose,
) -> Option<RequestKey> {
    if req.method() != Method::GET && req.method() != Method::HEAD {
        return None;
    }
    let personal = PERSONAL_REQUEST_HEADERS.iter().any(|h| {
        req.headers().contains_key(h)
            && !(purpose == Purpose::EdgeCache && *h == header::IF_NONE_MATCH)
    });
    if personal {
        return None;
    }
    let value = |name: &str| {
        req.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(|v| v.trim().to_ascii_lowercase().into_boxed_str())
    };
    Some(RequestKey {
        route: route.to_string(),
        url: full_url.to_string(),
        accept: Some(AcceptClass::of(req.headers())),
        hints: HINTS.map(value),
    })
}

impl RequestKey {
    /// The key with only the headers of `vary` left: what a response that
    /// varies on `vary` is stored and found under.
    pub fn project(&self, vary: VarySet) -> Self {
        let mut hints = self.hints.clone();
        for (i, hint) in hints.iter_mut().enumerate() {
            if vary.0 & (2 << i) == 0 {
                *hint = None;
            }
        }
        Self {
            route: self.route.clone(),
            url: self.url.clone(),
            accept: if vary.0 & 1 != 0 { self.accept } else { None },
            hints,
        }
    }

    /// Route and URL: the resource, whatever the negotiation.
    pub fn resource(&self) -> (String, String) {
        (self.route.clone(), self.url.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(headers: &[(&str, &str)]) -> Request<()> {
        let mut b = Request::get("http://h/resize/width=auto/x");
        for (n, v) in headers {
            b = b.header(*n, *v);
        }
        b.body(()).unwrap()
    }

    fn key(headers: &[(&str, &str)]) -> RequestKey {
        request_key("/r", "http://h/x", &request(headers), Purpose::Collapse).unwrap()
    }

    fn vary(value: &str) -> Option<VarySet> {
        let mut h = HeaderMap::new();
        h.insert(header::VARY, value.parse().unwrap());
        VarySet::of(&h)
    }

    #[test]
    fn a_response_is_found_by_the_headers_it_varies_on_only() {
        let a = key(&[
            ("accept", "image/webp"),
            ("sec-ch-width", "400"),
            ("sec-ch-dpr", "2"),
        ]);
        let b = key(&[
            ("accept", "image/webp,*/*"),
            ("sec-ch-width", "400"),
            ("sec-ch-dpr", "1"),
        ]);
        assert_ne!(a, b, "collapsing keys on every negotiated header");
        let width = vary("Accept, Sec-CH-Width").unwrap();
        assert_eq!(a.project(width), b.project(width));
        let dpr = vary("sec-ch-dpr").unwrap();
        assert_ne!(a.project(dpr), b.project(dpr));
        assert_eq!(
            a.project(VarySet::default()),
            key(&[]).project(VarySet::default())
        );
    }

    #[test]
    fn only_negotiated_headers_may_be_varied_on() {
        assert!(vary("Accept, Save-Data, Width").is_some());
        assert!(vary("Cookie").is_none());
        assert!(vary("*").is_none());
        assert_eq!(VarySet::of(&HeaderMap::new()), Some(VarySet::default()));
    }

    #[test]
    fn conditions_bypass_collapsing_but_not_the_edge_cache() {
        let conditional = request(&[("if-none-match", "\"x\"")]);
        assert!(request_key("/r", "u", &conditional, Purpose::Collapse).is_none());
        assert!(request_key("/r", "u", &conditional, Purpose::EdgeCache).is_some());
        let ranged = request(&[("range", "bytes=0-1")]);
        assert!(request_key("/r", "u", &ranged, Purpose::EdgeCache).is_none());
    }
}
