//! The full 8×8 inverse DCT, for the baseline decoder at full scale: the
//! same definition as the reduced ones in `jpeg_idct.rs` (there with n = 8),
//! computed as libjpeg's float IDCT does (`jidctflt.c`, the Arai–Agui–
//! Nakajima butterflies: 5 multiplies per 8 points, the rest folded into
//! per-coefficient scales), four f32 lanes at a time: columns, a transpose,
//! rows, a transpose back. Straight-line code, no data-dependent loops:
//! in Wasmtime every loop header is an epoch check.

use crate::float_lanes::FloatLanes;

#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
type F = std::arch::wasm32::v128;
#[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
type F = [f32; 4];

pub(super) struct Idct8 {
    /// Per row, per half: each coefficient's AAN scale, c(row) c(col) / 8
    /// with c(0) = 1 and c(k) = √2 cos(kπ/16).
    scales: [[F; 2]; 8],
}

impl Idct8 {
    pub fn new() -> Idct8 {
        let aan = |k: usize| {
            if k == 0 {
                1.0
            } else {
                std::f64::consts::SQRT_2 * (k as f64 * std::f64::consts::PI / 16.0).cos()
            }
        };
        let scales = std::array::from_fn(|v| {
            [0, 4]
                .map(|c| F::from_array(std::array::from_fn(|i| (aan(v) * aan(c + i) / 8.0) as f32)))
        });
        Idct8 { scales }
    }

    /// Writes the level-shifted, clamped 8×8 pixels of `coefs` (dequantised,
    /// natural order) to `out`, rows `stride` apart; `ac`: whether any AC
    /// coefficient is non-zero.
    pub fn apply(&self, coefs: &[i32; 64], ac: bool, out: &mut [u8], stride: usize) {
        assert!(out.len() >= 7 * stride + 8);
        if !ac {
            let v = (coefs[0] as f32 / 8.0 + 128.5).clamp(0.0, 255.0) as u8;
            for row in 0..8 {
                out[row * stride..row * stride + 8].fill(v);
            }
            return;
        }
        let p = coefs.as_ptr();
        let s = &self.scales;
        // SAFETY: `coefs` holds 64 i32; each load reads four of them.
        let load = |at: usize| unsafe { F::load_i32(p.add(at)) }.mul(s[at / 8][at % 8 / 4]);
        // Down the columns (lanes are columns), then along the rows.
        let columns = [
            pass([
                load(0),
                load(8),
                load(16),
                load(24),
                load(32),
                load(40),
                load(48),
                load(56),
            ]),
            pass([
                load(4),
                load(12),
                load(20),
                load(28),
                load(36),
                load(44),
                load(52),
                load(60),
            ]),
        ];
        let rows = [pass(transposed(&columns, 0)), pass(transposed(&columns, 1))];
        let level = F::splat(128.5);
        for half in 0..2 {
            let pixels = transposed(&rows, half);
            for (top, quarter) in [(0, &pixels[..4]), (4, &pixels[4..])] {
                let four = [0, 1, 2, 3].map(|r| quarter[r].add(level));
                // SAFETY: `out` holds eight rows of eight bytes `stride`
                // apart (asserted); this quarter starts at row `top`,
                // column `4 * half`.
                unsafe {
                    F::store_bytes(four, out.as_mut_ptr().add(top * stride + 4 * half), stride)
                };
            }
        }
    }
}

/// Eight vectors of `halves` (each eight rows of four lanes) read across:
/// row `r` of the result is lane `r % 4` of every row of half `r / 4`,
/// for the lanes of `half`.
#[inline(always)]
fn transposed(halves: &[[F; 8]; 2], half: usize) -> [F; 8] {
    let quarter = |h: usize, top: usize| {
        F::transpose([
            halves[h][top],
            halves[h][top + 1],
            halves[h][top + 2],
            halves[h][top + 3],
        ])
    };
    // Lanes `4 * half ..` of the input rows are rows `4 * half ..` out.
    let (a, b) = (quarter(0, 4 * half), quarter(1, 4 * half));
    [a[0], a[1], a[2], a[3], b[0], b[1], b[2], b[3]]
}

