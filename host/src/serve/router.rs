//! Spin's HTTP route syntax and matching.
//!
//! A route is exact by default (`/upload`); `:name` matches one non-empty
//! segment (`/upload/:id`); a trailing `/...` matches the prefix and anything
//! below it (`/images/...`). When several routes match, an exact route beats
//! a wildcard, a longer wildcard prefix beats a shorter one, and at the first
//! segment where two candidates differ a literal beats a `:name`.

use std::cmp::Ordering;

/// One segment of a parsed route.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    Literal(String),
    Param(String),
}

/// A parsed Spin route, e.g. `/images/:id/...`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoutePattern {
    raw: String,
    segments: Vec<Segment>,
    wildcard: bool,
}

impl RoutePattern {
    /// Parses a route as written in spin.toml; the error says what is wrong.
    pub fn parse(raw: &str) -> Result<Self, String> {
        let rest = raw
            .strip_prefix('/')
            .ok_or_else(|| format!("route {raw:?} must start with '/'"))?;
        if raw.starts_with("/.well-known/spin/") || raw == "/.well-known/spin/..." {
            return Err(format!(
                "route {raw:?} is reserved by Spin (/.well-known/spin/...)"
            ));
        }
        let mut parts: Vec<&str> = if rest.is_empty() {
            Vec::new()
        } else {
            rest.split('/').collect()
        };
        let wildcard = parts.last() == Some(&"...");
        if wildcard {
            parts.pop();
        }
        let mut segments = Vec::with_capacity(parts.len());
        for (i, part) in parts.iter().enumerate() {
            if *part == "..." {
                return Err(format!(
                    "route {raw:?}: '...' is only allowed as the last segment"
                ));
            }
            if part.is_empty() && i + 1 != parts.len() {
                return Err(format!("route {raw:?} has an empty segment"));
            }
            if let Some(name) = part.strip_prefix(':') {
                if name.is_empty()
                    || !name
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
                {
                    return Err(format!("route {raw:?}: bad parameter name {part:?}"));
                }
                segments.push(Segment::Param(name.to_string()));
            } else {
                segments.push(Segment::Literal(part.to_string()));
            }
        }
        // A trailing slash on an exact route ("/a/") is kept as an empty literal
        // segment, so it matches only "/a/".
        Ok(Self {
            raw: raw.to_string(),
            segments,
            wildcard,
        })
    }

    /// The route as written in spin.toml (`spin-matched-route`, `spin-raw-component-route`).
    pub fn raw(&self) -> &str {
        &self.raw
    }

    /// The route without its trailing `/...` (`spin-component-route`).
    pub fn component_route(&self) -> &str {
        if self.wildcard {
            let prefix = &self.raw[..self.raw.len() - "/...".len()];
            if prefix.is_empty() {
                "/"
            } else {
                prefix
            }
        } else {
            &self.raw
        }
    }

    /// Whether this route matches `path` (no query).
    pub fn matches_path(&self, path: &str) -> bool {
        self.matches(path).is_some()
    }

    /// Matches a request path (no query); returns path-info and `:name` values.
    fn matches(&self, path: &str) -> Option<(String, Vec<(String, String)>)> {
        let rest = path.strip_prefix('/')?;
        let parts: Vec<&str> = if rest.is_empty() {
            Vec::new()
        } else {
            rest.split('/').collect()
        };
        if parts.len() < self.segments.len()
            || (!self.wildcard && parts.len() != self.segments.len())
        {
            return None;
        }
        let mut params = Vec::new();
        for (segment, part) in self.segments.iter().zip(&parts) {
            match segment {
                Segment::Literal(lit) if lit == part => {}
                Segment::Param(name) if !part.is_empty() => {
                    params.push((name.clone(), part.to_string()))
                }
                _ => return None,
            }
        }
        let tail = &parts[self.segments.len()..];
        let path_info = if tail.is_empty() {
            String::new()
        } else {
            format!("/{}", tail.join("/"))
        };
        Some((path_info, params))
    }

    /// Route precedence: `Less` means `self` is tried first.
    fn precedence(&self, other: &Self) -> Ordering {
        self.wildcard
            .cmp(&other.wildcard)
            .then_with(|| other.segments.len().cmp(&self.segments.len()))
            .then_with(|| {
                let kinds = |p: &Self| {
                    p.segments
                        .iter()
                        .map(|s| matches!(s, Segment::Param(_)))
                        .collect::<Vec<_>>()
                };
                kinds(self).cmp(&kinds(other))
            })
    }

    /// Same shape (ignoring `:name` names): two such routes can never be told apart.
    fn same_shape(&self, other: &Self) -> bool {
        self.wildcard == other.wildcard
            && self.segments.len() == other.segments.len()
            && self
                .segments
                .iter()
                .zip(&other.segments)
                .all(|(a, b)| match (a, b) {
                    (Segment::Literal(x), Segment::Literal(y)) => x == y,
                    (Segment::Param(_), Segment::Param(_)) => true,
                    _ => false,
                })
    }
}

