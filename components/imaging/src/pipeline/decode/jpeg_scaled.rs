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

use super::jpeg_dc::entropy_end;
use super::jpeg_planes::{self, Plane};
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
    let mut d = Decoder {
        size,
        ..Decoder::default()
    };
    let mut at = 2;
    loop {
        if *b.get(at)? != 0xFF {
            return None;
        }
        let marker = *b.get(at + 1)?;
        if marker == 0xFF {
            at += 1;
            continue;
        }
        if marker == 0xD9 {
            return d.finish();
        }
        let len = usize::from(u16::from_be_bytes([*b.get(at + 2)?, *b.get(at + 3)?]));
        let body = b.get(at + 4..at + 2 + len)?;
        at += 2 + len;
        match marker {
            0xC0 | 0xC1 => d.frame(body)?,
            0xC2 | 0xC3 | 0xC5..=0xCF => return None,
            0xDB => d.quant(body)?,
            0xC4 => d.huffman(body)?,
            0xDD => {
                d.restart_interval =
                    usize::from(u16::from_be_bytes([*body.first()?, *body.get(1)?]))
            }
            0xEE if body.starts_with(b"Adobe") => d.adobe_transform = Some(*body.get(11)?),
            0xDA => {
                let end = entropy_end(b, at)?;
                d.scan(body, &b[at..end])?;
                at = end;
            }
            _ => {}
        }
    }
}

#[derive(Default)]
struct Decoder {
    /// Output samples per block side: 8 / shrink.
    size: usize,
    width: usize,
    height: usize,
    components: Vec<Component>,
    /// Quantisation tables in zig-zag order.
    quant: [Option<[u16; 64]>; 4],
    dc_tables: [Option<Huffman>; 4],
    ac_tables: [Option<Huffman>; 4],
    restart_interval: usize,
    adobe_transform: Option<u8>,
    mcus: (usize, usize),
    max_sampling: (usize, usize),
}

struct Component {
    id: u8,
    h: usize,
    v: usize,
    quant: usize,
    /// Blocks across and down, padded to whole MCUs.
    blocks: (usize, usize),
    /// Decoded samples, `blocks.0 * size` wide.
    samples: Vec<u8>,
    seen: bool,
}

impl Decoder {
    fn frame(&mut self, f: &[u8]) -> Option<()> {
        if *f.first()? != 8 || !self.components.is_empty() {
            return None;
        }
        self.height = usize::from(u16::from_be_bytes([*f.get(1)?, *f.get(2)?]));
        self.width = usize::from(u16::from_be_bytes([*f.get(3)?, *f.get(4)?]));
        let n = usize::from(*f.get(5)?);
        if self.width == 0 || self.height == 0 || !(n == 1 || n == 3) {
            return None;
        }
        for i in 0..n {
            let c = f.get(6 + 3 * i..9 + 3 * i)?;
            let (h, v) = (usize::from(c[1] >> 4), usize::from(c[1] & 15));
            if !(1..=4).contains(&h) || !(1..=4).contains(&v) || c[2] > 3 {
                return None;
            }
            self.components.push(Component {
                id: c[0],
                h,
                v,
                quant: usize::from(c[2]),
                blocks: (0, 0),
                samples: Vec::new(),
                seen: false,
            });
        }
        let hmax = self.components.iter().map(|c| c.h).max()?;
        let vmax = self.components.iter().map(|c| c.v).max()?;
        self.max_sampling = (hmax, vmax);
        self.mcus = (
            self.width.div_ceil(8 * hmax),
            self.height.div_ceil(8 * vmax),
        );
        for c in &mut self.components {
            c.blocks = (self.mcus.0 * c.h, self.mcus.1 * c.v);
            c.samples = vec![0; c.blocks.0 * c.blocks.1 * self.size * self.size];
        }
        Some(())
    }

