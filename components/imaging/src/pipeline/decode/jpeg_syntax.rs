//! JPEG syntax shared by the reduced-scale decoders (`jpeg_scaled`,
//! `jpeg_progressive`): the marker walk, the frame header, quantisation and
//! Huffman tables, restart intervals, and the planes a frame decodes to.
//! Each decoder brings its own entropy decoding and keeps its own fast paths.

use super::jpeg_planes::{self, Plane};
use crate::pipeline::Image;
use crate::probe::be16;

/// What a reduced-scale decoder does with the segments [`decode`] hands it.
pub(super) trait Decoder {
    /// Whether this decoder reads frames of this SOFn marker; any other frame
    /// type means the file is not for it.
    fn reads(sof: u8) -> bool;
    /// The frame header has been read: room for the decoded components.
    fn frame(&mut self, frame: &Frame);
    /// One table of a DHT segment: `class` 0 for DC, 1 for AC.
    fn huffman(&mut self, class: u8, id: usize, counts: &[u8; 16], symbols: &[u8]) -> Option<()>;
    /// One scan: its SOS header and its entropy-coded data.
    fn scan(&mut self, headers: &Headers, header: &[u8], data: &[u8]) -> Option<()>;
    /// The image, at the end of the file.
    fn finish(self, headers: &Headers) -> Option<Image>;
}

/// Walks the marker segments of `b` into `d`; `None` when the file is
/// broken or not for this decoder.
pub(super) fn decode<D: Decoder>(b: &[u8], mut d: D) -> Option<Image> {
    let mut headers = Headers::default();
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
            return d.finish(&headers);
        }
        let len = usize::from(be16(b, at + 2)?);
        let body = b.get(at + 4..at + 2 + len)?;
        at += 2 + len;
        match marker {
            0xC0..=0xC3 | 0xC5..=0xCF if D::reads(marker) && headers.frame.is_none() => {
                let frame = Frame::parse(body)?;
                d.frame(&frame);
                headers.frame = Some(frame);
            }
            0xC0..=0xC3 | 0xC5..=0xCF => return None,
            0xDB => headers.quant(body)?,
            0xC4 => huffman_tables(body, |class, id, counts, symbols| {
                d.huffman(class, id, counts, symbols)
            })?,
            0xDD => headers.restart_interval = usize::from(be16(body, 0)?),
            0xEE if body.starts_with(b"Adobe") => headers.adobe_transform = Some(*body.get(11)?),
            0xDA => {
                let end = entropy_end(b, at)?;
                d.scan(&headers, body, &b[at..end])?;
                at = end;
            }
            _ => {}
        }
    }
}

/// What the segments before a scan have said.
#[derive(Default)]
pub(super) struct Headers {
    pub frame: Option<Frame>,
    /// Quantisation tables in zig-zag order.
    pub quant: [Option<[u16; 64]>; 4],
    /// MCUs between restart markers; 0 for none.
    pub restart_interval: usize,
    /// The Adobe APP14 colour transform flag (0: RGB, not YCbCr).
    pub adobe_transform: Option<u8>,
}

impl Headers {
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

    /// RGB pixels from one decoded plane per component, `size` samples per
    /// block side (8 / shrink), each plane `blocks.0 * size` samples wide.
    pub fn to_rgb(&self, samples: &[Vec<u8>], size: usize) -> Option<Image> {
        let f = self.frame.as_ref()?;
        let (hmax, vmax) = f.max_sampling;
        let planes: Vec<Plane<'_>> = f
            .components
            .iter()
            .zip(samples)
            .map(|(c, samples)| Plane {
                samples,
                stride: c.blocks.0 * size,
                cols: ((f.width * c.h).div_ceil(hmax) * size).div_ceil(8),
                rows: ((f.height * c.v).div_ceil(vmax) * size).div_ceil(8),
                h: c.h,
                v: c.v,
            })
            .collect();
        let rgb = f.components.len() == 3 && self.adobe_transform == Some(0);
        let out = ((f.width * size).div_ceil(8), (f.height * size).div_ceil(8));
        Some(jpeg_planes::to_rgb(&planes, f.max_sampling, out, rgb))
    }
}

/// An 8-bit grey or three-component frame header (SOFn).
pub(super) struct Frame {
    pub width: usize,
    pub height: usize,
    pub components: Vec<Component>,
    /// The largest sampling factors.
    pub max_sampling: (usize, usize),
    /// MCUs across and down an interleaved scan.
    pub mcus: (usize, usize),
}

pub(super) struct Component {
    pub id: u8,
    /// Sampling factors.
    pub h: usize,
    pub v: usize,
    /// Quantisation table.
    pub quant: usize,
    /// Blocks across and down, padded to whole MCUs.
    pub blocks: (usize, usize),
}

