//! Every way a probe or transform fails, each mapped to one HTTP status and code.

use crate::{Format, OptionError};

/// A failed probe or transform.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The options string was rejected (400).
    #[error(transparent)]
    Options(#[from] OptionError),
    /// The input is larger than [`crate::Limits::max_input_bytes`] (413).
    #[error("input is {bytes} bytes, more than the limit of {max}")]
    TooLarge { bytes: u64, max: u64 },
    /// Not a format we read: unknown magic bytes, or AVIF input (415).
    #[error("unsupported input: {reason}")]
    Unsupported { reason: String },
    /// The header or the pixel data is malformed or truncated (422).
    #[error("cannot decode {format}: {message}")]
    Decode { format: Format, message: String },
    /// Input or output dimensions break a pixel or side limit (422).
    #[error("{what} {width}x{height} breaks the limit: {limit}")]
    PixelLimit {
        what: &'static str,
        width: u64,
        height: u64,
        limit: String,
    },
    /// The input is too complex to render within the limits: an SVG's node
    /// count, its expansion through references, or its nesting (422).
    #[error("too complex: {reason}")]
    TooComplex { reason: String },
    /// The encoder failed (500).
    #[error("cannot encode {format}: {message}")]
    Encode { format: Format, message: String },
}

impl Error {
    /// The HTTP status a component should answer with.
    pub fn status(&self) -> u16 {
        match self {
            Error::Options(_) => 400,
            Error::TooLarge { .. } => 413,
            Error::Unsupported { .. } => 415,
            Error::Decode { .. } | Error::PixelLimit { .. } | Error::TooComplex { .. } => 422,
            Error::Encode { .. } => 500,
        }
    }

    /// A stable machine-readable code for JSON error bodies.
    pub fn code(&self) -> &'static str {
        match self {
            Error::Options(e) => e.code(),
            Error::TooLarge { .. } => "too_large",
            Error::Unsupported { .. } => "unsupported_format",
            Error::Decode { .. } => "decode_failed",
            Error::PixelLimit { .. } => "pixel_limit",
            Error::TooComplex { .. } => "too_complex",
            Error::Encode { .. } => "encode_failed",
        }
    }

    pub(crate) fn decode(format: Format, message: impl std::fmt::Display) -> Error {
        Error::Decode {
            format,
            message: message.to_string(),
        }
    }

    pub(crate) fn encode(format: Format, message: impl std::fmt::Display) -> Error {
        Error::Encode {
            format,
            message: message.to_string(),
        }
    }
}
