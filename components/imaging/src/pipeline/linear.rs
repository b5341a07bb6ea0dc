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

/// A row of sRGB u8 pixels → linear u16 per colour channel, premultiplied
/// by alpha (scaled to 16 bits), into the start of `out`.
pub(crate) fn row_to_linear(row: &[u8], alpha: bool, out: &mut [u16]) {
    let lut = &tables().to_linear;
    if !alpha {
        // Opaque: each value is its table entry (the premultiplication by
        // 255/255 is exact), so no arithmetic per value.
        // Sixteen at a time, unrolled: fewer loop headers, each of which
        // carries the host's epoch check.
        let n = row.len().min(out.len());
        let (out, row) = (&mut out[..n], &row[..n]);
        let mut chunks = out.chunks_exact_mut(16).zip(row.chunks_exact(16));
        for (dst, src) in &mut chunks {
            for i in 0..16 {
                dst[i] = lut[usize::from(src[i])];
            }
        }
        let whole = n / 16 * 16;
        for (dst, &v) in out[whole..].iter_mut().zip(&row[whole..]) {
            *dst = lut[usize::from(v)];
        }
        return;
    }
    let pixel = |dst: &mut [u16], px: &[u8]| {
        let a = u32::from(px[3]);
        for i in 0..3 {
            dst[i] = ((u32::from(lut[usize::from(px[i])]) * a + 127) / 255) as u16;
        }
        dst[3] = a as u16 * 257;
    };
    // Four pixels a loop step, for the same reason as above.
    let n = row.len().min(out.len()) / 4 * 4;
    let (out, row) = (&mut out[..n], &row[..n]);
    for (dst, src) in out.chunks_exact_mut(16).zip(row.chunks_exact(16)) {
        for p in 0..4 {
            pixel(&mut dst[4 * p..4 * p + 4], &src[4 * p..4 * p + 4]);
        }
    }
    let whole = n / 16 * 16;
    for (dst, px) in out[whole..]
        .chunks_exact_mut(4)
        .zip(row[whole..].chunks_exact(4))
    {
        pixel(dst, px);
    }
}

/// Linear premultiplied u16 → straight sRGB u8.
fn to_srgb(data: &[u16], alpha: bool) -> Vec<u8> {
    let lut = &tables().to_srgb;
    if !alpha {
        // Opaque: no un-premultiplying (a division per value) to do.
        // Sixteen at a time, unrolled, as in `row_to_linear`: fewer loop
        // headers, each of which carries the host's epoch check.
        let mut out = vec![0; data.len()];
        let mut chunks = out.chunks_exact_mut(16).zip(data.chunks_exact(16));
        for (dst, src) in &mut chunks {
            for i in 0..16 {
                dst[i] = lut[usize::from(src[i] >> 4)];
            }
        }
        let whole = data.len() / 16 * 16;
        for (dst, &v) in out[whole..].iter_mut().zip(&data[whole..]) {
            *dst = lut[usize::from(v >> 4)];
        }
        return out;
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