impl Frame {
    fn parse(f: &[u8]) -> Option<Frame> {
        if *f.first()? != 8 {
            return None;
        }
        let height = usize::from(be16(f, 1)?);
        let width = usize::from(be16(f, 3)?);
        let n = usize::from(*f.get(5)?);
        if width == 0 || height == 0 || !(n == 1 || n == 3) {
            return None;
        }
        let mut components = Vec::with_capacity(n);
        for i in 0..n {
            let c = f.get(6 + 3 * i..9 + 3 * i)?;
            let (h, v) = (usize::from(c[1] >> 4), usize::from(c[1] & 15));
            if !(1..=4).contains(&h) || !(1..=4).contains(&v) || c[2] > 3 {
                return None;
            }
            components.push(Component {
                id: c[0],
                h,
                v,
                quant: usize::from(c[2]),
                blocks: (0, 0),
            });
        }
        let hmax = components.iter().map(|c| c.h).max()?;
        let vmax = components.iter().map(|c| c.v).max()?;
        let mcus = (width.div_ceil(8 * hmax), height.div_ceil(8 * vmax));
        for c in &mut components {
            c.blocks = (mcus.0 * c.h, mcus.1 * c.v);
        }
        Some(Frame {
            width,
            height,
            components,
            max_sampling: (hmax, vmax),
            mcus,
        })
    }

    /// The units across and down a scan codes: whole MCUs when it
    /// interleaves components, else the `single` component's own blocks
    /// (without the MCU padding).
    pub fn scan_units(&self, single: Option<usize>) -> (usize, usize) {
        match single {
            Some(index) => {
                let c = &self.components[index];
                let w = (self.width * c.h).div_ceil(self.max_sampling.0).div_ceil(8);
                let h = (self.height * c.v)
                    .div_ceil(self.max_sampling.1)
                    .div_ceil(8);
                (w, h)
            }
            None => self.mcus,
        }
    }

    /// Calls `block` for each block a scan of `members` (component
    /// indices) codes, in its order; `interval` is the restart interval in
    /// MCUs (0: none).
    #[inline(always)]
    pub fn scan_blocks(
        &self,
        members: &[usize],
        interval: usize,
        mut block: impl FnMut(Unit) -> Option<()>,
    ) -> Option<()> {
        let single = members.len() == 1;
        let (mx, my) = self.scan_units(single.then(|| members[0]));
        let mut restarts = Restarts::new(interval);
        for y in 0..my {
            for x in 0..mx {
                let mut restart = restarts.due();
                for (slot, &index) in members.iter().enumerate() {
                    let c = &self.components[index];
                    let (bh, bv) = if single { (1, 1) } else { (c.h, c.v) };
                    for by in 0..bv {
                        for bx in 0..bh {
                            let (col, row) = if single {
                                (x, y)
                            } else {
                                (x * c.h + bx, y * c.v + by)
                            };
                            block(Unit {
                                slot,
                                index,
                                col,
                                row,
                                at: row * c.blocks.0 + col,
                                restart,
                            })?;
                            restart = false;
                        }
                    }
                }
            }
        }
        Some(())
    }
}

/// For each component an SOS header names: its index among `components` and
/// its table selectors (DC << 4 | AC).
pub(super) fn scan_components(header: &[u8], components: &[Component]) -> Option<Vec<(usize, u8)>> {
    let n = usize::from(*header.first()?);
    (0..n)
        .map(|i| {
            let id = *header.get(1 + 2 * i)?;
            let tables = *header.get(2 + 2 * i)?;
            Some((components.iter().position(|c| c.id == id)?, tables))
        })
        .collect()
}

/// Each table of a DHT segment as (class, id, code counts per length, symbols).
fn huffman_tables(
    mut s: &[u8],
    mut table: impl FnMut(u8, usize, &[u8; 16], &[u8]) -> Option<()>,
) -> Option<()> {
    while let Some(&tc_th) = s.first() {
        let counts: [u8; 16] = s.get(1..17)?.try_into().ok()?;
        let total: usize = counts.iter().map(|&c| usize::from(c)).sum();
        let symbols = s.get(17..17 + total)?;
        table(tc_th >> 4, usize::from(tc_th & 15), &counts, symbols)?;
        s = &s[17 + total..];
    }
    Some(())
}

/// A canonical Huffman code (JPEG C.2, F.2.2.3): the largest code of each
/// length, and the offset from a code to its symbol.
pub(super) struct Codes {
    first_code: [i32; 17],
    max_code: [i32; 17],
    offset: [i32; 17],
    symbols: Vec<u8>,
}

