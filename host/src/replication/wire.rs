//! What travels between hosts on the peer API: paths, headers and JSON
//! bodies, shared by the client and the server side so they cannot drift.
//!
//! | request | answers |
//! |---|---|
//! | `PUT objects/{label}/{key}` + `x-edgeimg-version`, body = value | `{"applied":bool}` |
//! | `DELETE objects/{label}/{key}` + `x-edgeimg-version` | `{"applied":bool}` |
//! | `GET objects/{label}/{key}` (local store only) | 200 value + version, or 404 (+ `x-edgeimg-deleted`) |
//! | `POST versions` `[{label,key,version}]` | `{"needed":[bool]}`: which the host lacks |
//! | `GET keys?label=&after=&limit=` | `{"entries":[{key,version,deleted}],"next":…}` |
//! | `POST invalidate` `{label,key,deleted}` | 204 (from a host of the same region) |
//! | `GET status` | region, peers, backlog, breakers |
//! | `POST repair?peer=REGION` | what a repair pass fixed |
//!
//! Paths are below [`PREFIX`]; keys are percent-encoded as one segment.

use percent_encoding::{percent_decode_str, utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use serde::{Deserialize, Serialize};

use super::version::Version;

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

#[cfg(test)]
mod tests {
    use super::*;

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
