//! Progressive JPEG at full scale or 1/2, 1/4 or 1/8.
//!
//! A progressive file sends each block's coefficients over several scans:
//! the DC terms, then bands of AC terms, often high bits first and one more
//! bit per later scan (successive approximation). At 1/2 and 1/4 a scan must
//! be entropy-decoded whole to find the next block, but a block only needs
//! the (8/n)² coefficients its reduced inverse DCT uses, plus one bit per
//! coefficient saying whether it is non-zero yet, which tells a refinement
//! scan where its bits go. So this holds about a third (1/2) or a tenth (1/4)
//! of what a general decoder holds, resolves codes by table lookup
//! (`jpeg-decoder` walks them bit by bit) and runs the small inverse DCT once,
//! after the last scan. A scan is stepped over unread when nothing it codes
//! is kept and no later scan refines it: at 1/8, where a block is its DC term
//! alone, that is every AC scan (most of the file); at 1/4 also the last bit
//! of the AC terms (see [`Progressive::skips_last_bit`]). Anything unusual
//! (CMYK, 12-bit, arithmetic coding, a broken stream) returns `None` and the
//! caller uses the general decoder instead. At full scale every coefficient
//! is kept, as a general decoder keeps them, and the 8×8 inverse DCT is
//! `jpeg_idct8.rs` (through `Idct`): what is left to gain there is the table lookups.

use super::jpeg_huffman::{Bits, Huffman};
use super::jpeg_idct::{keep_table, samples_per_side, Idct, Keep};
use super::jpeg_syntax::{self, Frame, Headers, Restarts};
use crate::pipeline::Image;

/// The image at 1/`shrink` (1, 2, 4 or 8) of its size, or `None` if this
/// decoder does not handle the file.
pub(super) fn decode(b: &[u8], shrink: u32) -> Option<Image> {
    let size = samples_per_side(shrink)?;
    jpeg_syntax::decode(
        b,
        Progressive {
            size,
            keep: keep_table(size),
            dc_tables: Default::default(),
            ac_tables: Default::default(),
            components: Vec::new(),
        },
    )
}

struct Progressive {
    /// Output samples per block side: 8 / shrink.
    size: usize,
    keep: Keep,
    dc_tables: [Option<Huffman>; 4],
    ac_tables: [Option<Huffman>; 4],
    components: Vec<Coefficients>,
}

/// One component's coefficients so far.
struct Coefficients {
    /// Per block: bit `k` set once zig-zag coefficient `k` is non-zero.
    nonzero: Vec<u64>,
    /// Per block, the kept coefficients (`Keep::index` order), not yet
    /// dequantised, then the scratch slot the dropped ones are written to
    /// ([`Keep::slots`]).
    kept: Vec<i16>,
    /// Whether a first DC scan has coded this component.
    dc_seen: bool,
    /// Kept zig-zag positions whose last bit was not read (a final
    /// refinement scan stepped over): see [`Progressive::skips_last_bit`].
    unrefined: u64,
}

impl Progressive {
    /// Values held per block: the kept ones and the scratch slot.
    fn held_per_block(&self) -> usize {
        self.size * self.size + 1
    }

    /// At 1/4 scale the final refinement scans of AC bands (the last bit of
    /// every AC coefficient: about half of a libjpeg or mozjpeg progressive
    /// file, and of its decoding time) are stepped over unread. That bit
    /// moves each of the three kept AC coefficients by at most one quantiser
    /// step, so they are reconstructed at the middle of the interval their
    /// higher bits leave. Measured on 320 px thumbnails of progressive
    /// photos: 0.57–0.73 levels on average from reading every bit, where
    /// encoding the thumbnail as JPEG at quality 80 moves it by 2.4–5.9. At
    /// 1/2 the ten kept coefficients reach into the texture: it cost
    /// 0.003–0.014 SSIM there against 0.0001–0.002 here, so every bit is
    /// read at 1/2.
    fn skips_last_bit(&self) -> bool {
        self.size == 2
    }
}

impl jpeg_syntax::Decoder for Progressive {
    /// Progressive Huffman frames.
    fn reads(sof: u8) -> bool {
        sof == 0xC2
    }

