//! AVIF (ISO-BMFF/HEIF): the image spatial extent property
//! `meta/iprp/ipco/ispe`. With several items we take the largest extent, so
//! the limits see the worst case.

use super::{be32, Header};
use crate::Format;

pub(super) fn header(b: &[u8]) -> Option<Header<'_>> {
    let meta = find_box(b, b"meta")?;
    // `meta` is a full box: 4 bytes of version and flags precede its children.
    let iprp = find_box(meta.get(4..)?, b"iprp")?;
    let ipco = find_box(iprp, b"ipco")?;
    let (mut width, mut height) = (0u32, 0u32);
    let mut rest = ipco;
    while let Some((kind, body, next)) = next_box(rest) {
        if kind == b"ispe"
            && u64::from(be32(body, 4)?) * u64::from(be32(body, 8)?)
                >= u64::from(width) * u64::from(height)
        {
            width = be32(body, 4)?;
            height = be32(body, 8)?;
        }
        rest = next;
    }
    Some(Header {
        format: Format::Avif,
        width,
        height,
        orientation: 1,
        exif: None,
    })
}

/// The body of the first box of `kind` among the boxes in `b`.
fn find_box<'a>(mut b: &'a [u8], kind: &[u8; 4]) -> Option<&'a [u8]> {
    while let Some((k, body, next)) = next_box(b) {
        if k == kind {
            return Some(body);
        }
        b = next;
    }
    None
}

/// Splits off one box: (type, body, rest). Handles 64-bit and to-end sizes.
fn next_box(b: &[u8]) -> Option<(&[u8], &[u8], &[u8])> {
    let size = be32(b, 0)? as u64;
    let kind = b.get(4..8)?;
    let (header, size) = match size {
        0 => (8, b.len() as u64),
        1 => (16, u64::from(be32(b, 8)?) << 32 | u64::from(be32(b, 12)?)),
        s => (8, s),
    };
    let size = usize::try_from(size).ok()?;
    if size < header || size > b.len() {
        return None;
    }
    Some((kind, &b[header..size], &b[size..]))
}
