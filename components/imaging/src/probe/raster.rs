//! TIFF, BMP, ICO and QOI: dimensions and TIFF's orientation tag through
//! the `image` crate's decoders, which read the header (TIFF: its first
//! directory; ICO: its directory and the chosen entry's header) and no
//! pixels. BMP and QOI sizes are read here first, at their fixed offsets,
//! and checked against the limits before any decoder exists (the `image`
//! crate's BMP decoder refuses a huge one as "unsupported").

use super::{be32, le16, le32, Header};
use crate::{Error, Format, Limits};
use image::ImageDecoder;

/// Errors keep their kind (a limit the decoder refuses is 422 `pixel_limit`).
pub(super) fn header(
    bytes: &[u8],
    format: Format,
    limits: &Limits,
) -> Result<Header<'static>, Error> {
    if let Some((width, height)) = declared_size(bytes, format) {
        limits.check_input(width, height)?;
    }
    let mut decoder = crate::raster::decoder(bytes, format)?;
    let (width, height) = decoder.dimensions();
    let orientation = decoder.orientation().map_or(1, |o| o.to_exif());
    Ok(Header {
        format,
        width,
        height,
        orientation,
        exif: None,
        frames: 1,
    })
}

/// The size a BMP's DIB header or a QOI's header declares.
fn declared_size(b: &[u8], format: Format) -> Option<(u32, u32)> {
    match format {
        // BITMAPCOREHEADER (12 bytes) has 16-bit sides; the rest 32-bit,
        // the height negative for top-down rows.
        Format::Bmp if le32(b, 14)? == 12 => {
            Some((u32::from(le16(b, 18)?), u32::from(le16(b, 20)?)))
        }
        Format::Bmp => Some((
            (le32(b, 18)? as i32).unsigned_abs(),
            (le32(b, 22)? as i32).unsigned_abs(),
        )),
        Format::Qoi => Some((be32(b, 4)?, be32(b, 8)?)),
        _ => None,
    }
}
