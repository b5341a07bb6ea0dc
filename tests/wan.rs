//! End-to-end tests over an emulated WAN (issue 25): every peer is reached
//! through bench/wanproxy.py, a userspace proxy that adds a round-trip time
//! and emulates packet loss as TCP sees it (these kernels have no `netem`).
//! Five regions, two hubs, links of 80–150 ms and 1 % loss converge;
//! pull-through asks the nearest peer by measured RTT, whatever the order
//! of the peers list.

#[path = "support/regions.rs"]
mod regions;
#[path = "support/services.rs"]
mod services;
#[path = "support/mod.rs"]
mod support;

use std::cell::RefCell;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

use regions::{
    eventually, holds, holds_key, images, now, peer_request, pulls, topology_with, Region,
};
use services::free_port;
use support::{repo_path, Host};

/// The proxies of one deployment; killed on drop.
struct Wan(Child);

impl Drop for Wan {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Regions that list their peers as `peers` says — (region, [(peer, RTT
/// in ms)]) — each peer reached through its own proxy with that RTT and
/// `loss`.
fn deployment(peers: &[(&str, &[(&str, u32)])], loss: f64) -> (Vec<Region>, Wan) {
    let lists: Vec<Vec<&str>> = peers
        .iter()
        .map(|(_, p)| p.iter().map(|(name, _)| *name).collect())
        .collect();
    let links: Vec<(&str, &[&str])> = peers
        .iter()
        .zip(&lists)
        .map(|((n, _), list)| (*n, list.as_slice()))
        .collect();
    let specs = RefCell::new(Vec::new());
    let regions = topology_with(&links, "", |from, to, target| {
        let rtt = peers
            .iter()
            .find(|(n, _)| *n == from)
            .and_then(|(_, list)| list.iter().find(|(p, _)| *p == to))
            .map(|(_, rtt)| *rtt)
            .unwrap();
        let port = free_port();
        specs
            .borrow_mut()
            .push(format!("{port}:{target}:{rtt}:{loss}"));
        port
    });
    let mut child = Command::new("python3")
        .arg(repo_path("bench/wanproxy.py"))
        .args(specs.into_inner())
        .stdout(Stdio::piped())
        .spawn()
        .expect("python3 runs bench/wanproxy.py");
    let mut line = String::new();
    BufReader::new(child.stdout.as_mut().unwrap())
        .read_line(&mut line)
        .unwrap();
    assert_eq!(line.trim(), "ready", "wanproxy did not start");
    (regions, Wan(child))
}

#[test]
fn five_regions_and_two_hubs_converge_over_a_lossy_wan() {
    let (regions, _wan) = deployment(
        &[
            ("e1", &[("h1", 80)]),
            ("e2", &[("h1", 100)]),
            ("h1", &[("e1", 80), ("e2", 100), ("h2", 150)]),
            ("h2", &[("h1", 150), ("e3", 120)]),
            ("e3", &[("h2", 120)]),
        ],
        0.01,
    );
    let hosts: Vec<Host> = regions.iter().map(Region::start).collect();
    let at = |name: &str| &hosts[regions.iter().position(|r| r.name == name).unwrap()];

    let pngs = images(6);
    let from_e1: Vec<String> = pngs[..4].iter().map(|p| at("e1").upload(p)).collect();
    let from_e3: Vec<String> = pngs[4..].iter().map(|p| at("e3").upload(p)).collect();
    let all: Vec<&String> = from_e1.iter().chain(&from_e3).collect();
    // With its metadata: the delete below reads that (to drop the listing
    // entry), and would rightly pull a copy not yet delivered.
    eventually(30, "every region holds every upload", || {
        hosts.iter().all(|h| {
            all.iter()
                .all(|id| holds(h, id) && holds_key(h, &format!("meta/{id}")))
        })
    });
    let gone = &from_e1[0];
    assert_eq!(at("e2").delete(&format!("/upload/{gone}"), &[]).status, 204);
    eventually(30, "the delete in e2 reached every region", || {
        hosts.iter().all(|h| !holds(h, gone))
    });
    for h in &hosts {
        assert_eq!(pulls(h), 0.0, "{}: delivered, not pulled", h.addr);
    }
}

#[test]
fn pull_through_asks_the_nearest_peer_by_measured_rtt() {
    // x lists `far` before `near`; both hold the image; nobody lists x, so
    // nothing is delivered to it: a read there pulls.
    let (regions, _wan) = deployment(
        &[
            ("x", &[("far", 150), ("near", 20)]),
            ("far", &[("near", 20)]),
            ("near", &[("far", 20)]),
        ],
        0.0,
    );
    let hosts: Vec<Host> = regions.iter().map(Region::start).collect();
    let (x, far, near) = (&hosts[0], &hosts[1], &hosts[2]);
    let png = images(1).remove(0);
    let id = near.upload(&png);
    eventually(10, "far holds it", || holds(far, &id));
    eventually(10, "x has measured both RTTs", || {
        let status = peer_request(x, "GET", "/.well-known/edgeimg/status", b"", now()).json();
        let rtt = |i: usize| status["peers"][i]["rtt_ms"].as_f64();
        matches!((rtt(0), rtt(1)), (Some(far), Some(near)) if far > 100.0 && near < 100.0)
    });
    assert!(!holds(x, &id));
    let r = x.get(&format!("/images/{id}"));
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.body, png);
    let hit = |peer: &str| {
        x.metric(&format!(
            "edgeimg_replication_pulls_total{{peer=\"{peer}\",outcome=\"hit\"}}"
        ))
    };
    assert_eq!((hit("near"), hit("far")), (1.0, 0.0), "the nearest first");
}
