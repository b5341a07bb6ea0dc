//! What travels between hosts on the peer API: paths, headers and JSON
//! bodies, shared by the client and the server side so they cannot drift.
//!
//! | request | answers |
//! |---|---|
//! | `POST batch?from=REGION`, body = [`encode_batch`], signed whole or [`digest_by_id`] | `{"results":["applied"/"kept"/"needed"/"refused"]}` |
//! | `PUT objects/{label}/{key}?from=` + `x-edgeimg-version`, body = value | `{"applied":bool}` |
//! | `DELETE objects/{label}/{key}?from=` + `x-edgeimg-version` | `{"applied":bool}` |
//! | `GET objects/{label}/{key}[?from=&onward_ms=]` | 200 value + version, or 404 (+ `x-edgeimg-deleted`) |
//! | `POST versions` `[{label,key,version}]` | `{"needed":[bool]}`: which the host lacks |
//! | `GET ping` | `{"region","peer_rtt_ms","features"}` |
//! | `POST scrub` | what an integrity scrub found and repaired |
//! | `GET keys?label=&after=&limit=` | `{"entries":[{key,version,deleted}],"next":…}` |
//! | `POST invalidate` `{label,key,deleted}` | 204 (from a host of the same region) |
//! | `GET status` | region, peers, backlog, breakers |
//! | `POST repair?peer=REGION` | what a repair pass fixed |
//!
//! Paths are below [`PREFIX`]; keys are percent-encoded as one segment.
//! `from` names the sending region (a change it sends is not relayed back
//! to it); a `GET objects` with `onward_ms` may be answered by pulling
//! from the host's other peers within that many milliseconds (one hop:
//! those requests carry no `onward_ms`). Query parameters are signed with
//! the path.

use bytes::{BufMut, Bytes, BytesMut};
use percent_encoding::{percent_decode_str, utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::version::Version;
use crate::kv::integrity;

/// Where the host serves the peer API (never a component).
pub const PREFIX: &str = "/.well-known/edgeimg/";

/// The version of the value in a request or response.
pub const VERSION: &str = "x-edgeimg-version";
/// On a 404 of `GET objects/...`: the key was deleted at this version.
pub const DELETED: &str = "x-edgeimg-deleted";

/// Everything but unreserved characters is escaped, `/` included.
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// `objects/{label}/{key}` as a path.
pub fn object_path(label: &str, key: &str) -> String {
    format!(
        "{PREFIX}objects/{}/{}",
        utf8_percent_encode(label, SEGMENT),
        utf8_percent_encode(key, SEGMENT)
    )
}

/// The label and key of an `objects/{label}/{key}` path tail.
pub fn parse_object_path(tail: &str) -> Option<(String, String)> {
    let (label, key) = tail.split_once('/')?;
    let decode = |s: &str| {
        percent_decode_str(s)
            .decode_utf8()
            .ok()
            .map(|s| s.into_owned())
    };
    let (label, key) = (decode(label)?, decode(key)?);
    (!label.is_empty() && !key.is_empty()).then_some((label, key))
}

/// A query parameter value, escaped.
pub fn query_value(value: &str) -> String {
    utf8_percent_encode(value, SEGMENT).to_string()
}

/// One query parameter of `query`, unescaped.
pub fn query_param(query: &str, name: &str) -> Option<String> {
    query.split('&').find_map(|pair| {
        let (k, v) = pair.split_once('=')?;
        (k == name).then(|| percent_decode_str(v).decode_utf8_lossy().into_owned())
    })
}

/// `path_and_query` with `name={value}` added to its query (`value`
/// already escaped, as [`query_value`] does).
pub fn with_param(path_and_query: &str, name: &str, value: &str) -> String {
    let sep = if path_and_query.contains('?') {
        '&'
    } else {
        '?'
    };
    format!("{path_and_query}{sep}{name}={value}")
}

/// `path_and_query` with `version=` in its query, where the signature
/// covers it (older releases read the version from the [`VERSION`] header
/// alone, which is sent too).
pub fn with_version(path_and_query: &str, version: &Version) -> String {
    with_param(
        path_and_query,
        "version",
        &query_value(&version.to_string()),
    )
}

/// The version of a per-key put or delete: the signed `version=` of the
/// query, which a [`VERSION`] header, if any, must repeat; from a sender of
/// an older release (no `version=`), the header alone.
pub fn request_version(query: &str, header: Option<&str>) -> Option<Result<Version, String>> {
    match (query_param(query, "version"), header) {
        (Some(signed), Some(header)) if signed != header => Some(Err(format!(
            "{VERSION} {header:?} differs from the signed version {signed:?}"
        ))),
        (Some(signed), _) => Some(signed.parse()),
        (None, header) => header.map(str::parse),
    }
}

/// `{"applied":bool}`: whether a put or delete changed anything.
#[derive(Debug, Serialize, Deserialize)]
pub struct Applied {
    pub applied: bool,
}

/// One entry of `POST versions`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Offer {
    pub label: String,
    pub key: String,
    pub version: Version,
}

