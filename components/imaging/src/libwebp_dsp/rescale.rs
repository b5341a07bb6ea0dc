//! libwebp's horizontal row import when shrinking, for exact ratios.
//!
//! Scaled decoding shrinks each row of the Y, U and V planes by the decode
//! factor. libwebp's `WebPRescalerImportRowShrink_C` handles any ratio with
//! a fractional accumulator and a loop per source pixel (~8% of a large
//! WebP's decode in wasm). When the source width is exactly 2, 4 or 8 times
//! the output, every output is the sum of that many pixels times `x_sub`,
//! and the fraction stays 0: fixed-size sums, which the compiler unrolls.
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

/// The shrink factor when the row is one this handles: one channel, not
/// expanding, increments as `WebPRescalerInit` sets them (source and output
/// widths), and the source exactly 2, 4 or 8 times the output.
fn exact_ratio(r: &Rescaler) -> Option<usize> {
    let consistent = r.x_expand == 0
        && r.num_channels == 1
        && r.dst_width > 0
        && r.x_add == r.src_width
        && r.x_sub == r.dst_width;
    let k = consistent.then(|| r.src_width / r.dst_width)?;
    (matches!(k, 2 | 4 | 8) && r.src_width == k * r.dst_width).then_some(k as usize)
}

/// Each output: the sum of its `K` source pixels times `x_sub`.
fn import_exact<const K: usize>(src: &[u8], frow: &mut [u32], x_sub: u32) {
    for (out, pixels) in frow.iter_mut().zip(src.chunks_exact(K)) {
        *out = pixels.iter().map(|&v| u32::from(v)).sum::<u32>() * x_sub;
    }
}

unsafe extern "C" fn import_row_shrink(wrk: *mut Rescaler, src: *const u8) {
    // SAFETY: libwebp passes its rescaler and a row of `src_width` samples
    // (one channel); `frow` holds `dst_width` entries.
    let r = &*wrk;
    let Some(k) = exact_ratio(r) else {
        if let Some(fallback) = FALLBACK.get() {
            fallback(wrk, src);
        }
        return;
    };
    let src = std::slice::from_raw_parts(src, r.src_width as usize);
    let frow = std::slice::from_raw_parts_mut(r.frow, r.dst_width as usize);
    let x_sub = r.x_sub as u32;
    match k {
        2 => import_exact::<2>(src, frow, x_sub),
        4 => import_exact::<4>(src, frow, x_sub),
        _ => import_exact::<8>(src, frow, x_sub),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// libwebp's `WebPRescalerImportRowShrink_C` for one channel, line for line.
    fn import_c(src: &[u8], frow: &mut [u32], x_add: i32, x_sub: i32, fx_scale: u32) {
        let (mut x_in, mut sum, mut accum) = (0usize, 0u32, 0i32);
        for out in frow.iter_mut() {
            let mut base = 0u32;
            accum += x_add;
            while accum > 0 {
                accum -= x_sub;
                base = u32::from(src[x_in]);
                sum = sum.wrapping_add(base);
                x_in += 1;
            }
            let frac = base.wrapping_mul((-accum) as u32);
            *out = sum.wrapping_mul(x_sub as u32).wrapping_sub(frac);
            // MULT_FIX: (x * y + (1 << 31)) >> 32
            sum = ((u64::from(frac) * u64::from(fx_scale) + (1 << 31)) >> 32) as u32;
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
        for (k, dst) in [(2, 257), (4, 128), (8, 512), (8, 1)] {
            let src_width = k * dst;
            assert_eq!(
                exact_ratio(&rescaler(src_width as i32, dst as i32)),
                Some(k)
            );
            let src: Vec<u8> = (0..src_width)
                .map(|_| {
                    seed ^= seed << 13;
                    seed ^= seed >> 7;
                    seed ^= seed << 17;
                    seed as u8
                })
                .collect();
            let fx_scale = ((1u64 << 32) / dst as u64) as u32;
            let mut want = vec![0; dst];
            import_c(&src, &mut want, src_width as i32, dst as i32, fx_scale);
            let mut got = vec![0; dst];
            match k {
                2 => import_exact::<2>(&src, &mut got, dst as u32),
                4 => import_exact::<4>(&src, &mut got, dst as u32),
                _ => import_exact::<8>(&src, &mut got, dst as u32),
            }
            assert_eq!(got, want, "ratio {k}");
        }
    }

    #[test]
    fn other_rows_go_to_libwebp() {
        for (src, dst) in [(4095, 512), (300, 100), (4096, 256), (100, 100), (100, 0)] {
            assert_eq!(exact_ratio(&rescaler(src, dst)), None, "{src} -> {dst}");
        }
        let mut expanding = rescaler(512, 1024);
        expanding.x_expand = 1;
        assert_eq!(exact_ratio(&expanding), None);
        let mut rgba = rescaler(1024, 512);
        rgba.num_channels = 4;
        assert_eq!(exact_ratio(&rgba), None);
    }
}
