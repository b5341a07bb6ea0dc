//! Paged, ordered key listings: [`KeyPage`], the reserved key through which
//! a component asks for one (`edgeimg_common::paging`: a read of
//! `_edgeimg/list?prefix=&after=&limit=` answers a page as JSON, where Spin
//! has no such key and the component lists every key instead), and the
//! ordered index an `fs` store keeps to answer one without a scan.

use std::collections::{BTreeSet, HashMap};

use serde::Serialize;

/// Start of the reserved key.
pub const LIST_KEY: &str = "_edgeimg/list?";
/// Most keys one page holds.
pub const MAX_PAGE: usize = 1000;

/// One page of keys, in ascending order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct KeyPage {
    pub keys: Vec<String>,
    /// Whether keys with the prefix follow the last one.
    pub more: bool,
}

/// What a read of the reserved key asks for.
#[derive(Debug, PartialEq, Eq)]
pub struct PageRequest {
    pub prefix: String,
    pub after: Option<String>,
    pub limit: usize,
}

/// The page a key asks for; `None` for any other key (or a malformed one,
/// which then reads as absent, as on Spin).
pub fn parse_request(key: &str) -> Option<PageRequest> {
    let query = key.strip_prefix(LIST_KEY)?;
    let param = |name: &str| -> Option<String> {
        query.split('&').find_map(|pair| {
            let (k, v) = pair.split_once('=')?;
            (k == name).then(|| {
                percent_encoding::percent_decode_str(v)
                    .decode_utf8()
                    .ok()
                    .map(|s| s.into_owned())
            })?
        })
    };
    let limit: usize = param("limit")?.parse().ok()?;
    Some(PageRequest {
        prefix: param("prefix")?,
        after: param("after"),
        limit: limit.clamp(1, MAX_PAGE),
    })
}

/// The page of `keys` (sorted) starting with `prefix` after `after`.
pub fn page_of<'a>(
    keys: impl IntoIterator<Item = &'a String>,
    prefix: &str,
    after: Option<&str>,
    limit: usize,
) -> KeyPage {
    let mut keys = keys
        .into_iter()
        .skip_while(|k| k.as_str() < prefix || after.is_some_and(|a| k.as_str() <= a))
        .take_while(|k| k.starts_with(prefix));
    let page: Vec<String> = keys.by_ref().take(limit).cloned().collect();
    let more = keys.next().is_some();
    KeyPage { keys: page, more }
}

/// Ordered keys of some prefixes of a store, each set built by one listing
/// when first asked for and kept current by the store's writes.
#[derive(Default)]
pub struct KeyIndex {
    sets: HashMap<String, BTreeSet<String>>,
}

impl KeyIndex {
    /// The page from the set of `prefix`, if it is built.
    pub fn page(&self, prefix: &str, after: Option<&str>, limit: usize) -> Option<KeyPage> {
        let set = self.sets.get(prefix)?;
        let from = match after {
            Some(a) if a >= prefix => std::ops::Bound::Excluded(a.to_string()),
            _ => std::ops::Bound::Included(prefix.to_string()),
        };
        let range = set.range((from, std::ops::Bound::Unbounded));
        Some(page_of(range, prefix, after, limit))
    }

    /// Installs the set of `prefix` (from a listing).
    pub fn build(&mut self, prefix: &str, keys: impl IntoIterator<Item = String>) {
        let set = keys.into_iter().filter(|k| k.starts_with(prefix)).collect();
        self.sets.insert(prefix.to_string(), set);
    }

    /// Records that `key` now exists (or not) in the store.
    pub fn update(&mut self, key: &str, exists: bool) {
        for (prefix, set) in &mut self.sets {
            if key.starts_with(prefix.as_str()) {
                if exists {
                    set.insert(key.to_string());
                } else {
                    set.remove(key);
                }
            }
        }
    }

    /// Whether a write of `key` concerns a built set.
    pub fn covers(&self, key: &str) -> bool {
        self.sets.keys().any(|p| key.starts_with(p.as_str()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_what_the_component_asks_and_nothing_else() {
        let key = edgeimg_common::paging::request_key("idx/", Some("idx/0001-a&b"), 21);
        assert_eq!(
            parse_request(&key),
            Some(PageRequest {
                prefix: "idx/".into(),
                after: Some("idx/0001-a&b".into()),
                limit: 21
            })
        );
        let first = edgeimg_common::paging::request_key("idx/", None, 5000);
        assert_eq!(parse_request(&first).unwrap().limit, MAX_PAGE);
        for other in [
            "meta/abc",
            "_edgeimg/list?prefix=idx/",
            "_edgeimg/list?limit=x&prefix=a",
        ] {
            assert_eq!(parse_request(other), None, "{other}");
        }
    }

    #[test]
    fn an_index_pages_in_order_and_follows_writes() {
        let mut index = KeyIndex::default();
        assert_eq!(index.page("idx/", None, 2), None, "not built yet");
        index.build(
            "idx/",
            ["idx/3", "idx/1", "meta/1", "idx/2"].map(String::from),
        );
        let first = index.page("idx/", None, 2).unwrap();
        assert_eq!(
            (first.keys, first.more),
            (vec!["idx/1".into(), "idx/2".into()], true)
        );
        index.update("idx/4", true);
        index.update("idx/3", false);
        index.update("orig/9", true);
        let rest = index.page("idx/", Some("idx/2"), 10).unwrap();
        assert_eq!((rest.keys, rest.more), (vec!["idx/4".to_string()], false));
        assert!(index.covers("idx/x") && !index.covers("orig/x"));
        let keys = ["a", "idx/1", "idx/2", "j"].map(String::from);
        assert_eq!(
            page_of(&keys, "idx/", Some("idx/1"), 5).keys,
            vec!["idx/2".to_string()]
        );
    }
}
