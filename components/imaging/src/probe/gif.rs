//! GIF: the logical screen descriptor follows the signature; the frames are
//! counted by walking the blocks (each image descriptor is one), stepping
//! over colour tables and data sub-blocks without decoding them.

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
        frames: frames(b).max(1),
    })
}

/// The number of image descriptors before the trailer (or the end of what
/// is well-formed: the decoder reports a broken file itself).
pub(crate) fn frames(b: &[u8]) -> u32 {
    let table = |flags: u8| {
        if flags & 0x80 != 0 {
            3usize << ((flags & 7) + 1)
        } else {
            0
        }
    };
    let Some(&flags) = b.get(10) else {
        return 0;
    };
    let mut at = 13 + table(flags);
    let mut count = 0;
    // Steps over a run of data sub-blocks (length byte, bytes), ended by 0.
    let sub_blocks = |mut at: usize| -> Option<usize> {
        loop {
            let len = usize::from(*b.get(at)?);
            at += 1 + len;
            if len == 0 {
                return Some(at);
            }
        }
    };
    loop {
        let next = match b.get(at) {
            Some(0x21) => b.get(at + 1).and_then(|_| sub_blocks(at + 2)),
            Some(0x2C) => b.get(at + 9).and_then(|&flags| {
                count += 1;
                // The descriptor, a local colour table, the LZW code size.
                sub_blocks(at + 10 + table(flags) + 1)
            }),
            _ => None,
        };
        match next {
            Some(n) => at = n,
            None => return count,
        }
    }
}
