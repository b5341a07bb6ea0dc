//! End-to-end tests of replication (issue 9): real `edgeimg up` processes
//! on 127.0.0.1 as regions `eu`, `us` and `ap` (one of them on moto's S3),
//! each with its own store, killed with SIGKILL and restarted.
//!
//! Whether a region *holds* a key is asked through the signed peer API
//! (`GET /.well-known/edgeimg/objects/...`, answered from the local store
//! only), never through a component, which would pull it from a peer.

#[path = "support/regions.rs"]
mod regions;
#[path = "support/services.rs"]
mod services;
#[path = "support/mod.rs"]
mod support;

use std::net::TcpListener;
use std::time::{Duration, Instant};

use regions::{
    backlog, eventually, holds, holds_key, images, now, peer_request, signed, signed_content,
    topology, topology_with, Region, KEY,
};
use services::{free_port, MotoS3};
use sha2::{Digest, Sha256};
use support::nginx::Nginx;
use support::{app_manifest, corpus, HostBuilder, TempDir};

/// Three regions that list each other as peers; `ap` keeps its images on
/// moto's S3 when `s3` is given. `extra` goes into every `[replication]`.
fn deployment(s3: Option<&MotoS3>, extra: &str) -> Vec<Region> {
    let regions = topology(
        &[
            ("eu", &["us", "ap"]),
            ("us", &["eu", "ap"]),
            ("ap", &["eu", "us"]),
        ],
        extra,
    );
    if let Some(moto) = s3 {
        let ap = &regions[2];
        let mut text = std::fs::read_to_string(&ap.config).unwrap();
        text += &format!(
            "[key_value_store.images]\ntype = \"opendal\"\nscheme = \"s3\"\nread_cache_bytes = 0\n{}",
            moto.runtime_config_lines()
        );
        std::fs::write(&ap.config, text).unwrap();
    }
    regions
}

/// An app host of region `eu` whose runtime config is `text`, written under `dir`.
fn configured(dir: &TempDir, text: &str) -> HostBuilder {
    let rc = dir.path().join("rc.toml");
    std::fs::write(&rc, text).unwrap();
    HostBuilder::new(app_manifest())
        .args(["--region", "eu", "--runtime-config-file"])
        .arg(rc.to_string_lossy())
}

/// Peer API requests `host` answered 404 (misses asked of it).
const PEER_MISSES: &str =
    "edgeimg_http_requests_total{route=\"/.well-known/edgeimg/\",status=\"404\"}";

#[test]
fn an_upload_is_served_everywhere_at_once_and_every_region_converges() {
    let moto = MotoS3::start();
    let regions = deployment(Some(&moto), "");
    let hosts: Vec<support::Host> = regions.iter().map(Region::start).collect();
    let (eu, us, ap) = (&hosts[0], &hosts[1], &hosts[2]);
    let photo = corpus("Blinds.jpg");
    let id = eu.upload(&photo);

    // Right after the upload, before delivery can be relied on: served by
    // pull-through, the original byte for byte and a variant.
    let original = us.get(&format!("/images/{id}"));
    assert_eq!(original.status, 200, "{}", original.text());
    assert_eq!(original.body, photo);
    let variant = ap.get(&format!("/resize/width=200,format=png/{id}"));
    assert_eq!(variant.status, 200, "{}", variant.text());
    assert_eq!(&variant.body[1..4], b"PNG");

    eventually(10, "eu has delivered to us and ap", || {
        backlog(eu, "us") == 0.0 && backlog(eu, "ap") == 0.0
    });
    for host in &hosts {
        assert!(holds(host, &id), "{} holds the original", host.addr);
    }
    let meta = us.get(&format!("/images/{id}/meta"));
    assert_eq!(
        meta.json()["width"],
        eu.get(&format!("/images/{id}/meta")).json()["width"]
    );
}

