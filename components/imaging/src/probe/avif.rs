//! AVIF (ISO-BMFF/HEIF): the primary item's properties, read from
//! `meta/pitm` and `meta/iprp` (`ipco` holds the properties, `ipma` says
//! which belong to which item): its size (`ispe`), its colour (`colr`: an ICC
//! profile or H.273 code points) and its display transform (`irot`, `imir`),
//! turned into the EXIF orientation the pipeline already applies. Without
//! `pitm`/`ipma`, the largest `ispe` stands for the image, so the limits see
//! the worst case.

use super::{be16, be32, Header};
use crate::Format;

/// What the primary item declares.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Primary<'a> {
    pub width: u32,
    pub height: u32,
    /// EXIF orientation (1..=8) equivalent to `irot` then `imir`.
    pub orientation: u8,
    /// An embedded ICC profile (`colr` of type `prof` or `rICC`).
    pub icc: Option<&'a [u8]>,
    /// H.273 code points (`colr` of type `nclx`).
    pub nclx: Option<Nclx>,
}

/// Colour primaries and transfer characteristics (ITU-T H.273 codes).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Nclx {
    pub primaries: u16,
    pub transfer: u16,
}

pub(super) fn header(b: &[u8]) -> Option<Header<'_>> {
    let primary = primary(b)?;
    Some(Header {
        format: Format::Avif,
        width: primary.width,
        height: primary.height,
        orientation: primary.orientation,
        exif: None,
        frames: 1,
    })
}

/// The primary item's properties, or `None` for a malformed container.
pub(crate) fn primary(b: &[u8]) -> Option<Primary<'_>> {
    let meta = find_box(b, b"meta")?;
    // `meta` is a full box: 4 bytes of version and flags precede its children.
    let meta = meta.get(4..)?;
    let iprp = find_box(meta, b"iprp")?;
    let ipco = find_box(iprp, b"ipco")?;
    let properties: Vec<(&[u8], &[u8])> = boxes(ipco).collect();
    let associated = find_box(meta, b"pitm")
        .and_then(item_id)
        .zip(find_box(iprp, b"ipma"))
        .and_then(|(id, ipma)| associations(ipma, id));
    let Some(indices) = associated else {
        return largest_extent(&properties);
    };
    let (mut primary, mut rotation, mut mirror) = (Primary::default(), 0u8, None);
    // Property indices are 1-based; 0 means none.
    for property in indices
        .iter()
        .filter_map(|&i| properties.get(i.checked_sub(1)?))
    {
        match property {
            (b"ispe", body) => (primary.width, primary.height) = (be32(body, 4)?, be32(body, 8)?),
            (b"colr", body) => match body.get(..4)? {
                b"prof" | b"rICC" => primary.icc = Some(&body[4..]),
                b"nclx" => {
                    primary.nclx = Some(Nclx {
                        primaries: be16(body, 4)?,
                        transfer: be16(body, 6)?,
                    })
                }
                _ => {}
            },
            (b"irot", body) => rotation = body.first()? & 3,
            (b"imir", body) => mirror = Some(body.first()? & 1),
            _ => {}
        }
    }
    if primary.width == 0 || primary.height == 0 {
        return None;
    }
    primary.orientation = exif_orientation(rotation, mirror);
    Some(primary)
}

/// Whether every box the container parser reads whole (top level, `meta`,
/// `iprp` and `ipco` children: `mdat`, `iloc`, `auxC`, ...) fits inside its
/// parent. `avif-parse` reserves a box's declared size before reading it, so
/// a few bytes claiming a 2 GB `mdat` would otherwise cost a 2 GB allocation.
pub(crate) fn boxes_fit(b: &[u8]) -> bool {
    fn fit(b: &[u8], containers: &[(&[u8; 4], usize)]) -> bool {
        let mut rest = b;
        while !rest.is_empty() {
            let Some((kind, body, next)) = next_box(rest) else {
                return false;
            };
            for &(container, skip) in containers {
                if kind == container && !fit(body.get(skip..).unwrap_or(&[]), containers) {
                    return false;
                }
            }
            rest = next;
        }
        true
    }
    // `meta` is a full box (4 bytes of version and flags before its children).
    fit(b, &[(b"meta", 4), (b"iprp", 0), (b"ipco", 0)])
}

/// `irot` (quarter turns anti-clockwise), then `imir` (mode 0 exchanges top
/// and bottom, 1 left and right: ISO/IEC 23008-12:2022 6.5.12), as the EXIF
/// orientation that displays the same (`tests.rs` checks it against the
/// pipeline's composition of the two).
pub(super) fn exif_orientation(rotation: u8, mirror: Option<u8>) -> u8 {
    // Rows: quarter turns; columns: no mirror, top-bottom, left-right.
    const EXIF: [[u8; 3]; 4] = [[1, 4, 2], [8, 5, 7], [3, 2, 4], [6, 7, 5]];
    let column = match mirror {
        None => 0,
        Some(0) => 1,
        Some(_) => 2,
    };
    EXIF[usize::from(rotation & 3)][column]
}

fn largest_extent<'a>(properties: &[(&[u8], &'a [u8])]) -> Option<Primary<'a>> {
    let mut primary = Primary {
        orientation: 1,
        ..Primary::default()
    };
    for (kind, body) in properties {
        if *kind == b"ispe"
            && u64::from(be32(body, 4)?) * u64::from(be32(body, 8)?)
                >= u64::from(primary.width) * u64::from(primary.height)
        {
            (primary.width, primary.height) = (be32(body, 4)?, be32(body, 8)?);
        }
    }
    Some(primary)
}

/// `pitm`'s item id (a full box: 16 bits in version 0, else 32).
fn item_id(pitm: &[u8]) -> Option<u32> {
    match pitm.first()? {
        0 => be16(pitm, 4).map(u32::from),
        _ => be32(pitm, 4),
    }
}

/// The property indices `ipma` associates with `item`.
fn associations(ipma: &[u8], item: u32) -> Option<Vec<usize>> {
    let (version, wide_index) = (*ipma.first()?, ipma.get(3)? & 1 == 1);
    let count = be32(ipma, 4)?;
    let mut at = 8;
    for _ in 0..count {
        let id = if version == 0 {
            let id = u32::from(be16(ipma, at)?);
            at += 2;
            id
        } else {
            let id = be32(ipma, at)?;
            at += 4;
            id
        };
        let n = usize::from(*ipma.get(at)?);
        at += 1;
        let mut indices = Vec::with_capacity(n);
        for _ in 0..n {
            if wide_index {
                indices.push(usize::from(be16(ipma, at)? & 0x7FFF));
                at += 2;
            } else {
                indices.push(usize::from(ipma.get(at)? & 0x7F));
                at += 1;
            }
        }
        if id == item {
            return Some(indices);
        }
    }
    None
}

/// The body of the first box of `kind` among the boxes in `b`.
fn find_box<'a>(b: &'a [u8], kind: &[u8; 4]) -> Option<&'a [u8]> {
    boxes(b).find(|(k, _)| k == kind).map(|(_, body)| body)
}

/// The boxes in `b`, as (type, body), up to the first malformed one.
fn boxes(mut b: &[u8]) -> impl Iterator<Item = (&[u8], &[u8])> {
    std::iter::from_fn(move || {
        let (kind, body, rest) = next_box(b)?;
        b = rest;
        Some((kind, body))
    })
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
