//! Stepping over the AC coefficients a reduced-size decode drops.
//!
//! At 1/4 or 1/8 scale most of a block's coefficients are read only to be
//! thrown away, and reading them is a chain: each symbol's length must be
//! known before the next can be found. So a symbol being skipped needs no
//! value, and one lookup of a [`SKIP_BITS`]-bit prefix resolves up to two
//! of them (code and extra bits together), halving the chain for the short
//! symbols that fill a photo's high frequencies.

use super::jpeg_syntax::Codes;

const SKIP_BITS: u32 = 11;
const SKIP_SIZE: usize = 1 << SKIP_BITS;

/// The step of end of block: past any position a run can reach (at most
/// 63 + 16), so one comparison tells it from a block that overran.
const SKIP_END: usize = 128;

/// One or two AC symbols to step over: `first bits << 24 | both bits << 16 |
/// first step << 8 | second step`. Bits count code and extra bits; a step
/// is how many positions a symbol moves (run + 1, 16 for 16 zeros,
/// [`SKIP_END`] for end of block; a second step of 0 when there is none).
/// `Skip(0)`: the prefix does not hold a whole code.
#[derive(Clone, Copy, Default, PartialEq, Eq, Debug)]
struct Skip(u32);

impl Skip {
    const NONE: Skip = Skip(0);

    /// The symbol `rs` (run << 4 | size) with a code of `len` bits.
    fn one(len: u32, rs: u8) -> Skip {
        let bits = len + u32::from(rs & 15);
        Skip(bits << 24 | bits << 16 | step(rs) << 8)
    }

    /// This symbol followed by `rs` with a code of `len` bits.
    fn then(self, len: u32, rs: u8) -> Skip {
        let both = self.first_bits() + len + u32::from(rs & 15);
        Skip(self.0 & 0xFF00_FF00 | both << 16 | step(rs))
    }

    #[inline]
    fn first_bits(self) -> u32 {
        self.0 >> 24
    }

    #[inline]
    fn both_bits(self) -> u32 {
        self.0 >> 16 & 0xFF
    }

    #[inline]
    fn first_step(self) -> usize {
        (self.0 >> 8 & 0xFF) as usize
    }

    #[inline]
    fn second_step(self) -> usize {
        (self.0 & 0xFF) as usize
    }
}

fn step(rs: u8) -> u32 {
    match (rs >> 4, rs & 15) {
        (0, 0) => SKIP_END as u32,
        (_, 0) => 16,
        (run, _) => u32::from(run) + 1,
    }
}

/// Entropy-coded bits as the stepping loop reads them.
pub(super) trait BitSource {
    /// Buffers at least 57 bits (zeros past the end).
    fn refill(&mut self);
    /// The next `n` (1..=16) bits, after a refill.
    fn peek(&self, n: u32) -> u64;
    fn consume(&mut self, n: u32);
}

/// A Huffman table's [`Skip`] for every [`SKIP_BITS`]-bit prefix.
pub(super) struct SkipTable(Box<[Skip; SKIP_SIZE]>);

impl SkipTable {
    pub fn new(codes: &Codes) -> SkipTable {
        let firsts = codes.prefix_table(SKIP_BITS);
        let mut table = Box::new([Skip::NONE; SKIP_SIZE]);
        for (prefix, entry) in table.iter_mut().enumerate() {
            *entry = symbols(&firsts, prefix);
        }
        SkipTable(table)
    }

    /// The entry for the next [`SKIP_BITS`] bits.
    #[inline(always)]
    fn get(&self, prefix: u64) -> Skip {
        self.0[prefix as usize & (SKIP_SIZE - 1)]
    }

    /// Steps over a block's coefficients from zig-zag position `k` to its
    /// end (an end of block, or position 63 filled). `None` when a run
    /// overruns the block or a code is not in the table.
    #[inline(always)]
    pub fn step_over(&self, codes: &Codes, bits: &mut impl BitSource, mut k: usize) -> Option<()> {
        while k < 64 {
            bits.refill();
            let skip = match self.get(bits.peek(SKIP_BITS)) {
                Skip::NONE => SkipTable::long(codes, bits.peek(16))?,
                skip => skip,
            };
            // The second symbol counts only if the first left the block open.
            k += skip.first_step();
            if k < 64 {
                bits.consume(skip.both_bits());
                k += skip.second_step();
            } else {
                bits.consume(skip.first_bits());
            }
        }
        (k == 64 || k > SKIP_END).then_some(())
    }

    /// The one symbol of a code longer than [`SKIP_BITS`], from the next 16
    /// bits. Out of line so the stepping loop stays small.
    #[inline(never)]
    fn long(codes: &Codes, next16: u64) -> Option<Skip> {
        let (len, rs) = codes.longer(next16, SKIP_BITS)?;
        Some(Skip::one(len, rs))
    }
}