    fn frame(&mut self, frame: &Frame) {
        let held = self.held_per_block();
        self.components = frame
            .components
            .iter()
            .map(|c| {
                let blocks = c.blocks.0 * c.blocks.1;
                Coefficients {
                    nonzero: vec![0; blocks],
                    kept: vec![0; blocks * held],
                    dc_seen: false,
                    unrefined: 0,
                }
            })
            .collect();
    }

    fn huffman(&mut self, class: u8, id: usize, counts: &[u8; 16], symbols: &[u8]) -> Option<()> {
        let table = Some(Huffman::new(counts, symbols)?);
        match class {
            0 => *self.dc_tables.get_mut(id)? = table,
            1 => *self.ac_tables.get_mut(id)? = table,
            _ => return None,
        }
        Some(())
    }

    fn scan(&mut self, headers: &Headers, header: &[u8], data: &[u8]) -> Option<()> {
        let frame = headers.frame.as_ref()?;
        let members = jpeg_syntax::scan_components(header, &frame.components)?;
        let n = members.len();
        let band = Band {
            start: usize::from(*header.get(1 + 2 * n)?),
            end: usize::from(*header.get(2 + 2 * n)?),
            high: *header.get(3 + 2 * n)? >> 4,
            low: u32::from(*header.get(3 + 2 * n)? & 15),
        };
        // JPEG G.1.1.1.1: DC alone, or one component's AC band.
        let valid = band.low <= 13
            && if band.start == 0 {
                band.end == 0
            } else {
                band.start <= band.end && band.end < 64 && n == 1
            };
        if n == 0 || !valid {
            return None;
        }
        let mut bits = Bits::new(data);
        let held = self.held_per_block();
        let indices: Vec<usize> = members.iter().map(|m| m.0).collect();
        if band.start == 0 {
            let tables = members
                .iter()
                .map(|&(_, t)| self.dc_tables.get(usize::from(t >> 4))?.as_ref())
                .collect::<Vec<_>>();
            let mut predictors = vec![0i32; n];
            let components = &mut self.components;
            frame.scan_blocks(&indices, headers.restart_interval, |unit| {
                if unit.restart {
                    bits.restart();
                    predictors.iter_mut().for_each(|p| *p = 0);
                }
                let dc = components[unit.index].kept.get_mut(unit.at * held)?;
                if band.high == 0 {
                    let table = tables[unit.slot]?;
                    bits.refill();
                    let size = table.decode(&mut bits)?;
                    predictors[unit.slot] += bits.receive_extend(size)?;
                    *dc = i16::try_from(predictors[unit.slot] << band.low).ok()?;
                } else if bits.bit() {
                    *dc |= 1 << band.low;
                }
                Some(())
            })?;
            for &(index, _) in &members {
                self.components[index].dc_seen |= band.high == 0;
            }
            return Some(());
        }
        if self.keep.last == 0 {
            // At 1/8 no AC coefficient is kept: the scan is stepped over unread.
            return Some(());
        }
        let (index, tables) = members[0];
        if band.low == 0 {
            // No later scan refines this band, so nothing needs its non-zero
            // bits: a band the scale drops entirely is stepped over unread,
            // and so is a kept band's last bit where that is allowed.
            let kept = span(band.start, band.end + 1) & self.keep.mask;
            if kept == 0 {
                return Some(());
            }
            if band.high != 0 && self.skips_last_bit() {
                self.components.get_mut(index)?.unrefined |= kept;
                return Some(());
            }
        }
        let table = self.ac_tables.get(usize::from(tables & 15))?.as_ref()?;
        let blocks_across = frame.components[index].blocks.0;
        let coefficients = &mut self.components[index];
        // One component's blocks in row order: a plain loop here, as this is
        // the hot one (through `scan_blocks` it measured ~10% slower in wasm).
        let (mx, my) = frame.scan_units(Some(index));
        let mut restarts = Restarts::new(headers.restart_interval);
        let mut eob_run = 0u32;
        for y in 0..my {
            for x in 0..mx {
                if restarts.due() {
                    bits.restart();
                    eob_run = 0;
                }
                let at = y * blocks_across + x;
                let block = Block {
                    nonzero: coefficients.nonzero.get_mut(at)?,
                    kept: coefficients.kept.get_mut(at * held..(at + 1) * held)?,
                    keep: &self.keep,
                };
                if band.high == 0 {
                    first_ac(&mut bits, table, &band, &mut eob_run, block)?;
                } else {
                    refine_ac(&mut bits, table, &band, &mut eob_run, block)?;
                }
            }
        }
        Some(())
    }

