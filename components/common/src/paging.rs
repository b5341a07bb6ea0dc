//! Paged, ordered key listing where the runtime offers it.
//!
//! Key-value 2.0 can only list every key of a store, which makes a page of
//! the upload listing cost a scan of the whole store. edgeimg's host answers
//! a read of a reserved key, [`request_key`], with one page of keys in
//! order ([`KeyPage`], JSON) from an index it keeps; any other runtime
//! (Spin) has no such key and answers "absent", and the caller falls back
//! to listing everything. The import set stays exactly Spin's.

use serde::{Deserialize, Serialize};

/// Start of the reserved key; what follows is a query string.
pub const LIST_KEY: &str = "_edgeimg/list?";

/// Most keys one page may ask for.
pub const MAX_PAGE: usize = 1000;

/// One page of keys, in ascending key order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyPage {
    pub keys: Vec<String>,
    /// Whether keys with the prefix follow the last one.
    pub more: bool,
}

/// The key whose read asks for up to `limit` keys starting with `prefix`
/// that sort after `after` (all of them when `None`).
pub fn request_key(prefix: &str, after: Option<&str>, limit: usize) -> String {
    let mut key = format!(
        "{LIST_KEY}prefix={}&limit={}",
        escape(prefix),
        limit.min(MAX_PAGE)
    );
    if let Some(after) = after {
        key.push_str(&format!("&after={}", escape(after)));
    }
    key
}

/// Percent-escapes what a query value must not hold raw.
fn escape(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~/".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_request_names_prefix_limit_and_cursor() {
        assert_eq!(
            request_key("idx/", Some("idx/0001-ab&c"), 21),
            "_edgeimg/list?prefix=idx/&limit=21&after=idx/0001-ab%26c"
        );
        assert_eq!(
            request_key("idx/", None, 5000),
            "_edgeimg/list?prefix=idx/&limit=1000"
        );
        assert!(request_key("idx/", Some(&"9".repeat(100)), 21).len() < crate::keys::MAX_KEY_LEN);
    }
}
