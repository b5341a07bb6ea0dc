//! edgeimg patch: the Huffman passes walk a block's non-zero coefficients
//! only, found from a 64-bit mask, instead of testing all 63 AC terms one
//! by one. At web qualities most quantized terms are zero, and in Wasmtime
//! every iteration of the per-term loop also paid the host's epoch check.
//! The symbols and their order are exactly those of the loops this
//! replaces (see `PATCHED.md`).

/// Bit `i` set when `data[i]` is not zero.
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
#[inline(always)]
pub(crate) fn nonzero_mask(data: &[i16; 64]) -> u64 {
    use core::arch::wasm32::*;
    let zero = i16x8_splat(0);
    let mut mask = 0u64;
    for row in 0..8 {
        // SAFETY: `row * 8 + 8 <= 64`, so the 16 bytes read lie in `data`;
        // v128 loads need no alignment.
        let v = unsafe { v128_load(data.as_ptr().add(row * 8) as *const v128) };
        mask |= u64::from(i16x8_bitmask(i16x8_ne(v, zero))) << (row * 8);
    }
    mask
}

/// Bit `i` set when `data[i]` is not zero.
#[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
#[inline(always)]
pub(crate) fn nonzero_mask(data: &[i16; 64]) -> u64 {
    data.iter()
        .enumerate()
        .fold(0, |mask, (i, &v)| mask | (u64::from(v != 0) << i))
}

/// Bits `start..end` (`start < end <= 64`).
#[inline(always)]
pub(crate) fn range_mask(start: usize, end: usize) -> u64 {
    let below_end = if end >= 64 { !0 } else { (1u64 << end) - 1 };
    below_end & (!0u64 << start)
}

/// What the Huffman passes code for a block's AC terms, in order.
#[derive(Debug, PartialEq)]
pub(crate) enum Term {
    /// Sixteen zeros (ZRL, symbol 0xF0).
    SixteenZeros,
    /// The non-zero term at `index` after `run` (0..=15) zeros.
    After { run: u8, index: usize },
}

/// Calls `emit` for each [`Term`] of `data[start..end]` in order; returns
/// whether the range ends in zeros (an end-of-block symbol follows).
#[inline(always)]
pub(crate) fn for_each_term<E>(
    data: &[i16; 64],
    start: usize,
    end: usize,
    mut emit: impl FnMut(Term) -> Result<(), E>,
) -> Result<bool, E> {
    let mut mask = nonzero_mask(data) & range_mask(start, end);
    let mut next = start;
    while mask != 0 {
        let index = mask.trailing_zeros() as usize;
        let mut run = index - next;
        while run > 15 {
            emit(Term::SixteenZeros)?;
            run -= 16;
        }
        emit(Term::After {
            run: run as u8,
            index,
        })?;
        next = index + 1;
        mask &= mask - 1;
    }
    Ok(next < end)
}

#[cfg(test)]
mod tests {
    use super::*;

    use alloc::vec::Vec;

    /// The loop the patch replaced, as terms, and the end-of-block flag.
    fn reference(data: &[i16; 64], start: usize, end: usize) -> (Vec<Term>, bool) {
        let mut out = Vec::new();
        let mut zero_run = 0;
        for (index, &value) in data.iter().enumerate().take(end).skip(start) {
            if value == 0 {
                zero_run += 1;
            } else {
                while zero_run > 15 {
                    out.push(Term::SixteenZeros);
                    zero_run -= 16;
                }
                out.push(Term::After {
                    run: zero_run as u8,
                    index,
                });
                zero_run = 0;
            }
        }
        (out, zero_run > 0)
    }

    fn patched(data: &[i16; 64], start: usize, end: usize) -> (Vec<Term>, bool) {
        let mut out = Vec::new();
        let eob = for_each_term::<()>(data, start, end, |term| {
            out.push(term);
            Ok(())
        })
        .unwrap();
        (out, eob)
    }

    #[test]
    fn same_symbols_as_the_per_term_loop() {
        let mut seed = 7u32;
        for case in 0..5000 {
            let mut data = [0i16; 64];
            // Sparse to dense blocks, long zero runs, negative terms.
            let density = case % 9;
            for v in data.iter_mut() {
                seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12_345);
                if (seed >> 16) % 8 < density {
                    *v = ((seed >> 8) % 200) as i16 - 100;
                }
            }
            for (start, end) in [(1, 64), (0, 64), (1, 6), (6, 64), (20, 41)] {
                assert_eq!(
                    patched(&data, start, end),
                    reference(&data, start, end),
                    "{data:?} {start}..{end}"
                );
            }
        }
    }
}
