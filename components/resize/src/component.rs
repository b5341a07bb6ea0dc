//! Spin glue for resize.

use crate::config::Config;
use edgeimg_common::stores::Stores;
use edgeimg_common::{vars, RequestParts};
use spin_sdk::http::{IncomingRequest, Response};
use spin_sdk::http_component;

#[http_component]
fn handle(req: IncomingRequest) -> Response {
    let parts = RequestParts::from_incoming(&req, "/resize");
    let configured = Config::from_lookup(vars::get).and_then(|c| Ok((c, Stores::current()?)));
    let reply = match configured {
        Ok((config, stores)) => crate::serve::handle(
            &parts,
            &config,
            || stores.open_images(),
            || stores.open_cache(),
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
