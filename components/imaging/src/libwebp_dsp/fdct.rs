//! VP8's forward transform in wasm SIMD, for libwebp's encoder
//! (`VP8FTransform`, which `VP8FTransform2` calls twice): the scalar C one
//! was ~7% of the wasm time of a 640 px WebP. The same arithmetic four lanes
//! at a time, bit-exact (the test compares it with libwebp's own).
#![cfg_attr(
    not(all(target_arch = "wasm32", target_feature = "simd128")),
    allow(dead_code)
)]

use crate::lanes::{Lanes, BPS};

/// `FTransform_C`: the 16 coefficients of the difference between the 4×4
/// pixels at `src` and at `reference` (rows `BPS` apart), row-major.
///
/// # Safety
/// `src` and `reference` point to four rows of four readable bytes, `out`
/// to 16 writable i16.
#[inline(always)]
unsafe fn transform<L: Lanes>(src: *const u8, reference: *const u8, out: *mut i16) {
    // Horizontal pass, lane i is row i: d0..d3 are the rows' columns.
    let rows: [L; 4] = std::array::from_fn(|r| {
        L::load_pixels(src.add(r * BPS)).sub(L::load_pixels(reference.add(r * BPS)))
    });
    let [d0, d1, d2, d3] = L::transpose(rows);
    let (a0, a1, a2, a3) = (d0.add(d3), d1.add(d2), d1.sub(d2), d0.sub(d3));
    let t0 = a0.add(a1).mul(8);
    let t1 = a2.mul(2217).add(a3.mul(5352)).add(L::splat(1812)).shr(9);
    let t2 = a0.sub(a1).mul(8);
    let t3 = a3.mul(2217).sub(a2.mul(5352)).add(L::splat(937)).shr(9);
    // Vertical pass, lane i is the horizontal frequency i.
    let [r0, r1, r2, r3] = L::transpose([t0, t1, t2, t3]);
    let (a0, a1, a2, a3) = (r0.add(r3), r1.add(r2), r1.sub(r2), r0.sub(r3));
    a0.add(a1).add(L::splat(7)).shr(4).store(out);
    let second = a2.mul(2217).add(a3.mul(5352)).add(L::splat(12000)).shr(16);
    second.add(a3.nonzero()).store(out.add(4));
    a0.sub(a1).add(L::splat(7)).shr(4).store(out.add(8));
    let fourth = a3.mul(2217).sub(a2.mul(5352)).add(L::splat(51000)).shr(16);
    fourth.store(out.add(12));
}

/// `VP8FTransform`.
///
/// # Safety
/// libwebp's contract: 4×4 blocks at `src` and `reference`, 16 coefficients
/// at `out`.
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
pub(super) unsafe extern "C" fn ftransform(src: *const u8, reference: *const u8, out: *mut i16) {
    transform::<std::arch::wasm32::v128>(src, reference, out);
}

#[cfg(test)]
mod tests {
    use super::super::ffi::{VP8EncDspInit, VP8FTransform};
    use super::*;
    use crate::lanes::random_numbers;

    #[test]
    fn matches_libwebp_on_random_blocks() {
        let mut random = random_numbers(0x94D0_49BB_1331_11EBu64);
        for round in 0..20_000 {
            // Predictions near the source, as the encoder's are, or anywhere.
            let src: Vec<u8> = (0..4 * BPS).map(|_| random() as u8).collect();
            let spread = [4, 32, 256][round % 3];
            let reference: Vec<u8> = src
                .iter()
                .map(|&v| {
                    (i32::from(v) + (random() % spread) as i32 - spread as i32 / 2).clamp(0, 255)
                        as u8
                })
                .collect();
            let (mut want, mut got) = ([0i16; 16], [0i16; 16]);
            // SAFETY: four rows of BPS bytes each, 16 coefficients; the init runs once.
            unsafe {
                VP8EncDspInit();
                let ftransform = VP8FTransform.expect("libwebp's forward transform");
                ftransform(src.as_ptr(), reference.as_ptr(), want.as_mut_ptr());
                transform::<[i32; 4]>(src.as_ptr(), reference.as_ptr(), got.as_mut_ptr());
            }
            assert_eq!(got, want, "round {round}");
        }
    }
}
