//! `GET`/`HEAD /images/{id}`, `/images/{id}/meta` and the listing
//! `/images?limit=&after=`, each with its CORS policy and preflight.
//!
//! An original stored in chunks (see `edgeimg_common::chunked`) is streamed
//! chunk by chunk, whole or for a `Range`, so serving it holds one chunk.

use crate::config::Config;
use crate::list::list;
use crate::range::{self, RangeRequest};
use edgeimg_common::answer::{Answer, ChunkedBody};
use edgeimg_common::chunked::{ChunkedKv, Stored};
use edgeimg_common::conditional::none_match;
use edgeimg_common::kv::Kv;
use edgeimg_common::meta::Meta;
use edgeimg_common::reply::{CACHE_TAG, IMMUTABLE};
use edgeimg_common::{keys, ApiError, ImageId, Reply, RequestParts};

/// Routes a request below `/images`. `open` is called only once the id is
/// known to be well-formed, so bad ids never touch storage.
pub fn handle<K: Kv>(
    parts: &RequestParts,
    config: &Config,
    open: impl FnOnce() -> Result<ChunkedKv<K>, ApiError>,
) -> Answer<K> {
    let segments = parts.segments();
    let cors = match segments.as_slice() {
        [] => config.list_cors(),
        _ => config.read_cors(),
    };
    let result = match (parts.method.as_str(), segments.as_slice()) {
        ("OPTIONS", [] | [_] | [_, "meta"]) => return Answer::Whole(cors.preflight(parts)),
        ("GET" | "HEAD", []) => open()
            .and_then(|images| list(parts, config, &images))
            .map(Answer::Whole),
        ("GET" | "HEAD", [id]) => ImageId::parse(id).and_then(|id| original(&id, parts, open()?)),
        ("GET" | "HEAD", [id, "meta"]) => ImageId::parse(id)
            .and_then(|id| meta(&id, &open()?))
            .map(Answer::Whole),
        (_, [] | [_] | [_, "meta"]) => {
            return Answer::Whole(
                cors.apply(ApiError::method_not_allowed("GET, HEAD, OPTIONS"), parts),
            )
        }
        _ => Err(ApiError::not_found(
            "no such route; use /images, /images/{id} or /images/{id}/meta",
        )),
    };
    match result {
        // A HEAD with a Range: the 206's headers, no body read.
        Ok(Answer::Streamed(head, _)) if parts.method == "HEAD" => {
            Answer::Whole(cors.apply(head, parts))
        }
        Ok(Answer::Streamed(head, body)) => Answer::Streamed(cors.apply(head, parts), body),
        Ok(Answer::Whole(reply)) => {
            Answer::Whole(cors.apply(ApiError::respond(Ok(reply), &parts.method), parts))
        }
        Err(err) => Answer::Whole(cors.apply(ApiError::respond(Err(err), &parts.method), parts)),
    }
}

