//! libwebp's horizontal row import when shrinking, for exact ratios.
//!
//! Scaled decoding shrinks each row by the decode factor: the Y, U and V
//! planes of a lossy image (one channel each), the ARGB rows of a lossless
//! one (four). libwebp's `WebPRescalerImportRowShrink_C` handles any ratio
//! with a fractional accumulator and a loop per source pixel (~8% of a large
//! lossy WebP's decode in wasm, ~15% of a lossless one's). When the source
//! width is exactly 2, 4 or 8 times the output, every output is the sum of
//! that many pixels times `x_sub`, and the fraction stays 0: fixed-size
//! sums, of one word's bytes for one channel. The same width in and out
//! (the U and V planes of a 4:2:0 image decoded at 1/2, which are already
//! half the luma's size) is the ratio 1: each sample times `x_sub`.
#![cfg_attr(
    not(all(target_arch = "wasm32", target_feature = "simd128")),
    allow(dead_code)
)]

use std::ffi::c_int;
use std::sync::OnceLock;

/// libwebp's `WebPRescaler` (src/utils/rescaler_utils.h, libwebp 1.6).
/// Only read here, and only trusted when its fields agree with one another
/// (see [`exact_ratio`]); any other row goes to libwebp's own import.
#[repr(C)]
pub(super) struct Rescaler {
    x_expand: c_int,
    y_expand: c_int,
    num_channels: c_int,
    fx_scale: u32,
    fy_scale: u32,
    fxy_scale: u32,
    y_accum: c_int,
    y_add: c_int,
    y_sub: c_int,
    x_add: c_int,
    x_sub: c_int,
    src_width: c_int,
    src_height: c_int,
    dst_width: c_int,
    dst_height: c_int,
    src_y: c_int,
    dst_y: c_int,
    dst: *mut u8,
    dst_stride: c_int,
    irow: *mut u32,
    frow: *mut u32,
}

pub(super) type ImportRow = unsafe extern "C" fn(*mut Rescaler, *const u8);

/// libwebp's own import, for the rows this does not handle.
static FALLBACK: OnceLock<ImportRow> = OnceLock::new();

/// Keeps libwebp's import as the fallback and puts ours in its place.
///
/// # Safety
/// `slot` is libwebp's `WebPRescalerImportRowShrink`, after its init; no
/// decode is running.
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
pub(super) unsafe fn install(slot: *mut Option<ImportRow>) {
    if let Some(own) = *slot {
        if FALLBACK.set(own).is_ok() {
            *slot = Some(import_row_shrink);
        }
    }
}

/// The shrink factor and channel count when the row is one this handles:
/// one channel or four, not expanding, increments as `WebPRescalerInit`
/// sets them (source and output widths), and the source exactly 1, 2, 4 or
/// 8 times the output.
fn exact_ratio(r: &Rescaler) -> Option<(usize, usize)> {
    let consistent = r.x_expand == 0
        && matches!(r.num_channels, 1 | 4)
        && r.dst_width > 0
        && r.x_add == r.src_width
        && r.x_sub == r.dst_width;
    let k = consistent.then(|| r.src_width / r.dst_width)?;
    (matches!(k, 1 | 2 | 4 | 8) && r.src_width == k * r.dst_width)
        .then_some((k as usize, r.num_channels as usize))
}

/// Each output sample: the sum of its `K` source pixels' samples (`C`
/// interleaved channels) times `x_sub`.
fn import_exact<const K: usize, const C: usize>(src: &[u8], frow: &mut [u32], x_sub: u32) {
    for (out, pixels) in frow.chunks_exact_mut(C).zip(src.chunks_exact(K * C)) {
        for (c, out) in out.iter_mut().enumerate() {
            let sum: u32 = (0..K).map(|j| u32::from(pixels[j * C + c])).sum();
            *out = sum * x_sub;
        }
    }
}

unsafe extern "C" fn import_row_shrink(wrk: *mut Rescaler, src: *const u8) {
    // SAFETY: libwebp passes its rescaler and a row of `src_width` pixels
    // of `num_channels` samples; `frow` holds `dst_width` such pixels.
    let r = &*wrk;
    let Some((k, channels)) = exact_ratio(r) else {
        if let Some(fallback) = FALLBACK.get() {
            fallback(wrk, src);
        }
        return;
    };
    let src = std::slice::from_raw_parts(src, r.src_width as usize * channels);
    let frow = std::slice::from_raw_parts_mut(r.frow, r.dst_width as usize * channels);
    import(k, channels, src, frow, r.x_sub as u32);
}

