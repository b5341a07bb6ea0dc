//! Baseline (sequential Huffman) JPEG at 1/2, 1/4 or 1/8 scale.
//!
//! At scale 1/n a block's pixels are the n-times smaller inverse DCT of its
//! lowest (8/n)² coefficients, so every coefficient must still be
//! entropy-decoded but most are skipped once read. Entropy decoding dominates
//! a thumbnail of a baseline photo, so this decoder reads bits 57 at a time
//! and resolves codes of up to [`LOOKUP_BITS`] bits with one table lookup
//! (`jpeg-decoder` walks codes bit by bit): about twice as fast. Anything
//! unusual (progressive, CMYK, 12-bit, arithmetic coding, a broken stream)
//! returns `None` and the caller uses the general decoder.

use super::jpeg_skip::{BitSource, SkipTable};
use super::jpeg_syntax::{
    self, extend, next_byte, skip_restart_marker, Codes, Frame, Headers, Restarts,
};
use crate::pipeline::Image;

/// Natural (row-major) index of each zig-zag position (JPEG Figure A.6).
const ZIGZAG: [u8; 64] = [
    0, 1, 8, 16, 9, 2, 3, 10, 17, 24, 32, 25, 18, 11, 4, 5, 12, 19, 26, 33, 40, 48, 41, 34, 27, 20,
    13, 6, 7, 14, 21, 28, 35, 42, 49, 56, 57, 50, 43, 36, 29, 22, 15, 23, 30, 37, 44, 51, 58, 59,
    52, 45, 38, 31, 39, 46, 53, 60, 61, 54, 47, 55, 62, 63,
];
const LOOKUP_BITS: u32 = 10;
const LOOKUP_SIZE: usize = 1 << LOOKUP_BITS;

/// The image at 1/`shrink` (2, 4 or 8) of its size, or `None` if this
/// decoder does not handle the file.
pub(super) fn decode(b: &[u8], shrink: u32) -> Option<Image> {
    let size = match shrink {
        2 => 4,
        4 => 2,
        8 => 1,
        _ => return None,
    };
    jpeg_syntax::decode(
        b,
        Scaled {
            size,
            ..Scaled::default()
        },
    )
}

#[derive(Default)]
struct Scaled {
    /// Output samples per block side: 8 / shrink.
    size: usize,
    dc_tables: [Option<Huffman>; 4],
    ac_tables: [Option<Huffman>; 4],
    /// Each component's decoded samples, `blocks.0 * size` wide.
    samples: Vec<Vec<u8>>,
    /// Which components a scan has decoded.
    seen: Vec<bool>,
}

impl jpeg_syntax::Decoder for Scaled {
    /// Baseline and extended sequential Huffman frames.
    fn reads(sof: u8) -> bool {
        matches!(sof, 0xC0 | 0xC1)
    }

