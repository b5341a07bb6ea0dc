//! Key names in the key-value stores. One place, so every component agrees.

use crate::ImageId;

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

/// An encoded variant, in `cache`; `canonical` is the option string with the
/// output format resolved.
pub fn variant(id: &ImageId, canonical: &str) -> String {
    format!("var/{id}/{canonical}")
}

/// The index of variant keys created for an image, in `cache` (see
/// `edgeimg_common::kv::VariantIndex`).
pub fn variant_index(id: &ImageId) -> String {
    format!("vars/{id}")
}
