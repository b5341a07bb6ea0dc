//! `GET /images?limit=&after=`: uploads, newest first, paged by a cursor.
//!
//! Reads the upload index (`idx/…` keys in `images`, see
//! `edgeimg_common::keys::upload_index`) in key order from the cursor on,
//! plus one metadata read per listed upload. Where the runtime pages keys
//! (edgeimg's host, see `edgeimg_common::paging`) a page costs the same
//! whatever the number of uploads; elsewhere (Spin) key-value 2.0 can only
//! list every key, so a page costs one `get-keys` of the whole store.

use crate::config::Config;
use edgeimg_common::kv::Kv;
use edgeimg_common::meta::Meta;
use edgeimg_common::request::percent_decode;
use edgeimg_common::{auth, keys, ApiError, Reply, RequestParts};
use serde::Serialize;

/// Page size when `limit` is not given.
pub const DEFAULT_LIMIT: usize = 20;
/// Largest page.
pub const MAX_LIMIT: usize = 100;

#[derive(Serialize)]
struct Page<'a> {
    images: &'a [Meta],
    /// Pass as `after` for the next page; `null` on the last page.
    next: Option<&'a str>,
}

/// The uploads of one page and the index key to continue after, if any.
struct Found {
    images: Vec<Meta>,
    next: Option<String>,
}

/// One page of the listing. Needs the upload token when one is set: ids are
/// unguessable, and the listing would otherwise reveal every one of them.
pub fn list(parts: &RequestParts, config: &Config, images: &impl Kv) -> Result<Reply, ApiError> {
    auth::check_bearer(config.token.as_deref(), parts.header("authorization"))?;
    let limit = limit(parts.query_param("limit"))?;
    let after = after(parts.query_param("after"))?;
    let found = match paged(images, after.as_deref(), limit)? {
        Some(found) => found,
        None => scanned(images, after.as_deref(), limit)?,
    };
    let page = Page {
        images: &found.images,
        next: found
            .next
            .as_deref()
            .and_then(|key| key.strip_prefix(keys::UPLOAD_INDEX_PREFIX)),
    };
    Ok(Reply::json(200, &page).header("cache-control", "private, no-store"))
}

/// The page from a paged listing of the index: keys after `after`, read a
/// few more than needed at a time until `limit` current uploads are found
/// or the index ends. `None` when the runtime cannot page.
fn paged(images: &impl Kv, after: Option<&str>, limit: usize) -> Result<Option<Found>, ApiError> {
    let mut found = Vec::with_capacity(limit);
    let mut cursor = after.map(str::to_string);
    loop {
        let want = limit - found.len() + 1;
        let Some(page) = images.list_page(keys::UPLOAD_INDEX_PREFIX, cursor.as_deref(), want)?
        else {
            return Ok(None);
        };
        let mut rest = page.keys.into_iter();
        for key in rest.by_ref() {
            if let Some(meta) = current(&key, images)? {
                found.push(meta);
            }
            cursor = Some(key);
            if found.len() == limit {
                let more = rest.len() > 0 || page.more;
                return Ok(Some(Found {
                    images: found,
                    next: cursor.filter(|_| more),
                }));
            }
        }
        if !page.more {
            return Ok(Some(Found {
                images: found,
                next: None,
            }));
        }
    }
}

/// The page from a listing of every key of the store (runtimes that
/// cannot page).
fn scanned(images: &impl Kv, after: Option<&str>, limit: usize) -> Result<Found, ApiError> {
    let mut index: Vec<String> = images
        .get_keys()?
        .into_iter()
        .filter(|k| keys::upload_index_id(k).is_some())
        .filter(|k| after.is_none_or(|a| k.as_str() > a))
        .collect();
    index.sort_unstable();

    let mut found = Vec::with_capacity(limit);
    let mut last = None;
    let mut rest = index.iter();
    for key in rest.by_ref() {
        last = Some(key);
        if let Some(meta) = current(key, images)? {
            found.push(meta);
            if found.len() == limit {
                break;
            }
        }
    }
    let next = match last {
        Some(key) if rest.len() > 0 => Some(key.clone()),
        _ => None,
    };
    Ok(Found {
        images: found,
        next,
    })
}

/// The metadata an index entry stands for, when the entry is current: the
/// upload exists and was made at the time the key says. Entries left by a
/// half-done delete or by two concurrent first uploads of the same bytes
/// are skipped, so every upload is listed once.
fn current(key: &str, images: &impl Kv) -> Result<Option<Meta>, ApiError> {
    let Some(id) = keys::upload_index_id(key) else {
        return Ok(None);
    };
    let meta = images
        .get(&keys::meta(&id))?
        .and_then(|m| Meta::from_json(&m));
    Ok(meta.filter(|m| keys::upload_index(&m.created, &id) == key))
}

fn limit(value: Option<&str>) -> Result<usize, ApiError> {
    let Some(value) = value else {
        return Ok(DEFAULT_LIMIT);
    };
    match value.parse::<usize>() {
        Ok(n) if (1..=MAX_LIMIT).contains(&n) => Ok(n),
        _ => Err(ApiError::bad_request(
            "bad_query",
            format!("limit must be a number from 1 to {MAX_LIMIT}"),
        )),
    }
}

