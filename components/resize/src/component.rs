//! Spin glue for resize.

use crate::config::Config;
use edgeimg_common::{keys, kv, vars, RequestParts};
use spin_sdk::http::{IncomingRequest, Response};
use spin_sdk::http_component;

#[http_component]
fn handle(req: IncomingRequest) -> Response {
    let parts = RequestParts::from_incoming(&req, "/resize");
    let reply = match Config::from_lookup(vars::get) {
        Ok(config) => crate::serve::handle(
            &parts,
            &config,
            || kv::open(keys::IMAGES),
            || kv::open(keys::CACHE),
        ),
        Err(err) => err.into_reply().finish(),
    };
    if reply.status >= 500 {
        eprintln!(
            "resize: {} {}: {}",
            parts.method,
            parts.path,
            String::from_utf8_lossy(&reply.body)
        );
    }
    reply.into()
}
