//! Box averaging in linear light, straight from 8-bit sRGB rows.
//!
//! A source decoded at full size (PNG while it is decoded, GIF afterwards)
//! that is more than four times the output is first averaged over
//! `factor`×`factor` blocks, in linear light with colour weighted by alpha
//! (blocks at the right and bottom edges average the pixels they have). Rows
//! are added as they come, so the full-size image need never be held, and
//! the result is 16-bit linear light with alpha premultiplied: what the
//! Lanczos step resamples, with no 8-bit round trip in between.

use super::linear::Linear;
use super::srgb::tables;

/// Largest box factor: keeps a block's sums within `u64` comfortably and the
/// remaining Lanczos pass meaningful.
const MAX_BOX: u32 = 64;

/// The box factor for a source `ratio` times the output (the smaller of the
/// two axes): the largest that leaves at least twice the output, as libvips'
/// shrink-then-reduce does, so Lanczos still has a step to make; capped so a
/// block's sums stay small.
pub fn factor(ratio: f64) -> u32 {
    (ratio / 2.0).floor().clamp(1.0, f64::from(MAX_BOX)) as u32
}

/// Sums blocks of rows of `channels` (1 grey, 2 grey + alpha, 3 RGB, 4
/// RGBA) 8-bit sRGB samples into a `factor` times smaller [`Linear`] image.
pub(crate) struct BoxAverage {
    width: usize,
    channels: usize,
    factor: usize,
    /// Per block of the current row of blocks: Σ linear × alpha for r, g, b,
    /// and Σ alpha (alpha 0..=255); Σ linear for opaque sources.
    sums: Vec<u64>,
    /// Source rows in the current row of blocks so far.
    rows: usize,
    out: Linear,
    /// Rows of blocks written.
    written: usize,
}

impl BoxAverage {
    pub fn new(width: u32, height: u32, channels: usize, factor: u32) -> BoxAverage {
        let alpha = channels == 2 || channels == 4;
        let (w, f) = (width as usize, factor.clamp(1, MAX_BOX) as usize);
        let (ow, oh) = (w.div_ceil(f), (height as usize).div_ceil(f));
        let mut out = Linear {
            width: ow as u32,
            height: oh as u32,
            alpha,
            data: Vec::new(),
        };
        out.data = vec![0; ow * oh * out.channels()];
        BoxAverage {
            width: w,
            channels,
            factor: f,
            sums: vec![0; ow * 4],
            rows: 0,
            out,
            written: 0,
        }
    }

    /// Adds the next source row (at least `width × channels` samples).
    pub fn add_row(&mut self, row: &[u8]) {
        let (sums, w, f) = (&mut self.sums, self.width, self.factor);
        match self.channels {
            1 => add_row::<1>(sums, row, w, f),
            2 => add_row::<2>(sums, row, w, f),
            3 => add_row::<3>(sums, row, w, f),
            _ => add_row::<4>(sums, row, w, f),
        }
        self.rows += 1;
        if self.rows == f {
            self.emit();
        }
    }

    /// The averaged image, or `None` if fewer rows came than the height.
    pub fn finish(mut self) -> Option<Linear> {
        if self.rows > 0 {
            self.emit();
        }
        (self.written == self.out.height as usize).then_some(self.out)
    }

    /// Writes the current row of blocks, premultiplied 16-bit linear, and
    /// clears the sums.
    fn emit(&mut self) {
        let (w, f, c) = (self.width, self.factor, self.out.channels());
        let ow = self.out.width as usize;
        let Some(out_row) = self.out.data.chunks_exact_mut(ow * c).nth(self.written) else {
            return;
        };
        // Opaque sources sum linear values unweighted (`add_span`).
        let alpha = self.channels == 2 || self.channels == 4;
        for (ox, (sum, dst)) in self
            .sums
            .chunks_exact_mut(4)
            .zip(out_row.chunks_exact_mut(c))
            .enumerate()
        {
            let n = (self.rows * (((ox + 1) * f).min(w) - ox * f)) as u64;
            // Rounded averages. The dividends fit u32 (at most 64 × 64
            // pixels of 65535), and 32-bit division is much cheaper than
            // 64-bit in wasm.
            let n = n as u32;
            let average = |total: u64| ((total as u32 + n / 2) / n) as u16;
            for i in 0..3 {
                dst[i] = average(if alpha { sum[i] / 255 } else { sum[i] });
            }
            if c == 4 {
                dst[3] = average(sum[3] * 257);
            }
            sum.fill(0);
        }
        self.rows = 0;
        self.written += 1;
    }
}

/// Adds one row of `C`-channel pixels to its blocks' sums. Generic over `C`,
/// and over the common factors, so the per-pixel loops have no branches and
/// a block's pixels unroll (fewer loop headers, each of which also costs the
/// host's epoch check).
fn add_row<const C: usize>(sums: &mut [u64], row: &[u8], w: usize, f: usize) {
    let row = &row[..w * C];
    match f {
        2 => add_blocks::<C, 2>(sums, row),
        3 => add_blocks::<C, 3>(sums, row),
        4 => add_blocks::<C, 4>(sums, row),
        // 4K and larger sources at thumbnail and srcset widths.
        5 => add_blocks::<C, 5>(sums, row),
        6 => add_blocks::<C, 6>(sums, row),
        8 => add_blocks::<C, 8>(sums, row),
        _ => {
            for (sum, span) in sums.chunks_exact_mut(4).zip(row.chunks(f * C)) {
                add_span::<C>(sum, span);
            }
        }
    }
}

