//! The request path: the accept loop (`server`), the host endpoints and the
//! call into a component (`handler`), Spin routing and headers (`router`,
//! `spin_headers`), the client behind trusted proxies (`client_addr`), the
//! body cap (`body_limit`), what makes two requests the
//! same (`request_key`) for the edge cache and collapsed forwarding, and the
//! JSON errors the host answers itself (`errors`).

pub mod body_limit;
pub mod client_addr;
pub mod collapse;
pub mod edge_cache;
pub mod errors;
pub mod handler;
pub mod request_key;
pub mod router;
pub mod server;
pub mod spin_headers;
