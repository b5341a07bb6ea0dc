//! Cross-origin access (CORS): which web pages may read our responses from
//! script, draw them on a canvas or time them, and the answers to preflights.
//!
//! Two policies share this code: public reads (images, variants, metadata;
//! `*` by default) and the token-protected endpoints (upload, delete and the
//! upload listing; same-origin only unless origins are configured).

use crate::{Reply, RequestParts};

/// Which origins a policy admits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origins {
    /// Every origin: `Access-Control-Allow-Origin: *`, the same for every
    /// request, so responses stay cacheable without `Vary: Origin`.
    Any,
    /// Only these (`https://shop.example` form, compared exactly, lowercase);
    /// the allowed origin is echoed and responses carry `Vary: Origin`.
    List(Vec<String>),
}

/// A CORS policy for one kind of endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cors {
    /// `None`: no CORS headers at all, so browsers allow same-origin use only.
    pub origins: Option<Origins>,
    /// Methods a preflight may ask for, e.g. `GET, HEAD`.
    pub methods: &'static str,
    /// Request headers a preflight may ask for.
    pub allow_headers: &'static str,
    /// Response headers scripts may read beyond the CORS-safelisted ones.
    pub expose_headers: &'static str,
    /// Whether to send `Timing-Allow-Origin`, so pages can measure load
    /// timing and sizes (Resource Timing) of what they fetched.
    pub timing: bool,
}

/// The request headers a page may send when reading images: conditional and
/// range requests, and the client hints resize understands.
pub const READ_REQUEST_HEADERS: &str = "Accept, Range, If-None-Match, If-Range, If-Modified-Since, Sec-CH-Width, Width, Sec-CH-Viewport-Width, Sec-CH-DPR, Save-Data";

/// What a page may read from an image response beyond the safelisted headers.
pub const READ_EXPOSE_HEADERS: &str = "ETag, Content-Range, Accept-Ranges, Age, X-Cache";

impl Origins {
    /// Parses a variable value: `*`, or origins separated by commas or
    /// spaces. Unset or empty is `None` (CORS off).
    pub fn parse(value: Option<&str>) -> Option<Origins> {
        let list: Vec<String> = value?
            .split([',', ' '])
            .map(|o| o.trim().trim_end_matches('/').to_ascii_lowercase())
            .filter(|o| !o.is_empty())
            .collect();
        if list.is_empty() {
            None
        } else if list.iter().any(|o| o == "*") {
            Some(Origins::Any)
        } else {
            Some(Origins::List(list))
        }
    }
}

impl Cors {
    /// The policy for public reads (GET/HEAD of originals, variants, metadata).
    pub fn public_read(origins: Option<Origins>) -> Self {
        Cors {
            origins,
            methods: "GET, HEAD",
            allow_headers: READ_REQUEST_HEADERS,
            expose_headers: READ_EXPOSE_HEADERS,
            timing: true,
        }
    }

    /// The policy for the token-protected endpoints (upload, delete, the
    /// upload listing): they take `Authorization`, and reveal `Location`.
    pub fn token_protected(origins: Option<Origins>, methods: &'static str) -> Self {
        Cors {
            origins,
            methods,
            allow_headers: "Authorization, Content-Type",
            expose_headers: "Location",
            timing: false,
        }
    }

    /// The value of `Access-Control-Allow-Origin` for a request from `origin`;
    /// `None` when the origin is not admitted.
    fn allowed(&self, origin: Option<&str>) -> Option<String> {
        match self.origins.as_ref()? {
            Origins::Any => Some("*".to_string()),
            Origins::List(list) => {
                let origin = origin?.trim();
                list.iter()
                    .any(|o| o.eq_ignore_ascii_case(origin))
                    .then(|| origin.to_string())
            }
        }
    }

    /// Adds the CORS headers for an actual (non-preflight) request.
    pub fn apply(&self, mut reply: Reply, parts: &RequestParts) -> Reply {
        if matches!(self.origins, Some(Origins::List(_))) {
            reply = reply.vary("Origin");
        }
        let Some(allowed) = self.allowed(parts.header("origin")) else {
            return reply;
        };
        if self.timing {
            reply = reply.header("timing-allow-origin", allowed.clone());
        }
        if !self.expose_headers.is_empty() {
            reply = reply.header("access-control-expose-headers", self.expose_headers);
        }
        reply.header("access-control-allow-origin", allowed)
    }

