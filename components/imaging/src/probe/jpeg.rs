//! JPEG: walk the marker segments up to the frame header (SOFn); pick up the
//! EXIF APP1 segment on the way.

use super::{be16, Header};
use crate::{exif, Format};

pub(super) fn header(b: &[u8]) -> Option<Header<'_>> {
    let mut at = 2;
    let mut exif_block = None;
    loop {
        // Markers may be preceded by fill bytes 0xFF.
        while *b.get(at)? == 0xFF && *b.get(at + 1)? == 0xFF {
            at += 1;
        }
        if *b.get(at)? != 0xFF {
            return None;
        }
        let marker = *b.get(at + 1)?;
        let len = usize::from(be16(b, at + 2)?);
        if len < 2 {
            return None;
        }
        let body = b.get(at + 4..at + 2 + len)?;
        match marker {
            0xE1 if body.starts_with(b"Exif\0\0") && exif_block.is_none() => {
                exif_block = Some(&body[6..]);
            }
            0xC0..=0xC3 | 0xC5..=0xC7 | 0xC9..=0xCB | 0xCD..=0xCF => {
                let height = u32::from(be16(body, 1)?);
                let width = u32::from(be16(body, 3)?);
                let orientation = exif_block.and_then(exif::orientation).unwrap_or(1);
                return Some(Header {
                    format: Format::Jpeg,
                    width,
                    height,
                    orientation,
                    exif: exif_block,
                    frames: 1,
                });
            }
            0xDA | 0xD9 => return None,
            _ => {}
        }
        at += 2 + len;
    }
}