#[test]
fn acknowledged_uploads_survive_kill_9_of_their_region_while_the_others_are_down() {
    let regions = deployment(None, "");
    let eu = regions[0].start();
    let ids: Vec<String> = images(5).iter().map(|png| eu.upload(png)).collect();
    // SIGKILL right after the 201s: no graceful shutdown, nothing flushed
    // but what was synced before each answer.
    eu.signal("KILL");
    eu.wait();

    let us = regions[1].start();
    let ap = regions[2].start();
    for id in &ids {
        assert!(
            !holds(&us, id) && !holds(&ap, id),
            "nothing arrived while eu was dead"
        );
    }
    let eu = regions[0].start();
    eventually(15, "us and ap hold every acknowledged upload", || {
        ids.iter().all(|id| holds(&us, id) && holds(&ap, id))
    });
    assert_eq!(backlog(&eu, "us"), 0.0);
}

#[test]
fn a_region_that_was_away_catches_up_when_it_returns() {
    let regions = deployment(None, "");
    let eu = regions[0].start();
    let us = regions[1].start();
    let ids: Vec<String> = images(4).iter().map(|png| eu.upload(png)).collect();
    eventually(10, "us has them", || ids.iter().all(|id| holds(&us, id)));
    // Each upload is several changes (original, metadata, ...).
    eventually(10, "eu's backlog for ap is visible", || {
        backlog(&eu, "ap") >= 8.0
    });

    let ap = regions[2].start();
    eventually(20, "ap caught up", || ids.iter().all(|id| holds(&ap, id)));
    eventually(10, "eu's backlog for ap is empty", || {
        backlog(&eu, "ap") == 0.0
    });
}

#[test]
fn a_delete_reaches_every_region_and_the_variants_their_edge_caches_held() {
    let regions = deployment(None, "");
    let hosts: Vec<support::Host> = regions.iter().map(Region::start).collect();
    let (eu, us, ap) = (&hosts[0], &hosts[1], &hosts[2]);
    let id = eu.upload(&images(1)[0]);
    eventually(10, "everyone has it", || {
        hosts.iter().all(|h| holds(h, &id))
    });
    let variant = format!("/resize/width=8,format=png/{id}");
    for host in [eu, ap] {
        assert_eq!(host.get(&variant).status, 200);
        let again = host.get(&variant);
        assert_eq!(
            again.header("x-cache"),
            Some("hit"),
            "the edge cache holds the variant"
        );
        assert_eq!(host.get(&format!("/images/{id}")).status, 200);
    }

    assert_eq!(us.delete(&format!("/upload/{id}"), &[]).status, 204);
    eventually(
        10,
        "eu and ap answer 404 for the original and the variant",
        || {
            [eu, ap].iter().all(|h| {
                h.get(&format!("/images/{id}")).status == 404 && h.get(&variant).status == 404
            })
        },
    );
    for host in &hosts {
        assert!(!holds(host, &id));
    }
}

#[test]
fn a_delete_while_a_region_is_away_wins_when_it_returns_and_a_reupload_works_everywhere() {
    let regions = deployment(None, "");
    let eu = regions[0].start();
    let us = regions[1].start();
    let png = images(1).remove(0);
    let id = eu.upload(&png);
    eventually(10, "us has it", || holds(&us, &id));
    assert_eq!(us.delete(&format!("/upload/{id}"), &[]).status, 204);
    eventually(10, "eu applied the delete", || {
        eu.get(&format!("/images/{id}")).status == 404
    });

    // ap returns: eu's log offers the put, us's the tombstone; the newer wins.
    let ap = regions[2].start();
    eventually(15, "eu and us delivered everything to ap", || {
        backlog(&eu, "ap") == 0.0 && backlog(&us, "ap") == 0.0
    });
    assert!(!holds(&ap, &id), "the tombstone wins over the older copy");
    assert_eq!(ap.get(&format!("/images/{id}")).status, 404);

    // Uploading the same bytes again (in ap this time) is newer than the delete.
    let r = ap.post("/upload", &[("content-type", "image/png")], &png);
    assert_eq!(r.status, 201, "{}", r.text());
    eventually(10, "the re-upload reached every region", || {
        [&eu, &us, &ap].iter().all(|h| holds(h, &id))
    });
    for host in [&eu, &us, &ap] {
        assert_eq!(host.get(&format!("/images/{id}")).body, png);
    }
}

