//! Spin glue for fetch.

use crate::config::Config;
use edgeimg_common::{keys, kv, vars, RequestParts};
use spin_sdk::http::{IncomingRequest, Response};
use spin_sdk::http_component;

#[http_component]
fn handle(req: IncomingRequest) -> Response {
    let parts = RequestParts::from_incoming(&req, "/images");
    let config = Config::from_lookup(vars::get);
    let reply = crate::serve::handle(&parts, &config, || kv::open(keys::IMAGES));
    if reply.status >= 500 {
        eprintln!(
            "fetch: {} {}: {}",
            parts.method,
            parts.path,
            String::from_utf8_lossy(&reply.body)
        );
    }
    reply.into()
}