    fn frame(&mut self, frame: &Frame) {
        let size = self.size;
        self.samples = frame
            .components
            .iter()
            .map(|c| vec![0; c.blocks.0 * c.blocks.1 * size * size])
            .collect();
        self.seen = vec![false; frame.components.len()];
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
        let members = jpeg_syntax::scan_components(header, &frame.components)?
            .into_iter()
            .map(|(index, tables)| {
                let dc = self.dc_tables.get(usize::from(tables >> 4))?.as_ref()?;
                let ac = self.ac_tables.get(usize::from(tables & 15))?.as_ref()?;
                let quant = headers.quant[frame.components[index].quant].as_ref()?;
                Some((index, dc, ac, quant))
            })
            .collect::<Option<Vec<_>>>()?;
        if members.is_empty() {
            return None;
        }
        let size = self.size;
        let keep = keep_table(size);
        let idct = Idct::new(size);
        let single = members.len() == 1;
        let (mx, my) = frame.scan_units(single.then_some(members[0].0));
        let mut bits = Bits {
            data,
            ..Bits::default()
        };
        let mut predictors = vec![0i32; members.len()];
        let mut restarts = Restarts::new(headers.restart_interval);
        let mut coefs = [0i32; 16];
        for y in 0..my {
            for x in 0..mx {
                if restarts.due() {
                    bits.restart();
                    predictors.iter_mut().for_each(|p| *p = 0);
                }
                for (slot, &(index, dc, ac, quant)) in members.iter().enumerate() {
                    let c = &frame.components[index];
                    let (h, v, stride) = (c.h, c.v, c.blocks.0 * size);
                    let samples = &mut self.samples[index];
                    let (bh, bv) = if single { (1, 1) } else { (h, v) };
                    for by in 0..bv {
                        for bx in 0..bh {
                            let (col, row) = if single {
                                (x, y)
                            } else {
                                (x * h + bx, y * v + by)
                            };
                            coefs[..size * size].fill(0);
                            bits.refill();
                            let dc_size = dc.decode(&mut bits)?;
                            bits.refill();
                            let diff = bits.receive_extend(dc_size)?;
                            predictors[slot] += diff;
                            coefs[0] = predictors[slot] * i32::from(quant[0]);
                            let ac_seen = block_ac(&mut bits, ac, quant, &keep, &mut coefs)?;
                            let at = row * size * stride + col * size;
                            let out = samples.get_mut(at..at + (size - 1) * stride + size)?;
                            idct.apply(&coefs, ac_seen, out, stride);
                        }
                    }
                }
            }
        }
        for &(index, ..) in &members {
            self.seen[index] = true;
        }
        Some(())
    }

    fn finish(self, headers: &Headers) -> Option<Image> {
        if headers.frame.is_none() || !self.seen.iter().all(|&s| s) {
            return None;
        }
        headers.to_rgb(&self.samples, self.size)
    }
}

/// Which coefficients a scale keeps.
struct Keep {
    /// For each zig-zag position, its index in the kept `size`×`size`
    /// low-frequency corner, or `u8::MAX` if it is dropped.
    index: [u8; 64],
    /// The last zig-zag position kept.
    last: usize,
}

fn keep_table(size: usize) -> Keep {
    let mut keep = Keep {
        index: [u8::MAX; 64],
        last: 0,
    };
    for (k, &natural) in ZIGZAG.iter().enumerate() {
        let (row, col) = (usize::from(natural) / 8, usize::from(natural) % 8);
        if row < size && col < size {
            keep.index[k] = (row * size + col) as u8;
            keep.last = k;
        }
    }
    keep
}

/// Decodes a block's AC coefficients, keeping the low-frequency ones
/// (dequantised). Returns whether any kept AC coefficient is non-zero.
fn block_ac(
    bits: &mut Bits<'_>,
    ac: &Huffman,
    quant: &[u16; 64],
    keep: &Keep,
    coefs: &mut [i32; 16],
) -> Option<bool> {
    let mut seen = false;
    let mut k = 1;
    // While kept coefficients may still come: decode and store them.
    while k <= keep.last {
        bits.refill();
        let (run, value) = ac.next_ac(bits)?;
        if value == 0 {
            if run != 15 {
                return Some(seen);
            }
            k += 16;
            continue;
        }
        k += run;
        if k < 64 && keep.index[k] != u8::MAX {
            coefs[usize::from(keep.index[k])] = value * i32::from(quant[k]);
            seen = true;
        }
        k += 1;
    }
    // The rest only has to be stepped over (`jpeg_skip.rs`).
    ac.skip
        .step_over(&ac.codes, bits, k)
        .is_some()
        .then_some(seen)
}

/// The `size`-point inverse DCT of a block's lowest `size`×`size`
/// coefficients: `f(i, j) = 1/4 Σ c(u) c(v) F(u, v) cos((2i+1)uπ/2n) cos((2j+1)vπ/2n)`
/// with `n = size`, which for `size` 1 is the DC term / 8 (JPEG's scaled
/// decoding, as libjpeg's reduced-size IDCTs compute it).
struct Idct {
    size: usize,
    /// basis[i * size + u] = c(u) cos((2i+1)uπ/2n) / 2
    basis: [f32; 16],
}

