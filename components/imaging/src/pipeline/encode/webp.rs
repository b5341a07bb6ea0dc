//! WebP: lossless VP8L via `image-webp` (no lossy pure-Rust encoder builds for
//! wasm32-wasip2 here; lossless is exact and still small for thumbnails).

use crate::pipeline::Image;
use crate::{Error, Format};
use image_webp::{ColorType, WebPEncoder};

pub(super) fn encode(image: &Image) -> Result<Vec<u8>, Error> {
    let mut out = Vec::new();
    let color = if image.alpha {
        ColorType::Rgba8
    } else {
        ColorType::Rgb8
    };
    WebPEncoder::new(&mut out)
        .encode(&image.data, image.width, image.height, color)
        .map_err(|e| Error::encode(Format::Webp, e))?;
    Ok(out)
}
