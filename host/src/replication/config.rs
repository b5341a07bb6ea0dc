//! `[replication]` of the runtime config: the deployment's shared key, the
//! peer regions and the other hosts of this region, checked
//! at start so a bad entry stops the host naming the field.
//!
//! ```toml
//! [replication]
//! key = "..."                    # or EDGEIMG_REPLICATION_KEY; at least 32 bytes
//! [[replication.peers]]
//! region = "us"
//! url = "https://us.img.example.com"
//! [[replication.siblings]]       # other hosts of this region (edge-cache purges)
//! url = "http://10.0.0.12:3000"
//! ```

use std::time::Duration;

use anyhow::{bail, Result};
use serde::Deserialize;

/// Environment variable that supplies (or overrides) `key`.
pub const KEY_ENV: &str = "EDGEIMG_REPLICATION_KEY";
/// Environment variable that supplies (or overrides) `previous_key`.
pub const PREVIOUS_KEY_ENV: &str = "EDGEIMG_REPLICATION_PREVIOUS_KEY";

/// The shortest key accepted, in bytes: an HMAC-SHA256 key below the hash
/// size is weaker than it looks.
pub const MIN_KEY_BYTES: usize = 32;

/// `[replication]` as written.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
pub struct ReplicationSection {
    pub key: Option<String>,
    /// The key being rotated out: still accepted on requests, never used
    /// to sign (or EDGEIMG_REPLICATION_PREVIOUS_KEY).
    pub previous_key: Option<String>,
    pub peers: Vec<PeerEntry>,
    pub siblings: Vec<SiblingEntry>,
    /// Key-value labels whose keys replicate (default `["images"]`).
    pub labels: Option<Vec<String>>,
    /// How long a tombstone is kept, in days (default 30).
    pub tombstone_days: Option<u64>,
    /// Deadline of one peer's answer to a pull-through; unset, it is sized
    /// from the peer's measured round-trip time.
    pub pull_timeout_ms: Option<u64>,
    /// How long "no peer has it" is remembered (default 5000 ms).
    pub negative_ttl_ms: Option<u64>,
    /// Deadline of one delivery request (default 10000 ms).
    pub delivery_timeout_ms: Option<u64>,
    /// Batches in flight to one peer at once (default 16; at most 32 MiB of values).
    pub delivery_concurrency: Option<usize>,
    /// A repair pass with every peer this often; 0 = only `edgeimg repair` (default 0).
    pub repair_interval_secs: Option<u64>,
    /// An integrity scrub of every original this often; 0 = only `edgeimg scrub` (default 0).
    pub scrub_interval_secs: Option<u64>,
}

/// One `[[replication.peers]]` entry.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PeerEntry {
    pub region: String,
    pub url: String,
}

/// One `[[replication.siblings]]` entry.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SiblingEntry {
    pub url: String,
}

/// A peer region, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Peer {
    pub region: String,
    /// Base URL without a trailing slash.
    pub url: String,
}

/// Replication as the host runs it.
#[derive(Debug, Clone)]
pub struct ReplicationConfig {
    /// This host's region (`edgeimg up --region`).
    pub region: String,
    pub key: Vec<u8>,
    /// Also accepted on received requests, while a new key rolls out.
    pub previous_key: Option<Vec<u8>>,
    /// As listed; pull-through asks them nearest first by measured RTT.
    pub peers: Vec<Peer>,
    /// Base URLs of the other hosts of this region.
    pub siblings: Vec<String>,
    pub labels: Vec<String>,
    pub tombstone_ttl: Duration,
    /// A fixed pull-through deadline per peer; `None` sizes it by RTT.
    pub pull_timeout: Option<Duration>,
    pub negative_ttl: Duration,
    pub delivery_timeout: Duration,
    /// Batches in flight to one peer.
    pub delivery_concurrency: usize,
    pub repair_interval: Option<Duration>,
    pub scrub_interval: Option<Duration>,
}

