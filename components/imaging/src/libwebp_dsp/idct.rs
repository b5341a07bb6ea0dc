//! VP8's inverse transform (RFC 6386 §14.4) in wasm SIMD, for libwebp's
//! `VP8Transform` (decoder: the scalar C one took ~12% of a large WebP's
//! decode in wasm, 3.8× its SSE2 time) and `VP8ITransform` (encoder: ~7% of
//! a 640 px WebP's encode). The same arithmetic four lanes at a time,
//! bit-exact (see the tests).
//!
//! The algorithm is written once over [`Lanes`]: wasm `v128` in the
//! components, plain arrays natively, where the tests compare it with a
//! port of libwebp's `TransformOne_C`.
#![cfg_attr(
    not(all(target_arch = "wasm32", target_feature = "simd128")),
    allow(dead_code)
)]

/// Rows of libwebp's reconstruction buffer (`BPS`).
const BPS: usize = 32;

/// Four i32 lanes and the operations the transform needs.
trait Lanes: Copy {
    fn splat(v: i32) -> Self;
    fn add(self, o: Self) -> Self;
    fn sub(self, o: Self) -> Self;
    /// `(self * k) >> 16`, arithmetic.
    fn mul_shr16(self, k: i32) -> Self;
    fn shr3(self) -> Self;
    /// Rows become columns.
    fn transpose(m: [Self; 4]) -> [Self; 4];
    /// Four coefficients from `p`.
    ///
    /// # Safety
    /// `p` must point to four readable i16.
    unsafe fn load(p: *const i16) -> Self;
    /// Adds each row of `m` to the four pixels at `src + row * BPS` and
    /// writes them, clamped to 0..=255, at `dst + row * BPS`.
    ///
    /// # Safety
    /// `src` and `dst` must point to four rows of four bytes, `BPS` apart,
    /// readable and writable.
    unsafe fn add_to_pixels(m: [Self; 4], src: *const u8, dst: *mut u8);
}

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
    let out = [a.add(d), b.add(c), b.sub(c), a.sub(d)].map(Lanes::shr3);
    L::add_to_pixels(L::transpose(out), src, dst);
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

#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
mod wasm {
    use super::{Lanes, BPS};
    use std::arch::wasm32::*;

    impl Lanes for v128 {
        #[inline(always)]
        fn splat(v: i32) -> v128 {
            i32x4_splat(v)
        }
        #[inline(always)]
        fn add(self, o: v128) -> v128 {
            i32x4_add(self, o)
        }
        #[inline(always)]
        fn sub(self, o: v128) -> v128 {
            i32x4_sub(self, o)
        }
        #[inline(always)]
        fn mul_shr16(self, k: i32) -> v128 {
            i32x4_shr(i32x4_mul(self, i32x4_splat(k)), 16)
        }
        #[inline(always)]
        fn shr3(self) -> v128 {
            i32x4_shr(self, 3)
        }
        #[inline(always)]
        fn transpose([m0, m1, m2, m3]: [v128; 4]) -> [v128; 4] {
            let lo01 = i32x4_shuffle::<0, 4, 1, 5>(m0, m1);
            let lo23 = i32x4_shuffle::<0, 4, 1, 5>(m2, m3);
            let hi01 = i32x4_shuffle::<2, 6, 3, 7>(m0, m1);
            let hi23 = i32x4_shuffle::<2, 6, 3, 7>(m2, m3);
            [
                i32x4_shuffle::<0, 1, 4, 5>(lo01, lo23),
                i32x4_shuffle::<2, 3, 6, 7>(lo01, lo23),
                i32x4_shuffle::<0, 1, 4, 5>(hi01, hi23),
                i32x4_shuffle::<2, 3, 6, 7>(hi01, hi23),
            ]
        }
        #[inline(always)]
        unsafe fn load(p: *const i16) -> v128 {
            i32x4_extend_low_i16x8(v128_load64_zero(p.cast()))
        }
        #[inline(always)]
        unsafe fn add_to_pixels(m: [v128; 4], src: *const u8, dst: *mut u8) {
            let row = |i: usize| {
                let px = v128_load32_zero(src.add(i * BPS).cast());
                i32x4_add(m[i], u32x4_extend_low_u16x8(u16x8_extend_low_u8x16(px)))
            };
            // Saturating narrows clamp exactly as libwebp's clip_8b.
            let top = i16x8_narrow_i32x4(row(0), row(1));
            let bottom = i16x8_narrow_i32x4(row(2), row(3));
            let bytes = u8x16_narrow_i16x8(top, bottom);
            v128_store32_lane::<0>(bytes, dst.cast());
            v128_store32_lane::<1>(bytes, dst.add(BPS).cast());
            v128_store32_lane::<2>(bytes, dst.add(2 * BPS).cast());
            v128_store32_lane::<3>(bytes, dst.add(3 * BPS).cast());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The same operations on plain arrays, to test the algorithm natively.
    impl Lanes for [i32; 4] {
        fn splat(v: i32) -> Self {
            [v; 4]
        }
        fn add(self, o: Self) -> Self {
            std::array::from_fn(|i| self[i] + o[i])
        }
        fn sub(self, o: Self) -> Self {
            std::array::from_fn(|i| self[i] - o[i])
        }
        fn mul_shr16(self, k: i32) -> Self {
            self.map(|v| (v * k) >> 16)
        }
        fn shr3(self) -> Self {
            self.map(|v| v >> 3)
        }
        fn transpose(m: [Self; 4]) -> [Self; 4] {
            std::array::from_fn(|r| std::array::from_fn(|c| m[c][r]))
        }
        unsafe fn load(p: *const i16) -> Self {
            std::array::from_fn(|i| i32::from(*p.add(i)))
        }
        unsafe fn add_to_pixels(m: [Self; 4], src: *const u8, dst: *mut u8) {
            for (row, values) in m.iter().enumerate() {
                for (col, v) in values.iter().enumerate() {
                    let at = row * BPS + col;
                    *dst.add(at) = (i32::from(*src.add(at)) + v).clamp(0, 255) as u8;
                }
            }
        }
    }

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
        let mut seed = 0x9E37_79B9_7F4A_7C15u64;
        let mut random = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
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

    type ITransform = unsafe extern "C" fn(*const u8, *const i16, *mut u8, std::ffi::c_int);
    extern "C" {
        fn VP8EncDspInit();
        static VP8ITransform: Option<ITransform>;
    }

    #[test]
    fn encoder_transform_matches_libwebp() {
        let mut seed = 0xD1B5_4A32_D192_ED03u64;
        let mut random = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
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
