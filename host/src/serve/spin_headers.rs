//! The request headers Spin sets for a component, so components behave the
//! same under Spin and under edgeimg.

use std::net::SocketAddr;

use http::{HeaderMap, HeaderName, HeaderValue};

use super::router::RoutePattern;

/// What the headers are computed from.
pub struct SpinRequestInfo<'a> {
    /// `scheme://host/path?query` as the client asked for it.
    pub full_url: &'a str,
    pub route: &'a RoutePattern,
    pub path_info: &'a str,
    pub params: &'a [(String, String)],
    pub client_addr: SocketAddr,
}

/// Removes any `spin-*` header the client sent, then sets Spin's headers.
///
/// Client-sent values are dropped first so a component can trust
/// `spin-client-addr` and `spin-path-match-*`.
pub fn apply(headers: &mut HeaderMap, info: &SpinRequestInfo<'_>) {
    let spoofed: Vec<HeaderName> = headers
        .keys()
        .filter(|name| name.as_str().starts_with("spin-"))
        .cloned()
        .collect();
    for name in spoofed {
        headers.remove(name);
    }
    let mut set = |name: &'static str, value: &str| {
        if let Ok(value) = HeaderValue::from_str(value) {
            headers.insert(HeaderName::from_static(name), value);
        }
    };
    set("spin-full-url", info.full_url);
    set("spin-path-info", info.path_info);
    set("spin-matched-route", info.route.raw());
    set("spin-base-path", "/");
    set("spin-raw-component-route", info.route.raw());
    set("spin-component-route", info.route.component_route());
    set("spin-client-addr", &info.client_addr.to_string());
    for (name, value) in info.params {
        let header = format!(
            "spin-path-match-{}",
            name.to_ascii_lowercase().replace('_', "-")
        );
        if let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(header.as_bytes()),
            HeaderValue::from_str(value),
        ) {
            headers.insert(name, value);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sets_spin_headers_like_spin() {
        let route = RoutePattern::parse("/images/:id/...").unwrap();
        let mut headers = HeaderMap::new();
        headers.insert("spin-client-addr", HeaderValue::from_static("6.6.6.6:1"));
        let params = vec![("id".to_string(), "42".to_string())];
        apply(
            &mut headers,
            &SpinRequestInfo {
                full_url: "http://example.com/images/42/thumb/small?x=1",
                route: &route,
                path_info: "/thumb/small",
                params: &params,
                client_addr: "127.0.0.1:8777".parse().unwrap(),
            },
        );
        let get = |n: &str| headers.get(n).unwrap().to_str().unwrap().to_string();
        assert_eq!(
            get("spin-full-url"),
            "http://example.com/images/42/thumb/small?x=1"
        );
        assert_eq!(get("spin-path-info"), "/thumb/small");
        assert_eq!(get("spin-matched-route"), "/images/:id/...");
        assert_eq!(get("spin-raw-component-route"), "/images/:id/...");
        assert_eq!(get("spin-component-route"), "/images/:id");
        assert_eq!(get("spin-base-path"), "/");
        assert_eq!(get("spin-client-addr"), "127.0.0.1:8777");
        assert_eq!(get("spin-path-match-id"), "42");
    }
}
