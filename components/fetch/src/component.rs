//! Spin glue for fetch: a streaming handler, so a chunked original goes out
//! chunk by chunk.

use crate::config::Config;
use edgeimg_common::answer::Answer;
use edgeimg_common::stores::Stores;
use edgeimg_common::{vars, RequestParts};
use spin_sdk::http::{IncomingRequest, ResponseOutparam};
use spin_sdk::http_component;

#[http_component]
async fn handle(req: IncomingRequest, out: ResponseOutparam) {
    let parts = RequestParts::from_incoming(&req, "/images");
    let config = Config::from_lookup(vars::get);
    let answer = match Stores::current() {
        Ok(stores) => crate::serve::handle(&parts, &config, || stores.open_images()),
        Err(err) => Answer::Whole(err.into_reply().finish()),
    };
    let head = answer.head();
    if head.status >= 500 {
        eprintln!(
            "fetch: {} {}: {}",
            parts.method,
            parts.path,
            String::from_utf8_lossy(&head.body)
        );
    }
    answer.send(out).await;
}
