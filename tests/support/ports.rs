//! Ports for servers a test starts on 127.0.0.1 (hosts, nginx, redis,
//! moto, chromedriver) and must name before they listen.

use std::net::TcpListener;

/// A free TCP port on 127.0.0.1 for a server a test starts later.
///
/// Picked below the kernel's ephemeral range: a port from `bind(:0)` lies
/// inside it, where any client socket of the suite may take it as its local
/// port before the server listens (CI saw `Address already in use`). Each
/// port is handed out once per copy of this module.
pub fn free_port() -> u16 {
    use std::hash::BuildHasher;
    use std::sync::atomic::{AtomicU32, Ordering};
    use std::sync::OnceLock;
    static NEXT: AtomicU32 = AtomicU32::new(0);
    static START: OnceLock<u32> = OnceLock::new();
    let (low, high) = outside_ephemeral_range();
    let span = u32::from(high - low);
    // A random start, so test binaries (and two copies of this module)
    // walk different stretches of the range.
    let start = *START.get_or_init(|| {
        (std::collections::hash_map::RandomState::new().hash_one(std::process::id())
            % u64::from(span)) as u32
    });
    for _ in 0..span {
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let port = low + ((start + n) % span) as u16;
        if TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
    panic!("no free port in {low}..{high}");
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
