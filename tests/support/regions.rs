//! Deployments of several regions for the end-to-end tests: each region one
//! real `edgeimg up` on 127.0.0.1 with its own data dir and runtime config,
//! its peers as the topology says; and the signed peer-API requests that
//! ask a region what it holds in its own store (never pulling).
//!
//! ```ignore
//! #[path = "support/regions.rs"]
//! mod regions;
//! let regions = regions::topology(&[("e1", &["h"]), ("h", &["e1", "e2"]), ("e2", &["h"])], "");
//! ```

#![allow(dead_code)]

use std::collections::HashMap;
use std::time::{Duration, Instant};

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

use crate::services::free_port;
use crate::support::{app_manifest, Host, HostBuilder, Response, TempDir};

/// The deployment's replication key in every test.
pub const KEY: &str = "test-replication-key-0123456789abcdef";

/// A region of a test deployment: its port, data dir and runtime config.
pub struct Region {
    pub name: String,
    pub port: u16,
    pub data: TempDir,
    pub config: String,
}

impl Region {
    pub fn builder(&self) -> HostBuilder {
        HostBuilder::new(app_manifest())
            .port(self.port)
            .data_dir(self.data.path())
            .arg("--region")
            .arg(&self.name)
            .arg("--runtime-config-file")
            .arg(&self.config)
    }

    pub fn start(&self) -> Host {
        self.builder().start()
    }

    /// The path of `key` in this region's `fs` store of images.
    pub fn stored(&self, key: &str) -> std::path::PathBuf {
        self.data.path().join("images").join(format!("{key}~"))
    }
}

/// Regions named in `links` (region, the peers it lists), in that order.
/// `extra` goes into every `[replication]`; `port_of(region, peer)` may
/// point a peer entry elsewhere (e.g. a proxy, or a port nobody listens on).
pub fn topology_with(
    links: &[(&str, &[&str])],
    extra: &str,
    port_of: impl Fn(&str, &str, u16) -> u16,
) -> Vec<Region> {
    let ports: HashMap<&str, u16> = links.iter().map(|(name, _)| (*name, free_port())).collect();
    links
        .iter()
        .map(|(name, peers)| {
            let data = TempDir::new(&format!("region-{name}"));
            let mut text = format!("[replication]\nkey = \"{KEY}\"\n{extra}\n");
            for peer in *peers {
                let port = port_of(name, peer, ports[peer]);
                text += &format!(
                    "[[replication.peers]]\nregion = \"{peer}\"\nurl = \"http://127.0.0.1:{port}\"\n"
                );
            }
            let config = data.path().join("runtime-config.toml");
            std::fs::write(&config, text).unwrap();
            Region {
                name: name.to_string(),
                port: ports[name],
                config: config.to_string_lossy().into_owned(),
                data,
            }
        })
        .collect()
}

/// [`topology_with`] with every peer at its own port.
pub fn topology(links: &[(&str, &[&str])], extra: &str) -> Vec<Region> {
    topology_with(links, extra, |_, _, port| port)
}

/// A peer API request signed for `signed_path` at `time` and sent to `path`,
/// with `extra` headers.
pub fn signed(
    host: &Host,
    method: &str,
    path: &str,
    signed_path: &str,
    body: &[u8],
    time: i64,
    extra: &[(&str, &str)],
) -> Response {
    let content = hex::encode(Sha256::digest(body));
    signed_content(host, method, path, signed_path, &content, body, time, extra)
}

/// [`signed`] with the body summarized as `content` (the
/// `x-edgeimg-content-sha256` header), e.g. a batch's digest by id.
#[allow(clippy::too_many_arguments)]
pub fn signed_content(
    host: &Host,
    method: &str,
    path: &str,
    signed_path: &str,
    content: &str,
    body: &[u8],
    time: i64,
    extra: &[(&str, &str)],
) -> Response {
    let mut mac = Hmac::<Sha256>::new_from_slice(KEY.as_bytes()).unwrap();
    mac.update(format!("{method}\n{signed_path}\n{time}\n{content}").as_bytes());
    let signature = hex::encode(mac.finalize().into_bytes());
    let time = time.to_string();
    let mut headers = vec![
        ("x-edgeimg-time", time.as_str()),
        ("x-edgeimg-content-sha256", content),
        ("x-edgeimg-signature", signature.as_str()),
    ];
    headers.extend_from_slice(extra);
    host.request(method, path, &headers, body)
}

/// A peer API request signed as another region of the deployment signs it.
pub fn peer_request(host: &Host, method: &str, path: &str, body: &[u8], time: i64) -> Response {
    signed(host, method, path, path, body, time, &[])
}

pub fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// Whether `host` holds `orig/{id}` in its own store (no pull), checking
/// that what it holds hashes to the id.
pub fn holds(host: &Host, id: &str) -> bool {
    holds_key(host, &format!("orig/{id}"))
}

/// Whether `host` holds `key` of `images` in its own store (no pull).
pub fn holds_key(host: &Host, key: &str) -> bool {
    let r = peer_request(
        host,
        "GET",
        &format!(
            "/.well-known/edgeimg/objects/images/{}",
            key.replace('/', "%2F")
        ),
        b"",
        now(),
    );
    match r.status {
        200 => {
            if let Some(id) = key.strip_prefix("orig/") {
                assert_eq!(
                    hex::encode(Sha256::digest(&r.body)),
                    id,
                    "a replicated original keeps its bytes"
                );
            }
            true
        }
        404 => false,
        other => panic!("peer GET: {other} {}", r.text()),
    }
}

/// Waits up to `secs` for `check`, polling.
pub fn eventually(secs: u64, what: &str, mut check: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while !check() {
        assert!(Instant::now() < deadline, "timed out waiting until {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Changes `host` has logged that `peer` does not have yet.
pub fn backlog(host: &Host, peer: &str) -> f64 {
    host.metric(&format!("edgeimg_replication_backlog{{peer=\"{peer}\"}}"))
}

/// Pull-through requests `host` made, of any peer and outcome.
pub fn pulls(host: &Host) -> f64 {
    host.get("/metrics")
        .text()
        .lines()
        .filter(|l| l.starts_with("edgeimg_replication_pulls_total"))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

/// Distinct small PNGs (distinct sizes, so distinct ids).
pub fn images(n: usize) -> Vec<Vec<u8>> {
    (0..n)
        .map(|i| edgeimg_common::testdata::png_with(16 + i as u32, 12, true))
        .collect()
}