/// The original bytes, honouring `If-None-Match`, `Range` and `If-Range`.
fn original<K: Kv>(
    id: &ImageId,
    parts: &RequestParts,
    images: ChunkedKv<K>,
) -> Result<Answer<K>, ApiError> {
    let key = keys::original(id);
    let etag = id.etag();
    let base = |status: u16| {
        Reply::new(status)
            .header("etag", etag.clone())
            .header("cache-control", IMMUTABLE)
            .header(CACHE_TAG, id.to_string())
            .header("accept-ranges", "bytes")
    };
    let missing = || ApiError::not_found(format!("no image {id}"));
    if none_match(parts.header("if-none-match"), &etag) {
        // Content-addressed: a matching tag is current as long as the image exists.
        return if images.exists(&key)? {
            Ok(Answer::Whole(base(304)))
        } else {
            Err(missing())
        };
    }
    if parts.method == "HEAD" && parts.header("range").is_none() {
        // Length and type from the metadata: no need to read a 16 MB original.
        let meta = images
            .get(&keys::meta(id))?
            .and_then(|m| Meta::from_json(&m))
            .ok_or_else(missing)?;
        let svg = meta.content_type == SVG;
        return Ok(Answer::Whole(svg_policy(
            base(200)
                .header("content-type", meta.content_type)
                .header("content-length", meta.bytes.to_string())
                .header("x-content-type-options", "nosniff"),
            svg,
        )));
    }
    let stored = images.stored(&key)?.ok_or_else(missing)?;
    let (len, first) = match &stored {
        Stored::Whole(bytes) => (bytes.len() as u64, None),
        Stored::Chunked(manifest) => (manifest.len, Some(images.chunk(manifest, 0)?)),
    };
    let head_bytes = match (&stored, &first) {
        (Stored::Whole(bytes), _) => bytes.as_slice(),
        (_, Some(first)) => first.as_slice(),
        _ => &[],
    };
    let content_type = imaging::Format::sniff(head_bytes)
        .map(|f| f.content_type())
        .unwrap_or("application/octet-stream");
    let range_header = match parts.header("if-range") {
        Some(tag) if tag.trim() != etag => None,
        _ => parts.header("range"),
    };
    let (status, start, end) = match range::parse(range_header, len) {
        RangeRequest::Full => (200, 0, len.saturating_sub(1)),
        RangeRequest::Partial { start, end } => (206, start, end),
        RangeRequest::Unsatisfiable => {
            return Ok(Answer::Whole(
                ApiError::new(
                    416,
                    "range_not_satisfiable",
                    format!("the image is {len} bytes"),
                )
                .into_reply()
                .header("content-range", format!("bytes */{len}")),
            ))
        }
    };
    let mut head = svg_policy(
        base(status)
            .header("content-type", content_type)
            .header("x-content-type-options", "nosniff"),
        content_type == SVG,
    );
    if status == 206 {
        head = head.header("content-range", format!("bytes {start}-{end}/{len}"));
    }
    Ok(match stored {
        Stored::Whole(bytes) if status == 200 => Answer::Whole(head.with_body(bytes)),
        Stored::Whole(bytes) => {
            Answer::Whole(head.with_body(bytes[start as usize..=end as usize].to_vec()))
        }
        Stored::Chunked(manifest) => {
            let body = ChunkedBody::new(images, manifest, start, end, first.map(|f| (0, f)));
            Answer::Streamed(head.header("content-length", body.len().to_string()), body)
        }
    })
}

const SVG: &str = "image/svg+xml";

/// An SVG original is a document a browser would run script in if opened
/// directly (or through `<iframe>`/`<object>`): its policy forbids script,
/// loads of anything (images, fonts, frames, connections) and, by
/// `sandbox`, gives it an opaque origin with no access to this site's
/// cookies or storage; inline styles still apply so it looks right.
/// `<img src>` never runs an SVG's script in the first place.
fn svg_policy(reply: Reply, svg: bool) -> Reply {
    if !svg {
        return reply;
    }
    reply.header(
        "content-security-policy",
        "default-src 'none'; style-src 'unsafe-inline'; sandbox",
    )
}

/// The stored metadata JSON.
fn meta(id: &ImageId, images: &impl Kv) -> Result<Reply, ApiError> {
    let json = images
        .get(&keys::meta(id))?
        .ok_or_else(|| ApiError::not_found(format!("no image {id}")))?;
    Ok(Reply::new(200)
        .header("content-type", "application/json")
        .header("cache-control", "no-cache")
        .with_body(json))
}

#[cfg(test)]
mod tests {
    use super::*;
    use edgeimg_common::kv::MemoryKv;

    const PNG: &[u8] = b"\x89PNG\r\n\x1a\n0123456789";
    const META: &str = r#"{"id":"x","format":"png","content_type":"image/png","width":1,"height":1,"bytes":18,"created":"2026-01-01T00:00:00Z"}"#;

    fn stored() -> (MemoryKv, ImageId) {
        let images = MemoryKv::default();
        let id = ImageId::of(PNG);
        images.set(&keys::original(&id), PNG).unwrap();
        images.set(&keys::meta(&id), META.as_bytes()).unwrap();
        (images, id)
    }

