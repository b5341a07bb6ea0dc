//! Request signatures of the peer API: HMAC-SHA256 with the deployment's
//! shared key over the method, the path and query, a timestamp and the
//! body's SHA-256, so a request cannot be forged, altered or replayed
//! outside a ±5 minute window.
//!
//! Headers: `x-edgeimg-time` (Unix seconds), `x-edgeimg-content-sha256`
//! (hex), `x-edgeimg-signature` (hex HMAC of the four lines
//! `METHOD\nPATH?QUERY\nTIME\nCONTENT_SHA256`). A batch may instead carry
//! [`BY_ID`] and a digest in which each original stands as its key, whose
//! id the receiver checks its bytes against anyway.

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

/// Prefix of an [`CONTENT_SHA256`] that digests a batch with its
/// originals named by their id (see [`super::wire::digest_by_id`]): the
/// receiver hashes each original once, against its id, rather than once
/// more for the signature. Sent only to peers whose ping says they read it.
pub const BY_ID: &str = "by-id:";

/// The SHA-256 of a whole body, as [`CONTENT_SHA256`] carries it.
pub fn body_sha256(body: &[u8]) -> String {
    hex::encode(Sha256::digest(body))
}

/// The headers that sign a request whose body `content` summarizes
/// ([`body_sha256`], or [`BY_ID`] and a batch's digest).
pub fn sign(
    key: &[u8],
    method: &str,
    path_and_query: &str,
    now: i64,
    content: String,
) -> [(&'static str, String); 3] {
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

/// The signature headers of a received request, read and within the time
/// window; the caller checks the body against [`Signed::content`] before
/// [`Signed::check`].
pub struct Signed<'a> {
    time: i64,
    /// What the sender says the body is: [`body_sha256`] or [`BY_ID`]….
    pub content: &'a str,
    signature: &'a str,
}

/// The signature headers of `headers`, if present and not stale at `now`.
pub fn signed(headers: &HeaderMap, now: i64) -> Result<Signed<'_>, Refused> {
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
    Ok(Signed {
        time,
        content,
        signature,
    })
}

impl Signed<'_> {
    /// Whether the sender held `key` and signed this method, path, time
    /// and content.
    pub fn check(&self, key: &[u8], method: &str, path_and_query: &str) -> Result<(), Refused> {
        let signature = hex::decode(self.signature).map_err(|_| Refused::Wrong)?;
        mac(key, method, path_and_query, self.time, self.content)
            .verify_slice(&signature)
            .map_err(|_| Refused::Wrong)
    }
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
            body_sha256(b"body"),
        ));
        // What the peer API does: headers, then the body, then the MAC.
        let check = |key: &[u8], method: &str, path: &str, h: &HeaderMap, body: &[u8], at: i64| {
            let claim = super::signed(h, at)?;
            if claim.content != body_sha256(body) {
                return Err(Refused::BodyMismatch);
            }
            claim.check(key, method, path)
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
