//! Entropy-coded JPEG data as the reduced-scale decoders read it: bits
//! buffered 57+ at a time, and Huffman codes resolved by table lookup.
//!
//! What runs per symbol is `#[inline(always)]`: in a build with one codegen
//! unit (or LTO) LLVM otherwise called `next_ac` and `decode` out of line
//! for every coefficient, and JPEG thumbnails in wasm took 1.15-1.4x the
//! time. The release profile's many codegen units happened to inline them.

use super::jpeg_skip::{BitSource, SkipTable};
use super::jpeg_syntax::{extend, next_byte, skip_restart_marker, Codes};

pub(super) const LOOKUP_BITS: u32 = 10;
const LOOKUP_SIZE: usize = 1 << LOOKUP_BITS;

/// A canonical Huffman table with a [`LOOKUP_BITS`]-bit lookup for short
/// codes and JPEG F.2.2.3's max-code search for longer ones.
pub(super) struct Huffman {
    /// (length << 8) | symbol for each `LOOKUP_BITS`-bit prefix; 0 = longer code.
    lookup: Box<[u16; LOOKUP_SIZE]>,
    /// For AC tables: when a prefix holds a whole coefficient (code and its
    /// extra bits), `value << 8 | run << 4 | bits used`, value 0 for end of
    /// block or 16 zeros; 0 when the prefix does not resolve.
    fast_ac: Box<[i32; LOOKUP_SIZE]>,
    /// For a baseline decoder's AC tables ([`Huffman::with_skip`]): stepping
    /// over coefficients that are dropped.
    pub skip: Option<SkipTable>,
    pub codes: Codes,
}

impl Huffman {
    pub fn new(counts: &[u8; 16], symbols: &[u8]) -> Option<Huffman> {
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
        Some(Huffman {
            lookup,
            fast_ac,
            skip: None,
            codes,
        })
    }

    /// With the table that steps over dropped coefficients (a baseline
    /// scan's AC table; building it costs more than the rest).
    pub fn with_skip(mut self) -> Huffman {
        self.skip = Some(SkipTable::new(&self.codes));
        self
    }

    /// The next AC (run, value), value 0 for end of block (run 0) or 16
    /// zeros (run 15); the caller has refilled.
    #[inline(always)]
    pub fn next_ac(&self, bits: &mut Bits<'_>) -> Option<(usize, i32)> {
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
    #[inline(always)]
    pub fn decode(&self, bits: &mut Bits<'_>) -> Option<u8> {
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
    #[inline(always)]
    fn refill(&mut self) {
        Bits::refill(self);
    }

    #[inline(always)]
    fn peek(&self, n: u32) -> u64 {
        Bits::peek(self, n)
    }

    #[inline(always)]
    fn consume(&mut self, n: u32) {
        Bits::consume(self, n);
    }
}

/// Entropy-coded bits, most significant first, buffered 57+ at a time.
/// 0xFF00 is a literal 0xFF; at a marker the reader feeds zeros without
/// passing it (as decoders do for truncated scans), until a restart.
#[derive(Default)]
pub(super) struct Bits<'a> {
    data: &'a [u8],
    pos: usize,
    acc: u64,
    count: u32,
}

impl<'a> Bits<'a> {
    pub fn new(data: &'a [u8]) -> Bits<'a> {
        Bits {
            data,
            ..Bits::default()
        }
    }

    /// Tops the buffer up to at least 57 bits: whole bytes, eight at a
    /// time while none of them is 0xFF.
    #[inline(always)]
    pub fn refill(&mut self) {
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
    #[inline(always)]
    pub fn peek(&self, n: u32) -> u64 {
        self.acc >> (64 - n)
    }

    #[inline(always)]
    pub fn consume(&mut self, n: u32) {
        self.acc <<= n;
        self.count -= n;
    }

    /// `size` bits as a signed coefficient (JPEG F.2.2.1 EXTEND).
    #[inline(always)]
    pub fn receive_extend(&mut self, size: u8) -> Option<i32> {
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

    /// The next `n` (1..=16) bits as an unsigned number.
    #[inline]
    pub fn receive(&mut self, n: u32) -> u32 {
        self.refill();
        let v = self.peek(n) as u32;
        self.consume(n);
        v
    }

    /// Steps over the next `n` bits.
    #[inline]
    pub fn skip(&mut self, mut n: u32) {
        if n <= self.count {
            self.consume(n);
            return;
        }
        while n > 0 {
            self.refill();
            let step = n.min(32);
            self.consume(step);
            n -= step;
        }
    }

    /// The next bit.
    #[inline]
    pub fn bit(&mut self) -> bool {
        self.receive(1) == 1
    }

    /// Drops the buffered bits and steps over a restart marker.
    pub fn restart(&mut self) {
        self.acc = 0;
        self.count = 0;
        skip_restart_marker(self.data, &mut self.pos);
    }
}
