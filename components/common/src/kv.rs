//! Key-value access behind a small trait, so handler logic is testable natively.
//!
//! In a component the stores are Spin `key-value@2.0.0` stores opened by label;
//! in unit tests they are [`MemoryKv`].

use crate::paging::{self, KeyPage};
use crate::{keys, ApiError, ImageId};
use std::cell::RefCell;
use std::collections::BTreeMap;

/// The store operations the components use. Errors are already mapped to a
/// client-facing 503.
pub trait Kv {
    fn get(&self, key: &str) -> Result<Option<Vec<u8>>, ApiError>;
    fn set(&self, key: &str, value: &[u8]) -> Result<(), ApiError>;
    fn delete(&self, key: &str) -> Result<(), ApiError>;
    fn exists(&self, key: &str) -> Result<bool, ApiError>;
    /// Every key of the store, in no particular order: key-value 2.0 has no
    /// prefix filter or paging, so this costs a scan of the whole store.
    fn get_keys(&self) -> Result<Vec<String>, ApiError>;

    /// Up to `limit` keys starting with `prefix` that sort after `after`,
    /// in order; `None` where the runtime cannot page (see
    /// [`crate::paging`]): the caller lists every key instead.
    fn list_page(
        &self,
        _prefix: &str,
        _after: Option<&str>,
        _limit: usize,
    ) -> Result<Option<KeyPage>, ApiError> {
        Ok(None)
    }
}

impl<T: Kv> Kv for &T {
    fn get(&self, key: &str) -> Result<Option<Vec<u8>>, ApiError> {
        (**self).get(key)
    }
    fn set(&self, key: &str, value: &[u8]) -> Result<(), ApiError> {
        (**self).set(key, value)
    }
    fn delete(&self, key: &str) -> Result<(), ApiError> {
        (**self).delete(key)
    }
    fn exists(&self, key: &str) -> Result<bool, ApiError> {
        (**self).exists(key)
    }
    fn get_keys(&self) -> Result<Vec<String>, ApiError> {
        (**self).get_keys()
    }
    fn list_page(
        &self,
        prefix: &str,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Option<KeyPage>, ApiError> {
        (**self).list_page(prefix, after, limit)
    }
}

impl Kv for spin_sdk::key_value::Store {
    fn get(&self, key: &str) -> Result<Option<Vec<u8>>, ApiError> {
        spin_sdk::key_value::Store::get(self, key).map_err(ApiError::storage)
    }
    fn set(&self, key: &str, value: &[u8]) -> Result<(), ApiError> {
        spin_sdk::key_value::Store::set(self, key, value).map_err(ApiError::storage)
    }
    fn delete(&self, key: &str) -> Result<(), ApiError> {
        spin_sdk::key_value::Store::delete(self, key).map_err(ApiError::storage)
    }
    fn exists(&self, key: &str) -> Result<bool, ApiError> {
        spin_sdk::key_value::Store::exists(self, key).map_err(ApiError::storage)
    }
    fn get_keys(&self) -> Result<Vec<String>, ApiError> {
        spin_sdk::key_value::Store::get_keys(self).map_err(ApiError::storage)
    }
    /// A read of the reserved listing key: edgeimg's host answers a page,
    /// any other runtime "absent" (or a value that is not a page).
    fn list_page(
        &self,
        prefix: &str,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Option<KeyPage>, ApiError> {
        let key = paging::request_key(prefix, after, limit);
        let answer = spin_sdk::key_value::Store::get(self, &key).map_err(ApiError::storage)?;
        Ok(answer.and_then(|json| serde_json::from_slice(&json).ok()))
    }
}

/// Opens the store with `label`, mapping failure (label not granted or not
/// configured, backend down) to 503.
pub fn open(label: &str) -> Result<spin_sdk::key_value::Store, ApiError> {
    spin_sdk::key_value::Store::open(label)
        .map_err(|e| ApiError::storage(format!("cannot open key-value store `{label}`: {e}")))
}

/// An in-memory store for tests; `fail` makes every operation a 503;
/// `unpaged` makes it a runtime without paged listing (Spin).
#[derive(Default)]
pub struct MemoryKv {
    pub map: RefCell<BTreeMap<String, Vec<u8>>>,
    pub fail: bool,
    pub unpaged: bool,
}

impl MemoryKv {
    fn check(&self) -> Result<(), ApiError> {
        if self.fail {
            Err(ApiError::storage("test store is down"))
        } else {
            Ok(())
        }
    }

