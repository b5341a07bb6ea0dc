//! `POST /upload`: sniff, check limits from the header, verify the image
//! decodes, content-address it and store original + metadata.

use crate::config::Config;
use edgeimg_common::kv::Kv;
use edgeimg_common::meta::Meta;
use edgeimg_common::{keys, multipart, ApiError, ImageId, Reply};
use serde::Serialize;

/// The request facts ingest needs besides the body.
#[derive(Debug, Clone, Copy, Default)]
pub struct Upload<'a> {
    pub content_type: Option<&'a str>,
    /// `http://host:port`, to make `url` absolute; relative without it.
    pub origin: Option<&'a str>,
    /// `created` for a new upload (RFC 3339).
    pub now: &'a str,
}

/// The `201`/`200` body.
#[derive(Debug, Serialize)]
struct Created<'a> {
    id: &'a str,
    format: &'a str,
    width: u32,
    height: u32,
    bytes: u64,
    url: String,
    created: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    frames: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    thumbhash: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    dominant_color: Option<&'a str>,
}

/// Handles a fully read body; `201` when stored now, `200` when the same bytes
/// were already stored.
pub fn ingest(body: &[u8], upload: Upload<'_>, config: &Config, images: &impl Kv) -> Reply {
    match try_ingest(body, upload, config, images) {
        Ok(reply) => reply,
        Err(err) => err.into_reply(),
    }
}

fn try_ingest(
    body: &[u8],
    upload: Upload<'_>,
    config: &Config,
    images: &impl Kv,
) -> Result<Reply, ApiError> {
    let bytes = match upload.content_type.and_then(multipart::boundary) {
        Some(boundary) => multipart::extract(body, &boundary, "file")?,
        None => body,
    };
    if bytes.is_empty() {
        return Err(ApiError::bad_request(
            "empty_body",
            "the request carries no image bytes",
        ));
    }
    let info = imaging::probe(bytes, &config.limits).map_err(image_error)?;
    // One decode to ≤ 100 px both refuses a file that does not decode (422,
    // rather than stored and failing on every resize) and makes the
    // placeholders; JPEG and WebP decode at reduced scale for it.
    let placeholder = imaging::placeholder(bytes, &config.limits).map_err(image_error)?;

    let id = ImageId::of(bytes);
    if let Some(meta) = stored_meta(&id, images)? {
        // Completes an upload whose index write failed (or that predates
        // the index), so a retry makes it listed.
        let index = keys::upload_index(&meta.created, &id);
        if !images.exists(&index)? {
            images.set(&index, meta.created.as_bytes())?;
        }
        return Ok(created_reply(200, &meta, upload.origin));
    }
    let meta = Meta {
        id: id.to_string(),
        format: info.format.as_str().to_string(),
        content_type: info.format.content_type().to_string(),
        width: info.width,
        height: info.height,
        bytes: bytes.len() as u64,
        created: upload.now.to_string(),
        frames: (info.frames > 1).then_some(info.frames),
        thumbhash: Some(placeholder.thumbhash_base64()),
        dominant_color: Some(placeholder.dominant_hex()),
    };
    // Original first, metadata second: metadata marks a complete upload, so
    // a failure in between leaves nothing that is served, and a retry
    // completes it. The index entry comes last: listing shows only entries
    // whose metadata exists, and a retry (the 200 path) writes a missing one.
    images.set(&keys::original(&id), bytes)?;
    images.set(&keys::meta(&id), &meta.to_json())?;
    images.set(
        &keys::upload_index(&meta.created, &id),
        meta.created.as_bytes(),
    )?;
    Ok(created_reply(201, &meta, upload.origin))
}

/// The stored metadata when both it and the original are present.
fn stored_meta(id: &ImageId, images: &impl Kv) -> Result<Option<Meta>, ApiError> {
    let Some(raw) = images.get(&keys::meta(id))? else {
        return Ok(None);
    };
    let Some(meta) = Meta::from_json(&raw) else {
        return Ok(None);
    };
    Ok(images.exists(&keys::original(id))?.then_some(meta))
}

/// Maps an imaging error to its JSON error with the same status and code.
pub fn image_error(err: imaging::Error) -> ApiError {
    ApiError::new(err.status(), err.code(), err.to_string())
}

fn created_reply(status: u16, meta: &Meta, origin: Option<&str>) -> Reply {
    let path = format!("/images/{}", meta.id);
    let url = format!("{}{path}", origin.unwrap_or(""));
    let body = Created {
        id: &meta.id,
        format: &meta.format,
        width: meta.width,
        height: meta.height,
        bytes: meta.bytes,
        url,
        created: &meta.created,
        frames: meta.frames,
        thumbhash: meta.thumbhash.as_deref(),
        dominant_color: meta.dominant_color.as_deref(),
    };
    Reply::json(status, &body)
        .header("location", path)
        .header("cache-control", "no-store")
}

