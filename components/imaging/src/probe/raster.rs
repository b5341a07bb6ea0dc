//! TIFF, BMP, ICO and QOI: dimensions and TIFF's orientation tag through
//! the `image` crate's decoders, which read the header (TIFF: its first
//! directory; ICO: its directory and the chosen entry's header) and no
//! pixels. The decoders get the same `image` limits as for decoding.

use super::Header;
use crate::Format;
use image::ImageDecoder;

pub(super) fn header(bytes: &[u8], format: Format) -> Option<Header<'static>> {
    let mut decoder = crate::raster::decoder(bytes, format).ok()?;
    let (width, height) = decoder.dimensions();
    let orientation = decoder.orientation().map_or(1, |o| o.to_exif());
    Some(Header {
        format,
        width,
        height,
        orientation,
        exif: None,
        frames: 1,
    })
}