    fn get(images: &MemoryKv, method: &str, path: &str, headers: &[(&str, &str)]) -> Reply {
        handle(
            &RequestParts::new(method, path, headers),
            &Config::default(),
            || Ok(ChunkedKv::new(images, 0)),
        )
        .into_reply()
        .unwrap()
    }

    #[test]
    fn an_svg_original_carries_a_policy_that_stops_script() {
        const SVG_BYTES: &[u8] =
            b"<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>";
        let images = MemoryKv::default();
        let id = ImageId::of(SVG_BYTES);
        images.set(&keys::original(&id), SVG_BYTES).unwrap();
        let meta = META
            .replace("image/png", "image/svg+xml")
            .replace("\"png\"", "\"svg\"");
        images.set(&keys::meta(&id), meta.as_bytes()).unwrap();
        for method in ["GET", "HEAD"] {
            let r = get(&images, method, &format!("/{id}"), &[]);
            assert_eq!(r.status, 200, "{method}");
            assert_eq!(r.get("content-type"), Some("image/svg+xml"), "{method}");
            assert_eq!(
                r.get("content-security-policy"),
                Some("default-src 'none'; style-src 'unsafe-inline'; sandbox"),
                "{method}"
            );
            assert_eq!(r.get("x-content-type-options"), Some("nosniff"), "{method}");
        }
        let (png_images, png_id) = stored();
        let png = get(&png_images, "GET", &format!("/{png_id}"), &[]);
        assert_eq!(png.get("content-security-policy"), None);
    }

    #[test]
    fn serves_original_with_cache_headers() {
        let (images, id) = stored();
        let r = get(&images, "GET", &format!("/{id}"), &[]);
        assert_eq!(r.status, 200);
        assert_eq!(r.body, PNG);
        assert_eq!(r.get("content-type"), Some("image/png"));
        assert_eq!(
            r.get("content-length"),
            Some(PNG.len().to_string().as_str())
        );
        assert_eq!(r.get("etag"), Some(id.etag().as_str()));
        assert_eq!(r.get("cache-control"), Some(IMMUTABLE));
        assert_eq!(r.get(CACHE_TAG), Some(id.as_str()));

        let h = get(&images, "HEAD", &format!("/{id}"), &[]);
        assert_eq!((h.status, h.body.len()), (200, 0));
        assert_eq!(
            h.get("content-length"),
            Some(PNG.len().to_string().as_str())
        );
    }

    #[test]
    fn conditional_and_range_requests() {
        let (images, id) = stored();
        let path = format!("/{id}");
        let etag = id.etag();
        let r = get(&images, "GET", &path, &[("if-none-match", &etag)]);
        assert_eq!(
            (r.status, r.body.len(), r.get("content-length")),
            (304, 0, None)
        );

        let r = get(&images, "GET", &path, &[("range", "bytes=8-11")]);
        assert_eq!(r.status, 206);
        assert_eq!(r.body, b"0123");
        assert_eq!(r.get("content-range"), Some("bytes 8-11/18"));
        assert_eq!(r.get("content-length"), Some("4"));

        let r = get(&images, "GET", &path, &[("range", "bytes=18-")]);
        assert_eq!(r.status, 416);
        assert_eq!(r.get("content-range"), Some("bytes */18"));

        let r = get(
            &images,
            "GET",
            &path,
            &[("range", "bytes=0-1"), ("if-range", "\"old\"")],
        );
        assert_eq!(r.status, 200);
    }

    #[test]
    fn metadata_and_errors() {
        let (images, id) = stored();
        let r = get(&images, "GET", &format!("/{id}/meta"), &[]);
        assert_eq!((r.status, r.body.as_slice()), (200, META.as_bytes()));

        let unknown = ImageId::of(b"nope");
        for path in [format!("/{unknown}"), format!("/{unknown}/meta")] {
            assert_eq!(get(&images, "GET", &path, &[]).status, 404);
        }
        let r = get(
            &images,
            "GET",
            &format!("/{unknown}"),
            &[("if-none-match", "*")],
        );
        assert_eq!(r.status, 404);
        assert_eq!(get(&images, "POST", &format!("/{id}"), &[]).status, 405);
        assert_eq!(
            get(&images, "GET", &format!("/{id}/other"), &[]).status,
            404
        );
    }