#[cfg(test)]
mod tests {
    use super::*;
    use edgeimg_common::kv::MemoryKv;
    use edgeimg_common::testdata::{png_with, tiny_png};

    fn up() -> Upload<'static> {
        Upload {
            content_type: Some("image/png"),
            origin: Some("http://h:1"),
            now: "2026-01-01T00:00:00Z",
        }
    }

    fn json(reply: &Reply) -> serde_json::Value {
        serde_json::from_slice(&reply.body).unwrap()
    }

    #[test]
    fn stores_original_and_metadata_then_dedupes() {
        let images = MemoryKv::default();
        let png = tiny_png();
        let first = ingest(&png, up(), &Config::default(), &images);
        assert_eq!(
            first.status,
            201,
            "{}",
            String::from_utf8_lossy(&first.body)
        );
        let body = json(&first);
        let id = ImageId::of(&png).to_string();
        assert_eq!(body["id"], id.as_str());
        assert_eq!(
            (
                body["format"].as_str(),
                body["width"].as_u64(),
                body["height"].as_u64()
            ),
            (Some("png"), Some(3), Some(2))
        );
        assert_eq!(body["bytes"], png.len());
        assert_eq!(body["url"], format!("http://h:1/images/{id}"));
        assert_eq!(body["dominant_color"].as_str().map(str::len), Some(7));
        let stored = Meta::from_json(&images.get(&format!("meta/{id}")).unwrap().unwrap()).unwrap();
        assert_eq!(stored.thumbhash.as_deref(), body["thumbhash"].as_str());
        assert!(stored.thumbhash.is_some_and(|t| t.len() > 8));
        let index = keys::upload_index("2026-01-01T00:00:00Z", &ImageId::of(&png));
        assert_eq!(
            images.keys(),
            vec![index.clone(), format!("meta/{id}"), format!("orig/{id}")]
        );
        assert_eq!(images.get(&format!("orig/{id}")).unwrap().unwrap(), png);

        let later = Upload {
            now: "2027-01-01T00:00:00Z",
            ..up()
        };
        let again = ingest(&png, later, &Config::default(), &images);
        assert_eq!(again.status, 200);
        assert_eq!(json(&again)["created"], "2026-01-01T00:00:00Z");

        images.delete(&index).unwrap();
        assert_eq!(ingest(&png, up(), &Config::default(), &images).status, 200);
        assert!(
            images.exists(&index).unwrap(),
            "a re-upload repairs the index"
        );
    }

    #[test]
    fn takes_the_file_field_of_a_multipart_form() {
        let images = MemoryKv::default();
        let png = tiny_png();
        let mut body = b"--b0\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.png\"\r\nContent-Type: text/plain\r\n\r\n".to_vec();
        body.extend_from_slice(&png);
        body.extend_from_slice(b"\r\n--b0--\r\n");
        let upload = Upload {
            content_type: Some("multipart/form-data; boundary=b0"),
            ..up()
        };
        let reply = ingest(&body, upload, &Config::default(), &images);
        assert_eq!(reply.status, 201);
        assert_eq!(json(&reply)["id"], ImageId::of(&png).as_str());
    }

    #[test]
    fn bad_inputs_get_their_status_and_store_nothing() {
        let png = tiny_png();
        let mut small = Config::default();
        small.limits.max_input_bytes = 10;
        let cases: Vec<(&str, Vec<u8>, Config, u16, &str)> = vec![
            ("empty", vec![], Config::default(), 400, "empty_body"),
            (
                "text",
                b"hello, world\n".to_vec(),
                Config::default(),
                415,
                "unsupported_format",
            ),
            (
                "truncated header",
                png[..20].to_vec(),
                Config::default(),
                422,
                "decode_failed",
            ),
            (
                "no pixel data",
                png_with(3, 2, false),
                Config::default(),
                422,
                "decode_failed",
            ),
            (
                "bomb",
                png_with(100_000, 100_000, false),
                Config::default(),
                422,
                "pixel_limit",
            ),
            ("too large", png.clone(), small, 413, "too_large"),
        ];
        for (name, body, config, status, code) in cases {
            let images = MemoryKv::default();
            let reply = ingest(&body, up(), &config, &images);
            assert_eq!(
                reply.status,
                status,
                "{name}: {}",
                String::from_utf8_lossy(&reply.body)
            );
            assert_eq!(json(&reply)["error"]["code"], code, "{name}");
            assert!(images.keys().is_empty(), "{name}");
        }
    }

    #[test]
    fn storage_failure_is_503() {
        let images = MemoryKv {
            fail: true,
            ..Default::default()
        };
        let reply = ingest(&tiny_png(), up(), &Config::default(), &images);
        assert_eq!(reply.status, 503);
        assert_eq!(json(&reply)["error"]["code"], "storage_unavailable");
    }
}
