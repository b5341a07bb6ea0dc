//! WebP: lossy via libwebp, with lossy alpha (VP8 + a losslessly compressed
//! alpha plane) for images with transparency.

use crate::pipeline::Image;
use crate::{libwebp, Error, Format};

pub(super) fn encode(image: &Image, quality: u8) -> Result<Vec<u8>, Error> {
    libwebp::encode(image, quality).map_err(|e| Error::encode(Format::Webp, e))
}
