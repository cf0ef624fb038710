//! [`Literals`]: a small set of byte strings found inside short texts (tokens, ~100-byte
//! windows) without an automaton. A 65,536-bit table holds the two-byte pairs at the first
//! `stride` offsets of every literal; since each literal is longer than `stride`, any
//! occurrence puts one of those pairs at a position that is a multiple of `stride`, so only
//! every `stride`-th pair of the text is probed. Where a probe hits, each start it allows is
//! looked up in a second table, of the literals' first four bytes hashed to 4,096 bits, and
//! only where that hits too are the literals that could start there compared: on random
//! tokens, almost never.

/// The literals, grouped by their first two bytes.
#[derive(Debug, Clone)]
pub(crate) struct Literals {
    /// Bit `pair` set when some literal holds `pair` at an offset below `stride`.
    pairs: Box<[u64; 1024]>,
    /// `(first pair, literal)`, sorted by pair.
    by_pair: Vec<(u16, Box<[u8]>)>,
    /// The shortest literal's length less one (at least 1).
    stride: usize,
    /// Bit [`quad_bit`] of every literal's first four bytes; all set when a literal is
    /// shorter than four (then every start is compared).
    quads: Box<[u64; 64]>,
}

/// Where four bytes fall in [`Literals::quads`].
fn quad_bit(quad: [u8; 4]) -> usize {
    (u32::from_le_bytes(quad).wrapping_mul(0x9E37_79B1) >> 20) as usize
}

fn pair(a: u8, b: u8) -> u16 {
    u16::from(a) << 8 | u16::from(b)
}

impl Literals {
    /// From literals of at least two bytes; shorter ones are ignored.
    pub fn new<'a>(literals: impl IntoIterator<Item = &'a [u8]>) -> Self {
        let literals: Vec<&[u8]> = literals.into_iter().filter(|l| l.len() >= 2).collect();
        let stride = literals.iter().map(|l| l.len() - 1).min().unwrap_or(1);
        let mut pairs = Box::new([0u64; 1024]);
        let mut quads = Box::new([0u64; 64]);
        let mut by_pair: Vec<(u16, Box<[u8]>)> = Vec::new();
        for l in literals {
            match l {
                [a, b, c, d, ..] => {
                    let q = quad_bit([*a, *b, *c, *d]);
                    quads[q / 64] |= 1 << (q % 64);
                }
                _ => *quads = [u64::MAX; 64],
            }
            for off in 0..stride {
                let p = pair(l[off], l[off + 1]);
                pairs[usize::from(p >> 6)] |= 1 << (p & 63);
            }
            by_pair.push((pair(l[0], l[1]), l.into()));
        }
        by_pair.sort();
        by_pair.dedup();
        Literals {
            pairs,
            by_pair,
            stride,
            quads,
        }
    }

    /// Whether some literal occurs in `text`.
    pub fn found_in(&self, text: &[u8]) -> bool {
        let stride = self.stride;
        let mut i = 0;
        while let Some(&[a, b]) = text.get(i..i + 2) {
            let p = usize::from(a) << 8 | usize::from(b);
            if self.pairs[p >> 6] >> (p & 63) & 1 != 0
                && (i.saturating_sub(stride - 1)..=i).any(|s| self.at(text, s))
            {
                return true;
            }
            i += stride;
        }
        false
    }

    /// Whether a literal starts at `i`.
    fn at(&self, text: &[u8], i: usize) -> bool {
        let [a, b, ..] = text[i..] else {
            return false;
        };
        if let [_, _, c, d, ..] = text[i..] {
            let q = quad_bit([a, b, c, d]);
            if self.quads[q / 64] >> (q % 64) & 1 == 0 {
                return false;
            }
        }
        let p = pair(a, b);
        let from = self.by_pair.partition_point(|(q, _)| *q < p);
        self.by_pair[from..]
            .iter()
            .take_while(|(q, _)| *q == p)
            .any(|(_, l)| text[i..].starts_with(l))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_literals_anywhere_and_nothing_else() {
        let words: [&[u8]; 4] = [b"here", b"HERE", b"hex", b"..."];
        let l = Literals::new(words);
        for t in ["here", "xxhere", "xxHERE", "a...", "hexa", "there!"] {
            assert!(l.found_in(t.as_bytes()), "{t}");
        }
        for t in ["", "h", "hEre", "he", "..", "HeRe", "heRE"] {
            assert!(!l.found_in(t.as_bytes()), "{t}");
        }
    }

    #[test]
    fn every_offset_is_covered_by_the_stride() {
        let words: [&[u8]; 2] = [b"example", b"changeme"];
        let l = Literals::new(words);
        assert_eq!(l.stride, 6);
        for pad in 0..20 {
            for w in words {
                let t = [&b"31415926535897932384"[..pad], w, b"Zz"].concat();
                assert!(l.found_in(&t), "{pad} {}", String::from_utf8_lossy(w));
                let cut = [&b"31415926535897932384"[..pad], &w[1..], b"Zz"].concat();
                assert!(!l.found_in(&cut), "{pad}");
            }
        }
    }
}