#[test]
fn two_hosts_of_a_region_honour_each_others_deletes_at_once() {
    let shared = TempDir::new("region-shared-images");
    let (port_a, port_b) = (free_port(), free_port());
    let config = |sibling: u16| {
        let dir = TempDir::new("sibling");
        let text = format!(
            "[replication]\nkey = \"{KEY}\"\n[[replication.siblings]]\nurl = \"http://127.0.0.1:{sibling}\"\n\
             [key_value_store.images]\ntype = \"opendal\"\nroot = {:?}\n",
            shared.path().to_string_lossy()
        );
        let path = dir.path().join("rc.toml");
        std::fs::write(&path, text).unwrap();
        (dir, path.to_string_lossy().into_owned())
    };
    let ((dir_a, rc_a), (dir_b, rc_b)) = (config(port_b), config(port_a));
    let start = |port: u16, rc: &str| {
        HostBuilder::new(app_manifest())
            .port(port)
            .arg("--runtime-config-file")
            .arg(rc)
            .start()
    };
    let (a, b) = (start(port_a, &rc_a), start(port_b, &rc_b));
    let listed = |host: &support::Host| {
        host.get("/images?limit=100").json()["images"]
            .as_array()
            .unwrap()
            .len()
    };
    assert_eq!(listed(&b), 0, "b pages from its index of the shared store");
    let id = a.upload(&images(1)[0]);
    eventually(2, "b's index heard of a's upload", || listed(&b) == 1);
    let variant = format!("/resize/width=8,format=png/{id}");
    for path in [format!("/images/{id}"), variant.clone()] {
        assert_eq!(b.get(&path).status, 200);
        assert_eq!(b.get(&path).header("x-cache"), Some("hit"));
    }

    assert_eq!(a.delete(&format!("/upload/{id}"), &[]).status, 204);
    let deleted = Instant::now();
    eventually(
        1,
        "host b stops serving the deleted image from its edge cache",
        || b.get(&format!("/images/{id}")).status == 404 && b.get(&variant).status == 404,
    );
    assert!(deleted.elapsed() < Duration::from_secs(1));
    eventually(2, "and of its delete", || listed(&b) == 0);
    drop((dir_a, dir_b));
}

#[test]
fn the_peer_api_refuses_unsigned_wrongly_signed_and_stale_requests() {
    let regions = deployment(None, "");
    let eu = regions[0].start();
    let path = "/.well-known/edgeimg/status";
    assert_eq!(peer_request(&eu, "GET", path, b"", now()).status, 200);

    let unsigned = eu.get(path);
    let stale = peer_request(&eu, "GET", path, b"", now() - 600);
    let future = peer_request(&eu, "GET", path, b"", now() + 600);
    let keys = "/.well-known/edgeimg/keys?label=images";
    let other_path = signed(&eu, "GET", path, keys, b"", now(), &[]);
    for (what, r) in [
        ("unsigned", unsigned),
        ("stale", stale),
        ("from the future", future),
        ("signed for another path", other_path),
    ] {
        assert_eq!(r.status, 401, "{what}");
        assert_eq!(r.json()["error"]["code"], "unauthorized", "{what}");
    }

    // A put whose bytes do not hash to the id it names is refused.
    let put = format!(
        "/.well-known/edgeimg/objects/images/orig%2F{}",
        "0".repeat(64)
    );
    let versionless = peer_request(&eu, "PUT", &put, b"x", now());
    assert_eq!(versionless.status, 400, "{}", versionless.text());
    let version = [("x-edgeimg-version", "00000000000f0000@us")];
    let forged = signed(&eu, "PUT", &put, &put, b"x", now(), &version);
    assert_eq!(forged.status, 422, "{}", forged.text());
    assert_eq!(forged.json()["error"]["code"], "hash_mismatch");

    // This release signs the version (in the query): a header that says
    // otherwise, or a version changed after signing, is refused.
    let put_at = |clock: &str| format!("{put}?version={clock}%40us");
    let relabelled = [("x-edgeimg-version", "00000000000f0001@us")];
    let r = signed(
        &eu,
        "PUT",
        &put_at("00000000000f0000"),
        &put_at("00000000000f0000"),
        b"x",
        now(),
        &relabelled,
    );
    assert_eq!(r.status, 400, "{}", r.text());
    assert_eq!(r.json()["error"]["code"], "bad_version");
    let r = signed(
        &eu,
        "PUT",
        &put_at("00000000000f0001"),
        &put_at("00000000000f0000"),
        b"x",
        now(),
        &[],
    );
    assert_eq!(r.status, 401, "{}", r.text());
}

