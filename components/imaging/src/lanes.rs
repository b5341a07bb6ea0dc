//! Four i32 lanes and the operations the SIMD kernels need (libwebp's
//! transforms and quantizer, the Lanczos passes): wasm `v128` in the
//! components, and plain arrays natively, so each kernel is written once and
//! its tests run the same algorithm on the development machine. Arithmetic
//! wraps, as the C's does.
#![cfg_attr(
    not(all(target_arch = "wasm32", target_feature = "simd128")),
    allow(dead_code)
)]

/// Rows of libwebp's prediction and reconstruction buffers (`BPS`).
pub(crate) const BPS: usize = 32;

pub(crate) trait Lanes: Copy {
    fn splat(v: i32) -> Self;
    fn from_array(v: [i32; 4]) -> Self;
    fn add(self, o: Self) -> Self;
    fn sub(self, o: Self) -> Self;
    /// `self * k`.
    fn mul(self, k: i32) -> Self {
        self.mul_lanes(Self::splat(k))
    }
    /// Lane by lane `self * o`.
    fn mul_lanes(self, o: Self) -> Self;
    fn abs(self) -> Self;
    fn min(self, o: Self) -> Self;
    fn and(self, o: Self) -> Self;
    /// Logical shift right.
    fn shr_u(self, n: u32) -> Self;
    /// All ones where `self > o` as unsigned, else zero.
    fn gt_u(self, o: Self) -> Self;
    /// All ones where `self < 0`, else zero.
    fn negative(self) -> Self {
        self.shr(31)
    }
    /// `-self` where `mask` is all ones.
    fn negate_where(self, mask: Self) -> Self;
    /// `(self * k) >> 16`, arithmetic.
    fn mul_shr16(self, k: i32) -> Self {
        self.mul(k).shr(16)
    }
    /// Arithmetic shift right.
    fn shr(self, n: u32) -> Self;
    /// 1 where the lane is not zero, else 0.
    fn nonzero(self) -> Self;
    /// Rows become columns.
    fn transpose(m: [Self; 4]) -> [Self; 4];
    /// The four lanes added up.
    fn sum(self) -> i32;
    /// Four coefficients from `p`.
    ///
    /// # Safety
    /// `p` must point to four readable i16.
    unsafe fn load(p: *const i16) -> Self;
    /// Four values from `p`.
    ///
    /// # Safety
    /// `p` must point to four readable u16.
    unsafe fn load_u16(p: *const u16) -> Self;
    /// Four values from `p`.
    ///
    /// # Safety
    /// `p` must point to four readable u32.
    unsafe fn load_u32(p: *const u32) -> Self;
    /// Four pixels from `p`.
    ///
    /// # Safety
    /// `p` must point to four readable bytes.
    unsafe fn load_pixels(p: *const u8) -> Self;
    /// Each lane clamped to 0..=65535.
    fn to_u16_saturating(self) -> [u16; 4];
    /// Each lane's low 16 bits as an i16 at `p` (C's conversion to `int16_t`).
    ///
    /// # Safety
    /// `p` must point to four writable i16.
    unsafe fn store(self, p: *mut i16);
    /// Adds each row of `m` to the four pixels at `src + row * BPS` and
    /// writes them, clamped to 0..=255, at `dst + row * BPS`.
    ///
    /// # Safety
    /// `src` and `dst` must point to four rows of four bytes, `BPS` apart,
    /// readable and writable.
    unsafe fn add_to_pixels(m: [Self; 4], src: *const u8, dst: *mut u8);
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
        fn from_array([a, b, c, d]: [i32; 4]) -> v128 {
            i32x4(a, b, c, d)
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
        fn mul_lanes(self, o: v128) -> v128 {
            i32x4_mul(self, o)
        }
        #[inline(always)]
        fn abs(self) -> v128 {
            i32x4_abs(self)
        }
        #[inline(always)]
        fn min(self, o: v128) -> v128 {
            i32x4_min(self, o)
        }
        #[inline(always)]
        fn and(self, o: v128) -> v128 {
            v128_and(self, o)
        }
        #[inline(always)]
        fn shr_u(self, n: u32) -> v128 {
            u32x4_shr(self, n)
        }
        #[inline(always)]
        fn gt_u(self, o: v128) -> v128 {
            u32x4_gt(self, o)
        }
        #[inline(always)]
        fn negate_where(self, mask: v128) -> v128 {
            i32x4_sub(v128_xor(self, mask), mask)
        }
        #[inline(always)]
        fn shr(self, n: u32) -> v128 {
            i32x4_shr(self, n)
        }
        #[inline(always)]
        fn nonzero(self) -> v128 {
            v128_and(i32x4_ne(self, i32x4_splat(0)), i32x4_splat(1))
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
        fn sum(self) -> i32 {
            let pairs = i32x4_add(self, i32x4_shuffle::<2, 3, 0, 1>(self, self));
            i32x4_extract_lane::<0>(i32x4_add(pairs, i32x4_shuffle::<1, 0, 3, 2>(pairs, pairs)))
        }
        #[inline(always)]
        unsafe fn load(p: *const i16) -> v128 {
            i32x4_extend_low_i16x8(v128_load64_zero(p.cast()))
        }
        #[inline(always)]
        unsafe fn load_u16(p: *const u16) -> v128 {
            u32x4_extend_low_u16x8(v128_load64_zero(p.cast()))
        }
        #[inline(always)]
        unsafe fn load_u32(p: *const u32) -> v128 {
            v128_load(p.cast())
        }
        #[inline(always)]
        unsafe fn load_pixels(p: *const u8) -> v128 {
            let px = v128_load32_zero(p.cast());
            u32x4_extend_low_u16x8(u16x8_extend_low_u8x16(px))
        }
        #[inline(always)]
        fn to_u16_saturating(self) -> [u16; 4] {
            let mut out = [0u16; 4];
            // SAFETY: `out` has room for the four u16 of lane 0.
            unsafe {
                v128_store64_lane::<0>(u16x8_narrow_i32x4(self, self), out.as_mut_ptr().cast())
            };
            out
        }
        #[inline(always)]
        unsafe fn store(self, p: *mut i16) {
            let low =
                i8x16_shuffle::<0, 1, 4, 5, 8, 9, 12, 13, 0, 1, 4, 5, 8, 9, 12, 13>(self, self);
            v128_store64_lane::<0>(low, p.cast());
        }
        #[inline(always)]
        unsafe fn add_to_pixels(m: [v128; 4], src: *const u8, dst: *mut u8) {
            let row = |i: usize| i32x4_add(m[i], v128::load_pixels(src.add(i * BPS)));
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

/// The same operations on plain arrays: the kernels natively, and their tests.
impl Lanes for [i32; 4] {
    #[inline(always)]
    fn splat(v: i32) -> Self {
        [v; 4]
    }
    #[inline(always)]
    fn from_array(v: [i32; 4]) -> Self {
        v
    }
    #[inline(always)]
    fn add(self, o: Self) -> Self {
        std::array::from_fn(|i| self[i].wrapping_add(o[i]))
    }
    #[inline(always)]
    fn sub(self, o: Self) -> Self {
        std::array::from_fn(|i| self[i].wrapping_sub(o[i]))
    }
    #[inline(always)]
    fn mul_lanes(self, o: Self) -> Self {
        std::array::from_fn(|i| self[i].wrapping_mul(o[i]))
    }
    #[inline(always)]
    fn abs(self) -> Self {
        self.map(i32::wrapping_abs)
    }
    #[inline(always)]
    fn min(self, o: Self) -> Self {
        std::array::from_fn(|i| self[i].min(o[i]))
    }
    #[inline(always)]
    fn and(self, o: Self) -> Self {
        std::array::from_fn(|i| self[i] & o[i])
    }
    #[inline(always)]
    fn shr_u(self, n: u32) -> Self {
        self.map(|v| ((v as u32) >> n) as i32)
    }
    #[inline(always)]
    fn gt_u(self, o: Self) -> Self {
        std::array::from_fn(|i| -i32::from(self[i] as u32 > o[i] as u32))
    }
    #[inline(always)]
    fn negate_where(self, mask: Self) -> Self {
        std::array::from_fn(|i| (self[i] ^ mask[i]).wrapping_sub(mask[i]))
    }
    #[inline(always)]
    fn shr(self, n: u32) -> Self {
        self.map(|v| v >> n)
    }
    #[inline(always)]
    fn nonzero(self) -> Self {
        self.map(|v| i32::from(v != 0))
    }
    #[inline(always)]
    fn transpose(m: [Self; 4]) -> [Self; 4] {
        std::array::from_fn(|r| std::array::from_fn(|c| m[c][r]))
    }
    #[inline(always)]
    fn sum(self) -> i32 {
        self.iter().fold(0, |a, &v| a.wrapping_add(v))
    }
    #[inline(always)]
    unsafe fn load(p: *const i16) -> Self {
        std::array::from_fn(|i| i32::from(*p.add(i)))
    }
    #[inline(always)]
    unsafe fn load_u16(p: *const u16) -> Self {
        std::array::from_fn(|i| i32::from(*p.add(i)))
    }
    #[inline(always)]
    unsafe fn load_u32(p: *const u32) -> Self {
        std::array::from_fn(|i| *p.add(i) as i32)
    }
    #[inline(always)]
    unsafe fn load_pixels(p: *const u8) -> Self {
        std::array::from_fn(|i| i32::from(*p.add(i)))
    }
    #[inline(always)]
    fn to_u16_saturating(self) -> [u16; 4] {
        self.map(|v| v.clamp(0, 65535) as u16)
    }
    #[inline(always)]
    unsafe fn store(self, p: *mut i16) {
        for (i, v) in self.iter().enumerate() {
            *p.add(i) = *v as i16;
        }
    }
    #[inline(always)]
    unsafe fn add_to_pixels(m: [Self; 4], src: *const u8, dst: *mut u8) {
        for (row, values) in m.iter().enumerate() {
            for (col, v) in values.iter().enumerate() {
                let at = row * BPS + col;
                *dst.add(at) = (i32::from(*src.add(at)) + v).clamp(0, 255) as u8;
            }
        }
    }
}

/// The tests' random numbers (xorshift64), from `seed`.
#[cfg(test)]
pub(crate) fn random_numbers(mut seed: u64) -> impl FnMut() -> u64 {
    move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    }
}
