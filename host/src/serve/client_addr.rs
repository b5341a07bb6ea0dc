//! The client's address behind load balancers: `X-Forwarded-For` is believed
//! only when the connection comes from a trusted proxy (`[forwarded]` in the
//! runtime config), so logs and components (`spin-client-addr`) see the
//! client rather than the proxy, and nobody else can claim an address.
//!
//! ```toml
//! [forwarded]
//! trusted_proxies = ["127.0.0.1", "10.0.0.0/8", "fd00::/8"]
//! ```
//!
//! The list is read right to left, skipping trusted hops (as nginx's
//! `real_ip_recursive on`): the first untrusted address is the client's. A
//! forwarded address has no port, so the client address carries port 0.

use std::net::{IpAddr, SocketAddr};

use anyhow::{bail, Context, Result};
use http::HeaderMap;
use serde::Deserialize;

/// `[forwarded]` as written.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ForwardedSection {
    /// Addresses or CIDR ranges of proxies whose `X-Forwarded-For` is believed.
    pub trusted_proxies: Vec<String>,
}

/// One trusted address or range.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Net {
    addr: IpAddr,
    prefix: u8,
}

impl Net {
    fn parse(text: &str) -> Result<Self> {
        let (addr, prefix) = match text.split_once('/') {
            Some((addr, prefix)) => (addr, Some(prefix)),
            None => (text, None),
        };
        let addr: IpAddr = addr
            .trim()
            .parse()
            .with_context(|| format!("{text:?} is not an IP address or CIDR range"))?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            None => max,
            Some(p) => match p.trim().parse::<u8>() {
                Ok(p) if p <= max => p,
                _ => bail!("{text:?}: the prefix length must be 0 to {max}"),
            },
        };
        Ok(Net { addr, prefix })
    }

    fn contains(&self, ip: IpAddr) -> bool {
        let bits = |ip: IpAddr| -> u128 {
            match ip {
                IpAddr::V4(v4) => u128::from(u32::from(v4)) << 96,
                IpAddr::V6(v6) => u128::from(v6),
            }
        };
        if self.addr.is_ipv4() != ip.is_ipv4() {
            return false;
        }
        let mask = if self.prefix == 0 {
            0
        } else {
            u128::MAX << (128 - u32::from(self.prefix))
        };
        bits(self.addr) & mask == bits(ip) & mask
    }
}

/// The proxies whose `X-Forwarded-For` this host believes.
#[derive(Debug, Clone, Default)]
pub struct TrustedProxies {
    nets: Vec<Net>,
}

impl TrustedProxies {
    /// Checks every entry, so a typo stops the host naming it.
    pub fn from_section(section: ForwardedSection) -> Result<Self> {
        let nets = section
            .trusted_proxies
            .iter()
            .map(|entry| Net::parse(entry))
            .collect::<Result<_>>()
            .context("[forwarded] `trusted_proxies`")?;
        Ok(Self { nets })
    }

    fn trusts(&self, ip: IpAddr) -> bool {
        let ip = ip.to_canonical();
        self.nets.iter().any(|net| net.contains(ip))
    }

    /// The client of a request that arrived from `peer` with `headers`.
    pub fn client(&self, peer: SocketAddr, headers: &HeaderMap) -> SocketAddr {
        if !self.trusts(peer.ip()) {
            return peer;
        }
        let mut client = None;
        let hops = headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .collect::<Vec<_>>();
        for hop in hops.iter().rev() {
            let Some(ip) = parse_hop(hop) else { break };
            client = Some(ip);
            if !self.trusts(ip) {
                break;
            }
        }
        client.map_or(peer, |ip| SocketAddr::new(ip.to_canonical(), 0))
    }
}

/// One `X-Forwarded-For` entry: an address, possibly with a port.
fn parse_hop(hop: &str) -> Option<IpAddr> {
    let hop = hop.trim();
    hop.parse::<IpAddr>()
        .ok()
        .or_else(|| hop.parse::<SocketAddr>().ok().map(|s| s.ip()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn trusted(list: &[&str]) -> TrustedProxies {
        TrustedProxies::from_section(ForwardedSection {
            trusted_proxies: list.iter().map(|s| s.to_string()).collect(),
        })
        .unwrap()
    }

    fn client(t: &TrustedProxies, peer: &str, xff: &[&str]) -> String {
        let mut headers = HeaderMap::new();
        for value in xff {
            headers.append("x-forwarded-for", value.parse().unwrap());
        }
        t.client(peer.parse().unwrap(), &headers).to_string()
    }

    #[test]
    fn believes_forwarded_addresses_only_from_trusted_proxies() {
        let t = trusted(&["10.0.0.0/8", "192.0.2.1", "fd00::/8"]);
        let cases = [
            ("10.1.2.3:5000", vec!["203.0.113.7"], "203.0.113.7:0"),
            (
                "198.51.100.9:5000",
                vec!["203.0.113.7"],
                "198.51.100.9:5000",
            ),
            ("10.1.2.3:5000", vec![], "10.1.2.3:5000"),
            // Trusted hops are skipped; what the client wrote before them is not believed.
            (
                "10.1.2.3:5000",
                vec!["6.6.6.6, 203.0.113.7, 192.0.2.1"],
                "203.0.113.7:0",
            ),
            (
                "10.1.2.3:5000",
                vec!["6.6.6.6", "203.0.113.7"],
                "203.0.113.7:0",
            ),
            ("10.1.2.3:5000", vec!["10.9.9.9"], "10.9.9.9:0"),
            ("10.1.2.3:5000", vec!["garbage, 10.9.9.9"], "10.9.9.9:0"),
            ("10.1.2.3:5000", vec!["garbage"], "10.1.2.3:5000"),
            ("[fd00::1]:5000", vec!["2001:db8::1"], "[2001:db8::1]:0"),
            (
                "10.1.2.3:5000",
                vec!["[2001:db8::1]:443"],
                "[2001:db8::1]:0",
            ),
            (
                "[::ffff:10.1.2.3]:5000",
                vec!["203.0.113.7"],
                "203.0.113.7:0",
            ),
        ];
        for (peer, xff, want) in cases {
            assert_eq!(client(&t, peer, &xff), want, "{peer} {xff:?}");
        }
        assert_eq!(
            client(&TrustedProxies::default(), "10.1.2.3:1", &["203.0.113.7"]),
            "10.1.2.3:1",
            "nobody is trusted by default"
        );
    }

    #[test]
    fn a_bad_entry_is_refused_naming_it() {
        for bad in ["10.0.0.0/33", "localhost", "::1/129"] {
            let e = TrustedProxies::from_section(ForwardedSection {
                trusted_proxies: vec![bad.to_string()],
            })
            .unwrap_err();
            assert!(format!("{e:#}").contains(bad), "{e:#}");
        }
        assert!(trusted(&["0.0.0.0/0"]).trusts("8.8.8.8".parse().unwrap()));
    }
}
