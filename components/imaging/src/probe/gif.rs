//! GIF: the logical screen descriptor follows the signature.

use super::{le16, Header};
use crate::Format;

pub(super) fn header(b: &[u8]) -> Option<Header<'_>> {
    let width = u32::from(le16(b, 6)?);
    let height = u32::from(le16(b, 8)?);
    Some(Header {
        format: Format::Gif,
        width,
        height,
        orientation: 1,
        exif: None,
    })
}