#[test]
fn a_peer_that_accepts_and_never_answers_does_not_slow_uploads() {
    // `ap` is a socket that accepts connections and never answers.
    let hang = TcpListener::bind("127.0.0.1:0").unwrap();
    let hang_port = hang.local_addr().unwrap().port();
    let held = std::thread::spawn(move || {
        let mut open = Vec::new();
        for stream in hang.incoming().take(64) {
            open.push(stream);
        }
    });
    let data = TempDir::new("hang-eu");
    let eu = configured(
        &data,
        &format!(
            "[replication]\nkey = \"{KEY}\"\npull_timeout_ms = 10000\ndelivery_timeout_ms = 30000\n\
             [[replication.peers]]\nregion = \"ap\"\nurl = \"http://127.0.0.1:{hang_port}\"\n"
        ),
    )
    .start();
    let started = Instant::now();
    for png in images(8) {
        eu.upload(&png);
    }
    let took = started.elapsed();
    // Any wait on the peer would cost at least one 10 s pull timeout.
    assert!(
        took < Duration::from_secs(5),
        "8 uploads took {took:?} with a hanging peer"
    );
    assert!(
        backlog(&eu, "ap") >= 1.0,
        "the changes wait for ap in the log"
    );
    drop(held);
}

#[test]
fn when_no_region_has_an_id_the_miss_asks_each_peer_once_and_goes_no_further() {
    let regions = deployment(None, "");
    let hosts: Vec<support::Host> = regions.iter().map(Region::start).collect();
    let missing = "ab".repeat(32);
    assert_eq!(hosts[0].get(&format!("/images/{missing}")).status, 404);
    for (host, peer) in [(&hosts[1], "us"), (&hosts[2], "ap")] {
        assert_eq!(host.metric(PEER_MISSES), 1.0, "{peer} was asked once");
        let onward = host
            .get("/metrics")
            .text()
            .lines()
            .filter(|l| l.starts_with("edgeimg_replication_pulls_total"))
            .count();
        assert_eq!(onward, 0, "{peer} asked nobody else");
        assert_eq!(
            hosts[0].metric(&format!(
                "edgeimg_replication_pulls_total{{peer=\"{peer}\",outcome=\"miss\"}}"
            )),
            1.0
        );
    }
    // The miss is remembered briefly: asking again costs no peer request.
    assert_eq!(hosts[0].get(&format!("/images/{missing}")).status, 404);
    assert_eq!(hosts[1].metric(PEER_MISSES), 1.0);
}

