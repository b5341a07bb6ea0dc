//! Progressive JPEG at 1/8 scale from DC coefficients alone.
//!
//! At 1/8 the IDCT of a block is its DC term, and a progressive file carries
//! DC terms in scans of their own. So we entropy-decode only those scans, skip
//! the AC scans unread (most of the file), and keep one integer per block:
//! about 1/64 of what a general decoder holds for a progressive image.
//! Anything unusual (CMYK, 12-bit, arithmetic coding, a broken stream) returns
//! `None` and the caller uses the general decoder instead.

use super::jpeg_syntax::{
    self, extend, next_byte, skip_restart_marker, Codes, Frame, Headers, Restarts,
};
use crate::pipeline::Image;

/// The 1/8-scale RGB image of a progressive JPEG, or `None` if this decoder
/// does not handle the file.
pub(super) fn decode(b: &[u8]) -> Option<Image> {
    jpeg_syntax::decode(b, Dc::default())
}

#[derive(Default)]
struct Dc {
    /// DC Huffman tables.
    tables: [Option<Codes>; 4],
    /// Each component's DC coefficients, one a block, `blocks.0` wide.
    dc: Vec<Vec<i32>>,
    /// Which components a first DC scan has coded.
    seen: Vec<bool>,
}

impl jpeg_syntax::Decoder for Dc {
    /// Progressive Huffman frames.
    fn reads(sof: u8) -> bool {
        sof == 0xC2
    }

    fn frame(&mut self, frame: &Frame) {
        self.dc = frame
            .components
            .iter()
            .map(|c| vec![0; c.blocks.0 * c.blocks.1])
            .collect();
        self.seen = vec![false; frame.components.len()];
    }

    /// Keeps DC tables; AC tables are never used.
    fn huffman(&mut self, class: u8, id: usize, counts: &[u8; 16], symbols: &[u8]) -> Option<()> {
        if class == 0 {
            *self.tables.get_mut(id)? = Some(Codes::new(counts, symbols)?);
        }
        Some(())
    }

    fn scan(&mut self, headers: &Headers, header: &[u8], data: &[u8]) -> Option<()> {
        let members = jpeg_syntax::scan_components(header, headers.components())?;
        let n = members.len();
        let spectral_start = *header.get(1 + 2 * n)?;
        let approx = *header.get(3 + 2 * n)?;
        let (high, low) = (approx >> 4, u32::from(approx & 15));
        if spectral_start != 0 {
            return Some(());
        }
        let frame = headers.frame.as_ref()?;
        if low > 13 {
            return None;
        }
        let mut bits = Bits {
            data,
            ..Bits::default()
        };
        let mut predictors = vec![0i32; n];
        // (component, block x, block y) in the order the scan codes them.
        let mut units = Vec::new();
        let single = n == 1;
        let (mx, my) = frame.scan_units(single.then(|| members[0].0));
        let mut restarts = Restarts::new(headers.restart_interval);
        for y in 0..my {
            for x in 0..mx {
                if restarts.due() {
                    bits.restart();
                    predictors.iter_mut().for_each(|p| *p = 0);
                }
                units.clear();
                for (slot, &(index, _)) in members.iter().enumerate() {
                    let c = &frame.components[index];
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
                    let (index, tables) = members[slot];
                    let at = by * frame.components[index].blocks.0 + bx;
                    let dc = &mut self.dc[index];
                    if high == 0 {
                        let codes = self.tables.get(usize::from(tables >> 4))?.as_ref()?;
                        let size = bits.symbol(codes)?;
                        predictors[slot] += bits.extend(size)?;
                        *dc.get_mut(at)? = predictors[slot] << low;
                    } else if bits.bit()? == 1 {
                        *dc.get_mut(at)? |= 1 << low;
                    }
                }
            }
        }
        for &(index, _) in &members {
            self.seen[index] |= high == 0;
        }
        Some(())
    }

    fn finish(self, headers: &Headers) -> Option<Image> {
        let frame = headers.frame.as_ref()?;
        if !self.seen.iter().all(|&s| s) {
            return None;
        }
        // Each component's 1/8-scale samples: dequantised DC / 8, level-shifted.
        let planes = frame
            .components
            .iter()
            .zip(&self.dc)
            .map(|(c, dc)| {
                let q = i32::from(headers.quant[c.quant].as_ref()?[0]);
                Some(
                    dc.iter()
                        .map(|&dc| ((dc * q + 4).div_euclid(8) + 128).clamp(0, 255) as u8)
                        .collect(),
                )
            })
            .collect::<Option<Vec<Vec<u8>>>>()?;
        headers.to_rgb(&planes, 1)
    }
}

/// Entropy-coded bits, read one at a time: 0xFF00 is a literal 0xFF; a
/// marker ends the data (reads past it give zeros, as decoders do for
/// truncated scans).
#[derive(Default)]
struct Bits<'a> {
    data: &'a [u8],
    pos: usize,
    byte: u8,
    left: u8,
}

impl Bits<'_> {
    fn bit(&mut self) -> Option<u8> {
        if self.left == 0 {
            self.byte = next_byte(self.data, &mut self.pos);
            self.left = 8;
        }
        self.left -= 1;
        Some((self.byte >> self.left) & 1)
    }

    /// The next Huffman-coded symbol, read bit by bit.
    fn symbol(&mut self, codes: &Codes) -> Option<u8> {
        let mut code = 0i32;
        for len in 1..=16 {
            code = (code << 1) | i32::from(self.bit()?);
            if let Some(symbol) = codes.symbol(len, code) {
                return Some(symbol);
            }
        }
        None
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
        Some(extend(v, u32::from(size)))
    }

    /// Byte-aligns and steps over a restart marker.
    fn restart(&mut self) {
        self.left = 0;
        skip_restart_marker(self.data, &mut self.pos);
    }
}

#[cfg(test)]
mod tests;
