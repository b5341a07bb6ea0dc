//! Lanczos3 resampling of 16-bit linear light: a horizontal pass into a
//! buffer of the rows the output needs, then a vertical pass.
//!
//! `fast_image_resize` resamples 16-bit samples in 64-bit lanes, whose
//! multiplies wasm SIMD does not have (two lanes a time, several
//! instructions each): it was ~45% of a 1280 px JPEG from a 1920 px photo
//! in wasm. Weights of 14 fractional bits keep every sum within 32 bits
//! (see [`weights::PRECISION`]), so here one `i32x4` multiply-add takes a
//! whole RGB(A) pixel horizontally, or four samples vertically. The passes
//! are written once over [`Lanes`]: wasm SIMD in the components, arrays
//! natively, which the tests compare with `fast_image_resize` and with
//! floating point.

mod weights;

use super::linear::Linear;
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

/// `crop` of `src` resampled to `width` × `height`.
pub(crate) fn resample(
    src: &Linear,
    (left, top, crop_w, crop_h): Crop,
    (width, height): (u32, u32),
) -> Linear {
    let c = src.channels();
    let (sw, sh) = (src.width as usize, src.height as usize);
    let (dw, dh) = (width as usize, height as usize);
    // A pass that would map whole pixels one to one is skipped.
    let identity = |from: f64, size: f64, out: usize| size == out as f64 && from == from.round();
    let rows = if identity(top, crop_h, dh) {
        let first = top as usize;
        (first, first + dh, None)
    } else {
        let v = Weights::lanczos3(sh, top, top + crop_h, dh);
        let (first, end) = v.reads();
        (first, end, Some(v))
    };
    let (first, end, vertical) = rows;
    let rows_in = &src.data[first * sw * c..end * sw * c];
    let across = if identity(left, crop_w, dw) {
        let x = left as usize;
        rows_in
            .chunks_exact(sw * c)
            .flat_map(|row| &row[x * c..(x + dw) * c])
            .copied()
            .collect()
    } else {
        let h = Weights::lanczos3(sw, left, left + crop_w, dw);
        horizontal(rows_in, sw, c, &h)
    };
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
        alpha: src.alpha,
        data,
    }
}

/// Each row of `c`-channel pixels, `width` wide, resampled by `w`.
fn horizontal(src: &[u16], width: usize, c: usize, w: &Weights) -> Vec<u16> {
    if c == 4 {
        horizontal_pixels::<4>(src, width, w)
    } else {
        horizontal_pixels::<3>(src, width, w)
    }
}

/// [`horizontal`] for `C` channels, two taps at a time: the samples of two
/// pixels, less 32768 to fit i16, paired channel by channel and multiplied
/// by their two weights in one dot product. The 32768s come back as
/// 32768 × 2^14, the weights' sum.
fn horizontal_pixels<const C: usize>(src: &[u16], width: usize, w: &Weights) -> Vec<u16> {
    let out_w = w.starts.len();
    let stride = width * C;
    let pairs = w.taps.div_ceil(2);
    // Per output and pair of taps: k0 k1 for each channel (0 0 past RGB).
    let weights: Vec<[i16; 8]> = w
        .values
        .chunks_exact(w.taps)
        .flat_map(|k| {
            (0..pairs).map(move |p| {
                let k0 = k[2 * p] as i16;
                let k1 = k.get(2 * p + 1).map_or(0, |&v| v as i16);
                let mut lanes = [k0, k1, k0, k1, k0, k1, 0, 0];
                if C == 4 {
                    lanes[6..].copy_from_slice(&[k0, k1]);
                }
                lanes
            })
        })
        .collect();
    let rows = src.len() / stride;
    let mut out = vec![0u16; rows * out_w * C];
    for (y, dst) in out.chunks_exact_mut(out_w * C).enumerate() {
        for ((&start, k), px) in w
            .starts
            .iter()
            .zip(weights.chunks_exact(pairs))
            .zip(dst.chunks_exact_mut(C))
        {
            let at = y * stride + start * C;
            // Eight samples are read per pair: past the taps (weighted 0)
            // there may be fewer at the very end of the buffer.
            let sum = if at + (pairs - 1) * 2 * C + 8 <= src.len() {
                // SAFETY: the eight samples at `at + p * 2 * C` are in `src`
                // for every pair `p` of `k`.
                unsafe { pixel_sum::<C>(src.as_ptr().add(at), k) }
            } else {
                let mut v = vec![0u16; pairs * 2 * C + 8];
                let n = src.len() - at;
                v[..n].copy_from_slice(&src[at..]);
                // SAFETY: `v` has eight samples at every pair's start.
                unsafe { pixel_sum::<C>(v.as_ptr(), k) }
            };
            px.copy_from_slice(&sum.shr(PRECISION).to_u16_saturating()[..C]);
        }
    }
    out
}

/// One output pixel's sums before the shift: the common pair counts are
/// unrolled (no loop, so no per-pair epoch check in the host).
///
/// # Safety
/// Eight samples must be readable at `at + p * 2 * C` for each pair `p`.
#[inline(always)]
unsafe fn pixel_sum<const C: usize>(at: *const u16, k: &[[i16; 8]]) -> L {
    match k.len() {
        2 => pairs_sum::<C, 2>(at, k),
        3 => pairs_sum::<C, 3>(at, k),
        4 => pairs_sum::<C, 4>(at, k),
        5 => pairs_sum::<C, 5>(at, k),
        6 => pairs_sum::<C, 6>(at, k),
        _ => pairs_sum::<C, 0>(at, k),
    }
}

/// [`pixel_sum`] over `N` pairs, or all of `k` for 0.
#[inline(always)]
unsafe fn pairs_sum<const C: usize, const N: usize>(at: *const u16, k: &[[i16; 8]]) -> L {
    let n = if N == 0 { k.len() } else { N };
    let mut sum = L::splat(HALF + (32768 << PRECISION));
    for (p, k) in k[..n].iter().enumerate() {
        let v = P::load_centred(at.add(p * 2 * C)).pair_pixels::<C>();
        sum = sum.add(v.dot(P::load_i16x8(k.as_ptr())));
    }
    sum
}

/// Rows of `stride` samples resampled by `w`, four samples at a time.
fn vertical_pass(src: &[u16], stride: usize, w: &Weights) -> Vec<u16> {
    let mut out = vec![0u16; w.starts.len() * stride];
    for ((&start, k), dst) in w
        .starts
        .iter()
        .zip(w.values.chunks_exact(w.taps))
        .zip(out.chunks_exact_mut(stride))
    {
        let rows = &src[start * stride..(start + w.taps) * stride];
        let whole = stride / 16 * 16;
        // Sixteen samples a time: each weight is splatted once for four sums.
        for x in (0..whole).step_by(16) {
            let mut sums = [L::splat(HALF); 4];
            for (t, &k) in k.iter().enumerate() {
                let kk = L::splat(k);
                let at = &rows[t * stride + x..t * stride + x + 16];
                for (i, sum) in sums.iter_mut().enumerate() {
                    // SAFETY: `at` holds 16 samples; this reads four of them.
                    let v = unsafe { L::load_u16(at.as_ptr().add(i * 4)) };
                    *sum = sum.add(v.mul_lanes(kk));
                }
            }
            for (i, sum) in sums.iter().enumerate() {
                dst[x + i * 4..x + i * 4 + 4]
                    .copy_from_slice(&sum.shr(PRECISION).to_u16_saturating());
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
    out
}

#[cfg(test)]
mod tests;
