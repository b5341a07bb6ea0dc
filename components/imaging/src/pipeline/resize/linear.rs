//! 8-bit sRGB ↔ 16-bit linear light (alpha premultiplied), and a box
//! pre-shrink that averages in linear light straight from the 8-bit pixels.

use crate::pipeline::srgb::tables;
use fast_image_resize::{self as fr, PixelType};

/// Largest box factor: keeps the sums of a block within `u64` comfortably
/// and the remaining Lanczos pass meaningful.
pub const MAX_BOX: u32 = 64;

/// `factor`×`factor` blocks of 8-bit sRGB pixels averaged in linear light,
/// premultiplied like [`to_linear`]'s output (blocks at the right and bottom
/// edges average the pixels they have). One pass over the source, no
/// full-size 16-bit copy: what makes large PNG and GIF thumbnails cheap.
pub(super) fn box_shrink(
    data: &[u8],
    width: u32,
    height: u32,
    alpha: bool,
    factor: u32,
) -> fr::images::Image<'static> {
    let pixel_type = if alpha {
        PixelType::U16x4
    } else {
        PixelType::U16x3
    };
    let (w, h, f) = (width as usize, height as usize, factor as usize);
    let (ow, oh) = (w.div_ceil(f), h.div_ceil(f));
    let c = if alpha { 4 } else { 3 };
    let mut out = fr::images::Image::new(ow as u32, oh as u32, pixel_type);
    let lut = &tables().to_linear;
    let mut sums = vec![0u64; ow * 4];
    for (oy, out_row) in out.buffer_mut().chunks_exact_mut(ow * c * 2).enumerate() {
        sums.fill(0);
        let rows = oy * f..((oy + 1) * f).min(h);
        let n_rows = rows.len() as u64;
        for y in rows {
            let row = &data[y * w * c..(y + 1) * w * c];
            // One block's share of this row in u32 (at most 64 pixels of
            // 65535 × 255), then into the block's u64 sums.
            for (ox, sum) in sums.chunks_exact_mut(4).enumerate() {
                let span = &row[ox * f * c..((ox + 1) * f).min(w) * c];
                let mut part = [0u32; 4];
                if alpha {
                    for px in span.chunks_exact(4) {
                        let a = u32::from(px[3]);
                        part[0] += u32::from(lut[usize::from(px[0])]) * a;
                        part[1] += u32::from(lut[usize::from(px[1])]) * a;
                        part[2] += u32::from(lut[usize::from(px[2])]) * a;
                        part[3] += a;
                    }
                } else {
                    for px in span.chunks_exact(3) {
                        part[0] += u32::from(lut[usize::from(px[0])]);
                        part[1] += u32::from(lut[usize::from(px[1])]);
                        part[2] += u32::from(lut[usize::from(px[2])]);
                    }
                    let n = (span.len() / 3) as u32;
                    part = [part[0] * 255, part[1] * 255, part[2] * 255, n * 255];
                }
                for (s, p) in sum.iter_mut().zip(part) {
                    *s += u64::from(p);
                }
            }
        }
        for (ox, (sum, dst)) in sums
            .chunks_exact(4)
            .zip(out_row.chunks_exact_mut(c * 2))
            .enumerate()
        {
            let n = n_rows * ((((ox + 1) * f).min(w) - ox * f) as u64);
            for i in 0..3 {
                let v = (sum[i] / 255 + n / 2) / n;
                dst[i * 2..i * 2 + 2].copy_from_slice(&(v as u16).to_ne_bytes());
            }
            if alpha {
                let a = (sum[3] * 257 + n / 2) / n;
                dst[6..8].copy_from_slice(&(a as u16).to_ne_bytes());
            }
        }
    }
    out
}

/// sRGB u8 → linear u16 per colour channel, premultiplied by alpha (scaled
/// to 16 bits). Consumes the 8-bit pixels so they are freed before resizing.
pub(super) fn to_linear(
    data: Vec<u8>,
    width: u32,
    height: u32,
    alpha: bool,
) -> fr::images::Image<'static> {
    let pixel_type = if alpha {
        PixelType::U16x4
    } else {
        PixelType::U16x3
    };
    let mut out = fr::images::Image::new(width, height, pixel_type);
    let lut = &tables().to_linear;
    let c = if alpha { 4 } else { 3 };
    for (px, dst) in data
        .chunks_exact(c)
        .zip(out.buffer_mut().chunks_exact_mut(c * 2))
    {
        let a = if alpha { u32::from(px[3]) } else { 255 };
        for i in 0..3 {
            let v = (u32::from(lut[usize::from(px[i])]) * a + 127) / 255;
            dst[i * 2..i * 2 + 2].copy_from_slice(&(v as u16).to_ne_bytes());
        }
        if alpha {
            dst[6..8].copy_from_slice(&(a as u16 * 257).to_ne_bytes());
        }
    }
    out
}

/// Linear premultiplied u16 → straight sRGB u8, via a 4096-entry table
/// (12 bits of linear precision).
pub(super) fn to_srgb(image: &fr::images::Image<'_>, alpha: bool) -> Vec<u8> {
    let lut = &tables().to_srgb;
    let c = if alpha { 4 } else { 3 };
    let mut out = Vec::with_capacity(image.width() as usize * image.height() as usize * c);
    for px in image.buffer().chunks_exact(c * 2) {
        let v = |i: usize| u32::from(u16::from_ne_bytes([px[i * 2], px[i * 2 + 1]]));
        let a = if alpha { v(3) } else { 65535 };
        for i in 0..3 {
            let straight = (v(i) * 65535).checked_div(a).map_or(0, |s| s.min(65535));
            out.push(lut[(straight >> 4) as usize]);
        }
        if alpha {
            out.push(((a + 128) / 257) as u8);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Straight 8-bit sRGB of a box-shrunk image, for checking.
    fn shrunk(data: &[u8], w: u32, h: u32, alpha: bool, f: u32) -> Vec<u8> {
        to_srgb(&box_shrink(data, w, h, alpha, f), alpha)
    }

    #[test]
    fn box_shrink_averages_in_linear_light() {
        // A black/white checkerboard averages to half the light: sRGB 188, not 128.
        let board: Vec<u8> = (0..16)
            .flat_map(|i| [if (i % 4 + i / 4) % 2 == 0 { 0 } else { 255 }; 3])
            .collect();
        assert_eq!(shrunk(&board, 4, 4, false, 2), [188; 12]);
        // A flat colour stays itself, edge blocks included (5 is not a multiple of 2).
        let flat = [30u8, 140, 220].repeat(25);
        assert_eq!(shrunk(&flat, 5, 5, false, 2), [30, 140, 220].repeat(9));
    }

    #[test]
    fn box_shrink_weights_colour_by_alpha() {
        // Half the block transparent (with garbage colour), half opaque red:
        // red at half alpha, the garbage does not bleed in.
        let px = [
            [0, 255, 0, 0],
            [255, 0, 0, 255],
            [0, 255, 0, 0],
            [255, 0, 0, 255],
        ]
        .concat();
        assert_eq!(shrunk(&px, 2, 2, true, 2), [255, 0, 0, 128]);
    }
}
