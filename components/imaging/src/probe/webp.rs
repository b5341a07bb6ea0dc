//! WebP: the first chunk is `VP8 ` (lossy), `VP8L` (lossless) or `VP8X`
//! (extended, holding the canvas size and the animation flag). An
//! animation's frames are its `ANMF` chunks, counted by walking the RIFF
//! chunk headers.

use super::{le16, le24, le32, Header};
use crate::Format;

/// VP8X flag: the file is an animation.
const ANIMATION: u8 = 0x02;

pub(super) fn header(b: &[u8]) -> Option<Header<'_>> {
    let chunk = b.get(12..16)?;
    let mut frames = 1;
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
        b"VP8X" => {
            if b.get(20)? & ANIMATION != 0 {
                frames = animation_frames(b).max(1);
            }
            (le24(b, 24)? + 1, le24(b, 27)? + 1)
        }
        _ => return None,
    };
    Some(Header {
        format: Format::Webp,
        width,
        height,
        orientation: 1,
        exif: None,
        frames,
    })
}

/// The `ANMF` chunks at the top level of the RIFF body.
fn animation_frames(b: &[u8]) -> u32 {
    let mut at = 12;
    let mut count = 0;
    while let (Some(fourcc), Some(size)) = (b.get(at..at + 4), le32(b, at + 4)) {
        if fourcc == b"ANMF" {
            count += 1;
        }
        let Some(next) = (at + 8).checked_add(size as usize + (size as usize & 1)) else {
            break;
        };
        at = next;
    }
    count
}