/// The symbols a `prefix` holds, from `firsts` (the code each prefix starts
/// with): its first whole code (whose extra bits may run past the prefix)
/// and, when the first is not an end of block and the prefix still holds the
/// next with its extra bits, that one too.
fn symbols(firsts: &[u16], prefix: usize) -> Skip {
    let split = |entry: u16| (u32::from(entry >> 8), entry as u8);
    let (len, rs) = split(firsts[prefix]);
    if len == 0 {
        return Skip::NONE;
    }
    let first = Skip::one(len, rs);
    let used = first.first_bits();
    if used >= SKIP_BITS || rs == 0 {
        return first;
    }
    // The rest of the prefix, padded with zeros: a code found there that
    // fits in what is left is really there.
    let (len, rs) = split(firsts[prefix << used & (SKIP_SIZE - 1)]);
    if len > 0 && used + len + u32::from(rs & 15) <= SKIP_BITS {
        first.then(len, rs)
    } else {
        first
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An AC table of all 162 symbols with codes of 2 to 16 bits, so some
    /// are longer than a lookup; end of block is the shortest.
    fn table() -> (Codes, Vec<(u8, u32, u32)>) {
        let counts = [0, 1, 1, 2, 3, 4, 6, 8, 10, 12, 14, 16, 20, 24, 20, 21];
        let mut symbols = vec![0x00];
        symbols.extend((1..=10).flat_map(|size| (0..16).map(move |run| run << 4 | size)));
        symbols.push(0xF0);
        // Interleave so long codes hold short and long runs alike.
        let (head, tail) = symbols.split_at(1);
        let mut mixed: Vec<u8> = head.to_vec();
        let (a, b) = tail.split_at(tail.len() / 2);
        for i in 0..a.len().max(b.len()) {
            mixed.extend(a.get(i));
            mixed.extend(b.get(i));
        }
        let codes = Codes::new(&counts, &mixed).unwrap();
        // The canonical code of each symbol: (symbol, code, length).
        let (mut code, mut next, mut out) = (0u32, 0, Vec::new());
        for (len, &n) in (1u32..).zip(&counts) {
            for _ in 0..n {
                out.push((mixed[next], code, len));
                code += 1;
                next += 1;
            }
            code <<= 1;
        }
        (codes, out)
    }

    /// Bits most significant first, zeros past the end.
    struct Stream {
        bits: Vec<bool>,
        pos: usize,
    }

    impl BitSource for Stream {
        fn refill(&mut self) {}

        fn peek(&self, n: u32) -> u64 {
            (0..n as usize).fold(0, |v, i| {
                v << 1 | u64::from(*self.bits.get(self.pos + i).unwrap_or(&false))
            })
        }

        fn consume(&mut self, n: u32) {
            self.pos += n as usize;
        }
    }

    #[test]
    fn stepping_over_blocks_ends_each_where_it_ends() {
        let (codes, symbols) = table();
        let code_of = |rs: u8| {
            symbols
                .iter()
                .find(|s| s.0 == rs)
                .map(|s| (s.1, s.2))
                .unwrap()
        };
        let table = SkipTable::new(&codes);
        let mut seed = 0x2545_F491_4F6C_DD1Du64;
        let mut random = |n: u64| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed % n
        };
        let (mut bits, mut ends, mut starts) = (Vec::new(), Vec::new(), Vec::new());
        let put = |bits: &mut Vec<bool>, value: u32, len: u32| {
            bits.extend((0..len).rev().map(|i| value >> i & 1 == 1));
        };
        for _ in 0..3000 {
            let mut k = 1 + random(8) as usize;
            starts.push((bits.len(), k));
            loop {
                let left = 64 - k;
                let rs = match random(10) {
                    0 => 0x00,
                    1 if left > 16 => 0xF0,
                    // Fill position 63 exactly now and then: no end of block.
                    2 if left <= 16 => ((left - 1) as u8) << 4 | 1,
                    _ => (random(left.min(16) as u64) as u8) << 4 | (1 + random(10) as u8),
                };
                let (code, len) = code_of(rs);
                put(&mut bits, code, len);
                let size = u32::from(rs & 15);
                put(&mut bits, random(1 << size) as u32, size);
                k += match rs {
                    0x00 => break,
                    0xF0 => 16,
                    _ => usize::from(rs >> 4) + 1,
                };
                if k == 64 {
                    break;
                }
            }
            ends.push(bits.len());
        }
        let mut stream = Stream { bits, pos: 0 };
        for (&(start, k), &end) in starts.iter().zip(&ends) {
            assert_eq!(stream.pos, start);
            assert_eq!(table.step_over(&codes, &mut stream, k), Some(()));
            assert_eq!(stream.pos, end, "block from bit {start}, position {k}");
        }
    }

    #[test]
    fn a_run_past_the_block_is_an_error() {
        let (codes, symbols) = table();
        let (code, len) = symbols
            .iter()
            .find(|s| s.0 == 0xF1)
            .map(|s| (s.1, s.2))
            .unwrap();
        let bits = (0..len)
            .rev()
            .map(|i| code >> i & 1 == 1)
            .chain([true])
            .collect();
        let mut stream = Stream { bits, pos: 0 };
        assert_eq!(
            SkipTable::new(&codes).step_over(&codes, &mut stream, 60),
            None
        );
    }
}
