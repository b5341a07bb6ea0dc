//! Hints and negotiation, cache lookup, transform on a miss, cache fill, and
//! the response headers (CORS and `Vary` included).

use crate::config::Config;
use crate::request::{self, Resize};
use crate::variant::Variant;
use crate::{hints, save_data};
use edgeimg_common::conditional::none_match;
use edgeimg_common::kv::{Kv, VariantIndex};
use edgeimg_common::meta::Meta;
use edgeimg_common::reply::{CACHE_TAG, DEFER, DEFER_OK, IMMUTABLE, PROVISIONAL};
use edgeimg_common::{auth, keys, ApiError, ImageId, Reply, RequestParts};
use imaging::{Format, FormatChoice};

/// Handles a request below `/resize`. Stores are opened only after the path,
/// options and signature checked out.
pub fn handle<I: Kv, C: Kv>(
    parts: &RequestParts,
    config: &Config,
    open_images: impl FnOnce() -> Result<I, ApiError>,
    open_cache: impl FnOnce() -> Result<C, ApiError>,
) -> Reply {
    let cors = config.cors();
    let result = match (parts.method.as_str(), parts.segments().as_slice()) {
        ("OPTIONS", [_, _]) => return cors.preflight(parts),
        ("GET" | "HEAD", [options, id]) => request::parse(options, id, config)
            .and_then(|resize| resized(&resize, parts, config, &open_images()?, open_cache)),
        (_, [_, _]) => {
            return cors.apply(ApiError::method_not_allowed("GET, HEAD, OPTIONS"), parts)
        }
        _ => Err(ApiError::not_found(
            "no such route; use /resize/{options}/{id}",
        )),
    };
    cors.apply(ApiError::respond(result, &parts.method), parts)
}

