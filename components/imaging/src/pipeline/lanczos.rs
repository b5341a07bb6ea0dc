//! Lanczos3 resampling of 16-bit linear light: a horizontal pass into a
//! buffer of the rows the output needs, then a vertical pass.
//!
//! `fast_image_resize` resamples 16-bit samples in 64-bit lanes, whose
//! multiplies wasm SIMD does not have (two lanes a time, several
//! instructions each): it was ~45% of a 1280 px JPEG from a 1920 px photo
//! in wasm. Weights of 14 fractional bits keep every sum within 32 bits
//! (see [`weights::PRECISION`]). Horizontally, the samples of two pixels,
//! less 32768 so they fit i16, meet their two weights in one
//! `i32x4.dot_i16x8_s` ([`Pairs`]); vertically, one `i32x4` multiply-add
//! takes four samples of a row ([`Lanes`]). Both are written once: wasm
//! SIMD in the components, arrays natively, which the tests compare with
//! `fast_image_resize`. The common tap counts are unrolled (no loop, so no
//! epoch check of the host's per tap).

mod weights;

use super::image::Image;
use super::linear::{row_to_linear, Linear};
use crate::lanes::Lanes;
use crate::pairs::Pairs;
use weights::{Weights, PRECISION};

#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
type L = std::arch::wasm32::v128;
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
type P = std::arch::wasm32::v128;
#[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
type L = [i32; 4];
#[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
type P = [i16; 8];

/// Added before the shift, so results round to nearest.
const HALF: i32 = 1 << (PRECISION - 1);

/// The part of the source resampled: left, top, width, height, fractional.
pub(crate) type Crop = (f64, f64, f64, f64);

/// What is resampled: 16-bit linear light, or 8-bit sRGB converted to it
/// row by row as the horizontal pass reads it (no full-size linear copy).
pub(crate) enum Source<'a> {
    Linear(&'a Linear),
    Srgb(&'a Image),
}

impl Source<'_> {
    fn size(&self) -> (usize, usize) {
        match self {
            Source::Linear(l) => (l.width as usize, l.height as usize),
            Source::Srgb(i) => (i.width as usize, i.height as usize),
        }
    }

    fn alpha(&self) -> bool {
        match self {
            Source::Linear(l) => l.alpha,
            Source::Srgb(i) => i.alpha,
        }
    }

    /// Samples a pixel: 4 with alpha, else 3.
    fn channels(&self) -> usize {
        match self {
            Source::Linear(l) => l.channels(),
            Source::Srgb(i) => i.channels(),
        }
    }

    /// Row `y` in linear light into the start of `out`.
    fn row(&self, y: usize, out: &mut [u16]) {
        let (w, c) = (self.size().0, self.channels());
        match self {
            Source::Linear(l) => out[..w * c].copy_from_slice(&l.data[y * w * c..][..w * c]),
            Source::Srgb(i) => row_to_linear(&i.data[y * w * c..][..w * c], i.alpha, out),
        }
    }
}

/// `crop` of `src` resampled to `width` × `height`, in linear light.
pub(crate) fn resample(
    src: &Source<'_>,
    (left, top, crop_w, crop_h): Crop,
    (width, height): (u32, u32),
) -> Linear {
    let (alpha, c) = (src.alpha(), src.channels());
    let (sw, sh) = src.size();
    let (dw, dh) = (width as usize, height as usize);
    // A pass that would map whole pixels one to one is skipped.
    let identity = |from: f64, size: f64, out: usize| size == out as f64 && from == from.round();
    let (first, end, vertical) = if identity(top, crop_h, dh) {
        let first = top as usize;
        (first, first + dh, None)
    } else {
        let v = Weights::lanczos3(sh, top, top + crop_h, dh);
        let (first, end) = v.reads();
        (first, end, Some(v))
    };
    let horizontal = (!identity(left, crop_w, dw))
        .then(|| PairWeights::new(Weights::lanczos3(sw, left, left + crop_w, dw), c));
    // One source row at a time, with room for the pairs' reads past its end.
    let mut row = vec![0u16; sw * c + 8];
    let mut across = vec![0u16; (end - first) * dw * c];
    for (y, dst) in (first..end).zip(across.chunks_exact_mut(dw * c)) {
        src.row(y, &mut row);
        match &horizontal {
            Some(h) if c == 4 => horizontal_row::<4>(&row, h, dst),
            Some(h) => horizontal_row::<3>(&row, h, dst),
            None => {
                let x = left as usize * c;
                dst.copy_from_slice(&row[x..x + dw * c]);
            }
        }
    }
    let data = match vertical {
        None => across,
        Some(mut v) => {
            v.starts.iter_mut().for_each(|s| *s -= first);
            vertical_pass(&across, dw * c, &v)
        }
    };
    Linear {
        width,
        height,
        alpha,
        data,
    }
}