#[test]
fn bad_replication_config_stops_the_host_naming_the_field() {
    let dir = TempDir::new("bad-rc");
    for (text, expected) in [
        ("[replication]\nkey = \"short\"\n[[replication.peers]]\nregion = \"us\"\nurl = \"http://127.0.0.1:1\"\n", "too short"),
        (&*format!("[replication]\nkey = \"{KEY}\"\n[[replication.peers]]\nregion = \"eu\"\nurl = \"http://127.0.0.1:1\"\n"), "own region"),
        (&*format!("[replication]\nkey = \"{KEY}\"\n[[replication.peers]]\nregion = \"us\"\nurl = \"nope\"\n"), "`url`"),
        (&*format!("[replication]\nkey = \"{KEY}\"\npeer = 1\n"), "unknown field"),
    ] {
        let err = configured(&dir, text).start_err();
        assert!(err.contains(expected), "{expected:?} not in:\n{err}");
    }
    // Chunked originals (for hosted platforms) cannot pass a peer's hash check.
    let text = format!("[replication]\nkey = \"{KEY}\"\n[[replication.peers]]\nregion = \"us\"\nurl = \"http://127.0.0.1:1\"\n");
    let err = configured(&dir, &text)
        .env("SPIN_VARIABLE_KV_CHUNK_BYTES", "983040")
        .start_err();
    assert!(err.contains("kv_chunk_bytes"), "{err}");
}

#[test]
fn a_rotated_key_is_accepted_alongside_the_new_one_until_dropped() {
    let new_key = "new-replication-key-0123456789abcdef";
    let data = TempDir::new("rotate");
    let peers = "[[replication.peers]]\nregion = \"us\"\nurl = \"http://127.0.0.1:1\"\n";
    let path = "/.well-known/edgeimg/status";
    let rolling = format!("[replication]\nkey = \"{new_key}\"\nprevious_key = \"{KEY}\"\n{peers}");
    let eu = configured(&data, &rolling).start();
    assert_eq!(
        peer_request(&eu, "GET", path, b"", now()).status,
        200,
        "the previous key"
    );
    drop(eu);

    let rolled = format!("[replication]\nkey = \"{new_key}\"\n{peers}");
    let eu = configured(&data, &rolled).start();
    assert_eq!(
        peer_request(&eu, "GET", path, b"", now()).status,
        401,
        "dropped"
    );
}

