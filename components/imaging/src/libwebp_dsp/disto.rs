//! libwebp's weighted spectral distortion (`VP8TDisto4x4`,
//! `VP8TDisto16x16`), which the encoder's mode decisions call for every
//! candidate, in wasm SIMD: the scalar C was ~9% of the wasm time of a
//! 640 px WebP. The same arithmetic four lanes at a time, bit-exact (the
//! tests compare it with libwebp's own).
#![cfg_attr(
    not(all(target_arch = "wasm32", target_feature = "simd128")),
    allow(dead_code)
)]

use crate::lanes::{Lanes, BPS};

/// `TTransform`: the 4×4 Hadamard transform of the pixels at `pixels`
/// (rows `BPS` apart), its coefficients' magnitudes weighted by `w`
/// (row-major) and added up.
///
/// # Safety
/// `pixels` points to four rows of four readable bytes, `w` to 16 weights.
#[inline(always)]
unsafe fn weighted_hadamard<L: Lanes>(pixels: *const u8, w: *const u16) -> i32 {
    // Horizontal pass, lane i is row i.
    let rows: [L; 4] = std::array::from_fn(|r| L::load_pixels(pixels.add(r * BPS)));
    let [c0, c1, c2, c3] = L::transpose(rows);
    let (a0, a1, a2, a3) = (c0.add(c2), c1.add(c3), c1.sub(c3), c0.sub(c2));
    let t = [a0.add(a1), a3.add(a2), a3.sub(a2), a0.sub(a1)];
    // Vertical pass, lane i is the horizontal frequency i.
    let [r0, r1, r2, r3] = L::transpose(t);
    let (a0, a1, a2, a3) = (r0.add(r2), r1.add(r3), r1.sub(r3), r0.sub(r2));
    let b = [a0.add(a1), a3.add(a2), a3.sub(a2), a0.sub(a1)];
    let weighted = (0..4).fold(L::splat(0), |sum, k| {
        sum.add(b[k].abs().mul_lanes(L::load_u16(w.add(4 * k))))
    });
    weighted.sum()
}

/// `Disto4x4_C`.
///
/// # Safety
/// `a` and `b` point to 4×4 blocks (rows `BPS` apart), `w` to 16 weights.
#[inline(always)]
unsafe fn disto4x4<L: Lanes>(a: *const u8, b: *const u8, w: *const u16) -> i32 {
    (weighted_hadamard::<L>(b, w) - weighted_hadamard::<L>(a, w)).abs() >> 5
}

/// `Disto16x16_C`: the sixteen 4×4 blocks' distortions added up.
///
/// # Safety
/// As [`disto4x4`], for 16×16 blocks.
#[inline(always)]
unsafe fn disto16x16<L: Lanes>(a: *const u8, b: *const u8, w: *const u16) -> i32 {
    let mut d = 0;
    for y in (0..16 * BPS).step_by(4 * BPS) {
        for x in (0..16).step_by(4) {
            d += disto4x4::<L>(a.add(x + y), b.add(x + y), w);
        }
    }
    d
}

/// `VP8TDisto4x4`.
///
/// # Safety
/// libwebp's contract: 4×4 blocks at `a` and `b`, 16 weights at `w`.
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
pub(super) unsafe extern "C" fn tdisto4x4(
    a: *const u8,
    b: *const u8,
    w: *const u16,
) -> std::ffi::c_int {
    disto4x4::<std::arch::wasm32::v128>(a, b, w)
}

/// `VP8TDisto16x16`.
///
/// # Safety
/// libwebp's contract: 16×16 blocks at `a` and `b`, 16 weights at `w`.
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
pub(super) unsafe extern "C" fn tdisto16x16(
    a: *const u8,
    b: *const u8,
    w: *const u16,
) -> std::ffi::c_int {
    disto16x16::<std::arch::wasm32::v128>(a, b, w)
}

#[cfg(test)]
mod tests {
    use super::super::ffi::{VP8EncDspInit, VP8TDisto16x16, VP8TDisto4x4};
    use super::*;
    use crate::lanes::random_numbers;

    #[test]
    fn matches_libwebp_on_random_blocks() {
        let mut random = random_numbers(0xBF58_476D_1CE4_E5B9);
        for round in 0..5_000 {
            // Candidates near the source, as the encoder's are, or anywhere;
            // weights as libwebp's (up to 38) or larger.
            let a: Vec<u8> = (0..16 * BPS).map(|_| random() as u8).collect();
            let spread = [8, 64, 256][round % 3];
            let b: Vec<u8> = a
                .iter()
                .map(|&v| {
                    let near = i32::from(v) + (random() % spread) as i32 - spread as i32 / 2;
                    near.clamp(0, 255) as u8
                })
                .collect();
            // Symmetric, as libwebp's are (its SSE2 version relies on it).
            let mut w: [u16; 16] =
                std::array::from_fn(|_| (random() % [39, 4096][round % 2]) as u16);
            for r in 0..4 {
                for c in 0..r {
                    w[r * 4 + c] = w[c * 4 + r];
                }
            }
            // SAFETY: 16 rows of BPS bytes each and 16 weights; the init runs once.
            unsafe {
                VP8EncDspInit();
                let lib4 = VP8TDisto4x4.expect("libwebp's 4x4 metric");
                let lib16 = VP8TDisto16x16.expect("libwebp's 16x16 metric");
                let (a, b, w) = (a.as_ptr(), b.as_ptr(), w.as_ptr());
                assert_eq!(
                    disto4x4::<[i32; 4]>(a, b, w),
                    lib4(a, b, w),
                    "4x4, round {round}"
                );
                assert_eq!(
                    disto16x16::<[i32; 4]>(a, b, w),
                    lib16(a, b, w),
                    "16x16, round {round}"
                );
            }
        }
    }
}
