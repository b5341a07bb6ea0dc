//! edgeimg patch: quantization in wasm SIMD. The crate's loop quantized
//! one term at a time in zigzag order, reading each from its natural place
//! (a gather that wasm SIMD lacks), with the host's epoch check every four
//! terms. Here eight terms at a time in natural order, with the same
//! integer arithmetic as `QuantizationTable::quantize`, then one pass of
//! plain copies into zigzag order (see `PATCHED.md`).

use core::arch::wasm32::*;

use crate::encoder::{AlignedBlock, Operations, get_block};
use crate::quantization::{QuantizationTable, SHIFT};
use crate::writer::ZIGZAG;

pub(crate) struct WasmSimdOperations;

impl Operations for WasmSimdOperations {
    /// Full-resolution blocks (luma) and every other sample of every other
    /// row (4:2:0 chroma, nearest) a row of eight at a time; anything else
    /// as the crate does.
    #[inline(always)]
    fn get_block(
        data: &[u8],
        start_x: usize,
        start_y: usize,
        col_stride: usize,
        row_stride: usize,
        width: usize,
    ) -> AlignedBlock {
        if !matches!((col_stride, row_stride), (1, 1) | (2, 2)) {
            return get_block(data, start_x, start_y, col_stride, row_stride, width);
        }
        let mut block = AlignedBlock::default();
        let centre = i16x8_splat(128);
        for y in 0..8 {
            let at = (start_y + y * row_stride) * width + start_x;
            let samples = if col_stride == 1 {
                let row = &data[at..at + 8];
                // SAFETY: an 8-byte load of the 8 bytes just bounds-checked.
                u16x8_extend_low_u8x16(unsafe { v128_load64_zero(row.as_ptr() as *const u64) })
            } else {
                let row = &data[at..at + 16];
                // SAFETY: a 16-byte load of the 16 bytes just bounds-checked.
                let v = unsafe { v128_load(row.as_ptr() as *const v128) };
                // The even bytes, each widened to 16 bits (odd bytes zeroed).
                v128_and(v, u16x8_splat(0x00FF))
            };
            let terms = i16x8_sub(samples, centre);
            // SAFETY: a 16-byte store of row `y` of the 64-term block.
            unsafe { v128_store(block.data.as_mut_ptr().add(y * 8) as *mut v128, terms) };
        }
        block
    }

    #[inline(always)]
    fn quantize_block(block: &AlignedBlock, q_block: &mut AlignedBlock, table: &QuantizationTable) {
        let mut natural = [0i16; 64];
        for row in 0..8 {
            let at = row * 8;
            // SAFETY: `at + 8 <= 64` terms of i16 and of i32: every load and
            // store below stays inside its array; v128 accesses need no
            // alignment.
            let terms = unsafe { v128_load(block.data.as_ptr().add(at) as *const v128) };
            let halves = [
                i32x4_extend_low_i16x8(terms),
                i32x4_extend_high_i16x8(terms),
            ];
            let mut quantized = [i32x4_splat(0); 2];
            for (half, (x, out)) in halves.iter().zip(&mut quantized).enumerate() {
                let at = at + half * 4;
                let (reciprocals, corrections) = unsafe {
                    (
                        v128_load(table.reciprocals.as_ptr().add(at) as *const v128),
                        v128_load(table.corrections.as_ptr().add(at) as *const v128),
                    )
                };
                let sign = i32x4_shr(*x, 31);
                let magnitude = i32x4_shr(
                    i32x4_mul(i32x4_add(i32x4_abs(*x), corrections), reciprocals),
                    SHIFT,
                );
                // Negated where the term was negative: (m ^ -1) - (-1) = -m.
                *out = i32x4_sub(v128_xor(magnitude, sign), sign);
            }
            // The quotients fit i16 (|q| <= |term| / 8), so narrowing with
            // saturation keeps them as the crate's `as i16` does.
            let packed = i16x8_narrow_i32x4(quantized[0], quantized[1]);
            unsafe { v128_store(natural.as_mut_ptr().add(at) as *mut v128, packed) };
        }
        for (out, &z) in q_block.data.iter_mut().zip(ZIGZAG.iter()) {
            *out = natural[z as usize & 0x3f];
        }
    }
}

