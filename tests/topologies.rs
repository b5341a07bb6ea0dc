//! End-to-end tests of relay (issue 25): regions that do not list each
//! other still converge through the ones between them — a chain, and edge
//! regions that list only their hub — and a miss pulls through the hub,
//! which pulls onward once. Real `edgeimg up` processes on 127.0.0.1.
//!
//! Whether a region holds a key is asked through the signed peer API
//! (answered from its own store only), so nothing here reads through a
//! component of a region that should receive the change by delivery.

#[path = "support/regions.rs"]
mod regions;
#[path = "support/services.rs"]
mod services;
#[path = "support/mod.rs"]
mod support;

use regions::{
    backlog, eventually, holds, holds_key, images, now, peer_request, pulls, topology,
    topology_with, Region,
};
use services::free_port;
use support::Host;

fn host(hosts: &[Option<Host>], i: usize) -> &Host {
    hosts[i].as_ref().expect("running")
}

fn start(regions: &[Region]) -> Vec<Host> {
    regions.iter().map(Region::start).collect()
}

#[test]
fn an_upload_and_a_delete_travel_the_length_of_a_chain() {
    // a - b - c: a and c know only b.
    let regions = topology(&[("a", &["b"]), ("b", &["a", "c"]), ("c", &["b"])], "");
    let hosts = start(&regions);
    let (a, c) = (&hosts[0], &hosts[2]);
    let id = a.upload(&images(1)[0]);
    eventually(15, "the upload in a reached c", || holds(c, &id));
    eventually(5, "its metadata reached c too", || {
        holds_key(c, &format!("meta/{id}"))
    });

    assert_eq!(c.delete(&format!("/upload/{id}"), &[]).status, 204);
    eventually(15, "the delete in c reached a", || {
        !holds(a, &id) && !holds(&hosts[1], &id)
    });
    for host in &hosts {
        assert_eq!(pulls(host), 0.0, "{}: nothing was pulled", host.addr);
    }
}

#[test]
fn hubs_pass_changes_to_every_edge_and_an_edge_back_from_an_outage_drains_its_backlog() {
    // Edges list only their hub; the hubs list each other and their edges.
    let regions = topology(
        &[
            ("e1", &["h1"]),
            ("e2", &["h1"]),
            ("h1", &["e1", "e2", "h2"]),
            ("h2", &["h1", "e3"]),
            ("e3", &["h2"]),
        ],
        "",
    );
    let mut hosts: Vec<Option<Host>> = regions.iter().map(|r| Some(r.start())).collect();

    let id = host(&hosts, 0).upload(&images(1)[0]);
    // The delete reads the metadata (to drop the listing entry): it waits
    // for that too, or e3 would rightly pull a copy not yet delivered.
    eventually(15, "the upload in e1 reached every region", || {
        (1..5).all(|i| {
            holds(host(&hosts, i), &id) && holds_key(host(&hosts, i), &format!("meta/{id}"))
        })
    });
    assert_eq!(
        host(&hosts, 4).delete(&format!("/upload/{id}"), &[]).status,
        204
    );
    eventually(15, "the delete in e3 reached every region", || {
        (0..4).all(|i| !holds(host(&hosts, i), &id))
    });

    // e3 goes away; uploads in e1 pile up at h2 (relayed from h1).
    drop(hosts[4].take());
    let ids: Vec<String> = images(12)
        .iter()
        .skip(2)
        .map(|png| host(&hosts, 0).upload(png))
        .collect();
    eventually(15, "h2 holds them and owes them to e3", || {
        ids.iter().all(|id| holds(host(&hosts, 3), id)) && backlog(host(&hosts, 3), "e3") >= 20.0
    });
    hosts[4] = Some(regions[4].start());
    eventually(15, "e3 caught up through its hub", || {
        ids.iter().all(|id| holds(host(&hosts, 4), id))
    });
    eventually(10, "h2's backlog for e3 is empty", || {
        backlog(host(&hosts, 3), "e3") == 0.0
    });
    for h in hosts.iter().flatten() {
        assert_eq!(pulls(h), 0.0, "{}: nothing was pulled", h.addr);
    }
}