    fn finish(self, headers: &Headers) -> Option<Image> {
        let frame = headers.frame.as_ref()?;
        if !self.components.iter().all(|c| c.dc_seen) {
            return None;
        }
        let size = self.size;
        let per_block = size * size;
        let held = self.held_per_block();
        // Zig-zag position of each kept coefficient, for its quantiser.
        let mut zigzag = [0usize; 64];
        for (k, &i) in self.keep.index.iter().enumerate() {
            if i != u8::MAX {
                zigzag[usize::from(i)] = k;
            }
        }
        let idct = Idct::new(size);
        let mut coefs = [0i32; 64];
        let samples = frame
            .components
            .iter()
            .zip(&self.components)
            .map(|(c, coefficients)| {
                let quant = headers.quant[c.quant].as_ref()?;
                let stride = c.blocks.0 * size;
                let mut samples = vec![0u8; c.blocks.0 * c.blocks.1 * per_block];
                for (at, kept) in coefficients.kept.chunks_exact(held).enumerate() {
                    let kept = &kept[..per_block];
                    for (i, (&v, &k)) in kept.iter().zip(&zigzag).enumerate() {
                        let q = i32::from(quant[k]);
                        coefs[i] = i32::from(v) * q;
                        if coefficients.unrefined & (1 << k) != 0 {
                            coefs[i] += i32::from(v.signum()) * (q / 2);
                        }
                    }
                    let ac = kept[1..].iter().any(|&v| v != 0);
                    let (row, col) = (at / c.blocks.0, at % c.blocks.0);
                    let start = row * size * stride + col * size;
                    let out = samples.get_mut(start..start + (size - 1) * stride + size)?;
                    idct.apply(&coefs, ac, out, stride);
                }
                Some(samples)
            })
            .collect::<Option<Vec<_>>>()?;
        headers.to_rgb(&samples, size)
    }
}

/// A scan's spectral band (zig-zag `start..=end`) and bit positions: `high`
/// is 0 for a first scan, else the bit the previous scan stopped at; `low`
/// the bit this scan codes down to.
struct Band {
    start: usize,
    end: usize,
    high: u8,
    low: u32,
}

/// One block's state, as a scan updates it.
struct Block<'a> {
    nonzero: &'a mut u64,
    kept: &'a mut [i16],
    keep: &'a Keep,
}

impl Block<'_> {
    /// Coefficient `k` (0..64) becomes `value` (non-zero); only the
    /// corner's values are kept (the others go to the scratch slot). A
    /// value past i16 (only a broken file has one) is clamped.
    #[inline(always)]
    fn set(&mut self, k: usize, value: i32) {
        *self.nonzero |= 1 << k;
        self.kept[usize::from(self.keep.slots[k & 63])] =
            value.clamp(i32::from(i16::MIN), i32::from(i16::MAX)) as i16;
    }

    /// Reads the correction bits of the non-zero coefficients `passed`
    /// (a mask, read in order): each one that is set adds `bit` to its
    /// coefficient's magnitude (JPEG G.1.2.3). Past the kept corner they are
    /// only stepped over.
    #[inline(always)]
    fn refine(&mut self, bits: &mut Bits<'_>, passed: u64, bit: i16) {
        if passed == 0 {
            return;
        }
        let mut one_by_one = passed & self.keep.corner;
        while one_by_one != 0 {
            let k = one_by_one.trailing_zeros() as usize;
            one_by_one &= one_by_one - 1;
            // The bit and the sign are coin tosses: no branch on either.
            let set = bits.receive(1) as i16;
            let v = &mut self.kept[usize::from(self.keep.slots[k & 63])];
            if *v & bit == 0 {
                let sign = *v >> 15;
                *v = v.saturating_add(set * ((bit ^ sign) - sign));
            }
        }
        bits.skip((passed & !self.keep.corner).count_ones());
    }
}

