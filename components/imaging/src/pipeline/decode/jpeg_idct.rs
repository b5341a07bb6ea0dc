//! What the JPEG decoders share after entropy decoding: which coefficients a
//! scale keeps, and the inverse DCT of that size (the full 8×8 one is
//! `jpeg_idct8.rs`).

use super::jpeg_idct8::Idct8;
use crate::float_lanes::FloatLanes;

#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
type F = std::arch::wasm32::v128;
#[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
type F = [f32; 4];

/// Natural (row-major) index of each zig-zag position (JPEG Figure A.6).
pub(super) const ZIGZAG: [u8; 64] = [
    0, 1, 8, 16, 9, 2, 3, 10, 17, 24, 32, 25, 18, 11, 4, 5, 12, 19, 26, 33, 40, 48, 41, 34, 27, 20,
    13, 6, 7, 14, 21, 28, 35, 42, 49, 56, 57, 50, 43, 36, 29, 22, 15, 23, 30, 37, 44, 51, 58, 59,
    52, 45, 38, 31, 39, 46, 53, 60, 61, 54, 47, 55, 62, 63,
];

/// Samples per block side at 1/`shrink` (1, 2, 4 or 8): a block's inverse
/// DCT is that many points square.
pub(super) fn samples_per_side(shrink: u32) -> Option<usize> {
    match shrink {
        1 => Some(8),
        2 => Some(4),
        4 => Some(2),
        8 => Some(1),
        _ => None,
    }
}

/// Which coefficients a scale keeps.
pub(super) struct Keep {
    /// For each zig-zag position, its index in the kept `size`×`size`
    /// low-frequency corner, or `u8::MAX` if it is dropped.
    pub index: [u8; 64],
    /// The last zig-zag position kept.
    pub last: usize,
    /// Zig-zag positions `0..=last` as a mask (bit k for position k).
    pub corner: u64,
    /// The kept zig-zag positions as a mask.
    pub mask: u64,
    /// Where each zig-zag position's value goes (and the 16 past the end a
    /// broken run can reach): its index in the kept corner, or a scratch
    /// slot after them (`size * size`), so whether a coefficient is kept,
    /// which varies from one to the next, is never a branch.
    pub slots: [u8; 80],
}

impl Keep {
    /// The scratch slot of [`Keep::slots`] (`size * size`): no run reaches
    /// position 79, so it is always that.
    pub fn scratch(&self) -> usize {
        usize::from(self.slots[79])
    }
}

pub(super) fn keep_table(size: usize) -> Keep {
    let mut keep = Keep {
        index: [u8::MAX; 64],
        last: 0,
        corner: 1,
        mask: 0,
        slots: [(size * size) as u8; 80],
    };
    for (k, &natural) in ZIGZAG.iter().enumerate() {
        let (row, col) = (usize::from(natural) / 8, usize::from(natural) % 8);
        if row < size && col < size {
            keep.index[k] = (row * size + col) as u8;
            keep.slots[k] = keep.index[k];
            keep.last = k;
            keep.mask |= 1 << k;
        }
    }
    keep.corner = u64::MAX >> (63 - keep.last);
    keep
}

/// The `size`-point inverse DCT of a block's lowest `size`×`size`
/// coefficients: `f(i, j) = 1/4 Σ c(u) c(v) F(u, v) cos((2i+1)uπ/2n) cos((2j+1)vπ/2n)`
/// with `n = size`, which for `size` 1 is the DC term / 8 (JPEG's scaled
/// decoding, as libjpeg's reduced-size IDCTs compute it).
pub(super) struct Idct {
    size: usize,
    /// Size 8's own transform.
    full: Option<Idct8>,
    /// basis[i * size + u] = c(u) cos((2i+1)uπ/2n) / 2
    basis: [f32; 16],
    /// For size 4, the basis transposed: columns[u * 4 + i] = basis[i * 4 + u],
    /// so [`Idct::apply4`] loads each column as four lanes.
    columns: [f32; 16],
}

impl Idct {
    pub fn new(size: usize) -> Idct {
        let full = (size == 8).then(Idct8::new);
        // The reduced sizes' basis (size 8 has its own transform).
        let reduced = if full.is_some() { 0 } else { size };
        let mut basis = [0.0; 16];
        for i in 0..reduced {
            for u in 0..reduced {
                let c = if u == 0 {
                    std::f32::consts::FRAC_1_SQRT_2
                } else {
                    1.0
                };
                let angle = ((2 * i + 1) * u) as f32 * std::f32::consts::PI / (2 * size) as f32;
                basis[i * size + u] = c * angle.cos() / 2.0;
            }
        }
        let columns = std::array::from_fn(|k| {
            if size == 4 {
                basis[(k % 4) * 4 + k / 4]
            } else {
                0.0
            }
        });
        Idct {
            size,
            full,
            basis,
            columns,
        }
    }