    fn quant(&mut self, mut s: &[u8]) -> Option<()> {
        while let Some(&pq_tq) = s.first() {
            let (precision, id) = (pq_tq >> 4, usize::from(pq_tq & 15));
            let size = if precision == 0 { 64 } else { 128 };
            let table = s.get(1..1 + size)?;
            let mut q = [0u16; 64];
            for (k, v) in q.iter_mut().enumerate() {
                *v = if precision == 0 {
                    u16::from(table[k])
                } else {
                    u16::from_be_bytes([table[2 * k], table[2 * k + 1]])
                };
            }
            *self.quant.get_mut(id)? = Some(q);
            s = &s[1 + size..];
        }
        Some(())
    }

    fn huffman(&mut self, mut s: &[u8]) -> Option<()> {
        while let Some(&tc_th) = s.first() {
            let counts: [u8; 16] = s.get(1..17)?.try_into().ok()?;
            let total: usize = counts.iter().map(|&c| usize::from(c)).sum();
            let symbols = s.get(17..17 + total)?;
            let table = Some(Huffman::new(&counts, symbols)?);
            let id = usize::from(tc_th & 15);
            match tc_th >> 4 {
                0 => *self.dc_tables.get_mut(id)? = table,
                1 => *self.ac_tables.get_mut(id)? = table,
                _ => return None,
            }
            s = &s[17 + total..];
        }
        Some(())
    }

