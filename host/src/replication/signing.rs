//! Request signatures of the peer API: HMAC-SHA256 with the deployment's
//! shared key over the method, the path and query, a timestamp and the
//! body's SHA-256, so a request cannot be forged, altered or replayed
//! outside a ±5 minute window.
//!
//! Headers: `x-edgeimg-time` (Unix seconds), `x-edgeimg-content-sha256`
//! (hex), `x-edgeimg-signature` (hex HMAC of the four lines
//! `METHOD\nPATH?QUERY\nTIME\nCONTENT_SHA256`).

use hmac::{Hmac, Mac};
use http::HeaderMap;
use sha2::{Digest, Sha256};

pub const TIME: &str = "x-edgeimg-time";
pub const CONTENT_SHA256: &str = "x-edgeimg-content-sha256";
pub const SIGNATURE: &str = "x-edgeimg-signature";

/// How far a request's time may be from ours.
pub const WINDOW_SECS: i64 = 300;

type HmacSha256 = Hmac<Sha256>;

/// Why a request was refused (each becomes a 401 with its own message).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refused {
    #[error(
        "the request is not signed (x-edgeimg-signature, x-edgeimg-time, x-edgeimg-content-sha256)"
    )]
    Missing,
    #[error("the request's time is outside ±{WINDOW_SECS} s of this host's clock")]
    Stale,
    #[error("the body does not match x-edgeimg-content-sha256")]
    BodyMismatch,
    #[error("the signature does not match (wrong replication key?)")]
    Wrong,
}

/// The headers that sign a request.
pub fn sign(
    key: &[u8],
    method: &str,
    path_and_query: &str,
    now: i64,
    body: &[u8],
) -> [(&'static str, String); 3] {
    let content = hex::encode(Sha256::digest(body));
    let signature = hex::encode(
        mac(key, method, path_and_query, now, &content)
            .finalize()
            .into_bytes(),
    );
    [
        (TIME, now.to_string()),
        (CONTENT_SHA256, content),
        (SIGNATURE, signature),
    ]
}

/// Checks a received request signed by [`sign`].
pub fn verify(
    key: &[u8],
    method: &str,
    path_and_query: &str,
    headers: &HeaderMap,
    body: &[u8],
    now: i64,
) -> Result<(), Refused> {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let (Some(time), Some(content), Some(signature)) =
        (header(TIME), header(CONTENT_SHA256), header(SIGNATURE))
    else {
        return Err(Refused::Missing);
    };
    let time: i64 = time.parse().map_err(|_| Refused::Missing)?;
    if (now - time).abs() > WINDOW_SECS {
        return Err(Refused::Stale);
    }
    if hex::encode(Sha256::digest(body)) != content {
        return Err(Refused::BodyMismatch);
    }
    let signature = hex::decode(signature).map_err(|_| Refused::Wrong)?;
    mac(key, method, path_and_query, time, content)
        .verify_slice(&signature)
        .map_err(|_| Refused::Wrong)
}

fn mac(key: &[u8], method: &str, path_and_query: &str, time: i64, content: &str) -> HmacSha256 {
    let mut mac = HmacSha256::new_from_slice(key).expect("HMAC takes a key of any length");
    mac.update(format!("{method}\n{path_and_query}\n{time}\n{content}").as_bytes());
    mac
}

/// Seconds since the Unix epoch now.
pub fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &[u8] = b"0123456789abcdef0123456789abcdef";

    fn headers(pairs: &[(&'static str, String)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(*name, value.parse().unwrap());
        }
        map
    }

    #[test]
    fn signed_requests_verify_and_anything_else_is_refused() {
        let now = 1_800_000_000;
        let signed = headers(&sign(
            KEY,
            "PUT",
            "/.well-known/edgeimg/objects/x",
            now,
            b"body",
        ));
        let check = |key: &[u8], method: &str, path: &str, h: &HeaderMap, body: &[u8], at: i64| {
            verify(key, method, path, h, body, at)
        };
        let path = "/.well-known/edgeimg/objects/x";
        assert_eq!(check(KEY, "PUT", path, &signed, b"body", now), Ok(()));
        assert_eq!(check(KEY, "PUT", path, &signed, b"body", now + 299), Ok(()));
        assert_eq!(
            check(KEY, "PUT", path, &signed, b"body", now + 301),
            Err(Refused::Stale)
        );
        assert_eq!(
            check(KEY, "PUT", path, &signed, b"other", now),
            Err(Refused::BodyMismatch)
        );
        assert_eq!(
            check(KEY, "DELETE", path, &signed, b"body", now),
            Err(Refused::Wrong)
        );
        assert_eq!(
            check(KEY, "PUT", "/elsewhere", &signed, b"body", now),
            Err(Refused::Wrong)
        );
        let other_key = b"fedcba9876543210fedcba9876543210";
        assert_eq!(
            check(other_key, "PUT", path, &signed, b"body", now),
            Err(Refused::Wrong)
        );
        assert_eq!(
            check(KEY, "PUT", path, &HeaderMap::new(), b"body", now),
            Err(Refused::Missing)
        );
    }
}