    /// Answers `OPTIONS`: `204` with `Allow`, plus the `Access-Control-*`
    /// grant when it is a preflight from an admitted origin for one of our
    /// methods. A refused preflight gets no grant, which the browser reports.
    pub fn preflight(&self, parts: &RequestParts) -> Reply {
        let mut reply = Reply::new(204)
            .header("allow", format!("{}, OPTIONS", self.methods))
            .header("cache-control", "no-store");
        if matches!(self.origins, Some(Origins::List(_))) {
            reply = reply.vary("Origin");
        }
        let method_ok = parts
            .header("access-control-request-method")
            .is_some_and(|m| {
                self.methods
                    .split(", ")
                    .any(|ours| ours.eq_ignore_ascii_case(m.trim()))
            });
        match self.allowed(parts.header("origin")) {
            Some(allowed) if method_ok => reply
                .header("access-control-allow-origin", allowed)
                .header("access-control-allow-methods", self.methods)
                .header("access-control-allow-headers", self.allow_headers)
                .header("access-control-max-age", "86400"),
            _ => reply,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(headers: &[(&str, &str)]) -> RequestParts {
        RequestParts::new("GET", "", headers)
    }

    #[test]
    fn parses_origin_lists() {
        assert_eq!(Origins::parse(None), None);
        assert_eq!(Origins::parse(Some(" , ")), None);
        assert_eq!(Origins::parse(Some("*")), Some(Origins::Any));
        assert_eq!(
            Origins::parse(Some("https://A.example/, http://b.example:8080")),
            Some(Origins::List(vec![
                "https://a.example".into(),
                "http://b.example:8080".into()
            ]))
        );
    }

    #[test]
    fn any_origin_is_a_constant_star_without_vary() {
        let cors = Cors::public_read(Some(Origins::Any));
        for headers in [&[][..], &[("origin", "https://x.example")][..]] {
            let r = cors.apply(Reply::new(200), &req(headers));
            assert_eq!(r.get("access-control-allow-origin"), Some("*"));
            assert_eq!(r.get("timing-allow-origin"), Some("*"));
            assert!(r
                .get("access-control-expose-headers")
                .unwrap()
                .contains("ETag"));
            assert_eq!(r.get("vary"), None);
        }
    }

    #[test]
    fn listed_origins_are_echoed_and_vary() {
        let cors = Cors::public_read(Origins::parse(Some("https://a.example")));
        let r = cors.apply(
            Reply::new(200).vary("Accept"),
            &req(&[("origin", "https://a.example")]),
        );
        assert_eq!(
            r.get("access-control-allow-origin"),
            Some("https://a.example")
        );
        assert_eq!(r.get("vary"), Some("Accept, Origin"));
        let r = cors.apply(Reply::new(200), &req(&[("origin", "https://evil.example")]));
        assert_eq!(r.get("access-control-allow-origin"), None);
        assert_eq!(r.get("vary"), Some("Origin"));
        let off = Cors::public_read(None)
            .apply(Reply::new(200), &req(&[("origin", "https://a.example")]));
        assert_eq!(off.headers, Vec::<(String, String)>::new());
    }

    #[test]
    fn preflights_grant_only_our_methods_to_admitted_origins() {
        let cors = Cors::public_read(Some(Origins::Any));
        let ok = cors.preflight(&req(&[
            ("origin", "https://x.example"),
            ("access-control-request-method", "GET"),
            ("access-control-request-headers", "range"),
        ]));
        assert_eq!(ok.status, 204);
        assert_eq!(ok.get("access-control-allow-origin"), Some("*"));
        assert_eq!(ok.get("access-control-allow-methods"), Some("GET, HEAD"));
        assert!(ok
            .get("access-control-allow-headers")
            .unwrap()
            .contains("Range"));
        let delete = cors.preflight(&req(&[
            ("origin", "https://x.example"),
            ("access-control-request-method", "DELETE"),
        ]));
        assert_eq!(delete.status, 204);
        assert_eq!(delete.get("access-control-allow-origin"), None);
        assert_eq!(delete.get("allow"), Some("GET, HEAD, OPTIONS"));
    }
}