fn resized<C: Kv>(
    resize: &Resize,
    parts: &RequestParts,
    config: &Config,
    images: &impl Kv,
    open_cache: impl FnOnce() -> Result<C, ApiError>,
) -> Result<Reply, ApiError> {
    let id = &resize.id;
    let missing = || ApiError::not_found(format!("no image {id}"));
    // Metadata gives the original's format for negotiation, and its presence
    // is checked on every request, so a cached variant that outlived a delete
    // is never served.
    let meta = images.get(&keys::meta(id))?.ok_or_else(missing)?;
    let meta = Meta::from_json(&meta);
    let animated = meta.as_ref().is_some_and(Meta::animated);
    let original = meta.and_then(|m| parse_format(&m.format)).ok_or_else(|| {
        ApiError::new(
            500,
            "bad_metadata",
            format!("metadata of {id} is unreadable"),
        )
    })?;
    // Everything the answer depends on besides the URL, in `Vary`: the
    // hints `auto` values read, `Accept` for `format=auto`, `Save-Data` for
    // URLs that use hints.
    let hinted = hints::resolve(&resize.options, resize.auto, parts, config.auto_width);
    let mut options = hinted.options;
    // An animation under `format=auto` picks WebP, which keeps it
    // animated, over AVIF (and so is never deferred).
    let negotiated =
        imaging::negotiate_animated(&options, parts.header("accept"), original, animated);
    let mut vary = Vec::new();
    if negotiated.vary_accept {
        vary.push("Accept");
    }
    vary.extend(hinted.vary);
    let hinted = resize.auto.width || resize.auto.dpr;
    if save_data::apply(
        &mut options,
        negotiated.format,
        parts,
        hinted,
        config.save_data_drop,
    ) {
        vary.push("Save-Data");
    }
    let key = keys::variant(id, &options.with_format(negotiated.format).to_string());

    // The cache is an optimisation: when it is down we still answer, by transforming.
    let cache = open_cache()
        .map_err(|e| eprintln!("resize: cache unavailable: {}", e.message))
        .ok();
    let lookup = |key: &str| {
        cache.as_ref().and_then(|c| match c.get(key) {
            Ok(v) => v.and_then(Variant::decode),
            Err(e) => {
                eprintln!("resize: cache read {key}: {}", e.message);
                None
            }
        })
    };
    let make = |format: Format, key: &str| -> Result<Variant, ApiError> {
        let bytes = images.get(&keys::original(id))?.ok_or_else(missing)?;
        let output = imaging::transform(&bytes, &options, format, &config.limits)
            .map_err(|e| ApiError::new(e.status(), e.code(), e.to_string()))?;
        let variant = Variant::new(output.format.content_type(), output.bytes);
        if let Some(cache) = &cache {
            let stored = cache
                .set(key, &variant.encode())
                .and_then(|()| VariantIndex::add(cache, id, key));
            if let Err(e) = stored {
                eprintln!("resize: cache write {key}: {}", e.message);
            }
        }
        Ok(variant)
    };
    let get_or_make = |format: Format, key: &str| match lookup(key) {
        Some(v) => Ok((v, true)),
        None => make(format, key).map(|v| (v, false)),
    };
    // `format=auto` never keeps a browser waiting for AVIF where the host
    // can make it in the background: until it is stored, the next best
    // format now, and the AVIF deferred.
    let defer_avif = parts.header(DEFER_OK).is_some()
        && options.format() == FormatChoice::Auto
        && negotiated.format == Format::Avif;
    let (variant, hit, deferred) = match lookup(&key) {
        Some(v) => (v, true, None),
        None if defer_avif => {
            let lesser = imaging::without_avif(parts.header("accept"), original);
            let lesser_key = keys::variant(id, &options.with_format(lesser).to_string());
            let (v, hit) = get_or_make(lesser, &lesser_key)?;
            (
                v,
                hit,
                Some(deferred_path(
                    &options.with_format(Format::Avif),
                    id,
                    config,
                )),
            )
        }
        None => (make(negotiated.format, &key)?, false, None),
    };

    let mut reply = if none_match(parts.header("if-none-match"), &variant.etag) {
        Reply::new(304)
    } else {
        Reply::new(200)
            .header("content-type", variant.content_type.clone())
            .header("x-content-type-options", "nosniff")
            .with_body(variant.bytes)
    };
    let cache_control = if deferred.is_some() {
        PROVISIONAL
    } else {
        IMMUTABLE
    };
    reply = reply
        .header("etag", variant.etag)
        .header("cache-control", cache_control)
        .header(CACHE_TAG, id.to_string())
        .header("x-cache", if hit { "hit" } else { "miss" });
    for name in vary {
        reply = reply.vary(name);
    }
    if let Some(path) = deferred {
        reply = reply.header(DEFER, path);
    }
    Ok(reply)
}

/// The request that makes the variant of `options`: canonical, and signed
/// when signing is on, so the host's background GET passes the same checks.
fn deferred_path(options: &imaging::Options, id: &ImageId, config: &Config) -> String {
    let canonical = options.to_string();
    match config.signing_key.as_deref() {
        Some(key) => {
            let sig = auth::sign(key, &request::signed_path(&canonical, id));
            request::signed_path(&format!("{canonical},sig={sig}"), id)
        }
        None => request::signed_path(&canonical, id),
    }
}

fn parse_format(name: &str) -> Option<Format> {
    Format::from_name(name)
}

#[cfg(test)]
mod tests {
    use super::*;
    use edgeimg_common::kv::MemoryKv;
    use edgeimg_common::testdata::png_with;
    use edgeimg_common::{auth, ImageId};

    struct World {
        images: MemoryKv,
        cache: MemoryKv,
        id: ImageId,
    }

    fn world() -> World {
        let png = png_with(64, 48, true);
        let id = ImageId::of(&png);
        let images = MemoryKv::default();
        let meta = Meta {
            id: id.to_string(),
            format: "png".into(),
            content_type: "image/png".into(),
            width: 64,
            height: 48,
            bytes: png.len() as u64,
            created: "2026-01-01T00:00:00Z".into(),
            frames: None,
            thumbhash: None,
            dominant_color: None,
        };
        images.set(&keys::original(&id), &png).unwrap();
        images.set(&keys::meta(&id), &meta.to_json()).unwrap();
        World {
            images,
            cache: MemoryKv::default(),
            id,
        }
    }

