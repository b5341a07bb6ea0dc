//! Eight i16 lanes multiplied in adjacent pairs and summed into four i32
//! lanes (wasm's `i32x4.dot_i16x8_s`, x86's `pmaddwd`): two weights applied
//! in one instruction. Wasm `v128` in the components, arrays natively (the
//! kernels' tests), as [`Lanes`] is.
#![cfg_attr(
    not(all(target_arch = "wasm32", target_feature = "simd128")),
    allow(dead_code)
)]

use crate::lanes::Lanes;

pub(crate) trait Pairs: Copy {
    /// The four i32 lanes a [`Pairs::dot`] gives.
    type Wide: Lanes;
    /// Eight u16 from `p`, less 32768 so they fit i16 exactly.
    ///
    /// # Safety
    /// `p` must point to eight readable u16.
    unsafe fn load_centred(p: *const u16) -> Self;
    /// Eight i16 from `p`.
    ///
    /// # Safety
    /// `p` must point to eight readable i16.
    unsafe fn load_i16x8(p: *const i16) -> Self;
    /// Two pixels of `C` (3 or 4) samples, channel by channel: r0 r1 g0 g1
    /// b0 b1, then a0 a1 (for three, the two samples after them).
    fn pair_pixels<const C: usize>(self) -> Self;
    /// Lanes `0, 2, 4, 6` of `self * o` plus lanes `1, 3, 5, 7`.
    fn dot(self, o: Self) -> Self::Wide;
}

/// Lane order of [`Pairs::pair_pixels`].
const fn pixel_order(c: usize) -> [usize; 8] {
    if c == 4 {
        [0, 4, 1, 5, 2, 6, 3, 7]
    } else {
        [0, 3, 1, 4, 2, 5, 6, 7]
    }
}

#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
mod wasm {
    use super::Pairs;
    use std::arch::wasm32::*;

    impl Pairs for v128 {
        type Wide = v128;
        #[inline(always)]
        unsafe fn load_centred(p: *const u16) -> v128 {
            v128_xor(v128_load(p.cast()), u16x8_splat(0x8000))
        }
        #[inline(always)]
        unsafe fn load_i16x8(p: *const i16) -> v128 {
            v128_load(p.cast())
        }
        #[inline(always)]
        fn pair_pixels<const C: usize>(self) -> v128 {
            if C == 4 {
                i16x8_shuffle::<0, 4, 1, 5, 2, 6, 3, 7>(self, self)
            } else {
                i16x8_shuffle::<0, 3, 1, 4, 2, 5, 6, 7>(self, self)
            }
        }
        #[inline(always)]
        fn dot(self, o: v128) -> v128 {
            i32x4_dot_i16x8(self, o)
        }
    }
}

impl Pairs for [i16; 8] {
    type Wide = [i32; 4];
    #[inline(always)]
    unsafe fn load_centred(p: *const u16) -> Self {
        std::array::from_fn(|i| (*p.add(i) ^ 0x8000) as i16)
    }
    #[inline(always)]
    unsafe fn load_i16x8(p: *const i16) -> Self {
        std::array::from_fn(|i| *p.add(i))
    }
    #[inline(always)]
    fn pair_pixels<const C: usize>(self) -> Self {
        let order = pixel_order(C);
        std::array::from_fn(|i| self[order[i]])
    }
    #[inline(always)]
    fn dot(self, o: Self) -> [i32; 4] {
        let product = |i: usize| i32::from(self[i]) * i32::from(o[i]);
        std::array::from_fn(|i| product(2 * i).wrapping_add(product(2 * i + 1)))
    }
}
