//! Key names in the key-value stores. One place, so every component agrees.
//!
//! `images` and `cache` below are the stores `crate::stores` opens; on a
//! platform with one store both are the same one, and these prefixes (plus
//! `chunk/` of `crate::chunked`) keep their keys apart.

use crate::ImageId;
use sha2::{Digest, Sha256};

/// The original bytes, in `images`.
pub fn original(id: &ImageId) -> String {
    format!("orig/{id}")
}

/// The metadata JSON, in `images`. Written after the original, so its
/// presence means the upload completed.
pub fn meta(id: &ImageId) -> String {
    format!("meta/{id}")
}

/// Prefix of the upload index in `images`: one key per upload, see
/// [`upload_index`].
pub const UPLOAD_INDEX_PREFIX: &str = "idx/";

/// Digits of a `created` timestamp the index sorts by: to the millisecond.
const INDEX_TIME_DIGITS: usize = 17;

/// The upload index entry of `id`, uploaded at `created` (RFC 3339 as upload
/// writes it), in `images`: `idx/{inverted time}-{id}`, value empty.
///
/// One small key per upload, never a shared list: regions replicate key by
/// key, and concurrent read-modify-writes of one list lose entries. The time
/// is `created`'s digits (`YYYYMMDDhhmmssmmm`, a missing fraction as `000`),
/// each replaced by 9 − digit, so ascending key order is newest first, and
/// the id breaks ties. 89 bytes, far below [`MAX_KEY_LEN`]. One segment
/// after `idx/`, so a store on a file system keeps the index in one folder
/// rather than making a folder per upload.
pub fn upload_index(created: &str, id: &ImageId) -> String {
    let mut digits: Vec<u8> = created
        .bytes()
        .filter(u8::is_ascii_digit)
        .take(INDEX_TIME_DIGITS)
        .collect();
    digits.resize(INDEX_TIME_DIGITS, b'0');
    let inverted: String = digits.iter().map(|d| char::from(b'9' - d + b'0')).collect();
    format!("{UPLOAD_INDEX_PREFIX}{inverted}-{id}")
}

/// The id an upload index key names; `None` for any other key.
pub fn upload_index_id(key: &str) -> Option<ImageId> {
    let (time, id) = key.strip_prefix(UPLOAD_INDEX_PREFIX)?.split_once('-')?;
    let time_ok = time.len() == INDEX_TIME_DIGITS && time.bytes().all(|b| b.is_ascii_digit());
    time_ok.then(|| ImageId::parse(id).ok()).flatten()
}

/// Longest key we write: Spin documents 256 bytes as its key-value key limit.
pub const MAX_KEY_LEN: usize = 250;

/// An encoded variant, in `cache`; `canonical` is the option string with the
/// output format resolved. Option strings that would make the key longer than
/// [`MAX_KEY_LEN`] are replaced by their SHA-256, so every key stays portable.
pub fn variant(id: &ImageId, canonical: &str) -> String {
    let key = format!("var/{id}/{canonical}");
    if key.len() <= MAX_KEY_LEN {
        return key;
    }
    format!(
        "var/{id}/h-{}",
        hex::encode(Sha256::digest(canonical.as_bytes()))
    )
}

/// The index of variant keys created for an image, in `cache` (see
/// `edgeimg_common::kv::VariantIndex`).
pub fn variant_index(id: &ImageId) -> String {
    format!("vars/{id}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn upload_index_sorts_newest_first_and_names_its_id() {
        let id = ImageId::of(b"img");
        let older = upload_index("2026-11-22T12:13:19.007Z", &id);
        let newer = upload_index("2026-11-22T12:13:19.008Z", &id);
        let legacy = upload_index("2026-11-22T12:13:19Z", &id);
        assert_eq!(older, format!("idx/79738877878680992-{id}"));
        assert!(newer < older && older < legacy);
        assert!(upload_index("2027-01-01T00:00:00.000Z", &id) < newer);
        assert!(older.len() <= MAX_KEY_LEN);
        assert_eq!(upload_index_id(&older), Some(id.clone()));
        for other in [meta(&id), "idx/1-x".to_string(), format!("idx/{id}")] {
            assert_eq!(upload_index_id(&other), None, "{other}");
        }
    }

    #[test]
    fn variant_keys_stay_short_and_distinct() {
        let id = ImageId::of(b"img");
        assert_eq!(
            variant(&id, "width=320,format=webp"),
            format!("var/{id}/width=320,format=webp")
        );
        let long_a = format!("width=320,{}", "x".repeat(300));
        let long_b = format!("width=321,{}", "x".repeat(300));
        let (a, b) = (variant(&id, &long_a), variant(&id, &long_b));
        assert!(a.len() <= MAX_KEY_LEN && a.starts_with(&variant(&id, "")));
        assert_ne!(a, b);
    }
}