impl ReplicationConfig {
    /// Checks `section` for a host of `region`; `env_key` is
    /// `EDGEIMG_REPLICATION_KEY` if set. `None` when nothing replicates (no
    /// section, or one without peers and siblings).
    pub fn from_section(
        section: Option<ReplicationSection>,
        region: &str,
        env_key: Option<String>,
    ) -> Result<Option<Self>> {
        let Some(section) = section else {
            return Ok(None);
        };
        if section.peers.is_empty() && section.siblings.is_empty() {
            return Ok(None);
        }
        let key = match env_key.filter(|k| !k.is_empty()).or(section.key) {
            Some(key) => key.into_bytes(),
            None => bail!(
                "[replication] `key`: peers and siblings need the deployment's shared key (or {KEY_ENV})"
            ),
        };
        if key.len() < MIN_KEY_BYTES {
            bail!(
                "[replication] `key`: {} bytes is too short; use at least {MIN_KEY_BYTES} random bytes (e.g. `openssl rand -hex 32`)",
                key.len()
            );
        }
        let previous_key = std::env::var(PREVIOUS_KEY_ENV)
            .ok()
            .filter(|k| !k.is_empty())
            .or(section.previous_key)
            .map(String::into_bytes);
        if previous_key
            .as_ref()
            .is_some_and(|k| k.len() < MIN_KEY_BYTES)
        {
            bail!("[replication] `previous_key`: shorter than {MIN_KEY_BYTES} bytes");
        }
        let mut peers: Vec<Peer> = Vec::new();
        for (i, entry) in section.peers.into_iter().enumerate() {
            let at = format!("[[replication.peers]] #{} ({:?})", i + 1, entry.region);
            if entry.region.is_empty() {
                bail!("{at} `region`: must not be empty");
            }
            if entry.region == region {
                bail!("{at} `region`: names this host's own region (--region {region}); list only the other regions");
            }
            if peers.iter().any(|p| p.region == entry.region) {
                bail!("{at} `region`: listed twice");
            }
            let url = check_url(&entry.url).map_err(|e| anyhow::anyhow!("{at} `url`: {e}"))?;
            peers.push(Peer {
                region: entry.region,
                url,
            });
        }
        let mut siblings = Vec::new();
        for (i, entry) in section.siblings.into_iter().enumerate() {
            let url = check_url(&entry.url)
                .map_err(|e| anyhow::anyhow!("[[replication.siblings]] #{} `url`: {e}", i + 1))?;
            siblings.push(url);
        }
        let labels = section.labels.unwrap_or_else(|| vec!["images".to_string()]);
        if labels.is_empty() {
            bail!(
                "[replication] `labels`: name at least one key-value label (default [\"images\"])"
            );
        }
        let ms = |v: Option<u64>, default: u64| Duration::from_millis(v.unwrap_or(default).max(1));
        Ok(Some(Self {
            region: region.to_string(),
            key,
            previous_key,
            peers,
            siblings,
            labels,
            tombstone_ttl: Duration::from_secs(section.tombstone_days.unwrap_or(30) * 86_400),
            pull_timeout: section
                .pull_timeout_ms
                .map(|v| Duration::from_millis(v.max(1))),
            negative_ttl: ms(section.negative_ttl_ms, 5_000),
            delivery_timeout: ms(section.delivery_timeout_ms, 10_000),
            delivery_concurrency: section.delivery_concurrency.unwrap_or(16).max(1),
            repair_interval: section
                .repair_interval_secs
                .filter(|s| *s > 0)
                .map(Duration::from_secs),
            scrub_interval: section
                .scrub_interval_secs
                .filter(|s| *s > 0)
                .map(Duration::from_secs),
        }))
    }
}

/// An `http://` or `https://` URL with a host; returned without a trailing `/`.
fn check_url(url: &str) -> Result<String> {
    let parsed: http::Uri = url
        .parse()
        .map_err(|e| anyhow::anyhow!("{url:?} is not a URL: {e}"))?;
    match parsed.scheme_str() {
        Some("http" | "https") => {}
        _ => bail!("{url:?} must start with http:// or https://"),
    }
    if parsed.host().is_none_or(str::is_empty) {
        bail!("{url:?} has no host");
    }
    if parsed.query().is_some() {
        bail!("{url:?} must not have a query");
    }
    Ok(url.trim_end_matches('/').to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "0123456789abcdef0123456789abcdef";

    fn parse(text: &str) -> Result<Option<ReplicationConfig>> {
        let raw: toml::Table = toml::from_str(text).unwrap();
        let section: Option<ReplicationSection> = raw
            .get("replication")
            .map(|v| v.clone().try_into().unwrap());
        ReplicationConfig::from_section(section, "eu", None)
    }

    fn error(text: &str) -> String {
        format!("{:#}", parse(text).unwrap_err())
    }

    #[test]
    fn a_valid_section_is_read_with_defaults() {
        let config = parse(&format!(
            "[replication]\nkey = \"{KEY}\"\n[[replication.peers]]\nregion = \"us\"\nurl = \"http://127.0.0.1:9/\"\n"
        ))
        .unwrap()
        .unwrap();
        assert_eq!(config.peers[0].url, "http://127.0.0.1:9");
        assert_eq!(config.labels, vec!["images"]);
        assert_eq!(config.tombstone_ttl, Duration::from_secs(30 * 86_400));
    }

    #[test]
    fn without_peers_nothing_replicates() {
        assert!(parse("").unwrap().is_none());
        assert!(parse(&format!("[replication]\nkey = \"{KEY}\"\n"))
            .unwrap()
            .is_none());
    }

    #[test]
    fn bad_config_fails_naming_the_field() {
        let peer = |region: &str, url: &str| {
            format!("[[replication.peers]]\nregion = \"{region}\"\nurl = \"{url}\"\n")
        };
        let with_key = |rest: &str| format!("[replication]\nkey = \"{KEY}\"\n{rest}");
        assert!(error(&with_key(&peer("eu", "http://a"))).contains("own region"));
        let twice = format!("{}{}", peer("us", "http://a"), peer("us", "http://b"));
        assert!(error(&with_key(&twice)).contains("listed twice"));
        assert!(error(&with_key(&peer("us", "ftp://a"))).contains("`url`"));
        assert!(error(&with_key(&peer("us", "not a url"))).contains("`url`"));
        let keyless = format!("[replication]\n{}", peer("us", "http://a"));
        assert!(error(&keyless).contains("`key`"));
        let short = format!("[replication]\nkey = \"short\"\n{}", peer("us", "http://a"));
        assert!(error(&short).contains("too short"));
    }

    #[test]
    fn the_environment_supplies_the_key() {
        let section = ReplicationSection {
            peers: vec![PeerEntry {
                region: "us".into(),
                url: "http://a".into(),
            }],
            ..Default::default()
        };
        let config = ReplicationConfig::from_section(Some(section), "eu", Some(KEY.into()))
            .unwrap()
            .unwrap();
        assert_eq!(config.key, KEY.as_bytes());
    }
}
