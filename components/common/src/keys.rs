//! Key names in the key-value stores. One place, so every component agrees.

use crate::ImageId;
use sha2::{Digest, Sha256};

/// Label of the durable store holding originals and metadata.
pub const IMAGES: &str = "images";
/// Label of the bounded store holding encoded variants.
pub const CACHE: &str = "cache";

/// The original bytes, in `images`.
pub fn original(id: &ImageId) -> String {
    format!("orig/{id}")
}

/// The metadata JSON, in `images`. Written after the original, so its
/// presence means the upload completed.
pub fn meta(id: &ImageId) -> String {
    format!("meta/{id}")
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