/// The index key a cursor stands for.
fn after(value: Option<&str>) -> Result<Option<String>, ApiError> {
    let Some(value) = value.filter(|v| !v.is_empty()) else {
        return Ok(None);
    };
    let key = format!("{}{}", keys::UPLOAD_INDEX_PREFIX, percent_decode(value)?);
    match keys::upload_index_id(&key) {
        Some(_) => Ok(Some(key)),
        None => Err(ApiError::bad_request(
            "bad_query",
            "after must be the `next` value of a previous page",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use edgeimg_common::kv::MemoryKv;
    use edgeimg_common::ImageId;

    fn upload(images: &MemoryKv, n: u8, created: &str) -> String {
        let id = ImageId::of(&[n]);
        let meta = Meta {
            id: id.to_string(),
            format: "png".into(),
            content_type: "image/png".into(),
            width: u32::from(n),
            height: 1,
            bytes: 1,
            created: created.into(),
            frames: None,
            thumbhash: None,
            dominant_color: None,
        };
        images.set(&keys::original(&id), &[n]).unwrap();
        images.set(&keys::meta(&id), &meta.to_json()).unwrap();
        images.set(&keys::upload_index(created, &id), b"").unwrap();
        id.to_string()
    }

    fn page(
        images: &MemoryKv,
        config: &Config,
        query: &str,
    ) -> Result<serde_json::Value, ApiError> {
        let parts = RequestParts {
            method: "GET".into(),
            query: query.into(),
            ..Default::default()
        };
        list(&parts, config, images).map(|r| {
            assert_eq!(r.get("cache-control"), Some("private, no-store"));
            serde_json::from_slice(&r.body).unwrap()
        })
    }

    fn ids(page: &serde_json::Value) -> Vec<String> {
        page["images"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["id"].as_str().unwrap().to_string())
            .collect()
    }

    /// Both kinds of runtime: one that pages keys and one that does not.
    fn both() -> [MemoryKv; 2] {
        [
            MemoryKv::default(),
            MemoryKv {
                unpaged: true,
                ..Default::default()
            },
        ]
    }

    #[test]
    fn pages_newest_first_until_the_end() {
        for images in both() {
            pages_newest_first_until_the_end_with(images);
        }
    }

    fn pages_newest_first_until_the_end_with(images: MemoryKv) {
        let a = upload(&images, 1, "2026-01-01T00:00:00.001Z");
        let b = upload(&images, 2, "2026-01-01T00:00:00.002Z");
        let c = upload(&images, 3, "2026-01-02T00:00:00.000Z");
        let c_ = Config::default();
        let first = page(&images, &c_, "limit=2").unwrap();
        assert_eq!(ids(&first), vec![c.clone(), b.clone()]);
        assert_eq!(first["images"][0]["width"], 3);
        let next = first["next"].as_str().unwrap().replace('/', "%2F");
        let second = page(&images, &c_, &format!("limit=2&after={next}")).unwrap();
        assert_eq!(ids(&second), vec![a.clone()]);
        assert!(second["next"].is_null());
        let all = page(&images, &c_, "").unwrap();
        assert_eq!(ids(&all), vec![c, b, a]);
        assert!(all["next"].is_null());
    }

    #[test]
    fn skips_entries_of_deleted_or_re_timed_uploads() {
        for images in both() {
            skips_entries_of_deleted_or_re_timed_uploads_with(images);
        }
    }

    #[test]
    fn a_paged_listing_continues_past_entries_of_deleted_uploads() {
        let images = MemoryKv::default();
        let made: Vec<String> = (1..=30)
            .map(|n| upload(&images, n, &format!("2026-01-01T00:00:{n:02}.000Z")))
            .collect();
        // Entries of deleted uploads between the pages.
        for gone in &made[20..26] {
            images
                .delete(&keys::meta(&ImageId::parse(gone).unwrap()))
                .unwrap();
        }
        let first = page(&images, &Config::default(), "limit=2").unwrap();
        assert_eq!(ids(&first), vec![made[29].clone(), made[28].clone()]);
        let next = first["next"].as_str().unwrap().replace('/', "%2F");
        let second = page(
            &images,
            &Config::default(),
            &format!("limit=5&after={next}"),
        )
        .unwrap();
        let expected: Vec<String> = [27, 26, 19, 18, 17]
            .iter()
            .map(|&i| made[i].clone())
            .collect();
        assert_eq!(ids(&second), expected, "stale entries skipped");
    }

    fn skips_entries_of_deleted_or_re_timed_uploads_with(images: MemoryKv) {
        let a = upload(&images, 1, "2026-01-01T00:00:00.000Z");
        let gone = upload(&images, 2, "2026-01-02T00:00:00.000Z");
        images
            .delete(&keys::meta(&ImageId::parse(&gone).unwrap()))
            .unwrap();
        // A second index entry for `a` from a concurrent first upload.
        let id = ImageId::parse(&a).unwrap();
        images
            .set(&keys::upload_index("2026-01-03T00:00:00.000Z", &id), b"")
            .unwrap();
        let p = page(&images, &Config::default(), "limit=1").unwrap();
        assert_eq!(ids(&p), vec![a]);
        assert!(p["next"].is_null(), "{p}");
    }

    #[test]
    fn needs_the_token_and_a_sane_query() {
        let images = MemoryKv::default();
        upload(&images, 1, "2026-01-01T00:00:00.000Z");
        let locked = Config {
            token: Some("t".into()),
            ..Config::default()
        };
        assert_eq!(page(&images, &locked, "").unwrap_err().status, 401);
        let parts = RequestParts {
            method: "GET".into(),
            headers: vec![("authorization".into(), "Bearer t".into())],
            ..Default::default()
        };
        assert_eq!(list(&parts, &locked, &images).unwrap().status, 200);
        for bad in [
            "limit=0",
            "limit=101",
            "limit=x",
            "after=nope",
            "after=1%2Fx",
        ] {
            let err = page(&images, &Config::default(), bad).unwrap_err();
            assert_eq!((err.status, err.code.as_str()), (400, "bad_query"), "{bad}");
        }
    }
}
