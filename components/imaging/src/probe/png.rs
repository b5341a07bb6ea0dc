//! PNG: the IHDR chunk must come first and holds the dimensions.

use super::{be32, Header};
use crate::Format;

pub(super) fn header(b: &[u8]) -> Option<Header<'_>> {
    if b.get(12..16)? != b"IHDR" {
        return None;
    }
    let width = be32(b, 16)?;
    let height = be32(b, 20)?;
    Some(Header {
        format: Format::Png,
        width,
        height,
        orientation: 1,
        exif: None,
        frames: 1,
    })
}
