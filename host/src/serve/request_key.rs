//! What makes two GET requests the same request, for collapsed forwarding
//! and the edge cache: route, full URL and the `Accept` class (which of
//! `image/avif` and `image/webp` it accepts, the only part of `Accept` the
//! components negotiate on). Requests whose response may be specific to
//! them (credentials, cookies, ranges, conditions) have no key.

use http::{header, HeaderMap, Method, Request};

/// What makes two requests identical (see [`request_key`]).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RequestKey {
    pub route: String,
    url: String,
    accept: AcceptClass,
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
const PERSONAL_REQUEST_HEADERS: [header::HeaderName; 7] = [
    header::AUTHORIZATION,
    header::COOKIE,
    header::RANGE,
    header::IF_NONE_MATCH,
    header::IF_MODIFIED_SINCE,
    header::IF_MATCH,
    header::IF_UNMODIFIED_SINCE,
];

/// The key of a GET or HEAD request for collapsed forwarding and the edge
/// cache (route, full URL, `Accept` class), or `None` when its response may
/// be specific to it (credentials, cookies, ranges, conditions).
pub fn request_key<B>(route: &str, full_url: &str, req: &Request<B>) -> Option<RequestKey> {
    if req.method() != Method::GET && req.method() != Method::HEAD {
        return None;
    }
    if PERSONAL_REQUEST_HEADERS
        .iter()
        .any(|h| req.headers().contains_key(h))
    {
        return None;
    }
    Some(RequestKey {
        route: route.to_string(),
        url: full_url.to_string(),
        accept: AcceptClass::of(req.headers()),
    })
}