    fn get(w: &World, config: &Config, path: &str, headers: &[(&str, &str)]) -> Reply {
        let parts = RequestParts::new("GET", path, headers);
        handle(&parts, config, || Ok(&w.images), || Ok(&w.cache))
    }

    #[test]
    fn miss_then_hit_with_one_shared_entry_for_aliases() {
        let w = world();
        let c = Config::default();
        let first = get(&w, &c, &format!("/width=32,format=png/{}", w.id), &[]);
        assert_eq!(
            first.status,
            200,
            "{}",
            String::from_utf8_lossy(&first.body)
        );
        assert_eq!(first.get("x-cache"), Some("miss"));
        assert_eq!(first.get("content-type"), Some("image/png"));
        assert_eq!(first.get("cache-control"), Some(IMMUTABLE));
        assert_eq!(first.get("vary"), None);
        assert_eq!(first.get(CACHE_TAG), Some(w.id.as_str()));
        let info = imaging::probe(&first.body, &imaging::Limits::default()).unwrap();
        assert_eq!((info.width, info.height), (32, 24));

        let second = get(&w, &c, &format!("/f=png,w=32/{}", w.id), &[]);
        assert_eq!(second.get("x-cache"), Some("hit"));
        assert_eq!(second.body, first.body);
        assert_eq!(second.get("etag"), first.get("etag"));
        let etag = first.get("etag").unwrap();
        let not_modified = get(
            &w,
            &c,
            &format!("/w=32,f=png/{}", w.id),
            &[("if-none-match", etag)],
        );
        assert_eq!((not_modified.status, not_modified.body.len()), (304, 0));

        let variant = keys::variant(&w.id, "width=32,format=png");
        assert_eq!(w.cache.keys(), vec![variant, keys::variant_index(&w.id)]);
    }

    #[test]
    fn auto_format_follows_accept_and_varies() {
        let w = world();
        let c = Config::default();
        let path = format!("/width=16,format=auto/{}", w.id);
        let webp = get(&w, &c, &path, &[("accept", "image/webp,*/*")]);
        assert_eq!(webp.get("content-type"), Some("image/webp"));
        assert_eq!(webp.get("vary"), Some("Accept"));
        let plain = get(&w, &c, &path, &[("accept", "*/*")]);
        assert_eq!(plain.get("content-type"), Some("image/png"));
        assert_eq!(
            plain.get("x-cache"),
            Some("miss"),
            "a different format is a different entry"
        );
    }

    #[test]
    fn auto_never_waits_for_avif_where_the_host_can_defer_it() {
        const CHROME: &str = "image/avif,image/webp,*/*";
        let w = world();
        let c = Config::default();
        let path = format!("/width=16,format=auto/{}", w.id);
        let defer_ok = (DEFER_OK, "1");
        let first = get(&w, &c, &path, &[("accept", CHROME), defer_ok]);
        assert_eq!(first.status, 200);
        assert_eq!(first.get("content-type"), Some("image/webp"));
        assert_eq!(first.get("cache-control"), Some(PROVISIONAL));
        assert_eq!(first.get("vary"), Some("Accept"));
        let deferred = format!("/resize/width=16,format=avif/{}", w.id);
        assert_eq!(first.get(DEFER), Some(deferred.as_str()));
        // The WebP it served is a variant in its own right.
        let webp = get(&w, &c, &format!("/width=16,format=webp/{}", w.id), &[]);
        assert_eq!(
            (webp.get("x-cache"), &webp.body),
            (Some("hit"), &first.body)
        );

        // An explicit format still waits; once the AVIF is stored (here by
        // that request, as by the host's background GET), auto gets it.
        let explicit = format!("/width=16,format=avif/{}", w.id);
        let avif = get(&w, &c, &explicit, &[defer_ok]);
        assert_eq!(avif.get("content-type"), Some("image/avif"));
        let upgraded = get(&w, &c, &path, &[("accept", CHROME), defer_ok]);
        assert_eq!(upgraded.get("content-type"), Some("image/avif"));
        assert_eq!(upgraded.get("cache-control"), Some(IMMUTABLE));
        assert_eq!(upgraded.get(DEFER), None);

        // Without the host's offer (Spin), auto encodes AVIF in the request.
        let w = world();
        let spin = get(&w, &c, &path, &[("accept", CHROME)]);
        assert_eq!(spin.get("content-type"), Some("image/avif"));
        assert_eq!(spin.get("cache-control"), Some(IMMUTABLE));
    }

