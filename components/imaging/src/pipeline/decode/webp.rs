//! WebP via `image-webp`: lossy or lossless; the first frame of an animation.

use crate::pipeline::Image;
use crate::{Error, Format};

pub(super) fn decode(bytes: &[u8]) -> Result<Image, Error> {
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