/// [`import_exact`] for one channel: each output's `K` bytes are read as one
/// little-endian word and summed within it (as 16-bit lanes, then one
/// multiply folds the lanes). The per-byte loop compiled to `K` loads and
/// adds per output in wasm, not vectorised: ~3% of a large WebP's decode.
fn import_gray<const K: usize>(src: &[u8], frow: &mut [u32], x_sub: u32) {
    const LOW_BYTES: u64 = 0x00FF_00FF_00FF_00FF;
    for (out, pixels) in frow.iter_mut().zip(src.chunks_exact(K)) {
        let mut word = [0u8; 8];
        word[..K].copy_from_slice(pixels);
        let word = u64::from_le_bytes(word);
        // Four 16-bit lanes, each the sum of two bytes (at most 510).
        let pairs = (word & LOW_BYTES) + ((word >> 8) & LOW_BYTES);
        // The top lane of `pairs * 0x0001_0001_0001_0001` is the sum of all
        // four (at most 2040: no carry between lanes).
        let sum = (pairs.wrapping_mul(0x0001_0001_0001_0001) >> 48) as u32;
        *out = sum * x_sub;
    }
}

/// [`import_exact`] for a ratio and channel count [`exact_ratio`] accepts.
fn import(k: usize, channels: usize, src: &[u8], frow: &mut [u32], x_sub: u32) {
    match (k, channels) {
        // Ratio 1: libwebp's loop per sample, with its accumulator, for
        // what is a multiplication.
        (1, _) => frow
            .iter_mut()
            .zip(src)
            .for_each(|(out, &v)| *out = u32::from(v) * x_sub),
        (2, 1) => import_gray::<2>(src, frow, x_sub),
        (4, 1) => import_gray::<4>(src, frow, x_sub),
        (_, 1) => import_gray::<8>(src, frow, x_sub),
        (2, _) => import_exact::<2, 4>(src, frow, x_sub),
        (4, _) => import_exact::<4, 4>(src, frow, x_sub),
        _ => import_exact::<8, 4>(src, frow, x_sub),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// libwebp's `WebPRescalerImportRowShrink_C`, line for line.
    fn import_c(
        src: &[u8],
        frow: &mut [u32],
        channels: usize,
        x_add: i32,
        x_sub: i32,
        fx_scale: u32,
    ) {
        for channel in 0..channels {
            let (mut x_in, mut sum, mut accum) = (channel, 0u32, 0i32);
            for out in frow.iter_mut().skip(channel).step_by(channels) {
                let mut base = 0u32;
                accum += x_add;
                while accum > 0 {
                    accum -= x_sub;
                    base = u32::from(src[x_in]);
                    sum = sum.wrapping_add(base);
                    x_in += channels;
                }
                let frac = base.wrapping_mul((-accum) as u32);
                *out = sum.wrapping_mul(x_sub as u32).wrapping_sub(frac);
                // MULT_FIX: (x * y + (1 << 31)) >> 32
                sum = ((u64::from(frac) * u64::from(fx_scale) + (1 << 31)) >> 32) as u32;
            }
        }
    }

    fn rescaler(src_width: i32, dst_width: i32) -> Rescaler {
        Rescaler {
            x_expand: 0,
            y_expand: 0,
            num_channels: 1,
            fx_scale: 0,
            fy_scale: 0,
            fxy_scale: 0,
            y_accum: 0,
            y_add: 0,
            y_sub: 0,
            x_add: src_width,
            x_sub: dst_width,
            src_width,
            src_height: 0,
            dst_width,
            dst_height: 0,
            src_y: 0,
            dst_y: 0,
            dst: std::ptr::null_mut(),
            dst_stride: 0,
            irow: std::ptr::null_mut(),
            frow: std::ptr::null_mut(),
        }
    }

    #[test]
    fn exact_ratios_match_libwebp() {
        let mut seed = 0x0123_4567_89AB_CDEFu64;
        for channels in [1, 4] {
            for (k, dst) in [(1, 300), (1, 1), (2, 257), (4, 128), (8, 512), (8, 1)] {
                let src_width = k * dst;
                let mut r = rescaler(src_width as i32, dst as i32);
                r.num_channels = channels as i32;
                assert_eq!(exact_ratio(&r), Some((k, channels)));
                // Random bytes, with runs of 255 (the largest sums).
                let src: Vec<u8> = (0..src_width * channels)
                    .map(|i| {
                        seed ^= seed << 13;
                        seed ^= seed >> 7;
                        seed ^= seed << 17;
                        if i % 97 < 32 {
                            255
                        } else {
                            seed as u8
                        }
                    })
                    .collect();
                let fx_scale = ((1u64 << 32) / dst as u64) as u32;
                let mut want = vec![0; dst * channels];
                import_c(
                    &src,
                    &mut want,
                    channels,
                    src_width as i32,
                    dst as i32,
                    fx_scale,
                );
                let mut got = vec![0; dst * channels];
                import(k, channels, &src, &mut got, dst as u32);
                assert_eq!(got, want, "ratio {k}, {channels} channels");
            }
        }
    }

    #[test]
    fn other_rows_go_to_libwebp() {
        for (src, dst) in [(4095, 512), (300, 100), (4096, 256), (100, 51), (100, 0)] {
            assert_eq!(exact_ratio(&rescaler(src, dst)), None, "{src} -> {dst}");
        }
        let mut expanding = rescaler(512, 1024);
        expanding.x_expand = 1;
        assert_eq!(exact_ratio(&expanding), None);
        let mut rgb = rescaler(1024, 512);
        rgb.num_channels = 3;
        assert_eq!(exact_ratio(&rgb), None);
    }
}
