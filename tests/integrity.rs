//! End-to-end tests of integrity (issue 25): an original whose stored bytes
//! rotted (one byte flipped on disk) is never served. With a peer region it
//! is repaired from the peer's copy and served intact; without one the
//! request gets a JSON 500 naming the problem. `POST scrub` (what
//! `edgeimg scrub` sends) finds and repairs rot nobody has read yet.

#[path = "support/regions.rs"]
mod regions;
#[path = "support/services.rs"]
mod services;
#[path = "support/mod.rs"]
mod support;

use std::path::Path;

use regions::{eventually, holds, images, now, peer_request, topology};
use sha2::{Digest, Sha256};
use support::{app_manifest, corpus, HostBuilder, TempDir};

/// Flips one byte in the middle of the file at `path`.
fn rot(path: &Path) {
    let mut bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let at = bytes.len() / 2;
    bytes[at] ^= 0x20;
    std::fs::write(path, bytes).unwrap();
}

fn sha256(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

#[test]
fn a_rotted_original_is_repaired_from_a_peer_and_served_intact() {
    let regions = topology(&[("eu", &["us"]), ("us", &["eu"])], "");
    let eu = regions[0].start();
    let us = regions[1].start();
    let photo = corpus("Blinds.jpg");
    let id = eu.upload(&photo);
    eventually(10, "us holds it", || holds(&us, &id));

    // Rot on us's disk while it is down, so nothing of it is in memory.
    drop(us);
    let stored = regions[1].stored(&format!("orig/{id}"));
    rot(&stored);
    assert_ne!(sha256(&std::fs::read(&stored).unwrap()), id);
    let us = regions[1].start();

    let r = us.get(&format!("/images/{id}"));
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(sha256(&r.body), id, "served intact");
    assert_eq!(r.header("etag"), Some(format!("\"{id}\"").as_str()));
    assert_eq!(
        sha256(&std::fs::read(&stored).unwrap()),
        id,
        "the store was repaired"
    );
    assert_eq!(
        us.metric("edgeimg_replication_integrity_repairs_total{outcome=\"repaired\"}"),
        1.0
    );
    assert!(us.metric("edgeimg_kv_integrity_failures_total{store=\"images\"}") >= 1.0);
    assert!(us.logs().contains("repaired a damaged original"));
    let variant = us.get(&format!("/resize/width=64,format=png/{id}"));
    assert_eq!(variant.status, 200, "{}", variant.text());

    // Rot nobody reads: the scrub finds it (past the memory cache) and repairs it.
    let stored_eu = regions[0].stored(&format!("orig/{id}"));
    assert_eq!(
        eu.get(&format!("/images/{id}")).status,
        200,
        "now in eu's memory"
    );
    rot(&stored_eu);
    let scrub = peer_request(&eu, "POST", "/.well-known/edgeimg/scrub", b"", now());
    assert_eq!(scrub.status, 200, "{}", scrub.text());
    let report = scrub.json();
    assert_eq!(report["checked"], 1, "{report}");
    assert_eq!(report["corrupt"], 1, "{report}");
    assert_eq!(report["repaired"], 1, "{report}");
    assert_eq!(sha256(&std::fs::read(&stored_eu).unwrap()), id);
}

#[test]
fn without_peers_a_rotted_original_answers_a_json_500_naming_the_problem() {
    let data = TempDir::new("rot-alone");
    let host = HostBuilder::new(app_manifest())
        .data_dir(data.path())
        .start();
    let png = images(1).remove(0);
    let id = host.upload(&png);
    rot(&data.path().join(format!("images/orig/{id}~")));

    for path in [
        format!("/images/{id}"),
        format!("/resize/width=8,format=png/{id}"),
    ] {
        let r = host.get(&path);
        assert_eq!(r.status, 500, "{path}: {}", r.text());
        assert_eq!(r.error_code(), "integrity_error", "{path}");
        let message = r.json()["error"]["message"].as_str().unwrap().to_string();
        assert!(message.contains(&format!("orig/{id}")), "{message}");
        assert!(message.contains("do not hash to its id"), "{message}");
    }
    assert!(host.metric("edgeimg_kv_integrity_failures_total{store=\"images\"}") >= 1.0);
    assert_ne!(
        host.get(&format!("/images/{id}")).body,
        std::fs::read(data.path().join(format!("images/orig/{id}~"))).unwrap(),
        "the rotted bytes are never sent"
    );
}
