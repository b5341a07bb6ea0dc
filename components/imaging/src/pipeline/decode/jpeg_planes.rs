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
                &p.samples[top * p.stride..],
                &p.samples[bottom * p.stride..],
            );
            blended.clear();
            blended.extend(
                (0..p.cols).map(|c| u32::from(top[c]) * (den - frac) + u32::from(bottom[c]) * frac),
            );
            let taps = &axes[i].0;
            if p.h * 2 == max.0 && den.is_power_of_two() {
                // Half-width chroma (4:2:0, 4:2:2): weights 3:1 and 1:3 in
                // turn, out of 4, times the vertical `den`.
                upsample_twice(&blended, row, 2 * den, (4 * den).trailing_zeros());
                continue;
            }
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
fn upsample_twice(samples: &[u32], row: &mut [u8], round: u32, shift: u32) {
    let last = samples.len() - 1;
    let Some((first, rest)) = row.split_first_mut() else {
        return;
    };
    *first = ((4 * samples[0] + round) >> shift) as u8;
    let blend = |a: u32, b: u32| ((3 * a + b + round) >> shift) as u8;
    // Whole pairs between two samples first, without clamping, so the loop
    // vectorises; then the rest, clamped to the last sample.
    let pairs = rest.chunks_exact_mut(2).zip(samples.windows(2));
    let interior = 2 * pairs.len();
    for (pair, ab) in pairs {
        pair[0] = blend(ab[0], ab[1]);
        pair[1] = blend(ab[1], ab[0]);
    }
    for (i, out) in rest.iter_mut().enumerate().skip(interior) {
        let (a, b) = (samples[(i / 2).min(last)], samples[(i / 2 + 1).min(last)]);
        *out = if i % 2 == 0 { blend(a, b) } else { blend(b, a) };
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

/// Sixteen pixels of [`ycbcr_row`] in wasm SIMD: [`ycbcr_to_rgb`]'s
/// arithmetic four lanes at a time, clamped by saturating narrowing, and
/// interleaved by shuffles rather than three-byte stores.
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
mod simd {
    use core::arch::wasm32::*;

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
        for (max, den) in [(2, 2), (2, 4), (4, 4), (4, 8)] {
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
                let samples: Vec<u32> = (0..cols as u32)
                    .map(|i| (i * 97 + 13) % 256 * den)
                    .collect();
                let taps = taps(w, max / 2, max, cols);
                let all = taps[0].2 * den;
                let want: Vec<u8> = taps
                    .iter()
                    .map(|&(l, r, hden, f)| {
                        ((samples[l] * (hden - f) + samples[r] * f + all / 2) / all) as u8
                    })
                    .collect();
                let mut got = vec![0; w];
                upsample_twice(&samples, &mut got, 2 * den, (4 * den).trailing_zeros());
                assert_eq!(got, want, "max {max}, den {den}, {w} from {cols}");
            }
        }
    }
}