/// The answer to `POST versions`, one flag per offer.
#[derive(Debug, Serialize, Deserialize)]
pub struct Needed {
    pub needed: Vec<bool>,
}

/// One key of a `GET keys` page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyEntry {
    pub key: String,
    pub version: Version,
    pub deleted: bool,
}

/// A page of `GET keys`; `next` is the `after` of the following page.
#[derive(Debug, Serialize, Deserialize)]
pub struct KeysPage {
    pub entries: Vec<KeyEntry>,
    pub next: Option<String>,
}

/// `POST invalidate`: another host of this region changed a key of a
/// shared store; drop what this host keeps of it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Invalidate {
    pub label: String,
    pub key: String,
    pub deleted: bool,
}

/// What one entry of a batch asks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Op {
    /// Keep this value at this version (its bytes follow in the body).
    Put,
    /// A tombstone at this version.
    Delete,
    /// "Do you lack this version?" (a big value the peer may well have,
    /// sent only if the answer is [`Outcome::Needed`]).
    Offer,
}

/// One change of a `POST batch`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BatchEntry {
    pub label: String,
    pub key: String,
    pub version: Version,
    pub op: Op,
    /// Bytes of a put's value in the body.
    #[serde(default)]
    pub len: u64,
    /// Regions that have the change or get it from another host's log:
    /// the receiver does not pass it on to them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub seen: Vec<String>,
}

/// What the receiver did with one entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    /// Newer than what it had: kept, durable before the answer.
    Applied,
    /// It has this version or a newer one.
    Kept,
    /// An offer it lacks: send the value.
    Needed,
    /// A value that failed its integrity check (an original that does not
    /// hash to its id).
    Refused,
}

/// The answer to `POST batch`, one outcome per entry.
#[derive(Debug, Serialize, Deserialize)]
pub struct BatchAnswer {
    pub results: Vec<Outcome>,
}

/// A batch body: the entries as JSON after their length (4 bytes, big
/// endian), then the values of the puts, back to back, in entry order.
pub fn encode_batch(entries: &[(BatchEntry, Option<Bytes>)]) -> Bytes {
    let head: Vec<&BatchEntry> = entries.iter().map(|(e, _)| e).collect();
    let json = serde_json::to_vec(&head).expect("batch entries serialize");
    let values: usize = entries
        .iter()
        .filter_map(|(_, v)| v.as_ref())
        .map(Bytes::len)
        .sum();
    let mut out = BytesMut::with_capacity(4 + json.len() + values);
    out.put_u32(json.len() as u32);
    out.put_slice(&json);
    for value in entries.iter().filter_map(|(_, v)| v.as_ref()) {
        out.put_slice(value);
    }
    out.freeze()
}

/// The SHA-256 of a batch body made by [`encode_batch`] from `entries`,
/// with every value the key pins ([`integrity::pinned_by_key`], an original
/// under `orig/{id}`) left out: the entries name its key and length, and
/// the receiver refuses bytes that do not hash to the id. Signed as
/// [`super::signing::BY_ID`], it spares a second hash of every original on both
/// sides. `None` if the body is shorter than its entries.
pub fn digest_by_id(body: &[u8], entries: &[(BatchEntry, Option<Bytes>)]) -> Option<String> {
    let len = u32::from_be_bytes(body.get(..4)?.try_into().ok()?) as usize;
    let mut digest = Sha256::new();
    digest.update(body.get(..4 + len)?);
    for (entry, value) in entries {
        match value {
            Some(value) if !integrity::pinned_by_key(&entry.key, value) => digest.update(value),
            _ => {}
        }
    }
    Some(hex::encode(digest.finalize()))
}