    #[test]
    fn malformed_ids_are_400_without_opening_storage() {
        for path in ["/short", "/ABC", "/x/meta", "/%2e%2e"] {
            let r = handle::<MemoryKv>(
                &RequestParts::new("GET", path, &[]),
                &Config::default(),
                || panic!("storage touched for {path}"),
            )
            .into_reply()
            .unwrap();
            assert_eq!(r.status, 400, "{path}");
            let v: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
            assert_eq!(v["error"]["code"], "bad_id");
        }
    }

    #[test]
    fn cors_on_reads_and_preflights() {
        let (images, id) = stored();
        for path in [
            format!("/{id}"),
            format!("/{id}/meta"),
            "/nothex".to_string(),
        ] {
            let r = get(&images, "GET", &path, &[("origin", "https://page.example")]);
            assert_eq!(r.get("access-control-allow-origin"), Some("*"), "{path}");
            assert_eq!(r.get("timing-allow-origin"), Some("*"), "{path}");
        }
        let pre = get(
            &images,
            "OPTIONS",
            &format!("/{id}"),
            &[
                ("origin", "https://page.example"),
                ("access-control-request-method", "GET"),
            ],
        );
        assert_eq!(pre.status, 204);
        assert_eq!(pre.get("access-control-allow-methods"), Some("GET, HEAD"));

        // The listing keeps the stricter policy: same-origin by default.
        let list = get(&images, "GET", "", &[("origin", "https://page.example")]);
        assert_eq!(list.status, 200);
        assert_eq!(list.get("access-control-allow-origin"), None);
        let pre = get(
            &images,
            "OPTIONS",
            "/",
            &[
                ("origin", "https://page.example"),
                ("access-control-request-method", "GET"),
            ],
        );
        assert_eq!(
            (pre.status, pre.get("access-control-allow-origin")),
            (204, None)
        );
    }

    #[test]
    fn a_chunked_original_streams_whole_and_by_range_with_the_same_headers() {
        let images = MemoryKv::default();
        let chunk = edgeimg_common::chunked::MIN_CHUNK_BYTES;
        let mut png = PNG.to_vec();
        png.extend((0..2 * chunk + 5).map(|i| (i % 253) as u8));
        let id = ImageId::of(&png);
        ChunkedKv::new(&images, chunk)
            .set(&keys::original(&id), &png)
            .unwrap();
        let path = format!("/{id}");
        let answer = handle(
            &RequestParts::new("GET", &path, &[]),
            &Config::default(),
            || Ok(ChunkedKv::new(&images, chunk)),
        );
        assert!(
            matches!(answer, Answer::Streamed(..)),
            "a chunked original streams"
        );
        let whole = answer.into_reply().unwrap();
        assert_eq!((whole.status, whole.body == png), (200, true));
        assert_eq!(whole.get("content-type"), Some("image/png"));
        assert_eq!(
            whole.get("content-length"),
            Some(png.len().to_string().as_str())
        );
        assert_eq!(whole.get(CACHE_TAG), Some(id.as_str()));

        let range = format!("bytes={}-{}", chunk - 2, chunk + 1);
        let part = get(&images, "GET", &path, &[("range", &range)]);
        assert_eq!(part.status, 206);
        assert_eq!(part.body, png[chunk as usize - 2..=chunk as usize + 1]);
        assert_eq!(part.get("content-length"), Some("4"));
        let total = png.len();
        let expected = format!("bytes {}-{}/{total}", chunk - 2, chunk + 1);
        assert_eq!(part.get("content-range"), Some(expected.as_str()));
        let head = get(&images, "HEAD", &path, &[("range", &range)]);
        assert_eq!((head.status, head.body.len()), (206, 0));
        assert_eq!(head.get("content-length"), Some("4"));
    }

    #[test]
    fn storage_down_is_503() {
        let down = MemoryKv {
            fail: true,
            ..Default::default()
        };
        let r = get(&down, "GET", &format!("/{}", ImageId::of(b"x")), &[]);
        assert_eq!(r.status, 503);
    }
}
