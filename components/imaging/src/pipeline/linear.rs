//! 16-bit linear light with alpha premultiplied: what the Lanczos step
//! resamples, converted from and back to the 8-bit sRGB the other steps use.

use super::image::Image;
use super::srgb::tables;
use fast_image_resize::{self as fr, PixelType};

/// Pixels in 16-bit linear light, colour premultiplied by alpha (RGBA) or
/// not (RGB): `U16x4` or `U16x3` in a `fast_image_resize` image.
pub(crate) struct Linear {
    pub image: fr::images::Image<'static>,
    pub alpha: bool,
}

impl Linear {
    pub fn width(&self) -> u32 {
        self.image.width()
    }

    pub fn height(&self) -> u32 {
        self.image.height()
    }

    /// Straight 8-bit sRGB, via a 4096-entry table (12 bits of linear precision).
    pub fn to_srgb(&self) -> Image {
        Image {
            width: self.width(),
            height: self.height(),
            alpha: self.alpha,
            data: to_srgb(&self.image, self.alpha),
        }
    }
}

/// sRGB u8 → linear u16 per colour channel, premultiplied by alpha (scaled
/// to 16 bits). Consumes the 8-bit pixels so they are freed before resizing.
pub(crate) fn to_linear(image: Image) -> Linear {
    let Image {
        width,
        height,
        alpha,
        data,
    } = image;
    let pixel_type = if alpha {
        PixelType::U16x4
    } else {
        PixelType::U16x3
    };
    let mut out = fr::images::Image::new(width, height, pixel_type);
    let lut = &tables().to_linear;
    if !alpha {
        // Opaque: each value is its table entry (the premultiplication by
        // 255/255 is exact), so no arithmetic per value.
        for (&v, dst) in data.iter().zip(out.buffer_mut().chunks_exact_mut(2)) {
            dst.copy_from_slice(&lut[usize::from(v)].to_ne_bytes());
        }
        return Linear { image: out, alpha };
    }
    for (px, dst) in data
        .chunks_exact(4)
        .zip(out.buffer_mut().chunks_exact_mut(8))
    {
        let a = u32::from(px[3]);
        for i in 0..3 {
            let v = (u32::from(lut[usize::from(px[i])]) * a + 127) / 255;
            dst[i * 2..i * 2 + 2].copy_from_slice(&(v as u16).to_ne_bytes());
        }
        dst[6..8].copy_from_slice(&(a as u16 * 257).to_ne_bytes());
    }
    Linear { image: out, alpha }
}

/// Linear premultiplied u16 → straight sRGB u8.
fn to_srgb(image: &fr::images::Image<'_>, alpha: bool) -> Vec<u8> {
    let lut = &tables().to_srgb;
    if !alpha {
        // Opaque: no un-premultiplying (a division per value) to do.
        return image
            .buffer()
            .chunks_exact(2)
            .map(|v| lut[usize::from(u16::from_ne_bytes([v[0], v[1]]) >> 4)])
            .collect();
    }
    let mut out = Vec::with_capacity(image.width() as usize * image.height() as usize * 4);
    for px in image.buffer().chunks_exact(8) {
        let v = |i: usize| u32::from(u16::from_ne_bytes([px[i * 2], px[i * 2 + 1]]));
        let a = v(3);
        for i in 0..3 {
            let straight = (v(i) * 65535).checked_div(a).map_or(0, |s| s.min(65535));
            out.push(lut[(straight >> 4) as usize]);
        }
        out.push(((a + 128) / 257) as u8);
    }
    out
}
