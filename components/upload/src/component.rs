//! Spin glue: method routing, auth before the body, a bounded body read.

use crate::config::Config;
use crate::{delete, ingest};
use edgeimg_common::cors::Cors;
use edgeimg_common::stores::Stores;
use edgeimg_common::{auth, time, vars, ApiError, Reply, RequestParts};
use futures::StreamExt;
use spin_sdk::http::{IncomingRequest, Response};
use spin_sdk::http_component;

#[http_component]
async fn handle(req: IncomingRequest) -> Response {
    let parts = RequestParts::from_incoming(&req, "/upload");
    let config = Config::from_lookup(vars::get);
    let result = match &config {
        Ok(config) => route(req, &parts, config).await,
        Err(err) => Err(err.clone()),
    };
    let mut reply = match result {
        Ok(reply) => reply,
        Err(err) => {
            if err.status >= 500 {
                eprintln!(
                    "upload: {} {}: {} {}",
                    parts.method, parts.path, err.code, err.message
                );
            }
            err.into_reply()
        }
    };
    if let Ok(config) = &config {
        // Preflights carry their own grant; everything else gets the stricter
        // token-endpoint policy.
        if parts.method != "OPTIONS" {
            reply = cors(&parts, config).apply(reply, &parts);
        }
    }
    reply.finish().into()
}

/// The CORS policy of the route `parts` addresses: POST on `/upload`,
/// DELETE on `/upload/{id}`.
fn cors(parts: &RequestParts, config: &Config) -> Cors {
    let methods = if parts.segments().is_empty() {
        "POST"
    } else {
        "DELETE"
    };
    Cors::token_protected(config.cors_origins.clone(), methods)
}

async fn route(
    req: IncomingRequest,
    parts: &RequestParts,
    config: &Config,
) -> Result<Reply, ApiError> {
    let segments = parts.segments();
    match (parts.method.as_str(), segments.as_slice()) {
        ("POST", []) => {
            auth::check_bearer(config.token.as_deref(), parts.header("authorization"))?;
            let body = read_body(req, parts, config.max_body_bytes()).await?;
            let images = Stores::current()?.open_images()?;
            let now = time::now_rfc3339();
            let upload = ingest::Upload {
                content_type: parts.header("content-type"),
                origin: parts.origin.as_deref(),
                now: &now,
            };
            Ok(ingest::ingest(&body, upload, config, &images))
        }
        ("DELETE", [id]) => {
            auth::check_bearer(config.token.as_deref(), parts.header("authorization"))?;
            edgeimg_common::ImageId::parse(id)?;
            let stores = Stores::current()?;
            let (images, cache) = (stores.open_images()?, stores.open_cache()?);
            Ok(delete::delete(id, &images, &cache))
        }
        ("OPTIONS", [] | [_]) => Ok(cors(parts, config).preflight(parts)),
        (_, []) => Ok(ApiError::method_not_allowed("POST")),
        (_, [_]) => Ok(ApiError::method_not_allowed("DELETE")),
        _ => Err(ApiError::not_found(
            "no such route; use POST /upload or DELETE /upload/{id}",
        )),
    }
}

/// Reads the body, refusing with 413 as soon as it is known to exceed `max`:
/// from `Content-Length` before reading anything, else while streaming.
async fn read_body(
    req: IncomingRequest,
    parts: &RequestParts,
    max: u64,
) -> Result<Vec<u8>, ApiError> {
    let too_large = |n: &str| {
        ApiError::new(
            413,
            "too_large",
            format!("request body is {n} bytes; the limit is {max}"),
        )
    };
    let declared = match parts.header("content-length") {
        Some(v) => Some(v.trim().parse::<u64>().map_err(|_| {
            ApiError::bad_request("bad_content_length", "Content-Length is not a number")
        })?),
        None => None,
    };
    if let Some(len) = declared.filter(|&len| len > max) {
        return Err(too_large(&len.to_string()));
    }
    let mut body = Vec::with_capacity(declared.unwrap_or(0) as usize);
    let mut stream = req.into_body_stream();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| {
            ApiError::bad_request("bad_body", format!("reading the body failed: {e:?}"))
        })?;
        if (body.len() + chunk.len()) as u64 > max {
            return Err(too_large(&format!("more than {max}")));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}
