//! WebP. Opaque images: lossy VP8 via `tiny-webp` (pure Rust, no_std, no
//! unsafe; DC prediction only, so files are larger than libwebp's at equal
//! quality). Images with transparency: lossless VP8L via `image-webp`, since
//! tiny-webp stores alpha uncompressed.

use crate::pipeline::Image;
use crate::{Error, Format};

pub(super) fn encode(image: &Image, quality: u8) -> Result<Vec<u8>, Error> {
    if image.alpha {
        return lossless(image);
    }
    let mut options = tiny_webp::Options::default();
    options.quality = quality;
    tiny_webp::encode_rgb(&image.data, image.width, image.height, &options)
        .map_err(|e| Error::encode(Format::Webp, format!("{e:?}")))
}

fn lossless(image: &Image) -> Result<Vec<u8>, Error> {
    let mut out = Vec::new();
    image_webp::WebPEncoder::new(&mut out)
        .encode(
            &image.data,
            image.width,
            image.height,
            image_webp::ColorType::Rgba8,
        )
        .map_err(|e| Error::encode(Format::Webp, e))?;
    Ok(out)
}
