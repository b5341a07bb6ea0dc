//! `allowed_outbound_hosts`: which hosts a component may send HTTP requests
//! to, in Spin's syntax (`https://api.example.com`, `https://*.example.com:8443`,
//! `*://localhost:*`, `*://*:*`). Nothing is allowed when the list is empty.

/// A component's outbound allow-list, parsed once at start-up.
#[derive(Debug, Clone, Default)]
pub struct OutboundPolicy {
    rules: Vec<Rule>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Rule {
    /// `None` for `*`.
    scheme: Option<String>,
    host: HostPattern,
    port: PortPattern,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum HostPattern {
    Any,
    /// `*.example.com`: any subdomain, not the apex.
    Subdomain(String),
    Exact(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum PortPattern {
    Any,
    /// No port given: the scheme's default port.
    Default,
    Exact(u16),
}

impl OutboundPolicy {
    /// Parses the list; the error names the entry.
    pub fn parse(entries: &[String]) -> Result<Self, String> {
        let rules = entries
            .iter()
            .map(|e| Rule::parse(e))
            .collect::<Result<_, _>>()?;
        Ok(Self { rules })
    }

    /// Whether a request to `scheme://host:port` is allowed.
    pub fn allows(&self, scheme: &str, host: &str, port: Option<u16>) -> bool {
        let host = host.to_ascii_lowercase();
        self.rules.iter().any(|r| r.allows(scheme, &host, port))
    }
}

impl Rule {
    fn parse(entry: &str) -> Result<Self, String> {
        let bad = |why: &str| format!("allowed_outbound_hosts entry {entry:?}: {why}");
        if entry.contains("{{") {
            return Err(bad("variable templates are not supported by edgeimg"));
        }
        let (scheme, rest) = entry
            .split_once("://")
            .ok_or_else(|| bad("expected scheme://host[:port]"))?;
        let rest = rest.trim_end_matches('/');
        if rest.contains('/') {
            return Err(bad("a path is not allowed"));
        }
        let (host, port) = match rest.rsplit_once(':') {
            Some((host, "*")) => (host, PortPattern::Any),
            Some((host, port)) => (
                host,
                PortPattern::Exact(port.parse().map_err(|_| bad("bad port"))?),
            ),
            None => (rest, PortPattern::Default),
        };
        let host = match host {
            "*" => HostPattern::Any,
            h if h.starts_with("*.") && h.len() > 2 => {
                HostPattern::Subdomain(h[1..].to_ascii_lowercase())
            }
            "" => return Err(bad("missing host")),
            h if h.contains('*') => {
                return Err(bad(
                    "'*' is only allowed as the whole host or a leading '*.'",
                ))
            }
            h => HostPattern::Exact(h.to_ascii_lowercase()),
        };
        let scheme = match scheme {
            "*" => None,
            "http" | "https" => Some(scheme.to_string()),
            _ => return Err(bad("scheme must be http, https or *")),
        };
        Ok(Self { scheme, host, port })
    }

    fn allows(&self, scheme: &str, host: &str, port: Option<u16>) -> bool {
        let scheme_ok = self.scheme.as_deref().is_none_or(|s| s == scheme);
        let host_ok = match &self.host {
            HostPattern::Any => true,
            HostPattern::Subdomain(suffix) => host.ends_with(suffix.as_str()),
            HostPattern::Exact(h) => h == host,
        };
        let default_port = match scheme {
            "https" => 443,
            _ => 80,
        };
        let port_ok = match self.port {
            PortPattern::Any => true,
            PortPattern::Default => port.unwrap_or(default_port) == default_port,
            PortPattern::Exact(p) => port.unwrap_or(default_port) == p,
        };
        scheme_ok && host_ok && port_ok
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(entries: &[&str]) -> OutboundPolicy {
        OutboundPolicy::parse(&entries.iter().map(|e| e.to_string()).collect::<Vec<_>>()).unwrap()
    }

    #[test]
    fn matching_table() {
        let p = policy(&[
            "https://api.example.com",
            "https://*.cdn.example:8443",
            "*://localhost:*",
        ]);
        let table = [
            ("https", "api.example.com", None, true),
            ("https", "API.example.com", Some(443), true),
            ("http", "api.example.com", None, false),
            ("https", "api.example.com", Some(8443), false),
            ("https", "a.cdn.example", Some(8443), true),
            ("https", "cdn.example", Some(8443), false),
            ("https", "a.cdn.example", None, false),
            ("http", "localhost", Some(3000), true),
            ("https", "evil.com", None, false),
        ];
        for (scheme, host, port, allowed) in table {
            assert_eq!(
                p.allows(scheme, host, port),
                allowed,
                "{scheme}://{host}:{port:?}"
            );
        }
        assert!(policy(&["*://*:*"]).allows("http", "anything", Some(1)));
        assert!(!policy(&[]).allows("https", "example.com", None));
    }

    #[test]
    fn bad_entries_are_named() {
        for bad in [
            "example.com",
            "ftp://x",
            "https://a*b.com",
            "https://x/path",
            "https://{{ host }}",
            "https://x:port",
        ] {
            let e = OutboundPolicy::parse(&[bad.to_string()]).unwrap_err();
            assert!(e.contains(bad), "{e}");
        }
    }
}
