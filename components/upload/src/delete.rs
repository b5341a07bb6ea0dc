//! `DELETE /upload/{id}`: remove the original, its metadata and its variants.

use edgeimg_common::kv::{Kv, VariantIndex};
use edgeimg_common::meta::Meta;
use edgeimg_common::reply::CACHE_PURGE_TAG;
use edgeimg_common::{keys, ApiError, ImageId, Reply};

/// Deletes image `id`: `204` when anything of it existed, `404` otherwise.
///
/// Order matters for partial failures (answered 503, so the client retries):
/// the upload index entry goes first, since finding it needs the metadata's
/// `created`; then the original, so no failure leaves an original without the
/// metadata that names it; then the metadata, which stops resize serving
/// cached variants; then the variants themselves. A retry finds whatever is
/// left because either the original or the metadata still exists.
///
/// Every answer for a well-formed id carries `Cache-Purge-Tag: {id}`: an edge
/// cache in front then drops the originals and variants it tagged with the id
/// (purging is safe even when nothing, or only part, was deleted).
pub fn delete(id: &str, images: &impl Kv, cache: &impl Kv) -> Reply {
    let reply = match try_delete(id, images, cache) {
        Ok(()) => Reply::new(204),
        Err(err) => err.into_reply(),
    };
    match ImageId::parse(id) {
        Ok(id) => reply.header(CACHE_PURGE_TAG, id.to_string()),
        Err(_) => reply,
    }
}

fn try_delete(id: &str, images: &impl Kv, cache: &impl Kv) -> Result<(), ApiError> {
    let id = ImageId::parse(id)?;
    let original = keys::original(&id);
    let meta = keys::meta(&id);
    match images.get(&meta)? {
        Some(raw) => {
            if let Some(m) = Meta::from_json(&raw) {
                images.delete(&keys::upload_index(&m.created, &id))?;
            }
        }
        None if !images.exists(&original)? => {
            return Err(ApiError::not_found(format!("no image {id}")));
        }
        None => {}
    }
    images.delete(&original)?;
    images.delete(&meta)?;
    VariantIndex::purge(cache, &id)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use edgeimg_common::kv::MemoryKv;

    #[test]
    fn removes_original_metadata_and_indexed_variants() {
        let (images, cache) = (MemoryKv::default(), MemoryKv::default());
        let id = ImageId::of(b"img");
        let other = ImageId::of(b"other");
        let created = "2026-01-01T00:00:00.000Z";
        let meta = Meta {
            id: id.to_string(),
            format: "png".into(),
            content_type: "image/png".into(),
            width: 1,
            height: 1,
            bytes: 1,
            created: created.into(),
            frames: None,
            thumbhash: None,
            dominant_color: None,
        };
        images.set(&keys::original(&id), b"o").unwrap();
        images.set(&keys::meta(&id), &meta.to_json()).unwrap();
        images.set(&keys::upload_index(created, &id), b"").unwrap();
        images.set(&keys::original(&other), b"o").unwrap();
        let v = keys::variant(&id, "width=1,format=png");
        cache.set(&v, b"v").unwrap();
        VariantIndex::add(&cache, &id, &v).unwrap();

        let r = delete(id.as_str(), &images, &cache);
        assert_eq!(r.status, 204);
        assert_eq!(r.get(CACHE_PURGE_TAG), Some(id.as_str()));
        assert_eq!(images.keys(), vec![keys::original(&other)]);
        assert!(cache.keys().is_empty());
        assert_eq!(delete(id.as_str(), &images, &cache).status, 404);
    }

    #[test]
    fn finishes_a_half_done_delete() {
        let (images, cache) = (MemoryKv::default(), MemoryKv::default());
        let id = ImageId::of(b"img");
        images.set(&keys::meta(&id), b"{}").unwrap();
        assert_eq!(delete(id.as_str(), &images, &cache).status, 204);
        assert!(images.keys().is_empty());
    }

    #[test]
    fn malformed_id_is_400_without_touching_storage() {
        let down = MemoryKv {
            fail: true,
            ..Default::default()
        };
        assert_eq!(delete("../etc/passwd", &down, &down).status, 400);
    }
}