/// Sixteen RGB pixels (48 bytes) to their Y, Cb and Cr samples, with the
/// integer arithmetic of `image_buffer::rgb_to_ycbcr` (16.16 fixed point,
/// rounded by adding 0x7FFF), four pixels a lane group. The results lie in
/// 0..=255, so the saturating narrowing keeps them as `as u8` does.
#[inline(always)]
pub(crate) fn rgb16_to_ycbcr(pixels: &[u8]) -> ([u8; 16], [u8; 16], [u8; 16]) {
    assert!(pixels.len() >= 48);
    // SAFETY: the assert above: three 16-byte loads inside `pixels`.
    let (a, b, c) = unsafe {
        let p = pixels.as_ptr();
        (
            v128_load(p as *const v128),
            v128_load(p.add(16) as *const v128),
            v128_load(p.add(32) as *const v128),
        )
    };
    // De-interleave: the first 11 (10 for blue) samples from `a` and `b`,
    // the rest from `c` (shuffle indices 16.. pick the second operand).
    let r = i8x16_shuffle::<0, 3, 6, 9, 12, 15, 18, 21, 24, 27, 30, 0, 0, 0, 0, 0>(a, b);
    let r = i8x16_shuffle::<0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 17, 20, 23, 26, 29>(r, c);
    let g = i8x16_shuffle::<1, 4, 7, 10, 13, 16, 19, 22, 25, 28, 31, 0, 0, 0, 0, 0>(a, b);
    let g = i8x16_shuffle::<0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 18, 21, 24, 27, 30>(g, c);
    let bl = i8x16_shuffle::<2, 5, 8, 11, 14, 17, 20, 23, 26, 29, 0, 0, 0, 0, 0, 0>(a, b);
    let bl = i8x16_shuffle::<0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 16, 19, 22, 25, 28, 31>(bl, c);

    /// The four i32x4 groups of sixteen u8 samples.
    #[inline(always)]
    fn widen(v: v128) -> [v128; 4] {
        let (lo, hi) = (u16x8_extend_low_u8x16(v), u16x8_extend_high_u8x16(v));
        [
            u32x4_extend_low_u16x8(lo),
            u32x4_extend_high_u16x8(lo),
            u32x4_extend_low_u16x8(hi),
            u32x4_extend_high_u16x8(hi),
        ]
    }
    let (r, g, bl) = (widen(r), widen(g), widen(bl));
    /// `(kr·r + kg·g + kb·b + offset) >> 16` for each group, narrowed.
    #[inline(always)]
    fn channel(r: &[v128; 4], g: &[v128; 4], b: &[v128; 4], k: [i32; 3], offset: i32) -> [u8; 16] {
        let (kr, kg, kb, offset) = (
            i32x4_splat(k[0]),
            i32x4_splat(k[1]),
            i32x4_splat(k[2]),
            i32x4_splat(offset),
        );
        let group = |i: usize| {
            let sum = i32x4_add(
                i32x4_add(i32x4_mul(r[i], kr), i32x4_mul(g[i], kg)),
                i32x4_add(i32x4_mul(b[i], kb), offset),
            );
            i32x4_shr(sum, 16)
        };
        let low = i16x8_narrow_i32x4(group(0), group(1));
        let high = i16x8_narrow_i32x4(group(2), group(3));
        let mut out = [0u8; 16];
        // SAFETY: a 16-byte store into a 16-byte array.
        unsafe { v128_store(out.as_mut_ptr() as *mut v128, u8x16_narrow_i16x8(low, high)) };
        out
    }
    (
        channel(&r, &g, &bl, [19595, 38470, 7471], 0x7FFF),
        channel(&r, &g, &bl, [-11059, -21709, 32768], (128 << 16) + 0x7FFF),
        channel(&r, &g, &bl, [32768, -27439, -5329], (128 << 16) + 0x7FFF),
    )
}
