//! Progressive JPEG at 1/8 scale from DC coefficients alone.
//!
//! At 1/8 the IDCT of a block is its DC term, and a progressive file carries
//! DC terms in scans of their own. So we entropy-decode only those scans, skip
//! the AC scans unread (most of the file), and keep one integer per block:
//! about 1/64 of what a general decoder holds for a progressive image.
//! Anything unusual (CMYK, 12-bit, arithmetic coding, a broken stream) returns
//! `None` and the caller uses the general decoder instead.

use super::jpeg_planes::{self, Plane};
use crate::pipeline::Image;

/// The 1/8-scale RGB image of a progressive JPEG, or `None` if this decoder
/// does not handle the file.
pub(super) fn decode(b: &[u8]) -> Option<Image> {
    let mut d = Dc::default();
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
            0xC2 => d.frame(body)?,
            0xC0 | 0xC1 | 0xC3 | 0xC5..=0xCF => return None,
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
struct Dc {
    width: usize,
    height: usize,
    components: Vec<Component>,
    /// The DC entry of each quantisation table.
    quant: [Option<u16>; 4],
    tables: [Option<Huffman>; 4],
    restart_interval: usize,
    adobe_transform: Option<u8>,
    /// Blocks per MCU row/column of an interleaved scan.
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
    dc: Vec<i32>,
    seen: bool,
}

impl Dc {
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
                dc: Vec::new(),
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
            c.dc = vec![0; c.blocks.0 * c.blocks.1];
        }
        Some(())
    }

    fn quant(&mut self, mut s: &[u8]) -> Option<()> {
        while let Some(&pq_tq) = s.first() {
            let (precision, id) = (pq_tq >> 4, usize::from(pq_tq & 15));
            let size = if precision == 0 { 64 } else { 128 };
            let table = s.get(1..1 + size)?;
            let dc = if precision == 0 {
                u16::from(table[0])
            } else {
                u16::from_be_bytes([table[0], table[1]])
            };
            *self.quant.get_mut(id)? = Some(dc);
            s = &s[1 + size..];
        }
        Some(())
    }

    fn huffman(&mut self, mut s: &[u8]) -> Option<()> {
        while let Some(&tc_th) = s.first() {
            let counts: [u8; 16] = s.get(1..17)?.try_into().ok()?;
            let total: usize = counts.iter().map(|&c| usize::from(c)).sum();
            let symbols = s.get(17..17 + total)?;
            if tc_th >> 4 == 0 {
                *self.tables.get_mut(usize::from(tc_th & 15))? =
                    Some(Huffman::new(&counts, symbols)?);
            }
            s = &s[17 + total..];
        }
        Some(())
    }

    fn scan(&mut self, header: &[u8], data: &[u8]) -> Option<()> {
        let n = usize::from(*header.first()?);
        let mut members = Vec::with_capacity(n);
        for i in 0..n {
            let id = *header.get(1 + 2 * i)?;
            let table = usize::from(*header.get(2 + 2 * i)? >> 4);
            let index = self.components.iter().position(|c| c.id == id)?;
            members.push((index, table));
        }
        let spectral_start = *header.get(1 + 2 * n)?;
        let approx = *header.get(3 + 2 * n)?;
        let (high, low) = (approx >> 4, u32::from(approx & 15));
        if spectral_start != 0 {
            return Some(());
        }
        if self.components.is_empty() || low > 13 {
            return None;
        }
        let mut bits = Bits::new(data);
        let mut predictors = vec![0i32; n];
        // (component, block x, block y) in the order the scan codes them.
        let mut units = Vec::new();
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
        let mut until_restart = self.restart_interval;
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
                units.clear();
                for (slot, &(index, _)) in members.iter().enumerate() {
                    let c = &self.components[index];
                    if single {
                        units.push((slot, x, y));
                    } else {
                        for v in 0..c.v {
                            for h in 0..c.h {
                                units.push((slot, x * c.h + h, y * c.v + v));
                            }
                        }
                    }
                }
                for &(slot, bx, by) in &units {
                    let (index, table) = members[slot];
                    let c = &mut self.components[index];
                    let at = by * c.blocks.0 + bx;
                    if high == 0 {
                        let huffman = self.tables.get(table)?.as_ref()?;
                        let size = huffman.decode(&mut bits)?;
                        predictors[slot] += bits.extend(size)?;
                        *c.dc.get_mut(at)? = predictors[slot] << low;
                    } else if bits.bit()? == 1 {
                        *c.dc.get_mut(at)? |= 1 << low;
                    }
                }
            }
        }
        for &(index, _) in &members {
            self.components[index].seen |= high == 0;
        }
        Some(())
    }

    fn finish(self) -> Option<Image> {
        if self.components.is_empty() || !self.components.iter().all(|c| c.seen) {
            return None;
        }
        let (w, h) = (self.width.div_ceil(8), self.height.div_ceil(8));
        let (hmax, vmax) = self.max_sampling;
        // Each component's 1/8-scale samples: dequantised DC / 8, level-shifted.
        let planes: Vec<Vec<u8>> = self
            .components
            .iter()
            .map(|c| {
                let q = i32::from(self.quant[c.quant].unwrap_or(1));
                c.dc.iter()
                    .map(|&dc| ((dc * q + 4).div_euclid(8) + 128).clamp(0, 255) as u8)
                    .collect()
            })
            .collect::<Vec<_>>();
        for c in &self.components {
            self.quant[c.quant]?;
        }
        let planes: Vec<Plane<'_>> = self
            .components
            .iter()
            .zip(&planes)
            .map(|(c, samples)| Plane {
                samples,
                stride: c.blocks.0,
                cols: (self.width * c.h).div_ceil(hmax).div_ceil(8),
                rows: (self.height * c.v).div_ceil(vmax).div_ceil(8),
                h: c.h,
                v: c.v,
            })
            .collect();
        let rgb = self.components.len() == 3 && self.adobe_transform == Some(0);
        Some(jpeg_planes::to_rgb(&planes, self.max_sampling, (w, h), rgb))
    }
}

