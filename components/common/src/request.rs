//! The parts of an incoming request the handlers look at.

/// Method, path below the component's route, and headers (names lowercase).
#[derive(Debug, Clone, Default)]
pub struct RequestParts {
    pub method: String,
    /// Path below the route prefix, e.g. `/{id}/meta` for `/images/{id}/meta`.
    pub path: String,
    /// Scheme and authority (`http://host:port`) when known, for absolute URLs.
    pub origin: Option<String>,
    pub headers: Vec<(String, String)>,
    /// The query string without `?` (`limit=10&after=...`), empty when none.
    pub query: String,
}

impl RequestParts {
    /// The first value of header `name` (lowercase).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The raw value of query parameter `name` (first occurrence); `Some("")`
    /// for `?name` or `?name=`.
    pub fn query_param(&self, name: &str) -> Option<&str> {
        self.query
            .split('&')
            .map(|pair| pair.split_once('=').unwrap_or((pair, "")))
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v)
    }

    /// Reads an incoming Spin request. `prefix` is the component's route prefix
    /// (`/images`); Spin's `spin-path-info` header is preferred, and the raw
    /// path with `prefix` stripped is the fallback.
    pub fn from_incoming(req: &spin_sdk::http::IncomingRequest, prefix: &str) -> Self {
        let headers: Vec<(String, String)> = req
            .headers()
            .entries()
            .into_iter()
            .map(|(n, v)| {
                (
                    n.to_ascii_lowercase(),
                    String::from_utf8_lossy(&v).into_owned(),
                )
            })
            .collect();
        let method = req.method().to_string();
        let raw = req.path_with_query().unwrap_or_default();
        let mut parts = RequestParts {
            method,
            path: String::new(),
            origin: None,
            headers,
            query: raw
                .split_once('?')
                .map(|(_, q)| q.to_string())
                .unwrap_or_default(),
        };
        parts.path = match parts.header("spin-path-info") {
            Some(info) => info.to_string(),
            None => {
                let path = raw.split('?').next().unwrap_or("");
                path.strip_prefix(prefix).unwrap_or(path).to_string()
            }
        };
        parts.origin = parts.header("spin-full-url").and_then(origin_of);
        parts
    }

    /// `path` split into non-empty segments.
    pub fn segments(&self) -> Vec<&str> {
        self.path
            .split('?')
            .next()
            .unwrap_or("")
            .split('/')
            .filter(|s| !s.is_empty())
            .collect()
    }
}

#[cfg(any(test, feature = "test-util"))]
impl RequestParts {
    /// A request as a handler sees it: `method`, `path` below the route
    /// prefix and `headers` (names lowercase). For tests (feature `test-util`).
    pub fn new(method: &str, path: &str, headers: &[(&str, &str)]) -> RequestParts {
        RequestParts {
            method: method.into(),
            path: path.into(),
            headers: headers
                .iter()
                .map(|(n, v)| (n.to_string(), v.to_string()))
                .collect(),
            ..Default::default()
        }
    }
}

/// `http://host:port` of an absolute URL.
fn origin_of(url: &str) -> Option<String> {
    let (scheme, rest) = url.split_once("://")?;
    let authority = rest.split(['/', '?']).next()?;
    Some(format!("{scheme}://{authority}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origin_and_segments() {
        assert_eq!(
            origin_of("http://127.0.0.1:3000/images/a?x=1").as_deref(),
            Some("http://127.0.0.1:3000")
        );
        let parts = RequestParts {
            path: "/abc//meta?x".into(),
            ..Default::default()
        };
        assert_eq!(parts.segments(), vec!["abc", "meta"]);
    }

    #[test]
    fn query_params() {
        let parts = RequestParts {
            query: "limit=5&after=x%2Fy&flag&limit=9".into(),
            ..Default::default()
        };
        assert_eq!(parts.query_param("limit"), Some("5"));
        assert_eq!(parts.query_param("after"), Some("x%2Fy"));
        assert_eq!(parts.query_param("flag"), Some(""));
        assert_eq!(parts.query_param("other"), None);
    }
}

/// Decodes `%XX` escapes in a path segment; 400 when malformed or not UTF-8.
pub fn percent_decode(segment: &str) -> Result<String, crate::ApiError> {
    let bad = || crate::ApiError::bad_request("bad_path", "malformed percent-encoding in the path");
    if !segment.contains('%') {
        return Ok(segment.to_string());
    }
    let bytes = segment.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = segment.get(i + 1..i + 3).ok_or_else(bad)?;
            out.push(u8::from_str_radix(hex, 16).map_err(|_| bad())?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| bad())
}

#[cfg(test)]
mod decode_tests {
    use super::percent_decode;

    #[test]
    fn decodes_escapes_and_rejects_bad_ones() {
        assert_eq!(
            percent_decode("background=%23ff0000").unwrap(),
            "background=#ff0000"
        );
        assert_eq!(percent_decode("w=1").unwrap(), "w=1");
        for bad in ["%", "%2", "%zz", "%ff"] {
            assert_eq!(percent_decode(bad).unwrap_err().status, 400, "{bad}");
        }
    }
}