/// One 8-point AAN inverse DCT per lane, over the eight vectors `x`.
#[inline(always)]
fn pass(x: [F; 8]) -> [F; 8] {
    let sqrt2 = F::splat(std::f32::consts::SQRT_2);
    // Even part.
    let (t10, t11) = (x[0].add(x[4]), x[0].sub(x[4]));
    let t13 = x[2].add(x[6]);
    let t12 = x[2].sub(x[6]).mul(sqrt2).sub(t13);
    let (e0, e3) = (t10.add(t13), t10.sub(t13));
    let (e1, e2) = (t11.add(t12), t11.sub(t12));
    // Odd part.
    let (z13, z10) = (x[5].add(x[3]), x[5].sub(x[3]));
    let (z11, z12) = (x[1].add(x[7]), x[1].sub(x[7]));
    let o7 = z11.add(z13);
    let t11 = z11.sub(z13).mul(sqrt2);
    let z5 = z10.add(z12).mul(F::splat(1.847_759));
    let t10 = F::splat(1.082_392_2).mul(z12).sub(z5);
    let t12 = F::splat(-2.613_126).mul(z10).add(z5);
    let o6 = t12.sub(o7);
    let o5 = t11.sub(o6);
    let o4 = t10.add(o5);
    [
        e0.add(o7),
        e1.add(o6),
        e2.add(o5),
        e3.sub(o4),
        e3.add(o4),
        e2.sub(o5),
        e1.sub(o6),
        e0.sub(o7),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lanes::random_numbers;

    /// The definition, one value at a time, in f64.
    fn reference(coefs: &[i32; 64]) -> [u8; 64] {
        let basis = |i: usize, u: usize| {
            let c = if u == 0 {
                std::f64::consts::FRAC_1_SQRT_2
            } else {
                1.0
            };
            c * (((2 * i + 1) * u) as f64 * std::f64::consts::PI / 16.0).cos() / 2.0
        };
        std::array::from_fn(|k| {
            let (j, i) = (k / 8, k % 8);
            let mut sum = 0.0;
            for v in 0..8 {
                for u in 0..8 {
                    sum += basis(j, v) * basis(i, u) * f64::from(coefs[v * 8 + u]);
                }
            }
            (sum + 128.5).clamp(0.0, 255.0) as u8
        })
    }

    #[test]
    fn lanes_equal_the_definition_within_a_level() {
        let idct = Idct8::new();
        let mut next = random_numbers(0x1DC8);
        for n in 0..20_000 {
            // Sparse like a photo's blocks, or dense; every magnitude.
            let range = [16, 256, 4096, 1 << 19][n % 4];
            let density = [2, 8, 64][n % 3];
            let coefs: [i32; 64] = std::array::from_fn(|_| {
                if next() % 64 < density {
                    (next() % (2 * range)) as i32 - range as i32
                } else {
                    0
                }
            });
            let mut got = [0u8; 8 * 10];
            idct.apply(&coefs, true, &mut got, 10);
            let want = reference(&coefs);
            for k in 0..64 {
                let g = got[(k / 8) * 10 + k % 8];
                assert!(
                    g.abs_diff(want[k]) <= 1,
                    "{coefs:?}: {k}: {g} vs {}",
                    want[k]
                );
            }
        }
    }

    #[test]
    fn a_flat_block_is_its_dc() {
        let idct = Idct8::new();
        let mut coefs = [0i32; 64];
        coefs[0] = -80;
        let mut out = [0u8; 64];
        idct.apply(&coefs, false, &mut out, 8);
        assert!(out.iter().all(|&v| v == 118), "{out:?}");
    }
}