/// [`add_row`] for blocks `F` pixels wide; the last may be narrower.
fn add_blocks<const C: usize, const F: usize>(sums: &mut [u64], row: &[u8]) {
    let blocks = row.chunks_exact(F * C);
    let (whole, rest) = (blocks.len(), blocks.remainder());
    for (span, sum) in blocks.zip(sums.chunks_exact_mut(4)) {
        add_span::<C>(sum, span);
    }
    if let Some(sum) = sums
        .chunks_exact_mut(4)
        .nth(whole)
        .filter(|_| !rest.is_empty())
    {
        add_span::<C>(sum, rest);
    }
}

/// Adds a block's share of one row to its sums: colour weighted by alpha
/// (grey + alpha, RGBA), or unweighted for opaque sources (grey, RGB), where
/// every weight would be 255 and [`BoxAverage::emit`] would divide it out.
#[inline(always)]
fn add_span<const C: usize>(sum: &mut [u64], span: &[u8]) {
    let lut = &tables().to_linear;
    // A block's share of one row fits u32 (64 pixels of 65535 × 255).
    let mut part = [0u32; 4];
    for px in span.chunks_exact(C) {
        let a = if C == 2 || C == 4 {
            u32::from(px[C - 1])
        } else {
            1
        };
        let rgb = if C >= 3 {
            [px[0], px[1], px[2]]
        } else {
            [px[0]; 3]
        };
        for i in 0..3 {
            part[i] += u32::from(lut[usize::from(rgb[i])]) * a;
        }
        part[3] += a;
    }
    for (s, p) in sum.iter_mut().zip(part) {
        *s += u64::from(p);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Straight 8-bit sRGB of `data` (`c` channels) box-averaged by `f`.
    fn averaged(data: &[u8], w: u32, h: u32, c: usize, f: u32) -> Vec<u8> {
        let mut boxed = BoxAverage::new(w, h, c, f);
        for row in data.chunks_exact(w as usize * c) {
            boxed.add_row(row);
        }
        boxed.finish().unwrap().to_srgb().data
    }

    #[test]
    fn averages_in_linear_light() {
        // A black/white checkerboard averages to half the light: sRGB 188, not 128.
        let board: Vec<u8> = (0..16)
            .flat_map(|i| [if (i % 4 + i / 4) % 2 == 0 { 0 } else { 255 }; 3])
            .collect();
        assert_eq!(averaged(&board, 4, 4, 3, 2), [188; 12]);
        // A flat colour stays itself, edge blocks included (5 is not a multiple of 2).
        let flat = [30u8, 140, 220].repeat(25);
        assert_eq!(averaged(&flat, 5, 5, 3, 2), [30, 140, 220].repeat(9));
    }

    #[test]
    fn weights_colour_by_alpha() {
        // Half the block transparent (with garbage colour), half opaque red:
        // red at half alpha, the garbage does not bleed in.
        let px = [
            [0, 255, 0, 0],
            [255, 0, 0, 255],
            [0, 255, 0, 0],
            [255, 0, 0, 255],
        ]
        .concat();
        assert_eq!(averaged(&px, 2, 2, 4, 2), [255, 0, 0, 128]);
    }

    #[test]
    fn grey_becomes_rgb() {
        assert_eq!(averaged(&[77; 12], 4, 3, 1, 2), [77; 12]);
        assert_eq!(
            averaged(&[77, 255].repeat(4), 2, 2, 2, 2),
            [77, 77, 77, 255]
        );
    }

    #[test]
    fn every_factor_sums_the_pixels_of_its_blocks() {
        // Widths and heights that leave partial blocks, for the unrolled
        // factors (2, 3, 4, 5, 6, 8) and the general case (7, 9), against a
        // direct sum.
        let (w, h) = (19usize, 10usize);
        let mut seed = 0x0005_DEEC_E66D_u64;
        let rgba: Vec<u8> = (0..w * h * 4)
            .map(|_| {
                seed = seed.wrapping_mul(0x5851_F42D_4C95_7F2D).wrapping_add(11);
                (seed >> 56) as u8
            })
            .collect();
        let lut = &tables().to_linear;
        for f in 2..=9 {
            let mut boxed = BoxAverage::new(w as u32, h as u32, 4, f as u32);
            for row in rgba.chunks_exact(w * 4) {
                boxed.add_row(row);
            }
            let got = boxed.finish().unwrap();
            let (ow, oh) = (w.div_ceil(f), h.div_ceil(f));
            assert_eq!((got.width, got.height), (ow as u32, oh as u32));
            let mut want = Vec::new();
            for by in 0..oh {
                for bx in 0..ow {
                    let mut sum = [0u64; 4];
                    let mut n = 0u32;
                    for y in by * f..((by + 1) * f).min(h) {
                        for x in bx * f..((bx + 1) * f).min(w) {
                            let px = &rgba[(y * w + x) * 4..][..4];
                            let a = u64::from(px[3]);
                            for i in 0..3 {
                                sum[i] += u64::from(lut[usize::from(px[i])]) * a;
                            }
                            sum[3] += a;
                            n += 1;
                        }
                    }
                    let average = |t: u64| ((t as u32 + n / 2) / n) as u16;
                    let px = [
                        average(sum[0] / 255),
                        average(sum[1] / 255),
                        average(sum[2] / 255),
                        average(sum[3] * 257),
                    ];
                    want.extend(px);
                }
            }
            assert_eq!(got.data, want, "factor {f}");
        }
    }

    #[test]
    fn too_few_rows_is_none() {
        let mut boxed = BoxAverage::new(4, 4, 3, 2);
        boxed.add_row(&[0; 12]);
        assert!(boxed.finish().is_none());
    }
}
