//! WebP via libwebp, scaled while decoding to 1/`shrink` (any size works for
//! libwebp; the power of two keeps the plan's arithmetic shared with JPEG).
//! Animations, which libwebp's simple API does not decode, fall back to
//! `image-webp` for their first frame at full size.

use crate::pipeline::Image;
use crate::probe::Header;
use crate::{libwebp, Error, Format};

pub(super) fn decode(bytes: &[u8], header: &Header<'_>, shrink: u32) -> Result<Image, Error> {
    let size = (
        header.width.div_ceil(shrink),
        header.height.div_ceil(shrink),
    );
    if let Some(image) = libwebp::decode(bytes, size) {
        return Ok(image);
    }
    let err = |e: image_webp::DecodingError| Error::decode(Format::Webp, e);
    let mut decoder = image_webp::WebPDecoder::new(std::io::Cursor::new(bytes)).map_err(err)?;
    let (width, height) = decoder.dimensions();
    let size = decoder
        .output_buffer_size()
        .ok_or_else(|| Error::decode(Format::Webp, "image too large"))?;
    let mut data = vec![0; size];
    decoder.read_image(&mut data).map_err(err)?;
    Ok(Image {
        width,
        height,
        alpha: decoder.has_alpha(),
        data,
    })
}
