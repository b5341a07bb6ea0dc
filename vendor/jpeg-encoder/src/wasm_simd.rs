//! edgeimg patch: quantization in wasm SIMD. The crate's loop quantized
//! one term at a time in zigzag order, reading each from its natural place
//! (a gather that wasm SIMD lacks), with the host's epoch check every four
//! terms. Here eight terms at a time in natural order, with the same
//! integer arithmetic as `QuantizationTable::quantize`, then one pass of
//! plain copies into zigzag order (see `PATCHED.md`).

use core::arch::wasm32::*;

use crate::encoder::{AlignedBlock, Operations};
use crate::quantization::{QuantizationTable, SHIFT};
use crate::writer::ZIGZAG;

pub(crate) struct WasmSimdOperations;

impl Operations for WasmSimdOperations {
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
