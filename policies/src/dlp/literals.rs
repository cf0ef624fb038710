//! [`Literals`]: a small set of byte strings found inside short texts (tokens, ~100-byte
//! windows) without an automaton. A 65,536-bit table says which two-byte pairs start a
//! literal; only where a pair does are the literals that start with it compared. On random
//! tokens almost no pair hits, so a search is one table probe per byte.

/// The literals, grouped by their first two bytes.
#[derive(Debug, Clone)]
pub(crate) struct Literals {
    /// Bit `pair` set when some literal starts with `pair` (first byte high).
    starts: Box<[u64; 1024]>,
    /// `(pair, literal)`, sorted by pair.
    by_pair: Vec<(u16, Box<[u8]>)>,
}

fn pair(a: u8, b: u8) -> u16 {
    u16::from(a) << 8 | u16::from(b)
}

impl Literals {
    /// From literals of at least two bytes; shorter ones are ignored.
    pub fn new<'a>(literals: impl IntoIterator<Item = &'a [u8]>) -> Self {
        let mut starts = Box::new([0u64; 1024]);
        let mut by_pair: Vec<(u16, Box<[u8]>)> = Vec::new();
        for l in literals {
            if let [a, b, ..] = l {
                let p = pair(*a, *b);
                starts[usize::from(p >> 6)] |= 1 << (p & 63);
                by_pair.push((p, l.into()));
            }
        }
        by_pair.sort();
        by_pair.dedup();
        Literals { starts, by_pair }
    }

    /// Whether some literal occurs in `text`.
    pub fn found_in(&self, text: &[u8]) -> bool {
        text.windows(2).enumerate().any(|(i, w)| {
            let p = pair(w[0], w[1]);
            self.starts[usize::from(p >> 6)] >> (p & 63) & 1 != 0 && self.at(text, i, p)
        })
    }

    /// Whether a literal starting with `p` starts at `i`.
    fn at(&self, text: &[u8], i: usize, p: u16) -> bool {
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
}
