//! Serving the embedded page: `ETag`/`304`, caching, security headers, and
//! `Accept-CH`, which asks the browser to send client hints with the image
//! requests the page makes (resize's `width=auto` and `dpr=auto` read them).

use crate::assets;
use edgeimg_common::conditional::none_match;
use edgeimg_common::{ApiError, Reply, RequestParts};
use sha2::{Digest, Sha256};

/// The client hints the page asks for: what `width=auto`/`dpr=auto` read.
pub const ACCEPT_CH: &str = "Sec-CH-Width, Sec-CH-Viewport-Width, Sec-CH-DPR";

/// Everything the page loads is its own: scripts, styles, images, API calls.
const CSP: &str = "default-src 'self'; img-src 'self' blob: data:; script-src 'self'; style-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// Answers a request for the page or one of its assets; `parts.path` is the
/// full request path (the site's routes are `/` and `/assets/...`).
pub fn handle(parts: &RequestParts) -> Reply {
    let result = match parts.method.as_str() {
        "GET" | "HEAD" => serve(parts),
        _ => return ApiError::method_not_allowed("GET, HEAD"),
    };
    ApiError::respond(result, &parts.method)
}

fn serve(parts: &RequestParts) -> Result<Reply, ApiError> {
    let path = parts.path.split('?').next().unwrap_or("");
    let asset = assets::find(path)
        .ok_or_else(|| ApiError::not_found(format!("no page or asset at {path}")))?;
    let etag = format!(
        "\"{}\"",
        hex::encode(&Sha256::digest(asset.body.as_bytes())[..16])
    );
    let is_page = asset.path == "/";
    // The page revalidates every time (a new deployment shows at once);
    // assets may be reused for a few minutes, by browsers and the edge cache.
    let cache_control = if is_page {
        "no-cache"
    } else {
        "public, max-age=300"
    };
    let mut reply = if none_match(parts.header("if-none-match"), &etag) {
        Reply::new(304)
    } else {
        Reply::new(200)
            .header("content-type", asset.content_type)
            .with_body(asset.body.as_bytes().to_vec())
    };
    reply = reply
        .header("etag", etag)
        .header("cache-control", cache_control)
        .header("x-content-type-options", "nosniff");
    if is_page {
        reply = reply
            .header("accept-ch", ACCEPT_CH)
            .header("content-security-policy", CSP)
            .header("referrer-policy", "same-origin");
    }
    Ok(reply)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn get(method: &str, path: &str, headers: &[(&str, &str)]) -> Reply {
        handle(&RequestParts::new(method, path, headers))
    }

    #[test]
    fn serves_the_page_with_hints_and_a_strict_policy() {
        let page = get("GET", "/", &[]);
        assert_eq!(page.status, 200);
        assert_eq!(page.get("content-type"), Some("text/html; charset=utf-8"));
        assert_eq!(page.get("accept-ch"), Some(ACCEPT_CH));
        assert!(page
            .get("content-security-policy")
            .unwrap()
            .contains("default-src 'self'"));
        assert!(String::from_utf8_lossy(&page.body).contains("<html lang=\"en\">"));
        let js = get("GET", "/assets/app.js?v=1", &[]);
        assert_eq!(
            js.get("content-type"),
            Some("text/javascript; charset=utf-8")
        );
        assert_eq!(js.get("cache-control"), Some("public, max-age=300"));
        assert_eq!(js.get("accept-ch"), None);
    }

    #[test]
    fn revalidates_with_etags() {
        let first = get("GET", "/assets/app.css", &[]);
        let etag = first.get("etag").unwrap();
        let again = get("GET", "/assets/app.css", &[("if-none-match", etag)]);
        assert_eq!((again.status, again.body.len()), (304, 0));
        let head = get("HEAD", "/", &[]);
        assert_eq!((head.status, head.body.len()), (200, 0));
        assert!(head.get("content-length").is_some());
    }

    #[test]
    fn unknown_paths_and_methods_are_json_errors() {
        assert_eq!(get("GET", "/assets/secret.txt", &[]).status, 404);
        assert_eq!(get("GET", "/assets/", &[]).status, 404);
        assert_eq!(get("POST", "/", &[]).status, 405);
    }
}
