//! Header-only probing: format from magic bytes, dimensions from the header,
//! then the limits — so a decompression bomb is refused before any pixel
//! buffer exists.

pub(crate) mod avif;
mod gif;
mod jpeg;
mod png;
mod raster;
mod webp;

use crate::{Error, Format, Limits};

/// What an upload is, as shown to the user: format and displayed dimensions
/// (after EXIF orientation).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ImageInfo {
    pub format: Format,
    pub width: u32,
    pub height: u32,
    /// 1 for a still image; an animation's frame count otherwise.
    pub frames: u32,
}

/// The header facts the pipeline needs: stored dimensions, EXIF orientation
/// (1..=8) and the raw EXIF TIFF block if any.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Header<'a> {
    pub format: Format,
    pub width: u32,
    pub height: u32,
    pub orientation: u8,
    pub exif: Option<&'a [u8]>,
    /// 1 for a still image; an animation's frame count otherwise.
    pub frames: u32,
}

impl Header<'_> {
    /// Width and height as displayed: EXIF orientations 5..=8 swap them.
    pub fn oriented_size(&self) -> (u32, u32) {
        if self.orientation >= 5 {
            (self.height, self.width)
        } else {
            (self.width, self.height)
        }
    }
}

/// Sniffs, reads the header and checks `limits`; decodes no pixels.
///
/// Errors: 413 over `max_input_bytes`, 415 unknown magic, 422 malformed header
/// or dimensions over `max_pixels`/`max_side`.
pub fn probe(bytes: &[u8], limits: &Limits) -> Result<ImageInfo, Error> {
    let header = read_header(bytes, limits)?;
    let (width, height) = header.oriented_size();
    Ok(ImageInfo {
        format: header.format,
        width,
        height,
        frames: header.frames,
    })
}

/// [`probe`] for the pipeline, keeping orientation and EXIF.
pub(crate) fn read_header<'a>(bytes: &'a [u8], limits: &Limits) -> Result<Header<'a>, Error> {
    limits.check_bytes(bytes.len())?;
    let format = Format::sniff(bytes).ok_or_else(|| Error::Unsupported {
        reason: "not a JPEG, PNG, GIF, WebP, AVIF, SVG, TIFF, BMP, ICO or QOI image".into(),
    })?;
    let header = match format {
        Format::Jpeg => jpeg::header(bytes),
        Format::Png => png::header(bytes),
        Format::Gif => gif::header(bytes),
        Format::Webp => webp::header(bytes),
        Format::Avif => avif::header(bytes),
        // Its size needs the document parsed, within the SVG limits.
        Format::Svg => Some(svg_header(bytes, limits)?),
        Format::Tiff | Format::Bmp | Format::Ico | Format::Qoi => {
            Some(raster::header(bytes, format, limits)?)
        }
    }
    .ok_or_else(|| Error::decode(format, "malformed or truncated header"))?;
    limits.check_input(header.width, header.height)?;
    if header.frames > 1 {
        limits.check_frames(header.width, header.height, header.frames)?;
    }
    Ok(header)
}

fn svg_header<'a>(bytes: &[u8], limits: &Limits) -> Result<Header<'a>, Error> {
    let (width, height) = crate::svg::size(&crate::svg::parse(bytes, limits)?);
    Ok(Header {
        format: Format::Svg,
        width,
        height,
        orientation: 1,
        exif: None,
        frames: 1,
    })
}

/// Reads big-endian integers without panicking on short input.
pub(crate) fn be16(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_be_bytes(b.get(at..at + 2)?.try_into().ok()?))
}

pub(crate) fn be32(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_be_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

pub(crate) fn le16(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_le_bytes(b.get(at..at + 2)?.try_into().ok()?))
}

pub(crate) fn le24(b: &[u8], at: usize) -> Option<u32> {
    let s = b.get(at..at + 3)?;
    Some(u32::from(s[0]) | u32::from(s[1]) << 8 | u32::from(s[2]) << 16)
}

pub(crate) fn le32(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

#[cfg(test)]
mod tests;
