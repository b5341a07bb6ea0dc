//! The last step of the reduced-scale JPEG decoders: component planes →
//! RGB, upsampling subsampled chroma linearly between sample centres
//! (libjpeg's "fancy" upsampling) so chroma edges stay smooth.

use crate::pipeline::Image;

/// One component's samples at the decoded scale.
pub(super) struct Plane<'a> {
    pub samples: &'a [u8],
    /// Samples from one row to the next.
    pub stride: usize,
    /// Meaningful samples across and down (the rest is MCU padding).
    pub cols: usize,
    pub rows: usize,
    /// Sampling factors.
    pub h: usize,
    pub v: usize,
}

/// `size` (width, height) RGB pixels from one (grey) or three (YCbCr, or RGB
/// when `rgb`) planes, with `max` the largest sampling factors.
pub(super) fn to_rgb(
    planes: &[Plane<'_>],
    max: (usize, usize),
    size: (usize, usize),
    rgb: bool,
) -> Image {
    let (w, h) = size;
    let axes: Vec<(Vec<Tap>, Vec<Tap>)> = planes
        .iter()
        .map(|p| (taps(w, p.h, max.0, p.cols), taps(h, p.v, max.1, p.rows)))
        .collect();
    let mut data = Vec::with_capacity(w * h * 3);
    // Each plane's samples for one output row, interpolated to full width.
    let mut rows: Vec<Vec<u8>> = planes.iter().map(|_| vec![0; w]).collect();
    let mut blended = Vec::new();
    let mut narrow = Vec::new();
    for y in 0..h {
        for (i, p) in planes.iter().enumerate() {
            let row = &mut rows[i];
            if (p.h, p.v) == max {
                row.copy_from_slice(&p.samples[y * p.stride..y * p.stride + w]);
                continue;
            }
            // Vertically first (once per sample), then across (per pixel).
            let (top, bottom, den, frac) = axes[i].1[y];
            let (top, bottom) = (
                &p.samples[top * p.stride..][..p.cols],
                &p.samples[bottom * p.stride..][..p.cols],
            );
            if p.h * 2 == max.0 && den.is_power_of_two() {
                // Half-width chroma (4:2:0, 4:2:2): weights 3:1 and 1:3 in
                // turn, out of 4, times the vertical `den` (at most 8, so
                // every sum fits 16 bits: eight lanes a SIMD step, not four).
                blend_rows(top, bottom, (den - frac) as u16, frac as u16, &mut narrow);
                upsample_twice(&narrow, row, 2 * den as u16, (4 * den).trailing_zeros());
                continue;
            }
            blended.clear();
            blended.extend(
                (0..p.cols).map(|c| u32::from(top[c]) * (den - frac) + u32::from(bottom[c]) * frac),
            );
            let taps = &axes[i].0;
            let blend = |(left, right, hden, hfrac): Tap| {
                blended[left] * (hden - hfrac) + blended[right] * hfrac + hden * den / 2
            };
            // The denominators are twice the sampling factors: a shift,
            // unless a factor is 3.
            let all = taps.first().map_or(1, |t| t.2 * den);
            if all.is_power_of_two() {
                let shift = all.trailing_zeros();
                for (out, &tap) in row.iter_mut().zip(taps) {
                    *out = (blend(tap) >> shift) as u8;
                }
            } else {
                for (out, &tap) in row.iter_mut().zip(taps) {
                    *out = (blend(tap) / all) as u8;
                }
            }
        }
        let start = data.len();
        data.resize(start + w * 3, 0);
        let out = data[start..].chunks_exact_mut(3);
        match rows.as_slice() {
            [grey] => out.zip(grey).for_each(|(px, &v)| px.fill(v)),
            [a, b, c] if rgb => out
                .zip(a.iter().zip(b).zip(c))
                .for_each(|(px, ((&r, &g), &b))| px.copy_from_slice(&[r, g, b])),
            [y, cb, cr] => ycbcr_row(y, cb, cr, &mut data[start..]),
            _ => unreachable!("one or three planes"),
        }
    }
    Image {
        width: w as u32,
        height: h as u32,
        alpha: false,
        data,
    }
}

/// `row` from `half`-width samples: each output between the two nearest
/// samples, weighted 3:1 by distance (what [`taps`] gives for a factor of 2,
/// without its table), rounded and shifted down by `shift`.
fn upsample_twice(samples: &[u16], row: &mut [u8], round: u16, shift: u32) {
    let last = samples.len() - 1;
    let Some((first, rest)) = row.split_first_mut() else {
        return;
    };
    *first = ((4 * samples[0] + round) >> shift) as u8;
    let blend = |a: u16, b: u16| ((3 * a + b + round) >> shift) as u8;
    // Whole pairs between two samples first, without clamping (eight
    // samples a step in wasm SIMD); then the rest, clamped to the last sample.
    let pairs = rest.len().min(2 * last) / 2;
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    let done = simd::upsample_pairs(&samples[..pairs + 1], &mut rest[..2 * pairs], round, shift);
    #[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
    let done = 0;
    for (pair, ab) in rest[2 * done..2 * pairs]
        .chunks_exact_mut(2)
        .zip(samples[done..].windows(2))
    {
        pair[0] = blend(ab[0], ab[1]);
        pair[1] = blend(ab[1], ab[0]);
    }
    for (i, out) in rest.iter_mut().enumerate().skip(2 * pairs) {
        let (a, b) = (samples[(i / 2).min(last)], samples[(i / 2 + 1).min(last)]);
        *out = if i % 2 == 0 { blend(a, b) } else { blend(b, a) };
    }
}

/// `out` = `top` × `wt` + `bottom` × `wb`, sample by sample (sums below
/// 2^16: eight lanes a wasm SIMD step).
fn blend_rows(top: &[u8], bottom: &[u8], wt: u16, wb: u16, out: &mut Vec<u16>) {
    out.resize(top.len(), 0);
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    let done = simd::blend_rows(top, bottom, wt, wb, out);
    #[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
    let done = 0;
    for (o, (&t, &b)) in out[done..]
        .iter_mut()
        .zip(top[done..].iter().zip(&bottom[done..]))
    {
        *o = u16::from(t) * wt + u16::from(b) * wb;
    }
}

/// Linear interpolation along one axis: (left, right, denominator, weight of right).
type Tap = (usize, usize, u32, u32);

/// For each of `out` output positions, the two samples of a component with
/// sampling factor `factor` (of `max`) and `samples` samples that surround it.
fn taps(out: usize, factor: usize, max: usize, samples: usize) -> Vec<Tap> {
    let den = 2 * max;
    (0..out)
        .map(|x| {
            // Sample coordinate of the output centre, in 1/den units, minus half a sample.
            let pos = ((2 * x + 1) * factor) as isize - max as isize;
            let left = pos.div_euclid(den as isize);
            let frac = pos.rem_euclid(den as isize) as u32;
            let clamp = |i: isize| i.clamp(0, samples as isize - 1) as usize;
            (clamp(left), clamp(left + 1), den as u32, frac)
        })
        .collect()
}

/// One row of YCbCr → RGB. Sixteen pixels at a time: each channel's
/// arithmetic on its own array, which the compiler turns into SIMD lanes,
/// then interleaved (per pixel, it did not vectorise).
fn ycbcr_row(y: &[u8], cb: &[u8], cr: &[u8], out: &mut [u8]) {
    const N: usize = 16;
    let planes = y
        .chunks_exact(N)
        .zip(cb.chunks_exact(N))
        .zip(cr.chunks_exact(N));
    let mut done = 0;
    for (px, ((y, cb), cr)) in out.chunks_exact_mut(3 * N).zip(planes) {
        #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
        simd::ycbcr16(y, cb, cr, px);
        #[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
        {
            let (mut r, mut g, mut b) = ([0u8; N], [0u8; N], [0u8; N]);
            for i in 0..N {
                [r[i], g[i], b[i]] = ycbcr_to_rgb(y[i], cb[i], cr[i]);
            }
            for (i, px) in px.chunks_exact_mut(3).enumerate() {
                px.copy_from_slice(&[r[i], g[i], b[i]]);
            }
        }
        done += N;
    }
    let rest = out[3 * done..].chunks_exact_mut(3);
    for (px, ((&y, &cb), &cr)) in rest.zip(y[done..].iter().zip(&cb[done..]).zip(&cr[done..])) {
        px.copy_from_slice(&ycbcr_to_rgb(y, cb, cr));
    }
}

/// The wasm SIMD steps of this file: chroma blended and upsampled eight
/// 16-bit samples a step ([`blend_rows`], [`upsample_twice`]), and sixteen
/// pixels of [`ycbcr_row`] ([`ycbcr_to_rgb`]'s arithmetic four lanes at a
/// time, clamped by saturating narrowing, and interleaved by shuffles rather
/// than three-byte stores).
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
mod simd {
    use core::arch::wasm32::*;

    /// The steps of [`super::blend_rows`]: sixteen samples each; returns
    /// how far they got (the caller finishes the rest).
    pub(super) fn blend_rows(
        top: &[u8],
        bottom: &[u8],
        wt: u16,
        wb: u16,
        out: &mut [u16],
    ) -> usize {
        let n = top.len().min(bottom.len()).min(out.len()) / 16 * 16;
        let (kt, kb) = (u16x8_splat(wt), u16x8_splat(wb));
        for x in (0..n).step_by(16) {
            // SAFETY: `x + 16 <= n`, within all three slices.
            unsafe {
                let t = v128_load(top.as_ptr().add(x).cast());
                let b = v128_load(bottom.as_ptr().add(x).cast());
                let lo = i16x8_add(
                    i16x8_mul(u16x8_extend_low_u8x16(t), kt),
                    i16x8_mul(u16x8_extend_low_u8x16(b), kb),
                );
                let hi = i16x8_add(
                    i16x8_mul(u16x8_extend_high_u8x16(t), kt),
                    i16x8_mul(u16x8_extend_high_u8x16(b), kb),
                );
                v128_store(out.as_mut_ptr().add(x).cast(), lo);
                v128_store(out.as_mut_ptr().add(x + 8).cast(), hi);
            }
        }
        n
    }

    /// Pairs of outputs between samples `i` and `i + 1`, eight samples a
    /// step while nine can be read; returns the pairs made.
    pub(super) fn upsample_pairs(samples: &[u16], out: &mut [u8], round: u16, shift: u32) -> usize {
        let steps = (samples.len().saturating_sub(1) / 8).min(out.len() / 16);
        let r = u16x8_splat(round);
        for step in 0..steps {
            let i = step * 8;
            // SAFETY: `i + 9 <= samples.len()` and `2 * i + 16 <= out.len()`.
            unsafe {
                let a = v128_load(samples.as_ptr().add(i).cast());
                let b = v128_load(samples.as_ptr().add(i + 1).cast());
                let three = |x: v128| i16x8_add(i16x8_shl(x, 1), x);
                let near_a = u16x8_shr(i16x8_add(i16x8_add(three(a), b), r), shift);
                let near_b = u16x8_shr(i16x8_add(i16x8_add(three(b), a), r), shift);
                let bytes = u8x16_narrow_i16x8(near_a, near_b);
                let pairs = i8x16_shuffle::<0, 8, 1, 9, 2, 10, 3, 11, 4, 12, 5, 13, 6, 14, 7, 15>(
                    bytes, bytes,
                );
                v128_store(out.as_mut_ptr().add(2 * i).cast(), pairs);
            }
        }
        steps * 8
    }

    #[inline(always)]
    pub(super) fn ycbcr16(y: &[u8], cb: &[u8], cr: &[u8], out: &mut [u8]) {
        use crate::rgb_planes::simd::load16;
        let (y, cb, cr) = (load16(y), load16(cb), load16(cr));
        let widen = |v: v128| {
            let (lo, hi) = (u16x8_extend_low_u8x16(v), u16x8_extend_high_u8x16(v));
            [
                u32x4_extend_low_u16x8(lo),
                u32x4_extend_high_u16x8(lo),
                u32x4_extend_low_u16x8(hi),
                u32x4_extend_high_u16x8(hi),
            ]
        };
        let (y, cb, cr) = (widen(y), widen(cb), widen(cr));
        let centre = i32x4_splat(128);
        let round = i32x4_splat(32768);
        let (mut r, mut g, mut b) = (
            [i32x4_splat(0); 4],
            [i32x4_splat(0); 4],
            [i32x4_splat(0); 4],
        );
        for i in 0..4 {
            let luma = i32x4_add(i32x4_shl(y[i], 16), round);
            let (u, v) = (i32x4_sub(cb[i], centre), i32x4_sub(cr[i], centre));
            let mul = |x: v128, k: i32| i32x4_mul(x, i32x4_splat(k));
            r[i] = i32x4_shr(i32x4_add(luma, mul(v, 91881)), 16);
            g[i] = i32x4_shr(i32x4_sub(luma, i32x4_add(mul(u, 22554), mul(v, 46802))), 16);
            b[i] = i32x4_shr(i32x4_add(luma, mul(u, 116130)), 16);
        }
        let narrow = |c: [v128; 4]| {
            u8x16_narrow_i16x8(
                i16x8_narrow_i32x4(c[0], c[1]),
                i16x8_narrow_i32x4(c[2], c[3]),
            )
        };
        let (r, g, b) = (narrow(r), narrow(g), narrow(b));
        crate::rgb_planes::simd::store_rgb16(r, g, b, out);
    }
}

/// JFIF YCbCr → RGB in 16.16 fixed point.
#[inline(always)]
fn ycbcr_to_rgb(y: u8, cb: u8, cr: u8) -> [u8; 3] {
    let y = i32::from(y) << 16;
    let (cb, cr) = (i32::from(cb) - 128, i32::from(cr) - 128);
    let r = y + 91881 * cr;
    let g = y - 22554 * cb - 46802 * cr;
    let b = y + 116130 * cb;
    [r, g, b].map(|v| ((v + 32768) >> 16).clamp(0, 255) as u8)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn halving_chroma_matches_the_general_taps() {
        // Vertically blended samples (at most 255 * den), as `to_rgb` makes them.
        for (max, den) in [(2, 2u16), (2, 4), (4, 4), (4, 8)] {
            for (w, cols) in [
                (1, 1),
                (2, 1),
                (5, 4),
                (6, 4),
                (7, 4),
                (8, 4),
                (479, 240),
                (480, 240),
            ] {
                let samples: Vec<u16> = (0..cols as u16)
                    .map(|i| (i * 97 + 13) % 256 * den)
                    .collect();
                let taps = taps(w, max / 2, max, cols);
                let all = taps[0].2 * u32::from(den);
                let want: Vec<u8> = taps
                    .iter()
                    .map(|&(l, r, hden, f)| {
                        let (l, r) = (u32::from(samples[l]), u32::from(samples[r]));
                        ((l * (hden - f) + r * f + all / 2) / all) as u8
                    })
                    .collect();
                let mut got = vec![0; w];
                upsample_twice(&samples, &mut got, 2 * den, (4 * den).trailing_zeros());
                assert_eq!(got, want, "max {max}, den {den}, {w} from {cols}");
            }
        }
    }
}