    #[test]
    fn a_deferred_path_is_signed_when_signing_is_on() {
        let w = world();
        let c = Config {
            signing_key: Some("k".into()),
            presets: "thumb:w=8,format=auto".into(),
            ..Config::default()
        };
        let r = get(
            &w,
            &c,
            &format!("/thumb/{}", w.id),
            &[("accept", "image/avif,image/webp"), (DEFER_OK, "1")],
        );
        assert_eq!(r.get("content-type"), Some("image/webp"));
        let deferred = r.get(DEFER).unwrap();
        let (options, id) = deferred
            .strip_prefix("/resize/")
            .unwrap()
            .split_once('/')
            .unwrap();
        let checked =
            request::parse(options, id, &c).expect("the deferred path passes the signature check");
        assert_eq!(checked.options.to_string(), "width=8,format=avif");
    }

    #[test]
    fn width_auto_follows_hints_and_varies_on_exactly_those_read() {
        let w = world();
        let c = Config::default();
        let path = format!("/width=auto,format=png/{}", w.id);
        let dims = |r: &Reply| {
            let info = imaging::probe(&r.body, &imaging::Limits::default()).unwrap();
            (info.width, info.height)
        };
        let narrow = get(&w, &c, &path, &[("sec-ch-width", "20")]);
        assert_eq!(
            narrow.status,
            200,
            "{}",
            String::from_utf8_lossy(&narrow.body)
        );
        assert_eq!(narrow.get("vary"), Some("Sec-CH-Width"));
        // Rounded up to 64, which scale-down caps at the original's 64.
        assert_eq!(dims(&narrow), (64, 48));
        let viewport = get(
            &w,
            &c,
            &format!("/width=auto,fit=contain,format=png/{}", w.id),
            &[("sec-ch-viewport-width", "30"), ("sec-ch-dpr", "1")],
        );
        assert_eq!(
            viewport.get("vary"),
            Some("Sec-CH-Width, Width, Sec-CH-Viewport-Width, Sec-CH-DPR")
        );
        let keys = w.cache.keys();
        assert!(
            keys.contains(&keys::variant(&w.id, "width=64,format=png")),
            "{keys:?}"
        );
        assert!(
            keys.contains(&keys::variant(&w.id, "width=64,fit=contain,format=png")),
            "{keys:?}"
        );

        let auto = get(
            &w,
            &c,
            &format!("/w=auto,f=auto/{}", w.id),
            &[("accept", "image/webp"), ("sec-ch-width", "30")],
        );
        assert_eq!(auto.get("vary"), Some("Accept, Sec-CH-Width, Save-Data"));
    }

