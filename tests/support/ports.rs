//! Ports for servers a test starts on 127.0.0.1 (hosts, nginx, redis,
//! moto, chromedriver) and must name before they listen.

use std::net::TcpListener;

/// A free TCP port on 127.0.0.1 for a server a test starts later.
///
/// Picked at random below the kernel's ephemeral range: a port from
/// `bind(:0)` lies inside it, where any client socket of the suite may take
/// it as its local port before the server listens (`Address already in
/// use` in about one run in twelve of `tests/topologies.rs`, and once in
/// CI). Each port is handed out once per copy of this module.
pub fn free_port() -> u16 {
    use std::collections::HashSet;
    use std::hash::{BuildHasher, RandomState};
    use std::sync::{Mutex, OnceLock};
    static GIVEN: Mutex<Option<HashSet<u16>>> = Mutex::new(None);
    static RANGE: OnceLock<(u16, u16)> = OnceLock::new();
    let (low, high) = *RANGE.get_or_init(outside_ephemeral_range);
    let random = RandomState::new();
    let mut given = GIVEN.lock().unwrap();
    let given = given.get_or_insert_with(HashSet::new);
    (0..10_000u32)
        .map(|attempt| {
            let offset = random.hash_one((std::process::id(), attempt)) % u64::from(high - low);
            low + offset as u16
        })
        .find(|&port| !given.contains(&port) && TcpListener::bind(("127.0.0.1", port)).is_ok())
        .inspect(|&port| {
            given.insert(port);
        })
        .unwrap_or_else(|| panic!("no free port in {low}..{high}"))
}

/// A port range no client socket is given: below the kernel's ephemeral
/// range if there is room, else above it.
fn outside_ephemeral_range() -> (u16, u16) {
    let range = std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range")
        .unwrap_or_else(|_| "32768 60999".into());
    let mut bounds = range.split_whitespace().map(|n| n.parse::<u16>().unwrap());
    let (first, last) = (bounds.next().unwrap(), bounds.next().unwrap());
    if first >= 12_000 {
        (10_000, first)
    } else {
        assert!(
            last <= 63_000,
            "no room outside the ephemeral ports {range}"
        );
        (last + 1, 65_535)
    }
}