    fn scan(&mut self, header: &[u8], data: &[u8]) -> Option<()> {
        let n = usize::from(*header.first()?);
        if self.components.is_empty() || n == 0 {
            return None;
        }
        let mut members = Vec::with_capacity(n);
        for i in 0..n {
            let id = *header.get(1 + 2 * i)?;
            let tables = *header.get(2 + 2 * i)?;
            let index = self.components.iter().position(|c| c.id == id)?;
            let c = &self.components[index];
            let dc = self.dc_tables.get(usize::from(tables >> 4))?.as_ref()?;
            let ac = self.ac_tables.get(usize::from(tables & 15))?.as_ref()?;
            let quant = self.quant[c.quant].as_ref()?;
            members.push((index, dc, ac, quant));
        }
        let size = self.size;
        let keep = keep_table(size);
        let idct = Idct::new(size);
        let single = n == 1;
        let (mx, my) = if single {
            let c = &self.components[members[0].0];
            let w = (self.width * c.h).div_ceil(self.max_sampling.0).div_ceil(8);
            let h = (self.height * c.v)
                .div_ceil(self.max_sampling.1)
                .div_ceil(8);
            (w, h)
        } else {
            self.mcus
        };
        let mut bits = Bits::new(data);
        let mut predictors = vec![0i32; n];
        let mut until_restart = self.restart_interval;
        let mut coefs = [0i32; 16];
        for y in 0..my {
            for x in 0..mx {
                if self.restart_interval > 0 {
                    if until_restart == 0 {
                        bits.restart();
                        predictors.iter_mut().for_each(|p| *p = 0);
                        until_restart = self.restart_interval;
                    }
                    until_restart -= 1;
                }
                for (slot, &(index, dc, ac, quant)) in members.iter().enumerate() {
                    let c = &mut self.components[index];
                    let (h, v, stride) = (c.h, c.v, c.blocks.0 * size);
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
                            let out = c.samples.get_mut(at..at + (size - 1) * stride + size)?;
                            idct.apply(&coefs, ac_seen, out, stride);
                        }
                    }
                }
            }
        }
        for &(index, ..) in &members {
            self.components[index].seen = true;
        }
        Some(())
    }

    fn finish(self) -> Option<Image> {
        if self.components.is_empty() || !self.components.iter().all(|c| c.seen) {
            return None;
        }
        let size = self.size;
        let (hmax, vmax) = self.max_sampling;
        let planes: Vec<Plane<'_>> = self
            .components
            .iter()
            .map(|c| Plane {
                samples: &c.samples,
                stride: c.blocks.0 * size,
                cols: ((self.width * c.h).div_ceil(hmax) * size).div_ceil(8),
                rows: ((self.height * c.v).div_ceil(vmax) * size).div_ceil(8),
                h: c.h,
                v: c.v,
            })
            .collect();
        let rgb = self.components.len() == 3 && self.adobe_transform == Some(0);
        Some(jpeg_planes::to_rgb(
            &planes,
            self.max_sampling,
            (
                (self.width * size).div_ceil(8),
                (self.height * size).div_ceil(8),
            ),
            rgb,
        ))
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
    // The rest only has to be stepped over.
    while k < 64 {
        bits.refill();
        let (run, value) = ac.next_ac(bits)?;
        if value == 0 {
            if run != 15 {
                break;
            }
            k += 16;
            continue;
        }
        k += run + 1;
    }
    (k <= 64).then_some(seen)
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

/// JPEG F.2.2.1 EXTEND: `size` raw bits as a signed value.
#[inline]
fn extend(v: i32, size: u32) -> i32 {
    if v < 1 << (size - 1) {
        v - (1 << size) + 1
    } else {
        v
    }
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
    max_code: [i32; 18],
    offset: [i32; 17],
    symbols: Vec<u8>,
}

impl Huffman {
    fn new(counts: &[u8; 16], symbols: &[u8]) -> Option<Huffman> {
        let mut max_code = [-1i32; 18];
        max_code[17] = i32::MAX;
        let mut offset = [0i32; 17];
        let mut lookup = Box::new([0u16; LOOKUP_SIZE]);
        let (mut code, mut k) = (0i32, 0usize);
        for len in 1..=16 {
            let n = usize::from(counts[len - 1]);
            offset[len] = k as i32 - code;
            for _ in 0..n {
                let symbol = *symbols.get(k)?;
                // More codes than the length allows: not a prefix code.
                if code >= 1 << len {
                    return None;
                }
                if len <= LOOKUP_BITS as usize {
                    let shift = LOOKUP_BITS as usize - len;
                    let first = (code as usize) << shift;
                    let entry = (len as u16) << 8 | u16::from(symbol);
                    lookup[first..first + (1 << shift)].fill(entry);
                }
                code += 1;
                k += 1;
            }
            if n > 0 {
                max_code[len] = code - 1;
            }
            if code > 1 << len {
                return None;
            }
            code <<= 1;
        }
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
        Some(Huffman {
            lookup,
            fast_ac,
            max_code,
            offset,
            symbols: symbols.to_vec(),
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
        let code = bits.peek(16) as i32;
        for len in LOOKUP_BITS as usize + 1..=16 {
            let c = code >> (16 - len);
            if c <= self.max_code[len] {
                bits.consume(len as u32);
                return self
                    .symbols
                    .get(usize::try_from(c + self.offset[len]).ok()?)
                    .copied();
            }
        }
        None
    }
}

/// Entropy-coded bits, most significant first, buffered 57+ at a time.
/// 0xFF00 is a literal 0xFF; at a marker the reader feeds zeros without
/// passing it (as decoders do for truncated scans), until a restart.
struct Bits<'a> {
    data: &'a [u8],
    pos: usize,
    acc: u64,
    count: u32,
}

impl<'a> Bits<'a> {
    fn new(data: &'a [u8]) -> Bits<'a> {
        Bits {
            data,
            pos: 0,
            acc: 0,
            count: 0,
        }
    }

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
            let byte = match self.data.get(self.pos) {
                Some(0xFF) if self.data.get(self.pos + 1) == Some(&0) => {
                    self.pos += 2;
                    0xFF
                }
                Some(0xFF) | None => 0,
                Some(&b) => {
                    self.pos += 1;
                    b
                }
            };
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
        Some(if v < 1 << (n - 1) {
            v - (1 << n) + 1
        } else {
            v
        })
    }

    /// Drops the buffered bits and steps over a restart marker.
    fn restart(&mut self) {
        self.acc = 0;
        self.count = 0;
        if self.data.get(self.pos) == Some(&0xFF)
            && matches!(self.data.get(self.pos + 1), Some(0xD0..=0xD7))
        {
            self.pos += 2;
        }
    }
}

#[cfg(test)]
mod tests;
