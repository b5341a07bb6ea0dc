//! libwebp's encoder quantizer (`VP8EncQuantizeBlock`, also its WHT
//! variant) in wasm SIMD. The scalar C one was 20% of the wasm time of a
//! 640 px WebP from a 12 MP photo (sharp's libwebp has SSE2 for it). The
//! same arithmetic four coefficients at a time, bit-exact (see the tests).
//!
//! Written once over [`Lanes`]: wasm `v128` in the components, plain arrays
//! natively, where the tests compare it with a port of `QuantizeBlock_C`
//! and with libwebp itself.
#![cfg_attr(
    not(all(target_arch = "wasm32", target_feature = "simd128")),
    allow(dead_code)
)]

use crate::lanes::Lanes;

/// libwebp's `VP8Matrix` (src/enc/vp8i_enc.h), field for field.
#[repr(C)]
pub(super) struct Matrix {
    q: [u16; 16],
    iq: [u16; 16],
    bias: [u32; 16],
    zthresh: [u32; 16],
    sharpen: [u16; 16],
}

/// `QFIX` and `MAX_LEVEL` of libwebp.
const QFIX: u32 = 17;
const MAX_LEVEL: i32 = 2047;

/// The order `out` takes the coefficients in (libwebp's `kZigzag`).
const ZIGZAG: [usize; 16] = [0, 1, 4, 8, 5, 2, 3, 6, 9, 12, 13, 10, 7, 11, 14, 15];

/// `QuantizeBlock_C`: quantizes `input` (natural order) into `out` (zig-zag
/// order), leaves the dequantised values in `input`, and returns whether any
/// level is non-zero.
///
/// # Safety
/// `input` and `out` point to 16 values each, `m` to a matrix.
#[inline(always)]
unsafe fn quantize<L: Lanes>(input: *mut i16, out: *mut i16, m: *const Matrix) -> i32 {
    let m = &*m;
    let mut levels = [0i16; 16];
    for k in (0..16).step_by(4) {
        let v = L::load(input.add(k));
        let sign = v.negative();
        let coeff = v.abs().add(L::load_u16(m.sharpen.as_ptr().add(k)));
        let above = coeff.gt_u(L::load_u32(m.zthresh.as_ptr().add(k)));
        let level = coeff
            .mul_lanes(L::load_u16(m.iq.as_ptr().add(k)))
            .add(L::load_u32(m.bias.as_ptr().add(k)))
            .shr_u(QFIX)
            .min(L::splat(MAX_LEVEL))
            .and(above)
            .negate_where(sign);
        level
            .mul_lanes(L::load_u16(m.q.as_ptr().add(k)))
            .store(input.add(k));
        level.store(levels.as_mut_ptr().add(k));
    }
    for (n, &j) in ZIGZAG.iter().enumerate() {
        *out.add(n) = levels[j];
    }
    i32::from(levels.iter().any(|&l| l != 0))
}

/// `VP8EncQuantizeBlock` and `VP8EncQuantizeBlockWHT`.
///
/// # Safety
/// libwebp's contract: 16 coefficients in `input` and `out`, a valid matrix.
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
pub(super) unsafe extern "C" fn quantize_block(
    input: *mut i16,
    out: *mut i16,
    m: *const Matrix,
) -> std::ffi::c_int {
    quantize::<std::arch::wasm32::v128>(input, out, m)
}

#[cfg(test)]
mod tests {
    use super::super::ffi::{VP8EncDspInit, VP8EncQuantizeBlock};
    use super::*;
    use crate::lanes::random_numbers;

    /// libwebp's `QuantizeBlock_C` (src/dsp/enc.c), line for line.
    fn quantize_block_c(input: &mut [i16; 16], out: &mut [i16; 16], m: &Matrix) -> i32 {
        let mut last = -1;
        for n in 0..16 {
            let j = ZIGZAG[n];
            let sign = input[j] < 0;
            let magnitude = if sign {
                (-i32::from(input[j])) as u32
            } else {
                input[j] as u32
            };
            let coeff = magnitude.wrapping_add(u32::from(m.sharpen[j]));
            if coeff > m.zthresh[j] {
                let q = u32::from(m.q[j]);
                let iq = u32::from(m.iq[j]);
                let b = m.bias[j];
                let mut level = (coeff.wrapping_mul(iq).wrapping_add(b) >> QFIX) as i32;
                if level > MAX_LEVEL {
                    level = MAX_LEVEL;
                }
                if sign {
                    level = -level;
                }
                input[j] = level.wrapping_mul(q as i32) as i16;
                out[n] = level as i16;
                if level != 0 {
                    last = n as i32;
                }
            } else {
                out[n] = 0;
                input[j] = 0;
            }
        }
        i32::from(last >= 0)
    }

    #[test]
    fn matches_libwebp_on_random_blocks() {
        let mut random = random_numbers(0x2545_F491_4F6C_DD1Du64);
        for round in 0..50_000 {
            // Matrices as libwebp makes them (steps of 4 and up, iq = 2^17/q,
            // bias below 2^17, small thresholds), and every fifth one arbitrary,
            // so the wrap-around of the C's unsigned arithmetic is exercised.
            let arbitrary = round % 5 == 0;
            let q: [u16; 16] = std::array::from_fn(|_| {
                if arbitrary {
                    random() as u16
                } else {
                    4 + (random() % 250) as u16
                }
            });
            let mut m = Matrix {
                q,
                iq: std::array::from_fn(|i| {
                    if arbitrary {
                        random() as u16
                    } else {
                        ((1u32 << QFIX) / u32::from(q[i])) as u16
                    }
                }),
                // libwebp's BIAS(b) is b << 9 with b up to 255.
                bias: std::array::from_fn(|_| (random() % (1 << QFIX)) as u32),
                zthresh: std::array::from_fn(|_| random() as u32),
                sharpen: std::array::from_fn(|_| {
                    (random() % if arbitrary { 65536 } else { 16 }) as u16
                }),
            };
            if !arbitrary {
                // As libwebp derives it: the largest coefficient whose level is 0.
                for i in 0..16 {
                    m.zthresh[i] = ((1 << QFIX) - 1 - m.bias[i]) / u32::from(m.iq[i]);
                }
            }
            let range = [64, 2048, 65536][round % 3];
            let input: [i16; 16] =
                std::array::from_fn(|_| ((random() % range) as i32 - (range / 2) as i32) as i16);
            let (mut want_in, mut got_in) = (input, input);
            let (mut want_out, mut got_out) = ([0i16; 16], [0i16; 16]);
            let want = quantize_block_c(&mut want_in, &mut want_out, &m);
            if !arbitrary {
                // libwebp itself: natively its SSE2 version, which agrees
                // with its C for the matrices libwebp makes (not for any).
                let (mut lib_in, mut lib_out) = (input, [0i16; 16]);
                // SAFETY: as below; the init runs once.
                let lib = unsafe {
                    VP8EncDspInit();
                    let quantize = VP8EncQuantizeBlock.expect("libwebp's quantizer");
                    quantize(lib_in.as_mut_ptr(), lib_out.as_mut_ptr(), &m)
                };
                let port = (want, want_in, want_out);
                assert_eq!((lib, lib_in, lib_out), port, "port vs libwebp, {input:?}");
            }
            // SAFETY: 16 values each and a matrix.
            let got =
                unsafe { quantize::<[i32; 4]>(got_in.as_mut_ptr(), got_out.as_mut_ptr(), &m) };
            assert_eq!(
                (got, got_in, got_out),
                (want, want_in, want_out),
                "{input:?}"
            );
        }
    }
}