    /// Writes the level-shifted, clamped pixels to `out` (rows `stride` apart).
    /// `coefs`: the block's kept coefficients, dequantised, row by row of
    /// the `size`×`size` corner (all 64 at full scale).
    pub fn apply(&self, coefs: &[i32; 64], ac: bool, out: &mut [u8], stride: usize) {
        if let Some(full) = &self.full {
            return full.apply(coefs, ac, out, stride);
        }
        let n = self.size;
        if !ac {
            let v = clamp(coefs[0] as f32 / 8.0);
            // Fixed lengths, as `fill` of a run-time length is a
            // `memory.fill` call in Wasmtime (per row of each block).
            match n {
                1 => out[0] = v,
                2 => {
                    out[..2].copy_from_slice(&[v; 2]);
                    out[stride..stride + 2].copy_from_slice(&[v; 2]);
                }
                // 4: size 8 went to `Idct8` above.
                _ => {
                    for row in 0..4 {
                        out[row * stride..row * stride + 4].copy_from_slice(&[v; 4]);
                    }
                }
            }
            return;
        }
        if n == 2 {
            // Every 2-point basis value is ±1/(2√2), so the 2×2 IDCT is sums.
            let [a, b, c, d] = [coefs[0], coefs[1], coefs[2], coefs[3]];
            let px = |v: i32| ((v + 4) >> 3).wrapping_add(128).clamp(0, 255) as u8;
            out[0] = px(a + b + c + d);
            out[1] = px(a - b + c - d);
            out[stride] = px(a + b - c - d);
            out[stride + 1] = px(a - b - c + d);
            return;
        }
        // Size 1 has no AC terms, size 8 is `full`: what is left is 4.
        debug_assert_eq!(n, 4);
        let (corner, _) = coefs.split_first_chunk::<16>().expect("64 > 16");
        self.apply4(corner, out, stride);
    }

    /// Size 4 (1/2 scale): rows (over u, per v), then columns (over v, per
    /// output j), four lanes at a time: each lane sums the same products in
    /// the same order as [`Idct::reference4`], so the pixels are identical.
    #[inline]
    fn apply4(&self, coefs: &[i32; 16], out: &mut [u8], stride: usize) {
        assert!(out.len() >= 3 * stride + 4);
        let b = &self.basis;
        // column[u], lane i: basis[i][u].
        let column: [F; 4] = std::array::from_fn(|u| {
            let c = &self.columns[u * 4..u * 4 + 4];
            F::from_array([c[0], c[1], c[2], c[3]])
        });
        // tmp[v], lane i: Σ_u basis[i][u] c[v][u].
        let tmp: [F; 4] = std::array::from_fn(|v| {
            // SAFETY: row `v` of `coefs` is four i32.
            let c = unsafe { F::load_i32(coefs.as_ptr().add(v * 4)) };
            c.broadcast::<0>()
                .mul(column[0])
                .add(c.broadcast::<1>().mul(column[1]))
                .add(c.broadcast::<2>().mul(column[2]))
                .add(c.broadcast::<3>().mul(column[3]))
        });
        let rows: [F; 4] = std::array::from_fn(|j| {
            let b = &b[j * 4..j * 4 + 4];
            F::splat(b[0])
                .mul(tmp[0])
                .add(F::splat(b[1]).mul(tmp[1]))
                .add(F::splat(b[2]).mul(tmp[2]))
                .add(F::splat(b[3]).mul(tmp[3]))
                .add(F::splat(128.5))
        });
        // SAFETY: `out` holds four rows of four bytes `stride` apart (asserted).
        unsafe { F::store_bytes(rows, out.as_mut_ptr(), stride) };
    }

    /// [`Idct::apply4`] one value at a time: the definition its lanes follow.
    #[cfg(test)]
    fn reference4(&self, coefs: &[i32; 16], out: &mut [u8], stride: usize) {
        let b = &self.basis;
        let c = coefs.map(|v| v as f32);
        let mut tmp = [0.0f32; 16];
        for v in 0..4 {
            for i in 0..4 {
                let (b, c) = (&b[i * 4..i * 4 + 4], &c[v * 4..v * 4 + 4]);
                tmp[v * 4 + i] = b[0] * c[0] + b[1] * c[1] + b[2] * c[2] + b[3] * c[3];
            }
        }
        for j in 0..4 {
            let b = &b[j * 4..j * 4 + 4];
            let row = &mut out[j * stride..j * stride + 4];
            for (i, px) in row.iter_mut().enumerate() {
                let s = b[0] * tmp[i] + b[1] * tmp[4 + i] + b[2] * tmp[8 + i] + b[3] * tmp[12 + i];
                *px = clamp(s);
            }
        }
    }
}

fn clamp(v: f32) -> u8 {
    (v + 128.5).clamp(0.0, 255.0) as u8
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lanes::random_numbers;

    #[test]
    fn four_point_lanes_equal_the_definition() {
        // Dequantised coefficients of every magnitude a JPEG gives (±2047 ×
        // quantisers up to 255), DC-heavy and flat blocks included.
        let idct = Idct::new(4);
        let mut next = random_numbers(0xD1C7);
        for n in 0..20_000 {
            let range = [16, 256, 4096, 1 << 19][n % 4];
            let coefs: [i32; 16] =
                std::array::from_fn(|_| (next() % (2 * range)) as i32 - range as i32);
            let (mut got, mut want) = ([0u8; 4 * 6], [0u8; 4 * 6]);
            idct.apply4(&coefs, &mut got, 6);
            idct.reference4(&coefs, &mut want, 6);
            assert_eq!(got, want, "{coefs:?}");
        }
    }
}
