//! Code shared by the edgeimg components (upload, fetch, resize, site).
//!
//! Everything here except the Spin bindings ([`kv::open`],
//! [`stores::Stores::open_images`], [`answer::Answer::send`]) is plain Rust,
//! so the request logic of each component runs in native unit tests against
//! [`kv::MemoryKv`].

pub mod answer;
pub mod auth;
pub mod chunked;
pub mod conditional;
pub mod cors;
pub mod error;
pub mod id;
pub mod keys;
pub mod kv;
pub mod meta;
pub mod multipart;
pub mod paging;
pub mod reply;
pub mod request;
pub mod stores;
#[cfg(feature = "test-util")]
pub mod testdata;
pub mod time;
pub mod vars;

pub use error::ApiError;
pub use id::ImageId;
pub use reply::Reply;
pub use request::RequestParts;
