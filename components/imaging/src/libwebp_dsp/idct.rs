//! VP8's inverse transform (RFC 6386 §14.4) in wasm SIMD, for libwebp's
//! `VP8Transform` (decoder: the scalar C one took ~12% of a large WebP's
//! decode in wasm, 3.8× its SSE2 time), its shortcuts `VP8TransformDC` and
//! `VP8TransformAC3`, and `VP8ITransform` (encoder: ~7% of a 640 px WebP's
//! encode). The same arithmetic four lanes at a time, bit-exact (see the
//! tests).
//!
//! The algorithm is written once over [`Lanes`]: wasm `v128` in the
//! components, plain arrays natively, where the tests compare it with a
//! port of libwebp's `TransformOne_C` and with libwebp's own encoder one.
#![cfg_attr(
    not(all(target_arch = "wasm32", target_feature = "simd128")),
    allow(dead_code)
)]

use crate::lanes::Lanes;
#[cfg(test)]
use crate::lanes::BPS;

/// `MUL1` and `MUL2` of libwebp (`WEBP_TRANSFORM_AC3_*`).
fn mul1<L: Lanes>(a: L) -> L {
    a.mul_shr16(20091).add(a)
}

fn mul2<L: Lanes>(a: L) -> L {
    a.mul_shr16(35468)
}

/// One 4×4 block: `input` the 16 dequantised coefficients, row-major;
/// the residual is added to the predicted pixels at `src`, into `dst`.
///
/// # Safety
/// As [`Lanes::load`] for 16 coefficients and [`Lanes::add_to_pixels`].
#[inline(always)]
unsafe fn transform_one<L: Lanes>(input: *const i16, src: *const u8, dst: *mut u8) {
    // Vertical pass: lane i is column i.
    let [r0, r1, r2, r3] = [0, 4, 8, 12].map(|i| L::load(input.add(i)));
    let (a, b) = (r0.add(r2), r0.sub(r2));
    let c = mul2(r1).sub(mul1(r3));
    let d = mul1(r1).add(mul2(r3));
    let columns = [a.add(d), b.add(c), b.sub(c), a.sub(d)];
    // Horizontal pass: lane i is output row i.
    let [u0, u1, u2, u3] = L::transpose(columns);
    let dc = u0.add(L::splat(4));
    let (a, b) = (dc.add(u2), dc.sub(u2));
    let c = mul2(u1).sub(mul1(u3));
    let d = mul1(u1).add(mul2(u3));
    let out = [a.add(d), b.add(c), b.sub(c), a.sub(d)].map(|v| v.shr(3));
    L::add_to_pixels(L::transpose(out), src, dst);
}

/// `TransformDC_C`: a block with only a DC coefficient.
///
/// # Safety
/// As [`transform_one`].
#[inline(always)]
unsafe fn transform_dc<L: Lanes>(input: *const i16, dst: *mut u8) {
    let dc = L::splat((i32::from(*input) + 4) >> 3);
    L::add_to_pixels([dc; 4], dst, dst);
}

/// `TransformAC3_C`: a block with only the coefficients 0, 1 and 4.
///
/// # Safety
/// As [`transform_one`].
#[inline(always)]
unsafe fn transform_ac3<L: Lanes>(input: *const i16, dst: *mut u8) {
    let coefficient = |k: usize| L::splat(i32::from(*input.add(k)));
    let a = i32::from(*input) + 4;
    let (in1, in4) = (coefficient(1), coefficient(4));
    let (c4, d4) = (mul2(in4), mul1(in4));
    // Along a row: DC + d1, DC + c1, DC - c1, DC - d1.
    let (c1, d1) = (mul2(in1), mul1(in1));
    let across = d1
        .mul_lanes(L::from_array([1, 0, 0, -1]))
        .add(c1.mul_lanes(L::from_array([0, 1, -1, 0])));
    let down = [
        L::splat(a).add(d4),
        L::splat(a).add(c4),
        L::splat(a).sub(c4),
        L::splat(a).sub(d4),
    ];
    L::add_to_pixels(down.map(|dc| dc.add(across).shr(3)), dst, dst);
}

/// `VP8TransformDC`.
///
/// # Safety
/// libwebp's contract: 16 coefficients and a 4×4 block of `dst`.
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
pub(super) unsafe extern "C" fn transform_dc_block(input: *const i16, dst: *mut u8) {
    transform_dc::<std::arch::wasm32::v128>(input, dst);
}

/// `VP8TransformAC3`.
///
/// # Safety
/// As [`transform_dc_block`].
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
pub(super) unsafe extern "C" fn transform_ac3_block(input: *const i16, dst: *mut u8) {
    transform_ac3::<std::arch::wasm32::v128>(input, dst);
}

/// `VP8Transform`: one block, or two side by side when `do_two`.
///
/// # Safety
/// libwebp's contract: 16 (32) coefficients and a 4×4 (4×8) block of `dst`.
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
pub(super) unsafe extern "C" fn transform_two(
    input: *const i16,
    dst: *mut u8,
    do_two: std::ffi::c_int,
) {
    transform_one::<std::arch::wasm32::v128>(input, dst, dst);
    if do_two != 0 {
        transform_one::<std::arch::wasm32::v128>(input.add(16), dst.add(4), dst.add(4));
    }
}