/// nginx in front of a region: `locations` first, every other request
/// passed to the region; the access log gives each request line, status
/// and signed content summary (`x-edgeimg-content-sha256`).
fn front(listen: u16, region: u16, locations: &str) -> String {
    format!(
        r#"worker_processes 1;
pid nginx.pid;
error_log error.log warn;
events {{ worker_connections 256; }}
http {{
    log_format content '"$request" $status $http_x_edgeimg_content_sha256 $msec';
    access_log access.log content;
    client_body_temp_path tmp;
    proxy_temp_path tmp;
    client_max_body_size 64m;
    server {{
        listen 127.0.0.1:{listen};
        {locations}
        location / {{ proxy_pass http://127.0.0.1:{region}; }}
    }}
}}
"#
    )
}

/// [`front`] answering `POST batch` with 404 as a host of the release
/// before batches does, passing the per-key routes such a host has.
fn older_release_front(listen: u16, region: u16) -> String {
    front(
        listen,
        region,
        "location = /.well-known/edgeimg/batch { return 404; }",
    )
}

/// Regions eu and us peered with each other, eu reaching us through
/// `front` (an nginx the test starts there).
fn eu_and_us_behind(front: u16) -> Vec<Region> {
    topology_with(
        &[("eu", &["us"]), ("us", &["eu"])],
        "",
        |region, peer, port| {
            if (region, peer) == ("eu", "us") {
                front
            } else {
                port
            }
        },
    )
}

#[test]
fn a_peer_of_an_older_release_without_batches_still_gets_every_change() {
    let front = free_port();
    let regions = eu_and_us_behind(front);
    let nginx = Nginx::start(&older_release_front(front, regions[1].port), front);
    let eu = regions[0].start();
    let us = regions[1].start();

    let ids: Vec<String> = images(3).iter().map(|png| eu.upload(png)).collect();
    eventually(20, "us holds every upload", || {
        ids.iter().all(|id| holds(&us, id))
    });
    let deleted = eu.delete(&format!("/upload/{}", ids[0]), &[]);
    assert_eq!(deleted.status, 204, "{}", deleted.text());
    eventually(20, "the delete reached us", || !holds(&us, &ids[0]));
    eventually(10, "eu's backlog for us is empty", || {
        backlog(&eu, "us") == 0.0
    });

    let log = nginx.access_log();
    assert!(
        log.contains("\"POST /.well-known/edgeimg/batch?from=eu HTTP/1.1\" 404"),
        "a batch was tried first: {log}"
    );
    assert!(
        log.contains("\"PUT /.well-known/edgeimg/objects/images/orig%2F")
            && log.contains("\"DELETE /.well-known/edgeimg/objects/images/orig%2F"),
        "then every change went by its own route: {log}"
    );
    let batches = log.matches("POST /.well-known/edgeimg/batch").count();
    let one_by_one = log.matches("\"PUT /.well-known/edgeimg/objects/").count();
    assert!(
        batches < one_by_one,
        "the batch route is not asked again for each change ({batches} tries, {one_by_one} puts): {log}"
    );
}

#[test]
fn a_batch_signed_with_its_originals_named_by_id_is_checked_against_their_ids() {
    let regions = deployment(None, "");
    let eu = regions[0].start();
    let png = images(1).remove(0);
    let id = hex::encode(Sha256::digest(&png));
    let batch = "/.well-known/edgeimg/batch?from=us";
    // A batch of the original and its metadata whose signature covers the
    // entries and the metadata, the original standing as its id.
    let send = |on: &str, version: &str, orig: &[u8], meta: &[u8], meta_signed: &[u8]| {
        let entry = |key: String, len: usize| serde_json::json!({"label": "images", "key": key, "version": version, "op": "put", "len": len});
        let head = serde_json::to_vec(&[
            entry(format!("orig/{id}"), orig.len()),
            entry(format!("meta/{id}"), meta.len()),
        ])
        .unwrap();
        let mut body = (head.len() as u32).to_be_bytes().to_vec();
        body.extend_from_slice(&head);
        let digest = Sha256::new().chain_update(&body).chain_update(meta_signed);
        let content = format!("by-id:{}", hex::encode(digest.finalize()));
        body.extend_from_slice(orig);
        body.extend_from_slice(meta);
        signed_content(&eu, "POST", on, on, &content, &body, now(), &[])
    };
    let meta = br#"{"note":"test"}"#;

    // Metadata changed after signing: the whole batch is refused.
    let altered = send(
        batch,
        "00000000000f0000@us",
        &png,
        br#"{"note":"evil"}"#,
        meta,
    );
    assert_eq!(altered.status, 401, "{}", altered.text());
    assert!(!holds_key(&eu, &format!("meta/{id}")), "nothing was kept");

    let r = send(batch, "00000000000f0000@us", &png, meta, meta);
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(
        r.json()["results"],
        serde_json::json!(["applied", "applied"])
    );
    assert!(
        holds(&eu, &id),
        "the original is kept, its bytes hashing to the id"
    );

    // Bytes that do not hash to the id they stand for are refused, under a
    // signature that is otherwise good, and the good copy stays.
    let mut rotted = png.clone();
    let middle = rotted.len() / 2;
    rotted[middle] ^= 0x20;
    let r = send(batch, "00000000000f0001@us", &rotted, meta, meta);
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["results"][0], "refused");
    assert!(holds(&eu, &id), "the intact copy is still served");

    // Only a batch may be signed by id.
    let put =
        format!("/.well-known/edgeimg/objects/images/orig%2F{id}?version=00000000000f0002%40us");
    let r = send(&put, "00000000000f0002@us", &png, meta, meta);
    assert_eq!(r.status, 401, "{}", r.text());
}

#[test]
fn batches_are_signed_by_id_only_for_peers_whose_ping_says_they_read_it() {
    let (to_us, to_ap) = (free_port(), free_port());
    let regions = topology_with(
        &[("eu", &["us", "ap"]), ("us", &["eu"]), ("ap", &["eu"])],
        "",
        |region, peer, port| match (region, peer) {
            ("eu", "us") => to_us,
            ("eu", "ap") => to_ap,
            _ => port,
        },
    );
    let us_front = Nginx::start(&front(to_us, regions[1].port, ""), to_us);
    // A release before digests by id answers a ping without `features`.
    let older_ping = r#"location = /.well-known/edgeimg/ping {
        default_type application/json; return 200 '{"region":"ap","peer_rtt_ms":0}'; }"#;
    let ap_front = Nginx::start(&front(to_ap, regions[2].port, older_ping), to_ap);
    let eu = regions[0].start();
    let us = regions[1].start();
    let ap = regions[2].start();
    let pinged = |front: &Nginx| {
        front
            .access_log()
            .contains("\"GET /.well-known/edgeimg/ping?from=eu HTTP/1.1\" 200")
    };
    eventually(20, "eu pinged both peers", || {
        pinged(&us_front) && pinged(&ap_front)
    });

    let ids: Vec<String> = images(2).iter().map(|png| eu.upload(png)).collect();
    eventually(20, "both peers hold every upload", || {
        ids.iter().all(|id| holds(&us, id) && holds(&ap, id))
    });
    let batches = |front: &Nginx| -> Vec<String> {
        front
            .access_log()
            .lines()
            .filter(|l| l.starts_with("\"POST /.well-known/edgeimg/batch?from=eu HTTP/1.1\" 200 "))
            .map(str::to_string)
            .collect()
    };
    let (current, older) = (batches(&us_front), batches(&ap_front));
    assert!(
        current.iter().any(|l| l.contains(" by-id:")),
        "a peer of this release gets batches signed by id: {current:?}"
    );
    assert!(
        !older.is_empty() && older.iter().all(|l| !l.contains("by-id:")),
        "a peer whose ping lists no such feature gets whole-body digests: {older:?}"
    );
}