/// Horizontal weights two taps at a time, for `C` channels: per output
/// pixel and pair of taps, k0 k1 for each channel (0 0 past RGB).
struct PairWeights {
    starts: Vec<usize>,
    pairs: usize,
    values: Vec<[i16; 8]>,
}

impl PairWeights {
    fn new(w: Weights, c: usize) -> PairWeights {
        let pairs = w.taps.div_ceil(2);
        let values = w
            .values
            .chunks_exact(w.taps)
            .flat_map(|k| {
                (0..pairs).map(move |p| {
                    let k0 = k[2 * p] as i16;
                    let k1 = k.get(2 * p + 1).map_or(0, |&v| v as i16);
                    let last = if c == 4 { [k0, k1] } else { [0, 0] };
                    [k0, k1, k0, k1, k0, k1, last[0], last[1]]
                })
            })
            .collect();
        PairWeights {
            starts: w.starts,
            pairs,
            values,
        }
    }
}

/// One row of `C`-channel pixels (and eight samples after them, read with
/// weight 0) resampled by `w` into `dst`, two taps at a time: the samples of
/// two pixels, less 32768 to fit i16, paired channel by channel and
/// multiplied by their two weights in one dot product. The 32768s come back
/// as 32768 × 2^14, the weights' sum.
fn horizontal_row<const C: usize>(row: &[u16], w: &PairWeights, dst: &mut [u16]) {
    // The common pair counts are unrolled (no loop, so no per-pair epoch
    // check in the host), chosen once a row.
    match w.pairs {
        2 => row_sums::<C, 2>(row, w, dst),
        3 => row_sums::<C, 3>(row, w, dst),
        4 => row_sums::<C, 4>(row, w, dst),
        5 => row_sums::<C, 5>(row, w, dst),
        6 => row_sums::<C, 6>(row, w, dst),
        // Reductions of 2 to 3.5, after a box average or without one
        // (a PNG to 800 px: 1.05-1.18x faster than the loop).
        7 => row_sums::<C, 7>(row, w, dst),
        8 => row_sums::<C, 8>(row, w, dst),
        9 => row_sums::<C, 9>(row, w, dst),
        10 => row_sums::<C, 10>(row, w, dst),
        _ => row_sums::<C, 0>(row, w, dst),
    }
}

/// [`horizontal_row`] with `N` pairs a pixel, or `w.pairs` for 0.
fn row_sums<const C: usize, const N: usize>(row: &[u16], w: &PairWeights, dst: &mut [u16]) {
    for ((&start, k), px) in w
        .starts
        .iter()
        .zip(w.values.chunks_exact(w.pairs))
        .zip(dst.chunks_exact_mut(C))
    {
        let at = start * C;
        assert!(at + (w.pairs - 1) * 2 * C + 8 <= row.len());
        // SAFETY: checked just above: eight samples are readable at
        // `at + p * 2 * C` for every pair `p`.
        let sum = unsafe { pairs_sum::<C, N>(row.as_ptr().add(at), k) };
        px.copy_from_slice(&sum.shr(PRECISION).to_u16_saturating()[..C]);
    }
}

