//! What a decoder hands to the steps after it.

use super::image::Image;
use super::linear::Linear;

/// A decoded image and the part of it that shows the source.
pub(crate) struct Decoded {
    pub pixels: Pixels,
    pub extent: Extent,
}

/// A decoded image's pixels.
pub(crate) enum Pixels {
    /// 8-bit sRGB.
    Srgb(Image),
    /// Already reduced in linear light (a PNG box-averaged while decoding).
    Linear(Linear),
}

/// Where the source lies in a decoded image, in its pixels.
///
/// A decoder that reduces in blocks of `d` (JPEG's DCT scaling, PNG's box
/// average) makes `⌈w / d⌉` pixels, the last of which covers fewer than `d`
/// source pixels: the source spans `w / d` of them. Resampling the whole grid
/// as if it were the source would stretch the image by up to one pixel at
/// that scale (a visible shift at the far edge of a thumbnail).
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Extent {
    pub left: f64,
    pub top: f64,
    pub width: f64,
    pub height: f64,
}

impl Extent {
    /// All of a `(w, h)` grid.
    pub fn whole((w, h): (u32, u32)) -> Extent {
        Extent {
            left: 0.0,
            top: 0.0,
            width: f64::from(w),
            height: f64::from(h),
        }
    }
}

impl From<Image> for Decoded {
    fn from(image: Image) -> Decoded {
        let extent = Extent::whole(image.size());
        Decoded {
            pixels: Pixels::Srgb(image),
            extent,
        }
    }
}

impl From<Linear> for Decoded {
    fn from(linear: Linear) -> Decoded {
        let extent = Extent::whole((linear.width, linear.height));
        Decoded {
            pixels: Pixels::Linear(linear),
            extent,
        }
    }
}

impl Decoded {
    pub fn size(&self) -> (u32, u32) {
        match &self.pixels {
            Pixels::Srgb(image) => image.size(),
            Pixels::Linear(linear) => (linear.width, linear.height),
        }
    }

    /// Records a reduction in blocks of `d` from a `source`-sized image,
    /// when the size shows one (a decoder may also have decoded in full).
    pub fn in_blocks_of(mut self, d: u32, (w, h): (u32, u32)) -> Decoded {
        let reduced = (w.div_ceil(d), h.div_ceil(d));
        if d > 1 && self.size() == reduced && reduced != (w, h) {
            self.extent.width = f64::from(w) / f64::from(d);
            self.extent.height = f64::from(h) / f64::from(d);
        }
        self
    }

    /// As 8-bit sRGB, whichever it was.
    #[cfg(test)]
    pub fn into_srgb(self) -> Image {
        match self.pixels {
            Pixels::Srgb(image) => image,
            Pixels::Linear(linear) => linear.to_srgb(),
        }
    }
}