#[test]
fn a_peer_that_refuses_batches_signed_by_id_gets_them_signed_whole_at_once() {
    // us's front passes its ping (which lists digests by id) but answers
    // a batch signed by id with 401, as a host rolled back to a release
    // before them does until its next ping.
    let to_us = free_port();
    let regions = eu_and_us_behind(to_us);
    let refuses = r#"location = /.well-known/edgeimg/batch {
        if ($http_x_edgeimg_content_sha256 ~ "^by-id:") {
            return 401 '{"error":"unauthorized","message":"the body does not match x-edgeimg-content-sha256"}';
        }
        proxy_pass http://127.0.0.1:PORT; }"#
        .replace("PORT", &regions[1].port.to_string());
    let us_front = Nginx::start(&front(to_us, regions[1].port, &refuses), to_us);
    let eu = regions[0].start();
    let us = regions[1].start();
    eventually(20, "eu pinged us", || {
        us_front
            .access_log()
            .contains("\"GET /.well-known/edgeimg/ping?from=eu HTTP/1.1\" 200")
    });

    let ids: Vec<String> = images(2).iter().map(|png| eu.upload(png)).collect();
    eventually(20, "us holds every upload", || {
        ids.iter().all(|id| holds(&us, id))
    });
    let log = us_front.access_log();
    // (status, signed by id, seconds) of each batch.
    let batches: Vec<(u16, bool, f64)> = log
        .lines()
        .filter(|l| l.starts_with("\"POST /.well-known/edgeimg/batch?from=eu "))
        .map(|l| {
            let f: Vec<&str> = l.rsplitn(4, ' ').collect();
            (
                f[2].parse().unwrap(),
                f[1].starts_with("by-id:"),
                f[0].parse().unwrap(),
            )
        })
        .collect();
    let &(_, _, refused) = batches
        .iter()
        .find(|(status, by_id, _)| *status == 401 && *by_id)
        .unwrap_or_else(|| panic!("a batch signed by id was refused: {log}"));
    // Sent again signed over its body at once, not after a back-off and a
    // ping (which here would list the feature again anyway).
    assert!(
        batches.iter().any(|&(status, by_id, at)| status == 200
            && !by_id
            && (refused..refused + 1.0).contains(&at)),
        "the refused batch went again within a second, signed whole: {log}"
    );
}