/// A successful match.
#[derive(Debug)]
pub struct RouteMatch<'a, T> {
    pub target: &'a T,
    pub route: &'a RoutePattern,
    /// The part of the path below a wildcard route, `""` for exact routes.
    pub path_info: String,
    /// `:name` values in route order.
    pub params: Vec<(String, String)>,
}

/// Routes in precedence order.
#[derive(Debug)]
pub struct Router<T> {
    routes: Vec<(RoutePattern, T)>,
}

impl<T> Router<T> {
    /// Builds a router; fails on two routes of the same shape, naming both.
    pub fn new(routes: Vec<(RoutePattern, T)>) -> Result<Self, String> {
        for (i, (a, _)) in routes.iter().enumerate() {
            if let Some((b, _)) = routes[..i].iter().find(|(b, _)| b.same_shape(a)) {
                return Err(format!("route {:?} duplicates route {:?}", a.raw, b.raw));
            }
        }
        let mut routes = routes;
        routes.sort_by(|(a, _), (b, _)| a.precedence(b));
        Ok(Self { routes })
    }

    /// The most specific route matching `path`, if any.
    pub fn route(&self, path: &str) -> Option<RouteMatch<'_, T>> {
        self.routes.iter().find_map(|(pattern, target)| {
            pattern.matches(path).map(|(path_info, params)| RouteMatch {
                target,
                route: pattern,
                path_info,
                params,
            })
        })
    }

    pub fn routes(&self) -> impl Iterator<Item = (&RoutePattern, &T)> {
        self.routes.iter().map(|(p, t)| (p, t))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn router(routes: &[&str]) -> Router<String> {
        Router::new(
            routes
                .iter()
                .map(|r| (RoutePattern::parse(r).unwrap(), r.to_string()))
                .collect(),
        )
        .unwrap()
    }

    #[test]
    fn matching_table() {
        let r = router(&[
            "/upload",
            "/upload/:id",
            "/images/...",
            "/images/:id/meta",
            "/resize/:options/...",
            "/resize/presets",
            "/...",
        ]);
        // (path, route, path-info)
        let table = [
            ("/upload", "/upload", ""),
            ("/upload/abc", "/upload/:id", ""),
            ("/upload/abc/x", "/...", "/upload/abc/x"),
            ("/images", "/images/...", ""),
            ("/images/42", "/images/...", "/42"),
            ("/images/42/meta", "/images/:id/meta", ""),
            ("/images/42/meta/x", "/images/...", "/42/meta/x"),
            ("/resize/w=1/abc", "/resize/:options/...", "/abc"),
            ("/resize/presets", "/resize/presets", ""),
            ("/", "/...", ""),
            ("/other", "/...", "/other"),
        ];
        for (path, route, info) in table {
            let m = r
                .route(path)
                .unwrap_or_else(|| panic!("{path} did not match"));
            assert_eq!(
                (m.target.as_str(), m.path_info.as_str()),
                (route, info),
                "path {path}"
            );
        }
    }

    #[test]
    fn no_match_without_catch_all() {
        let r = router(&["/upload", "/images/..."]);
        assert!(r.route("/nope").is_none());
        assert!(r.route("/upload/").is_none());
        assert!(r.route("/imagesx").is_none());
    }

    #[test]
    fn params_and_component_route() {
        let r = router(&["/images/:id/..."]);
        let m = r.route("/images/42/thumb/small").unwrap();
        assert_eq!(m.params, vec![("id".to_string(), "42".to_string())]);
        assert_eq!(m.path_info, "/thumb/small");
        assert_eq!(m.route.component_route(), "/images/:id");
        assert_eq!(m.route.raw(), "/images/:id/...");
        assert!(
            r.route("/images//x").is_none(),
            "a :name needs a non-empty segment"
        );
    }

    #[test]
    fn longest_wildcard_wins() {
        let r = router(&["/a/...", "/a/b/..."]);
        assert_eq!(r.route("/a/b/c").unwrap().target, "/a/b/...");
        assert_eq!(r.route("/a/c").unwrap().target, "/a/...");
    }

    #[test]
    fn bad_routes_are_rejected() {
        for bad in [
            "nope",
            "/a/.../b",
            "/a/:",
            "/a//b",
            "/.well-known/spin/info",
        ] {
            assert!(
                RoutePattern::parse(bad).is_err(),
                "{bad} should be rejected"
            );
        }
        let dup = Router::new(vec![
            (RoutePattern::parse("/a/:x").unwrap(), ()),
            (RoutePattern::parse("/a/:y").unwrap(), ()),
        ]);
        assert!(dup.unwrap_err().contains("duplicates"));
    }

    #[test]
    fn root_routes() {
        let r = router(&["/"]);
        assert!(r.route("/").is_some());
        assert!(r.route("/x").is_none());
        assert_eq!(RoutePattern::parse("/...").unwrap().component_route(), "/");
    }
}