    /// All keys, sorted.
    pub fn keys(&self) -> Vec<String> {
        self.map.borrow().keys().cloned().collect()
    }
}

impl Kv for MemoryKv {
    fn get(&self, key: &str) -> Result<Option<Vec<u8>>, ApiError> {
        self.check()?;
        Ok(self.map.borrow().get(key).cloned())
    }
    fn set(&self, key: &str, value: &[u8]) -> Result<(), ApiError> {
        self.check()?;
        self.map
            .borrow_mut()
            .insert(key.to_string(), value.to_vec());
        Ok(())
    }
    fn delete(&self, key: &str) -> Result<(), ApiError> {
        self.check()?;
        self.map.borrow_mut().remove(key);
        Ok(())
    }
    fn exists(&self, key: &str) -> Result<bool, ApiError> {
        self.check()?;
        Ok(self.map.borrow().contains_key(key))
    }
    fn get_keys(&self) -> Result<Vec<String>, ApiError> {
        self.check()?;
        // Reversed, so code that forgets to sort fails its tests.
        Ok(self.keys().into_iter().rev().collect())
    }
    fn list_page(
        &self,
        prefix: &str,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Option<KeyPage>, ApiError> {
        self.check()?;
        if self.unpaged {
            return Ok(None);
        }
        let map = self.map.borrow();
        let mut keys = map
            .keys()
            .filter(|k| k.starts_with(prefix) && after.is_none_or(|a| k.as_str() > a));
        let page: Vec<String> = keys.by_ref().take(limit).cloned().collect();
        let more = keys.next().is_some();
        Ok(Some(KeyPage { keys: page, more }))
    }
}

/// The list of variant keys made for one image, kept at `vars/{id}` in
/// `cache` as newline-separated keys.
///
/// Why an index rather than `get-keys` with a prefix filter: Spin's
/// `get-keys` returns every key of the store, so a delete would cost a scan of
/// the whole variant cache (and a full-table read on Spin's SQLite store); the
/// index makes a delete cost one read plus one delete per variant. The index
/// is updated read-modify-write (key-value 2.0 has no compare-and-swap), so
/// two variants first made at the same instant may lose one entry; such a
/// variant outlives a delete only in the cache, where it is never served —
/// resize checks that the image's metadata still exists before answering —
/// and it is evicted in time.
pub struct VariantIndex;

impl VariantIndex {
    /// Records `key` as a variant of `id`.
    pub fn add(cache: &impl Kv, id: &ImageId, key: &str) -> Result<(), ApiError> {
        let index_key = keys::variant_index(id);
        let mut list = cache.get(&index_key)?.unwrap_or_default();
        if list.split(|&b| b == b'\n').any(|k| k == key.as_bytes()) {
            return Ok(());
        }
        list.extend_from_slice(key.as_bytes());
        list.push(b'\n');
        cache.set(&index_key, &list)
    }

    /// Deletes every recorded variant of `id` and then the index itself;
    /// returns how many variants were deleted.
    pub fn purge(cache: &impl Kv, id: &ImageId) -> Result<usize, ApiError> {
        let index_key = keys::variant_index(id);
        let list = cache.get(&index_key)?.unwrap_or_default();
        let prefix = keys::variant(id, "");
        let mut n = 0;
        for key in list.split(|&b| b == b'\n').filter(|k| !k.is_empty()) {
            let key = String::from_utf8_lossy(key);
            // Only this image's variants, whatever the index holds.
            if key.starts_with(&prefix) {
                cache.delete(&key)?;
                n += 1;
            }
        }
        cache.delete(&index_key)?;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn index_records_each_variant_once_and_purges_them() {
        let cache = MemoryKv::default();
        let id = ImageId::of(b"img");
        let other = ImageId::of(b"other");
        let a = keys::variant(&id, "width=10,format=png");
        let b = keys::variant(&id, "width=20,format=png");
        let c = keys::variant(&other, "width=20,format=png");
        for k in [&a, &b, &c] {
            cache.set(k, b"v").unwrap();
        }
        VariantIndex::add(&cache, &id, &a).unwrap();
        VariantIndex::add(&cache, &id, &b).unwrap();
        VariantIndex::add(&cache, &id, &a).unwrap();
        VariantIndex::add(&cache, &other, &c).unwrap();
        assert_eq!(VariantIndex::purge(&cache, &id).unwrap(), 2);
        assert_eq!(cache.keys(), vec![c.clone(), keys::variant_index(&other)]);
    }
}