impl Idct {
    fn new(size: usize) -> Idct {
        let mut basis = [0.0; 16];
        for i in 0..size {
            for u in 0..size {
                let c = if u == 0 {
                    std::f32::consts::FRAC_1_SQRT_2
                } else {
                    1.0
                };
                let angle = ((2 * i + 1) * u) as f32 * std::f32::consts::PI / (2 * size) as f32;
                basis[i * size + u] = c * angle.cos() / 2.0;
            }
        }
        Idct { size, basis }
    }

    /// Writes the level-shifted, clamped pixels to `out` (rows `stride` apart).
    fn apply(&self, coefs: &[i32; 16], ac: bool, out: &mut [u8], stride: usize) {
        let n = self.size;
        if !ac {
            let v = clamp(coefs[0] as f32 / 8.0);
            for row in 0..n {
                out[row * stride..row * stride + n].fill(v);
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
        // Rows (over u, per v), then columns (over v, per output j).
        let mut tmp = [0.0f32; 16];
        for v in 0..n {
            for i in 0..n {
                tmp[v * n + i] = (0..n)
                    .map(|u| self.basis[i * n + u] * coefs[v * n + u] as f32)
                    .sum();
            }
        }
        for j in 0..n {
            for i in 0..n {
                let s: f32 = (0..n).map(|v| self.basis[j * n + v] * tmp[v * n + i]).sum();
                out[j * stride + i] = clamp(s);
            }
        }
    }
}

fn clamp(v: f32) -> u8 {
    (v + 128.5).clamp(0.0, 255.0) as u8
}

/// A canonical Huffman table with a [`LOOKUP_BITS`]-bit lookup for short
/// codes and JPEG F.2.2.3's max-code search for longer ones.
struct Huffman {
    /// (length << 8) | symbol for each `LOOKUP_BITS`-bit prefix; 0 = longer code.
    lookup: Box<[u16; LOOKUP_SIZE]>,
    /// For AC tables: when a prefix holds a whole coefficient (code and its
    /// extra bits), `value << 8 | run << 4 | bits used`, value 0 for end of
    /// block or 16 zeros; 0 when the prefix does not resolve.
    fast_ac: Box<[i32; LOOKUP_SIZE]>,
    /// For AC tables: stepping over coefficients that are dropped.
    skip: SkipTable,
    codes: Codes,
}

impl Huffman {
    fn new(counts: &[u8; 16], symbols: &[u8]) -> Option<Huffman> {
        let codes = Codes::new(counts, symbols)?;
        let lookup: Box<[u16; LOOKUP_SIZE]> = codes
            .prefix_table(LOOKUP_BITS)
            .into_boxed_slice()
            .try_into()
            .ok()?;
        let mut fast_ac = Box::new([0i32; LOOKUP_SIZE]);
        for (prefix, fast) in fast_ac.iter_mut().enumerate() {
            *fast = {
                let entry = lookup[prefix];
                let (len, rs) = (u32::from(entry >> 8), entry as u8);
                let (run, size) = (i32::from(rs >> 4), u32::from(rs & 15));
                if entry == 0 || len + size > LOOKUP_BITS {
                    0
                } else if size == 0 {
                    // End of block or a run of 16 zeros: value 0, which no
                    // coefficient has.
                    run << 4 | len as i32
                } else {
                    let extra = (prefix >> (LOOKUP_BITS - len - size)) as i32 & ((1 << size) - 1);
                    extend(extra, size) << 8 | run << 4 | (len + size) as i32
                }
            };
        }
        let skip = SkipTable::new(&codes);
        Some(Huffman {
            lookup,
            fast_ac,
            skip,
            codes,
        })
    }

    /// The next AC (run, value), value 0 for end of block (run 0) or 16
    /// zeros (run 15); the caller has refilled.
    #[inline]
    fn next_ac(&self, bits: &mut Bits<'_>) -> Option<(usize, i32)> {
        let fast = self.fast_ac[bits.peek(LOOKUP_BITS) as usize];
        if fast != 0 {
            bits.consume((fast & 15) as u32);
            return Some((((fast >> 4) & 15) as usize, fast >> 8));
        }
        let rs = self.decode(bits)?;
        let (run, size) = (usize::from(rs >> 4), rs & 15);
        Some((run, bits.receive_extend(size)?))
    }

    /// The next symbol; the caller has refilled.
    #[inline]
    fn decode(&self, bits: &mut Bits<'_>) -> Option<u8> {
        let entry = self.lookup[bits.peek(LOOKUP_BITS) as usize];
        if entry != 0 {
            bits.consume(u32::from(entry >> 8));
            return Some(entry as u8);
        }
        let (len, symbol) = self.codes.longer(bits.peek(16), LOOKUP_BITS)?;
        bits.consume(len);
        Some(symbol)
    }
}

impl BitSource for Bits<'_> {
    #[inline]
    fn refill(&mut self) {
        Bits::refill(self);
    }

    #[inline]
    fn peek(&self, n: u32) -> u64 {
        Bits::peek(self, n)
    }

    #[inline]
    fn consume(&mut self, n: u32) {
        Bits::consume(self, n);
    }
}

/// Entropy-coded bits, most significant first, buffered 57+ at a time.
/// 0xFF00 is a literal 0xFF; at a marker the reader feeds zeros without
/// passing it (as decoders do for truncated scans), until a restart.
#[derive(Default)]
struct Bits<'a> {
    data: &'a [u8],
    pos: usize,
    acc: u64,
    count: u32,
}