    #[test]
    fn save_data_lowers_quality_into_its_own_variant() {
        let w = world();
        let c = Config::default();
        let path = format!("/width=auto,format=webp/{}", w.id);
        let hint = ("sec-ch-width", "30");
        let full = get(&w, &c, &path, &[hint]);
        let saving = get(&w, &c, &path, &[hint, ("save-data", "on")]);
        assert_eq!(
            (full.get("vary"), saving.get("vary")),
            (
                Some("Sec-CH-Width, Save-Data"),
                Some("Sec-CH-Width, Save-Data")
            )
        );
        assert_eq!(saving.get("x-cache"), Some("miss"));
        let keys = w.cache.keys();
        assert!(
            keys.contains(&keys::variant(&w.id, "width=64,quality=60,format=webp")),
            "{keys:?}"
        );
        let off = Config {
            save_data_drop: 0,
            ..Config::default()
        };
        let ignored = get(&w, &off, &path, &[hint, ("save-data", "on")]);
        assert_eq!(ignored.get("vary"), Some("Sec-CH-Width"));
        let fixed = get(
            &w,
            &c,
            &format!("/width=32,format=webp/{}", w.id),
            &[("save-data", "on")],
        );
        assert_eq!(fixed.get("vary"), None, "fixed URLs ignore Save-Data");
    }

    #[test]
    fn cors_headers_and_preflight() {
        let w = world();
        let c = Config::default();
        let ok = get(
            &w,
            &c,
            &format!("/width=8/{}", w.id),
            &[("origin", "https://a.example")],
        );
        assert_eq!(ok.get("access-control-allow-origin"), Some("*"));
        assert_eq!(ok.get("timing-allow-origin"), Some("*"));
        let missing = get(&w, &c, &format!("/width=8/{}", ImageId::of(b"x")), &[]);
        assert_eq!(
            (missing.status, missing.get("access-control-allow-origin")),
            (404, Some("*"))
        );
        let parts = RequestParts {
            method: "OPTIONS".into(),
            path: format!("/width=8/{}", w.id),
            headers: vec![
                ("origin".into(), "https://a.example".into()),
                ("access-control-request-method".into(), "GET".into()),
            ],
            ..Default::default()
        };
        let pre = handle(
            &parts,
            &c,
            || -> Result<&MemoryKv, ApiError> { panic!("no storage") },
            || Ok(&w.cache),
        );
        assert_eq!(
            (pre.status, pre.get("access-control-allow-origin")),
            (204, Some("*"))
        );
        assert!(pre
            .get("access-control-allow-headers")
            .unwrap()
            .contains("Sec-CH-Width"));
    }

    #[test]
    fn errors_and_rules() {
        let w = world();
        let unknown = ImageId::of(b"nope");
        let c = Config {
            signing_key: Some("k".into()),
            presets: "thumb:w=8,h=8,fit=cover".into(),
            ..Config::default()
        };
        let cases = [
            (format!("/width=8/{unknown}"), Config::default(), 404),
            (format!("/width=8/{}", "zz"), Config::default(), 400),
            (format!("/bogus=8/{}", w.id), Config::default(), 400),
            (format!("/{}", w.id), Config::default(), 404),
            (format!("/width=8/{}", w.id), c.clone(), 403),
            (format!("/thumb/{}", w.id), c.clone(), 200),
            (
                format!(
                    "/width=8,sig={}/{}",
                    auth::sign("k", &format!("/resize/width=8/{}", w.id)),
                    w.id
                ),
                c.clone(),
                200,
            ),
        ];
        for (path, config, status) in cases {
            let r = get(&w, &config, &path, &[]);
            assert_eq!(
                r.status,
                status,
                "{path}: {}",
                String::from_utf8_lossy(&r.body)
            );
        }
    }

    #[test]
    fn a_variant_is_not_served_once_its_image_is_gone() {
        let w = world();
        let c = Config::default();
        let path = format!("/width=8,format=png/{}", w.id);
        assert_eq!(get(&w, &c, &path, &[]).status, 200);
        w.images.delete(&keys::meta(&w.id)).unwrap();
        assert_eq!(get(&w, &c, &path, &[]).status, 404);
    }

    #[test]
    fn a_broken_cache_still_serves() {
        let w = World {
            cache: MemoryKv {
                fail: true,
                ..Default::default()
            },
            ..world()
        };
        let r = get(&w, &Config::default(), &format!("/width=8/{}", w.id), &[]);
        assert_eq!((r.status, r.get("x-cache")), (200, Some("miss")));
    }
}