/// A canonical Huffman table (JPEG F.2.2.3), decoded bit by bit.
struct Huffman {
    max_code: [i32; 17],
    offset: [i32; 17],
    symbols: Vec<u8>,
}

impl Huffman {
    fn new(counts: &[u8; 16], symbols: &[u8]) -> Option<Huffman> {
        let mut max_code = [-1i32; 17];
        let mut offset = [0i32; 17];
        let (mut code, mut k) = (0i32, 0i32);
        for len in 1..=16 {
            let n = i32::from(counts[len - 1]);
            offset[len] = k - code;
            code += n;
            k += n;
            if n > 0 {
                max_code[len] = code - 1;
            }
            if code > 1 << len {
                return None;
            }
            code <<= 1;
        }
        Some(Huffman {
            max_code,
            offset,
            symbols: symbols.to_vec(),
        })
    }

    fn decode(&self, bits: &mut Bits<'_>) -> Option<u8> {
        let mut code = 0i32;
        for len in 1..=16 {
            code = (code << 1) | i32::from(bits.bit()?);
            if code <= self.max_code[len] {
                return self
                    .symbols
                    .get(usize::try_from(code + self.offset[len]).ok()?)
                    .copied();
            }
        }
        None
    }
}

/// Entropy-coded bits: 0xFF00 is a literal 0xFF; a marker ends the data
/// (reads past it give zeros, as decoders do for truncated scans).
struct Bits<'a> {
    data: &'a [u8],
    pos: usize,
    byte: u8,
    left: u8,
}

impl<'a> Bits<'a> {
    fn new(data: &'a [u8]) -> Bits<'a> {
        Bits {
            data,
            pos: 0,
            byte: 0,
            left: 0,
        }
    }

    fn bit(&mut self) -> Option<u8> {
        if self.left == 0 {
            self.byte = self.next_byte();
            self.left = 8;
        }
        self.left -= 1;
        Some((self.byte >> self.left) & 1)
    }

    fn next_byte(&mut self) -> u8 {
        match (self.data.get(self.pos), self.data.get(self.pos + 1)) {
            (Some(0xFF), Some(0x00)) => {
                self.pos += 2;
                0xFF
            }
            (Some(0xFF), _) | (None, _) => 0,
            (Some(&b), _) => {
                self.pos += 1;
                b
            }
        }
    }

    /// `size` bits as a signed DC difference (JPEG F.2.2.1 EXTEND).
    fn extend(&mut self, size: u8) -> Option<i32> {
        if size == 0 {
            return Some(0);
        }
        if size > 16 {
            return None;
        }
        let mut v = 0i32;
        for _ in 0..size {
            v = (v << 1) | i32::from(self.bit()?);
        }
        Some(if v < 1 << (size - 1) {
            v - (1 << size) + 1
        } else {
            v
        })
    }

    /// Byte-aligns and steps over a restart marker.
    fn restart(&mut self) {
        self.left = 0;
        if self.data.get(self.pos) == Some(&0xFF)
            && matches!(self.data.get(self.pos + 1), Some(0xD0..=0xD7))
        {
            self.pos += 2;
        }
    }
}

/// The offset of the first marker after entropy-coded data starting at `from`
/// (0xFF followed by anything but a stuffed 0x00 or a restart marker).
pub(super) fn entropy_end(b: &[u8], from: usize) -> Option<usize> {
    let mut i = from;
    loop {
        i += b.get(i..)?.iter().position(|&x| x == 0xFF)?;
        match *b.get(i + 1)? {
            0x00 | 0xD0..=0xD7 | 0xFF => i += 1,
            _ => return Some(i),
        }
    }
}

#[cfg(test)]
mod tests;
