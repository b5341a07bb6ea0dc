//! WebP: the first chunk is `VP8 ` (lossy), `VP8L` (lossless) or `VP8X`
//! (extended, holding the canvas size).

use super::{le16, le24, le32, Header};
use crate::Format;

pub(super) fn header(b: &[u8]) -> Option<Header<'_>> {
    let chunk = b.get(12..16)?;
    let (width, height) = match chunk {
        b"VP8 " => {
            if b.get(23..26)? != [0x9d, 0x01, 0x2a] {
                return None;
            }
            (
                u32::from(le16(b, 26)? & 0x3FFF),
                u32::from(le16(b, 28)? & 0x3FFF),
            )
        }
        b"VP8L" => {
            if *b.get(20)? != 0x2F {
                return None;
            }
            let bits = le32(b, 21)?;
            ((bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1)
        }
        b"VP8X" => (le24(b, 24)? + 1, le24(b, 27)? + 1),
        _ => return None,
    };
    Some(Header {
        format: Format::Webp,
        width,
        height,
        orientation: 1,
        exif: None,
    })
}
