//! Four f32 lanes and what the JPEG IDCTs need: wasm `v128`
//! in the components, arrays natively (and in the tests), as [`Lanes`]
//! is for i32.
//!
//! [`Lanes`]: crate::lanes::Lanes
#![cfg_attr(
    not(all(target_arch = "wasm32", target_feature = "simd128")),
    allow(dead_code)
)]

pub(crate) trait FloatLanes: Copy {
    fn splat(v: f32) -> Self;
    fn from_array(v: [f32; 4]) -> Self;
    fn add(self, o: Self) -> Self;
    fn sub(self, o: Self) -> Self;
    fn mul(self, o: Self) -> Self;
    /// The 4×4 matrix whose rows are `rows`, transposed.
    fn transpose(rows: [Self; 4]) -> [Self; 4];
    /// Lane `L` in every lane.
    fn broadcast<const L: usize>(self) -> Self;
    /// Four i32 from `p`, converted.
    ///
    /// # Safety
    /// `p` must point to four readable i32.
    unsafe fn load_i32(p: *const i32) -> Self;
    /// Each row's four lanes truncated toward zero and clamped to 0..=255 (as
    /// Rust's `as u8` does), at `out + row * stride`.
    ///
    /// # Safety
    /// Four bytes must be writable at `out + row * stride` for each row.
    unsafe fn store_bytes(rows: [Self; 4], out: *mut u8, stride: usize);
}

#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
mod wasm {
    use super::FloatLanes;
    use std::arch::wasm32::*;

    impl FloatLanes for v128 {
        #[inline(always)]
        fn splat(v: f32) -> v128 {
            f32x4_splat(v)
        }
        #[inline(always)]
        fn from_array([a, b, c, d]: [f32; 4]) -> v128 {
            f32x4(a, b, c, d)
        }
        #[inline(always)]
        fn add(self, o: v128) -> v128 {
            f32x4_add(self, o)
        }
        #[inline(always)]
        fn sub(self, o: v128) -> v128 {
            f32x4_sub(self, o)
        }
        #[inline(always)]
        fn mul(self, o: v128) -> v128 {
            f32x4_mul(self, o)
        }
        #[inline(always)]
        fn transpose([r0, r1, r2, r3]: [v128; 4]) -> [v128; 4] {
            let (t0, t1) = (
                i32x4_shuffle::<0, 4, 1, 5>(r0, r1),
                i32x4_shuffle::<2, 6, 3, 7>(r0, r1),
            );
            let (t2, t3) = (
                i32x4_shuffle::<0, 4, 1, 5>(r2, r3),
                i32x4_shuffle::<2, 6, 3, 7>(r2, r3),
            );
            [
                i64x2_shuffle::<0, 2>(t0, t2),
                i64x2_shuffle::<1, 3>(t0, t2),
                i64x2_shuffle::<0, 2>(t1, t3),
                i64x2_shuffle::<1, 3>(t1, t3),
            ]
        }
        #[inline(always)]
        fn broadcast<const L: usize>(self) -> v128 {
            match L {
                0 => i32x4_shuffle::<0, 0, 0, 0>(self, self),
                1 => i32x4_shuffle::<1, 1, 1, 1>(self, self),
                2 => i32x4_shuffle::<2, 2, 2, 2>(self, self),
                _ => i32x4_shuffle::<3, 3, 3, 3>(self, self),
            }
        }
        #[inline(always)]
        unsafe fn load_i32(p: *const i32) -> v128 {
            f32x4_convert_i32x4(v128_load(p.cast()))
        }
        #[inline(always)]
        unsafe fn store_bytes(rows: [v128; 4], out: *mut u8, stride: usize) {
            // Truncation saturates to i32, then the narrows clamp to 0..=255.
            let int = rows.map(|r| i32x4_trunc_sat_f32x4(r));
            let bytes = u8x16_narrow_i16x8(
                i16x8_narrow_i32x4(int[0], int[1]),
                i16x8_narrow_i32x4(int[2], int[3]),
            );
            v128_store32_lane::<0>(bytes, out.cast());
            v128_store32_lane::<1>(bytes, out.add(stride).cast());
            v128_store32_lane::<2>(bytes, out.add(2 * stride).cast());
            v128_store32_lane::<3>(bytes, out.add(3 * stride).cast());
        }
    }
}

impl FloatLanes for [f32; 4] {
    #[inline(always)]
    fn splat(v: f32) -> Self {
        [v; 4]
    }
    #[inline(always)]
    fn from_array(v: [f32; 4]) -> Self {
        v
    }
    #[inline(always)]
    fn add(self, o: Self) -> Self {
        std::array::from_fn(|i| self[i] + o[i])
    }
    #[inline(always)]
    fn sub(self, o: Self) -> Self {
        std::array::from_fn(|i| self[i] - o[i])
    }
    #[inline(always)]
    fn mul(self, o: Self) -> Self {
        std::array::from_fn(|i| self[i] * o[i])
    }
    #[inline(always)]
    fn transpose(rows: [Self; 4]) -> [Self; 4] {
        std::array::from_fn(|c| std::array::from_fn(|r| rows[r][c]))
    }
    #[inline(always)]
    fn broadcast<const L: usize>(self) -> Self {
        [self[L]; 4]
    }
    #[inline(always)]
    unsafe fn load_i32(p: *const i32) -> Self {
        std::array::from_fn(|i| *p.add(i) as f32)
    }
    #[inline(always)]
    unsafe fn store_bytes(rows: [Self; 4], out: *mut u8, stride: usize) {
        for (r, row) in rows.iter().enumerate() {
            for (i, v) in row.iter().enumerate() {
                *out.add(r * stride + i) = *v as u8;
            }
        }
    }
}
