//! Baseline (sequential Huffman) JPEG at full scale or 1/2, 1/4 or 1/8.
//!
//! At scale 1/n a block's pixels are the n-times smaller inverse DCT of its
//! lowest (8/n)² coefficients, so every coefficient must still be
//! entropy-decoded but most are skipped once read. At full scale every
//! coefficient is kept and the 8×8 inverse DCT is `jpeg_idct8.rs` (through `Idct`). Entropy decoding dominates
//! a thumbnail of a baseline photo, so this decoder reads bits 57 at a time
//! and resolves codes of up to [`LOOKUP_BITS`] bits with one table lookup
//! (`jpeg-decoder` walks codes bit by bit): about twice as fast. Anything
//! unusual (progressive, CMYK, 12-bit, arithmetic coding, a broken stream)
//! returns `None` and the caller uses the general decoder.

use super::jpeg_huffman::{Bits, Huffman};
use super::jpeg_idct::{keep_table, samples_per_side, Idct, Keep};
use super::jpeg_syntax::{self, Frame, Headers};
use crate::pipeline::Image;

/// The image at 1/`shrink` (1, 2, 4 or 8) of its size, or `None` if this
/// decoder does not handle the file.
pub(super) fn decode(b: &[u8], shrink: u32) -> Option<Image> {
    let size = samples_per_side(shrink)?;
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
        let table = Huffman::new(counts, symbols)?;
        match class {
            0 => *self.dc_tables.get_mut(id)? = Some(table),
            1 => *self.ac_tables.get_mut(id)? = Some(table.with_skip()),
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
        let mut bits = Bits::new(data);
        let mut predictors = vec![0i32; members.len()];
        // The 64 an inverse DCT reads, and a scratch slot (`Keep::slots`).
        let mut coefs = [0i32; 65];
        let indices: Vec<usize> = members.iter().map(|m| m.0).collect();
        frame.scan_blocks(&indices, headers.restart_interval, |unit| {
            if unit.restart {
                bits.restart();
                predictors.iter_mut().for_each(|p| *p = 0);
            }
            let (_, dc, ac, quant) = members[unit.slot];
            let stride = frame.components[unit.index].blocks.0 * size;
            // Fixed lengths: a length known only at run time is a
            // `memory.fill` call in Wasmtime, per block.
            match size {
                1 => coefs[0] = 0,
                2 => coefs[..4].fill(0),
                4 => coefs[..16].fill(0),
                _ => coefs[..64].fill(0),
            }
            bits.refill();
            let dc_size = dc.decode(&mut bits)?;
            bits.refill();
            let diff = bits.receive_extend(dc_size)?;
            predictors[unit.slot] += diff;
            coefs[0] = predictors[unit.slot] * i32::from(quant[0]);
            let ac_seen = block_ac(&mut bits, ac, quant, &keep, &mut coefs)?;
            let at = unit.row * size * stride + unit.col * size;
            let out = self.samples[unit.index].get_mut(at..at + (size - 1) * stride + size)?;
            idct.apply(coefs.first_chunk()?, ac_seen, out, stride);
            Some(())
        })?;
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

/// Decodes a block's AC coefficients, keeping the low-frequency ones
/// (dequantised). Returns whether any kept AC coefficient is non-zero.
fn block_ac(
    bits: &mut Bits<'_>,
    ac: &Huffman,
    quant: &[u16; 64],
    keep: &Keep,
    coefs: &mut [i32; 65],
) -> Option<bool> {
    let scratch = keep.scratch();
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
        // Dropped ones go to the scratch slot (`Keep::slots`).
        let slot = usize::from(keep.slots[k.min(79)]);
        coefs[slot] = value * i32::from(quant[k & 63]);
        seen |= slot < scratch;
        k += 1;
    }
    // The rest only has to be stepped over (`jpeg_skip.rs`).
    ac.skip
        .as_ref()?
        .step_over(&ac.codes, bits, k)
        .is_some()
        .then_some(seen)
}

#[cfg(test)]
mod tests;