impl Codes {
    /// `None` when the counts do not make a prefix code.
    pub fn new(counts: &[u8; 16], symbols: &[u8]) -> Option<Codes> {
        let mut first_code = [0i32; 17];
        let mut max_code = [-1i32; 17];
        let mut offset = [0i32; 17];
        let (mut code, mut k) = (0i32, 0i32);
        for len in 1..=16 {
            let n = i32::from(counts[len - 1]);
            offset[len] = k - code;
            first_code[len] = code;
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
        Some(Codes {
            first_code,
            max_code,
            offset,
            symbols: symbols.to_vec(),
        })
    }

    /// `length << 8 | symbol` of the code each `bits`-bit prefix (1..=16)
    /// starts with; 0 where that code is longer than `bits`.
    pub fn prefix_table(&self, bits: u32) -> Vec<u16> {
        let mut table = vec![0u16; 1 << bits];
        for len in 1..=bits as usize {
            let spread = bits as usize - len;
            for code in self.first_code[len]..=self.max_code[len] {
                let Some(&symbol) = self.symbols.get((code + self.offset[len]) as usize) else {
                    continue;
                };
                let at = (code as usize) << spread;
                table[at..at + (1 << spread)].fill((len as u16) << 8 | u16::from(symbol));
            }
        }
        table
    }

    /// (length, symbol) of the code longer than `bits` that starts `next16`
    /// (the next 16 bits read), or `None` when none does: the slow path
    /// behind a `bits`-bit lookup table.
    pub fn longer(&self, next16: u64, bits: u32) -> Option<(u32, u8)> {
        (bits as usize + 1..=16).find_map(|len| {
            let symbol = self.symbol(len, (next16 >> (16 - len)) as i32)?;
            Some((len as u32, symbol))
        })
    }

    /// The symbol of the first `len` bits read, `code`, or `None` when the
    /// code is longer. Codes are tried shortest first.
    #[inline]
    pub fn symbol(&self, len: usize, code: i32) -> Option<u8> {
        if code > self.max_code[len] {
            return None;
        }
        self.symbols
            .get(usize::try_from(code + self.offset[len]).ok()?)
            .copied()
    }
}

/// One block of a scan ([`Frame::scan_blocks`]).
pub(super) struct Unit {
    /// The component's place in the scan header, and in the frame.
    pub slot: usize,
    pub index: usize,
    /// The block's column and row among the component's blocks, and its
    /// number in row order.
    pub col: usize,
    pub row: usize,
    pub at: usize,
    /// A restart marker precedes it: the bit reader steps over the marker
    /// and the DC predictions start again.
    pub restart: bool,
}

/// Counts MCUs between restart markers.
pub(super) struct Restarts {
    interval: usize,
    left: usize,
}

impl Restarts {
    pub fn new(interval: usize) -> Restarts {
        Restarts {
            interval,
            left: interval,
        }
    }

    /// Whether a restart marker precedes the next MCU.
    #[inline]
    pub fn due(&mut self) -> bool {
        if self.interval == 0 {
            return false;
        }
        let due = self.left == 0;
        if due {
            self.left = self.interval;
        }
        self.left -= 1;
        due
    }
}

/// The entropy-coded byte at `*pos`, stepping over it: 0xFF00 is a literal
/// 0xFF; at a marker (or the end) zeros, without passing it, as decoders do
/// for truncated scans.
#[inline]
pub(super) fn next_byte(data: &[u8], pos: &mut usize) -> u8 {
    match data.get(*pos) {
        Some(0xFF) if data.get(*pos + 1) == Some(&0) => {
            *pos += 2;
            0xFF
        }
        Some(0xFF) | None => 0,
        Some(&b) => {
            *pos += 1;
            b
        }
    }
}

/// Steps `*pos` over the restart marker (RSTn) there, if there is one.
pub(super) fn skip_restart_marker(data: &[u8], pos: &mut usize) {
    if data.get(*pos) == Some(&0xFF) && matches!(data.get(*pos + 1), Some(0xD0..=0xD7)) {
        *pos += 2;
    }
}

/// JPEG F.2.2.1 EXTEND: `size` (1..=16) raw bits `v` as a signed value.
#[inline]
pub(super) fn extend(v: i32, size: u32) -> i32 {
    if v < 1 << (size - 1) {
        v - (1 << size) + 1
    } else {
        v
    }
}

/// The offset of the first marker after entropy-coded data starting at `from`
/// (0xFF followed by anything but a stuffed 0x00 or a restart marker).
fn entropy_end(b: &[u8], from: usize) -> Option<usize> {
    let mut i = from;
    loop {
        i += next_ff(b.get(i..)?)?;
        match *b.get(i + 1)? {
            0x00 | 0xD0..=0xD7 | 0xFF => i += 1,
            _ => return Some(i),
        }
    }
}

/// The offset of the first 0xFF in `b`. Eight bytes at a time while none is
/// 0xFF: a scan is most of a file, and wasm has no vectorised `memchr`.
fn next_ff(b: &[u8]) -> Option<usize> {
    let mut chunks = b.chunks_exact(8);
    let mut at = 0;
    for chunk in chunks.by_ref() {
        let inverted = !u64::from_le_bytes(chunk.try_into().unwrap_or_default());
        let zero_bytes =
            inverted.wrapping_sub(0x0101_0101_0101_0101) & !inverted & 0x8080_8080_8080_8080;
        if zero_bytes != 0 {
            return Some(at + chunk.iter().position(|&x| x == 0xFF)?);
        }
        at += 8;
    }
    Some(at + chunks.remainder().iter().position(|&x| x == 0xFF)?)
}
