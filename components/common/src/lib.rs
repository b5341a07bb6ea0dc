//! Code shared by the edgeimg components (upload, fetch, resize, site).
//!
//! Everything here except [`kv`]'s Spin binding is plain Rust, so the request
//! logic of each component runs in native unit tests against [`kv::MemoryKv`].

pub mod auth;
pub mod conditional;
pub mod cors;
pub mod error;
pub mod id;
pub mod keys;
pub mod kv;
pub mod meta;
pub mod multipart;
pub mod reply;
pub mod request;
#[cfg(feature = "test-util")]
pub mod testdata;
pub mod time;
pub mod vars;

pub use error::ApiError;
pub use id::ImageId;
pub use reply::Reply;
pub use request::RequestParts;
