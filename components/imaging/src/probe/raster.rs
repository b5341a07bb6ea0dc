//! TIFF, BMP, ICO and QOI: dimensions and TIFF's orientation tag through
//! the `image` crate's decoders, which read the header (TIFF: its first
//! directory; ICO: its directory and the chosen entry's header) and no
//! pixels. The decoders get the same `image` limits as for decoding.

use super::Header;
use crate::{Error, Format};
use image::ImageDecoder;

/// Errors keep their kind (a limit the decoder refuses is 422 `pixel_limit`).
pub(super) fn header(bytes: &[u8], format: Format) -> Result<Header<'static>, Error> {
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
