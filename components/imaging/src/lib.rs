//! Image transforms for edgeimg: typed options, header-only probing with limits,
//! `Accept` negotiation, and the decode → orient → resize/crop → effects → encode
//! pipeline. Pure Rust so it builds natively and for `wasm32-wasip2` alike.
//!
//! The components call only the items re-exported here:
//! - [`Options`] parses `width=320,fit=cover,f=webp`; its `Display` is the cache key.
//! - [`probe`] sniffs the format and reads dimensions from the header, then checks
//!   [`Limits`] before a single pixel is decoded.
//! - [`negotiate`] resolves `format=auto` from `Accept`.
//! - [`transform`] runs the pipeline and returns an [`Output`].

mod av1;
mod colour;
mod error;
mod exif;
mod float_lanes;
mod format;
mod geometry;
mod lanes;
mod libwebp;
mod libwebp_anim;
mod libwebp_dsp;
mod limits;
mod negotiate;
mod options;
mod pairs;
mod pipeline;
mod placeholder;
mod probe;
mod raster;
mod rgb_planes;
mod svg;
#[cfg(test)]
mod testimg;

pub use error::Error;
pub use format::Format;
pub use limits::Limits;
pub use negotiate::{negotiate, negotiate_animated, without_avif, Negotiated};
pub use options::{
    Color, Dpr, Fit, Flip, FormatChoice, Gravity, Metadata, OptionError, Options, Rotate,
};
pub use pipeline::{transform, Output};
pub use placeholder::{placeholder, Placeholder};
pub use probe::{probe, ImageInfo};