impl Bits<'_> {
    /// Tops the buffer up to at least 57 bits: whole bytes, eight at a
    /// time while none of them is 0xFF.
    #[inline]
    fn refill(&mut self) {
        if self.count > 32 {
            return;
        }
        if let Some(chunk) = self.data.get(self.pos..self.pos + 8) {
            let chunk = u64::from_be_bytes(chunk.try_into().unwrap_or_default());
            let inverted = !chunk;
            let has_ff =
                inverted.wrapping_sub(0x0101_0101_0101_0101) & !inverted & 0x8080_8080_8080_8080;
            if has_ff == 0 {
                let bytes = (64 - self.count) / 8;
                let kept = chunk >> (64 - 8 * bytes) << (64 - 8 * bytes);
                self.acc |= kept >> self.count;
                self.count += 8 * bytes;
                self.pos += bytes as usize;
                return;
            }
        }
        while self.count <= 56 {
            let byte = next_byte(self.data, &mut self.pos);
            self.acc |= u64::from(byte) << (56 - self.count);
            self.count += 8;
        }
    }

    /// The next `n` (1..=16) bits; the caller has refilled.
    #[inline]
    fn peek(&self, n: u32) -> u64 {
        self.acc >> (64 - n)
    }

    #[inline]
    fn consume(&mut self, n: u32) {
        self.acc <<= n;
        self.count -= n;
    }

    /// `size` bits as a signed coefficient (JPEG F.2.2.1 EXTEND).
    #[inline]
    fn receive_extend(&mut self, size: u8) -> Option<i32> {
        if size == 0 {
            return Some(0);
        }
        if size > 16 {
            return None;
        }
        self.refill();
        let n = u32::from(size);
        let v = self.peek(n) as i32;
        self.consume(n);
        Some(extend(v, n))
    }

    /// Drops the buffered bits and steps over a restart marker.
    fn restart(&mut self) {
        self.acc = 0;
        self.count = 0;
        skip_restart_marker(self.data, &mut self.pos);
    }
}

#[cfg(test)]
mod tests;
