//! Three planes of a row (R, G, B bytes, or their f32 values in 0..=1)
//! into interleaved RGB bytes: sixteen pixels at a time in wasm SIMD, by
//! shuffles rather than three-byte stores, which the compiler does not
//! vectorise; plain loops natively (and for a row's last pixels).

/// `r`, `g` and `b` interleaved into `out` (three bytes a pixel, as many
/// pixels as `out` holds).
pub(crate) fn interleave_rgb(r: &[u8], g: &[u8], b: &[u8], out: &mut [u8]) {
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    let done = {
        let planes = r
            .chunks_exact(16)
            .zip(g.chunks_exact(16))
            .zip(b.chunks_exact(16));
        let blocks = out.chunks_exact_mut(48).zip(planes);
        blocks.fold(0, |done, (px, ((r, g), b))| {
            let (r, g, b) = (simd::load16(r), simd::load16(g), simd::load16(b));
            simd::store_rgb16(r, g, b, px);
            done + 16
        })
    };
    #[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
    let done = 0;
    let rest = out[3 * done..].chunks_exact_mut(3);
    for (px, ((&r, &g), &b)) in rest.zip(r[done..].iter().zip(&g[done..]).zip(&b[done..])) {
        px.copy_from_slice(&[r, g, b]);
    }
}

/// Each value of `values` as a byte: `(v · 255 + 0.5)` clamped to
/// 0..=255 and truncated, as `as u8` does (NaN → 0).
pub(crate) fn unit_to_bytes(values: &[f32], out: &mut [u8]) {
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    let done = {
        let blocks = out.chunks_exact_mut(16).zip(values.chunks_exact(16));
        blocks.fold(0, |done, (bytes, values)| {
            simd::unit_to_bytes16(values, bytes);
            done + 16
        })
    };
    #[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
    let done = 0;
    for (b, &v) in out[done..].iter_mut().zip(&values[done..]) {
        *b = unit_to_byte(v);
    }
}

/// One value of [`unit_to_bytes`].
#[inline(always)]
pub(crate) fn unit_to_byte(v: f32) -> u8 {
    (v * 255.0 + 0.5).clamp(0.0, 255.0) as u8
}

#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
pub(crate) mod simd {
    use core::arch::wasm32::*;

    /// The first 16 bytes of `s`.
    #[inline(always)]
    pub(crate) fn load16(s: &[u8]) -> v128 {
        let s = &s[..16];
        // SAFETY: a 16-byte load of the 16 bytes just bounds-checked.
        unsafe { v128_load(s.as_ptr() as *const v128) }
    }

    /// Sixteen pixels' R, G and B lanes as 48 interleaved bytes at `out`.
    #[inline(always)]
    pub(crate) fn store_rgb16(r: v128, g: v128, b: v128, out: &mut [u8]) {
        // r g b of pixels 0..5 (and r of 5), then 5..10 (g b of 5), 10..16.
        let rg = i8x16_shuffle::<0, 16, 0, 1, 17, 0, 2, 18, 0, 3, 19, 0, 4, 20, 0, 5>(r, g);
        let first = i8x16_shuffle::<0, 1, 16, 3, 4, 17, 6, 7, 18, 9, 10, 19, 12, 13, 20, 15>(rg, b);
        let rg = i8x16_shuffle::<21, 0, 6, 22, 0, 7, 23, 0, 8, 24, 0, 9, 25, 0, 10, 26>(r, g);
        let second =
            i8x16_shuffle::<0, 21, 2, 3, 22, 5, 6, 23, 8, 9, 24, 11, 12, 25, 14, 15>(rg, b);
        let rg = i8x16_shuffle::<0, 11, 27, 0, 12, 28, 0, 13, 29, 0, 14, 30, 0, 15, 31, 0>(r, g);
        let third =
            i8x16_shuffle::<26, 1, 2, 27, 4, 5, 28, 7, 8, 29, 10, 11, 30, 13, 14, 31>(rg, b);
        let out = &mut out[..48];
        // SAFETY: three 16-byte stores into the 48 bytes just bounds-checked.
        unsafe {
            let p = out.as_mut_ptr();
            v128_store(p as *mut v128, first);
            v128_store(p.add(16) as *mut v128, second);
            v128_store(p.add(32) as *mut v128, third);
        }
    }

    /// Sixteen values of [`super::unit_to_bytes`]: truncated to i32 with
    /// saturation (NaN → 0), then narrowed with saturation, which clamps
    /// to 0..=255 as the scalar clamp does.
    #[inline(always)]
    pub(crate) fn unit_to_bytes16(values: &[f32], out: &mut [u8]) {
        let values = &values[..16];
        let (scale, half) = (f32x4_splat(255.0), f32x4_splat(0.5));
        let lane = |i: usize| {
            // SAFETY: four f32 of the 16 just bounds-checked.
            let v = unsafe { v128_load(values.as_ptr().add(4 * i) as *const v128) };
            i32x4_trunc_sat_f32x4(f32x4_add(f32x4_mul(v, scale), half))
        };
        let bytes = u8x16_narrow_i16x8(
            i16x8_narrow_i32x4(lane(0), lane(1)),
            i16x8_narrow_i32x4(lane(2), lane(3)),
        );
        let out = &mut out[..16];
        // SAFETY: a 16-byte store into the 16 bytes just bounds-checked.
        unsafe { v128_store(out.as_mut_ptr() as *mut v128, bytes) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interleaves_every_pixel_of_a_row_of_any_length() {
        for n in [0, 1, 15, 16, 17, 40] {
            let r: Vec<u8> = (0..n as u8).collect();
            let g: Vec<u8> = r.iter().map(|v| v + 100).collect();
            let b: Vec<u8> = r.iter().map(|v| v + 200).collect();
            let mut out = vec![0; 3 * n];
            interleave_rgb(&r, &g, &b, &mut out);
            let want: Vec<u8> = (0..n).flat_map(|i| [r[i], g[i], b[i]]).collect();
            assert_eq!(out, want, "{n} pixels");
        }
    }

    #[test]
    fn bytes_clamp_and_truncate_as_a_cast_does() {
        let values = [
            -1.0,
            -0.001,
            0.0,
            0.001,
            0.5,
            0.998,
            0.999,
            1.0,
            1.5,
            f32::NAN,
            f32::INFINITY,
            f32::NEG_INFINITY,
            0.25,
            0.75,
            0.1,
            0.9,
            0.3,
        ];
        let mut out = [0; 17];
        unit_to_bytes(&values, &mut out);
        let want: Vec<u8> = values.iter().map(|&v| unit_to_byte(v)).collect();
        assert_eq!(out.to_vec(), want);
    }
}