#[test]
fn an_edge_pulls_through_its_hub_which_pulls_onward_once_and_no_further() {
    // e1's link to h is down (nobody listens where e1 sends), so only a
    // pull can bring e1's upload to h and e2.
    let dead = free_port();
    let regions = topology_with(
        &[("e1", &["h"]), ("h", &["e1", "e2"]), ("e2", &["h"])],
        "",
        |from, _, port| if from == "e1" { dead } else { port },
    );
    let hosts = start(&regions);
    let (e1, h, e2) = (&hosts[0], &hosts[1], &hosts[2]);
    let png = images(1).remove(0);
    let id = e1.upload(&png);

    let r = e2.get(&format!("/images/{id}"));
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.body, png);
    assert!(holds(h, &id) && holds(e2, &id), "both kept a copy");
    let hit = |host: &Host, peer: &str| {
        host.metric(&format!(
            "edgeimg_replication_pulls_total{{peer=\"{peer}\",outcome=\"hit\"}}"
        ))
    };
    assert_eq!(hit(e2, "h"), 1.0);
    assert_eq!(hit(h, "e1"), 1.0, "the hub pulled onward from e1");

    // A miss everywhere: e2 asks h, h asks e1 (not e2 again), e1 asks nobody.
    let missing = "cd".repeat(32);
    assert_eq!(e2.get(&format!("/images/{missing}")).status, 404);
    let miss = |host: &Host, peer: &str| {
        host.metric(&format!(
            "edgeimg_replication_pulls_total{{peer=\"{peer}\",outcome=\"miss\"}}"
        ))
    };
    assert_eq!(miss(e2, "h"), 1.0);
    assert_eq!(miss(h, "e1"), 1.0);
    assert_eq!(miss(h, "e2"), 0.0, "never back to the asker");
    assert_eq!(
        pulls(e1),
        0.0,
        "e1 answered from its store and went no further"
    );
    eventually(5, "h has measured its RTT to e1", || {
        let status = peer_request(h, "GET", "/.well-known/edgeimg/status", b"", now());
        status.json()["peers"][0]["rtt_ms"].is_number()
    });
}

#[test]
fn a_full_mesh_converges_without_relaying_anything() {
    let regions = topology(
        &[("a", &["b", "c"]), ("b", &["a", "c"]), ("c", &["a", "b"])],
        "",
    );
    let hosts = start(&regions);
    let ids: Vec<String> = images(3).iter().map(|png| hosts[0].upload(png)).collect();
    eventually(10, "b and c hold every upload", || {
        ids.iter()
            .all(|id| holds(&hosts[1], id) && holds(&hosts[2], id))
    });
    for host in &hosts {
        assert_eq!(
            host.metric("edgeimg_replication_relayed_total"),
            0.0,
            "{}: what a peer sent was already owed to the others by the uploader",
            host.addr
        );
    }
}

/// Every id of the listing at `host`, page by page (`limit` each), newest
/// first; each page's ids are checked to be new and in order.
fn list_all(host: &Host, limit: usize) -> Vec<String> {
    let mut ids: Vec<String> = Vec::new();
    let mut created: Vec<String> = Vec::new();
    let mut after = String::new();
    loop {
        let r = host.get(&format!("/images?limit={limit}&after={after}"));
        assert_eq!(r.status, 200, "{}", r.text());
        let page = r.json();
        let images = page["images"].as_array().unwrap();
        assert!(images.len() <= limit);
        for meta in images {
            let id = meta["id"].as_str().unwrap().to_string();
            assert!(!ids.contains(&id), "{id} listed twice");
            ids.push(id);
            created.push(meta["created"].as_str().unwrap().to_string());
        }
        match page["next"].as_str() {
            Some(next) => after = next.replace('/', "%2F"),
            None => break,
        }
    }
    let mut newest_first = created.clone();
    newest_first.sort_by(|a, b| b.cmp(a));
    assert_eq!(created, newest_first, "newest first");
    ids
}

#[test]
fn listing_pages_stay_correct_while_two_regions_upload_at_once() {
    let regions = topology(&[("a", &["b"]), ("b", &["a"])], "");
    let hosts = start(&regions);
    let pngs = images(24);
    let uploaded: Vec<String> = std::thread::scope(|scope| {
        let writers: Vec<_> = hosts
            .iter()
            .zip(pngs.chunks(12))
            .map(|(host, pngs)| {
                scope.spawn(move || pngs.iter().map(|png| host.upload(png)).collect::<Vec<_>>())
            })
            .collect();
        // Readers page through both regions while the uploads land.
        for _ in 0..5 {
            for host in &hosts {
                list_all(host, 5);
            }
        }
        writers
            .into_iter()
            .flat_map(|w| w.join().unwrap())
            .collect()
    });
    let mut expected = uploaded.clone();
    expected.sort();
    eventually(15, "both regions list all 24 uploads", || {
        hosts.iter().all(|host| {
            let mut listed = list_all(host, 7);
            listed.sort();
            listed == expected
        })
    });
    assert_eq!(
        list_all(&hosts[0], 7),
        list_all(&hosts[1], 7),
        "the same order"
    );
}
