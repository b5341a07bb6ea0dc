//! 16-bit linear light with alpha premultiplied: what the Lanczos step
//! resamples, converted from and back to the 8-bit sRGB the other steps use.

use super::image::Image;
use super::srgb::tables;

/// Pixels in 16-bit linear light, row-major, colour premultiplied by alpha
/// (RGBA) or not (RGB).
pub(crate) struct Linear {
    pub width: u32,
    pub height: u32,
    pub alpha: bool,
    pub data: Vec<u16>,
}

impl Linear {
    /// Samples per pixel: 4 with alpha, else 3.
    pub fn channels(&self) -> usize {
        if self.alpha {
            4
        } else {
            3
        }
    }

    /// Straight 8-bit sRGB, via a 4096-entry table (12 bits of linear precision).
    pub fn to_srgb(&self) -> Image {
        Image {
            width: self.width,
            height: self.height,
            alpha: self.alpha,
            data: to_srgb(&self.data, self.alpha),
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
    let lut = &tables().to_linear;
    if !alpha {
        // Opaque: each value is its table entry (the premultiplication by
        // 255/255 is exact), so no arithmetic per value.
        let data = data.iter().map(|&v| lut[usize::from(v)]).collect();
        return Linear {
            width,
            height,
            alpha,
            data,
        };
    }
    let mut out = Vec::with_capacity(data.len());
    for px in data.chunks_exact(4) {
        let a = u32::from(px[3]);
        for &v in &px[..3] {
            out.push(((u32::from(lut[usize::from(v)]) * a + 127) / 255) as u16);
        }
        out.push(a as u16 * 257);
    }
    Linear {
        width,
        height,
        alpha,
        data: out,
    }
}

/// Linear premultiplied u16 → straight sRGB u8.
fn to_srgb(data: &[u16], alpha: bool) -> Vec<u8> {
    let lut = &tables().to_srgb;
    if !alpha {
        // Opaque: no un-premultiplying (a division per value) to do.
        return data.iter().map(|&v| lut[usize::from(v >> 4)]).collect();
    }
    let mut out = Vec::with_capacity(data.len());
    for px in data.chunks_exact(4) {
        let a = u32::from(px[3]);
        for &v in &px[..3] {
            let straight = (u32::from(v) * 65535)
                .checked_div(a)
                .map_or(0, |s| s.min(65535));
            out.push(lut[(straight >> 4) as usize]);
        }
        out.push(((a + 128) / 257) as u8);
    }
    out
}