/// The first scan of an AC band (JPEG G.1.2.2): coefficients and runs of
/// blocks with nothing more in this band (end-of-band runs).
fn first_ac(
    bits: &mut Bits<'_>,
    table: &Huffman,
    band: &Band,
    eob_run: &mut u32,
    mut block: Block<'_>,
) -> Option<()> {
    if *eob_run > 0 {
        *eob_run -= 1;
        return Some(());
    }
    let mut k = band.start;
    while k <= band.end {
        bits.refill();
        let (run, value) = table.next_ac(bits)?;
        if value == 0 {
            if run == 15 {
                k += 16;
                continue;
            }
            // This block and 2^run - 1 + (run more bits) after it end here.
            *eob_run = (1 << run) - 1;
            if run > 0 {
                *eob_run += bits.receive(run as u32);
            }
            return Some(());
        }
        k += run;
        if k > band.end {
            return None;
        }
        block.set(k, value * (1 << band.low));
        k += 1;
    }
    Some(())
}

/// A refinement scan of an AC band (JPEG G.1.2.3): one more bit for each
/// coefficient already non-zero, and ±1 at this bit for the ones that become
/// non-zero, placed by counting the coefficients still zero. Positions are
/// found with the block's non-zero mask, and the correction bits of dropped
/// coefficients are stepped over in bulk: this scan is most of a
/// progressive file.
fn refine_ac(
    bits: &mut Bits<'_>,
    table: &Huffman,
    band: &Band,
    eob_run: &mut u32,
    mut block: Block<'_>,
) -> Option<()> {
    let bit = i16::try_from(1i32 << band.low).ok()?;
    let band_mask = span(band.start, band.end + 1);
    let mut k = band.start;
    if *eob_run == 0 {
        while k <= band.end {
            bits.refill();
            // (zeros, ±1 or 0): the sign bit comes with the code.
            let (zeros, value) = table.next_ac(bits)?;
            let zeros = zeros as u32;
            if value == 0 && zeros != 15 {
                *eob_run = 1 << zeros;
                if zeros > 0 {
                    *eob_run += bits.receive(zeros);
                }
                break;
            }
            if !(-1..=1).contains(&value) {
                return None;
            }
            // ±`bit`, or 0 for a run of 16 zeros: a multiply, as a branch on
            // the sign (a coin toss) mispredicted half the time.
            let new = value as i16 * bit;
            // The next coefficient goes at the zero after `zeros` more zeros
            // (a run of 16 zeros ends on its last); the non-zero ones passed
            // on the way take their correction bits first.
            let ahead = band_mask & (u64::MAX << k);
            let still_zero = drop_lowest(ahead & !*block.nonzero, zeros);
            let at = if still_zero == 0 {
                band.end + 1
            } else {
                still_zero.trailing_zeros() as usize
            };
            let before_at = !u64::MAX.checked_shl(at as u32).unwrap_or(0);
            block.refine(bits, *block.nonzero & ahead & before_at, bit);
            if new != 0 {
                if at > band.end {
                    return None;
                }
                block.set(at, i32::from(new));
            }
            k = at + 1;
        }
    }
    if *eob_run > 0 {
        // The rest of the band has no new coefficients: refine the others.
        let ahead = u64::MAX.checked_shl(k as u32).unwrap_or(0);
        block.refine(bits, *block.nonzero & band_mask & ahead, bit);
        *eob_run -= 1;
    }
    Some(())
}

/// `mask` without its lowest `n` (0..=15) set bits: in four steps by the
/// bits of `n`, each chosen without a branch (a loop of `n` steps was an
/// epoch check and a mispredicted exit per coefficient).
#[inline(always)]
fn drop_lowest(mut mask: u64, n: u32) -> u64 {
    let drop1 = |m: u64| m & m.wrapping_sub(1);
    let pick = |on: bool, a: u64, b: u64| if on { a } else { b };
    mask = pick(n & 1 != 0, drop1(mask), mask);
    mask = pick(n & 2 != 0, drop1(drop1(mask)), mask);
    let four = drop1(drop1(drop1(drop1(mask))));
    mask = pick(n & 4 != 0, four, mask);
    let eight = (0..8).fold(mask, |m, _| drop1(m));
    pick(n & 8 != 0, eight, mask)
}

/// Zig-zag positions `from..to` as a mask.
#[inline(always)]
fn span(from: usize, to: usize) -> u64 {
    // Positions below `n`, for `n` in 0..=64.
    let below = |n: usize| u64::MAX.checked_shr(64 - n.min(64) as u32).unwrap_or(0);
    below(to) & !below(from)
}

#[cfg(test)]
mod tests;