/// `VP8ITransform`: as [`transform_two`], adding to the prediction at
/// `reference` rather than in place.
///
/// # Safety
/// libwebp's contract: 16 (32) coefficients, 4×4 (4×8) blocks at
/// `reference` and `dst`.
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
pub(super) unsafe extern "C" fn itransform_two(
    reference: *const u8,
    input: *const i16,
    dst: *mut u8,
    do_two: std::ffi::c_int,
) {
    transform_one::<std::arch::wasm32::v128>(input, reference, dst);
    if do_two != 0 {
        transform_one::<std::arch::wasm32::v128>(input.add(16), reference.add(4), dst.add(4));
    }
}

#[cfg(test)]
mod tests {
    use super::super::ffi::{
        Idct, VP8DspInit, VP8EncDspInit, VP8ITransform, VP8TransformAC3, VP8TransformDC,
    };
    use super::*;
    use crate::lanes::random_numbers;

    /// libwebp's `TransformOne_C` (src/dsp/dec.c), line for line.
    fn transform_one_c(input: &[i16; 16], dst: &mut [u8]) {
        let mul1 = |a: i32| ((a * 20091) >> 16) + a;
        let mul2 = |a: i32| (a * 35468) >> 16;
        let mut tmp = [0i32; 16];
        for i in 0..4 {
            let x = |k: usize| i32::from(input[k + i]);
            let a = x(0) + x(8);
            let b = x(0) - x(8);
            let c = mul2(x(4)) - mul1(x(12));
            let d = mul1(x(4)) + mul2(x(12));
            tmp[4 * i..4 * i + 4].copy_from_slice(&[a + d, b + c, b - c, a - d]);
        }
        for i in 0..4 {
            let t = |k: usize| tmp[k + i];
            let dc = t(0) + 4;
            let a = dc + t(8);
            let b = dc - t(8);
            let c = mul2(t(4)) - mul1(t(12));
            let d = mul1(t(4)) + mul2(t(12));
            for (x, v) in [a + d, b + c, b - c, a - d].into_iter().enumerate() {
                let px = &mut dst[i * BPS + x];
                *px = (i32::from(*px) + (v >> 3)).clamp(0, 255) as u8;
            }
        }
    }

    #[test]
    fn matches_libwebp_on_random_blocks() {
        let mut random = random_numbers(0x9E37_79B9_7F4A_7C15u64);
        for round in 0..20_000 {
            // Coefficients in VP8's range, small ones more often.
            let range = [16, 256, 4096][round % 3];
            let input: [i16; 16] =
                std::array::from_fn(|_| (random() % range) as i16 - (range / 2) as i16);
            let pixels: Vec<u8> = (0..4 * BPS).map(|_| random() as u8).collect();
            let (mut want, mut got) = (pixels.clone(), pixels);
            transform_one_c(&input, &mut want);
            // SAFETY: 16 coefficients; four rows of BPS bytes.
            unsafe { transform_one::<[i32; 4]>(input.as_ptr(), got.as_ptr(), got.as_mut_ptr()) };
            assert_eq!(got, want, "{input:?}");
        }
    }

    type Ours = unsafe fn(*const i16, *mut u8);

    #[test]
    fn dc_and_ac3_blocks_match_libwebp() {
        let mut random = random_numbers(0x8CB9_2BA7_2F3D_8DD7);
        for round in 0..20_000 {
            // Only the coefficients these shortcuts read are set.
            let range = [16, 256, 4096][round % 3];
            let mut input = [0i16; 16];
            for k in [0, 1, 4] {
                input[k] = (random() % range) as i16 - (range / 2) as i16;
            }
            let pixels: Vec<u8> = (0..4 * BPS).map(|_| random() as u8).collect();
            // SAFETY: 16 coefficients; four rows of BPS bytes; the init runs once.
            unsafe {
                VP8DspInit();
                let cases: [(Idct, Ours); 2] = [
                    (
                        VP8TransformDC.expect("libwebp's DC transform"),
                        transform_dc::<[i32; 4]>,
                    ),
                    (
                        VP8TransformAC3.expect("libwebp's AC3 transform"),
                        transform_ac3::<[i32; 4]>,
                    ),
                ];
                for (libwebp, ours) in cases {
                    let (mut want, mut got) = (pixels.clone(), pixels.clone());
                    libwebp(input.as_ptr(), want.as_mut_ptr());
                    ours(input.as_ptr(), got.as_mut_ptr());
                    assert_eq!(got, want, "{input:?}");
                }
            }
        }
    }

    #[test]
    fn encoder_transform_matches_libwebp() {
        let mut random = random_numbers(0xD1B5_4A32_D192_ED03u64);
        for round in 0..20_000 {
            let range = [16, 256, 4096][round % 3];
            let input: [i16; 32] =
                std::array::from_fn(|_| (random() % range) as i16 - (range / 2) as i16);
            let reference: Vec<u8> = (0..4 * BPS).map(|_| random() as u8).collect();
            let (mut want, mut got) = (vec![0u8; 4 * BPS], vec![0u8; 4 * BPS]);
            // SAFETY: 32 coefficients; four rows of BPS bytes each; the init runs once.
            unsafe {
                VP8EncDspInit();
                let itransform = VP8ITransform.expect("libwebp's inverse transform");
                itransform(reference.as_ptr(), input.as_ptr(), want.as_mut_ptr(), 1);
                transform_one::<[i32; 4]>(input.as_ptr(), reference.as_ptr(), got.as_mut_ptr());
                let (src, dst) = (reference.as_ptr().add(4), got.as_mut_ptr().add(4));
                transform_one::<[i32; 4]>(input.as_ptr().add(16), src, dst);
            }
            assert_eq!(got, want, "{input:?}");
        }
    }
}