/// One output pixel's sums before the shift, over `N` pairs, or all of `k`
/// for 0.
///
/// # Safety
/// Eight samples must be readable at `at + p * 2 * C` for each pair `p`.
#[inline(always)]
unsafe fn pairs_sum<const C: usize, const N: usize>(at: *const u16, k: &[[i16; 8]]) -> L {
    let n = if N == 0 { k.len() } else { N };
    let mut sum = L::splat(HALF + (32768 << PRECISION));
    let pair = |p: usize, k: &[i16; 8]| {
        P::load_centred(at.add(p * 2 * C))
            .pair_pixels::<C>()
            .dot(P::load_i16x8(k.as_ptr()))
    };
    // Four pairs a loop step (a constant `N` unrolls whole): when the count
    // is only known at run time, the host's epoch check at the loop header,
    // around which the sum is spilled to memory, comes once per four.
    let quads = k[..n].chunks_exact(4);
    let rest = quads.remainder();
    for (q, k) in quads.enumerate() {
        let p = 4 * q;
        sum = sum
            .add(pair(p, &k[0]))
            .add(pair(p + 1, &k[1]))
            .add(pair(p + 2, &k[2]))
            .add(pair(p + 3, &k[3]));
    }
    // The last one to three pairs unrolled too: as a loop, each of its steps
    // spilled the sum around the epoch check, and with 11 pairs (an RGBA
    // PNG 1080 -> 320 px) those three steps took more time than the quads.
    let p = n - rest.len();
    match rest {
        [] => sum,
        [a] => sum.add(pair(p, a)),
        [a, b] => sum.add(pair(p, a)).add(pair(p + 1, b)),
        [a, b, c, ..] => sum.add(pair(p, a)).add(pair(p + 1, b)).add(pair(p + 2, c)),
    }
}

/// Rows of `stride` samples resampled by `w`, sixteen samples at a time.
fn vertical_pass(src: &[u16], stride: usize, w: &Weights) -> Vec<u16> {
    let mut out = vec![0u16; w.starts.len() * stride];
    for ((&start, k), dst) in w
        .starts
        .iter()
        .zip(w.values.chunks_exact(w.taps))
        .zip(out.chunks_exact_mut(stride))
    {
        let rows = &src[start * stride..(start + w.taps) * stride];
        // The common tap counts are unrolled, as horizontally.
        match k.len() {
            6 => vertical_row::<6>(rows, stride, k, dst),
            7 => vertical_row::<7>(rows, stride, k, dst),
            8 => vertical_row::<8>(rows, stride, k, dst),
            9 => vertical_row::<9>(rows, stride, k, dst),
            10 => vertical_row::<10>(rows, stride, k, dst),
            11 => vertical_row::<11>(rows, stride, k, dst),
            12 => vertical_row::<12>(rows, stride, k, dst),
            13 => vertical_row::<13>(rows, stride, k, dst),
            14 => vertical_row::<14>(rows, stride, k, dst),
            15 => vertical_row::<15>(rows, stride, k, dst),
            16 => vertical_row::<16>(rows, stride, k, dst),
            17 => vertical_row::<17>(rows, stride, k, dst),
            18 => vertical_row::<18>(rows, stride, k, dst),
            19 => vertical_row::<19>(rows, stride, k, dst),
            20 => vertical_row::<20>(rows, stride, k, dst),
            _ => vertical_row::<0>(rows, stride, k, dst),
        }
    }
    out
}

/// One output row from `N` source rows (or `k.len()` for 0) weighted by `k`.
fn vertical_row<const N: usize>(rows: &[u16], stride: usize, k: &[i32], dst: &mut [u16]) {
    let taps = if N == 0 { k.len() } else { N };
    let k = &k[..taps];
    assert!(rows.len() >= taps * stride && dst.len() >= stride);
    let whole = stride / 16 * 16;
    // Sixteen samples a time: each weight is splatted once for four sums.
    for x in (0..whole).step_by(16) {
        let mut sums = [L::splat(HALF); 4];
        for (t, &k) in k.iter().enumerate() {
            let kk = L::splat(k);
            for (i, sum) in sums.iter_mut().enumerate() {
                // SAFETY: `t * stride + x + 16 <= taps * stride <= rows.len()`
                // (asserted), as `x + 16 <= whole <= stride`.
                let v = unsafe { L::load_u16(rows.as_ptr().add(t * stride + x + i * 4)) };
                *sum = sum.add(v.mul_lanes(kk));
            }
        }
        for (i, sum) in sums.iter().enumerate() {
            dst[x + i * 4..x + i * 4 + 4].copy_from_slice(&sum.shr(PRECISION).to_u16_saturating());
        }
    }
    for x in (whole..stride).step_by(4) {
        let n = (stride - x).min(4);
        let mut sum = L::splat(HALF);
        for (t, &k) in k.iter().enumerate() {
            let mut v = [0u16; 4];
            v[..n].copy_from_slice(&rows[t * stride + x..t * stride + x + n]);
            // SAFETY: `v` is four u16.
            sum = sum.add(unsafe { L::load_u16(v.as_ptr()) }.mul(k));
        }
        dst[x..x + n].copy_from_slice(&sum.shr(PRECISION).to_u16_saturating()[..n]);
    }
}

#[cfg(test)]
mod tests;
