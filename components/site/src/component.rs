//! Spin glue for the site.

use edgeimg_common::RequestParts;
use spin_sdk::http::{IncomingRequest, Response};
use spin_sdk::http_component;

#[http_component]
fn handle(req: IncomingRequest) -> Response {
    let mut parts = RequestParts::from_incoming(&req, "");
    // The full path, not path-info: `/` and `/assets` both have an empty one.
    parts.path = req
        .path_with_query()
        .unwrap_or_default()
        .split('?')
        .next()
        .unwrap_or("/")
        .to_string();
    crate::serve::handle(&parts).into()
}
