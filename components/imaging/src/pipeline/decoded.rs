//! What a decoder hands to the steps after it.

use super::image::Image;
use super::linear::Linear;

/// What a decoder hands on.
pub(crate) enum Decoded {
    /// 8-bit sRGB.
    Srgb(Image),
    /// Already reduced in linear light (a PNG box-averaged while decoding).
    Linear(Linear),
}

impl Decoded {
    pub fn size(&self) -> (u32, u32) {
        match self {
            Decoded::Srgb(image) => image.size(),
            Decoded::Linear(linear) => (linear.width(), linear.height()),
        }
    }

    /// As 8-bit sRGB, whichever it was.
    #[cfg(test)]
    pub fn into_srgb(self) -> Image {
        match self {
            Decoded::Srgb(image) => image,
            Decoded::Linear(linear) => linear.to_srgb(),
        }
    }
}