/// Reads a body made by [`encode_batch`]; every put gets its value.
pub fn decode_batch(body: &Bytes) -> Result<Vec<(BatchEntry, Option<Bytes>)>, String> {
    let len = body
        .get(..4)
        .map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]) as usize)
        .ok_or("a batch starts with the length of its entries")?;
    let json = body
        .get(4..4 + len)
        .ok_or("the batch is shorter than its entries")?;
    let entries: Vec<BatchEntry> =
        serde_json::from_slice(json).map_err(|e| format!("batch entries: {e}"))?;
    let mut at = 4 + len;
    let mut out = Vec::with_capacity(entries.len());
    for entry in entries {
        let value = if entry.op == Op::Put {
            let end = usize::try_from(entry.len)
                .ok()
                .and_then(|n| at.checked_add(n))
                .filter(|end| *end <= body.len())
                .ok_or_else(|| format!("the value of `{}` runs past the body", entry.key))?;
            let value = body.slice(at..end);
            at = end;
            Some(value)
        } else {
            None
        };
        out.push((entry, value));
    }
    if at != body.len() {
        return Err(format!("{} bytes after the last value", body.len() - at));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {

    #[test]
    fn the_signed_version_rules_and_a_differing_header_is_refused() {
        let v = "00000000000f0000@eu".parse::<Version>().unwrap();
        let path = with_version("/p?from=eu", &v);
        assert_eq!(path, "/p?from=eu&version=00000000000f0000%40eu");
        let query = path.split_once('?').unwrap().1;
        assert_eq!(request_version(query, None), Some(Ok(v.clone())));
        assert_eq!(
            request_version(query, Some("00000000000f0000@eu")),
            Some(Ok(v))
        );
        assert!(matches!(
            request_version(query, Some("00000000000f0001@eu")),
            Some(Err(_))
        ));
        // An older sender: the header alone.
        assert_eq!(
            request_version("from=eu", Some("00000000000f0001@eu")),
            Some("00000000000f0001@eu".parse())
        );
        assert_eq!(request_version("from=eu", None), None);
    }

    use super::*;

    fn entry(key: &str, op: Op, len: u64) -> BatchEntry {
        BatchEntry {
            label: "images".into(),
            key: key.into(),
            version: "00000000000f0000@us".parse().unwrap(),
            op,
            len,
            seen: vec!["eu".into(), "us".into()],
        }
    }

    #[test]
    fn batches_round_trip_and_bad_ones_are_refused() {
        let batch = vec![
            (
                entry("orig/a", Op::Put, 3),
                Some(Bytes::from_static(b"abc")),
            ),
            (entry("meta/a", Op::Delete, 0), None),
            (entry("orig/b", Op::Offer, 0), None),
            (entry("idx/a", Op::Put, 0), Some(Bytes::new())),
        ];
        let body = encode_batch(&batch);
        assert_eq!(decode_batch(&body).unwrap(), batch);

        let mut long = body.to_vec();
        long.push(0);
        assert!(decode_batch(&Bytes::from(long)).is_err());
        assert!(decode_batch(&body.slice(..body.len() - 1)).is_err());
        assert!(decode_batch(&Bytes::from_static(b"\0\0")).is_err());
        let lying = encode_batch(&[(
            entry("orig/a", Op::Put, 99),
            Some(Bytes::from_static(b"abc")),
        )]);
        assert!(decode_batch(&lying).unwrap_err().contains("runs past"));
    }

    #[test]
    fn a_digest_by_id_covers_everything_but_the_bytes_an_id_pins() {
        let original = Bytes::from_static(b"an original");
        let id = hex::encode(Sha256::digest(&original));
        let manifest = Bytes::from_static(b"edgeimg-chunked/1\nchunks");
        let batch = |orig: &Bytes, meta: &'static [u8], chunked: &Bytes| {
            let entries = vec![
                (
                    entry(&format!("orig/{id}"), Op::Put, orig.len() as u64),
                    Some(orig.clone()),
                ),
                (
                    entry("meta/a", Op::Put, meta.len() as u64),
                    Some(Bytes::from_static(meta)),
                ),
                (
                    entry(
                        &format!("orig/{}", "b".repeat(64)),
                        Op::Put,
                        chunked.len() as u64,
                    ),
                    Some(chunked.clone()),
                ),
                (entry("meta/b", Op::Delete, 0), None),
            ];
            let body = encode_batch(&entries);
            digest_by_id(&body, &entries).unwrap()
        };
        let digest = batch(&original, b"{}", &manifest);
        // The receiver checks a pinned original against its id instead.
        let rotted = Bytes::from_static(b"an origina!");
        assert_eq!(batch(&rotted, b"{}", &manifest), digest);
        // Everything else is covered: other values, a chunk manifest under
        // `orig/` (not checked against the id), the entries themselves.
        assert_ne!(batch(&original, b"{ }", &manifest), digest);
        let other = Bytes::from_static(b"edgeimg-chunked/1\nchunkz");
        assert_ne!(batch(&original, b"{}", &other), digest);
        let longer = Bytes::from_static(b"an original, longer");
        assert_ne!(batch(&longer, b"{}", &manifest), digest);
        assert_eq!(digest_by_id(b"\0\0", &[]), None);
    }

    #[test]
    fn object_paths_round_trip_any_key() {
        for key in ["orig/abc", "a b/ü?&=%", "list/0001-x"] {
            let path = object_path("images", key);
            let tail = path.strip_prefix(&format!("{PREFIX}objects/")).unwrap();
            assert_eq!(tail.matches('/').count(), 1, "{path}");
            assert_eq!(
                parse_object_path(tail),
                Some(("images".to_string(), key.to_string()))
            );
        }
        assert_eq!(parse_object_path("images"), None);
        assert_eq!(
            query_param("label=images&after=orig%2Fa", "after").as_deref(),
            Some("orig/a")
        );
    }
}
