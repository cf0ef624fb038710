//! The leading words that make a line code: a strong set (they never start an English
//! sentence: `def`, `#include`, `SELECT`) and a weaker one (`if`, `for`, `return`), looked up
//! in a table built at compile time, and the byte classes that delimit a leading word.

use crate::byteset::ByteSet;

/// Leading words that end the discussion (score 3): they do not start English sentences.
#[rustfmt::skip]
const STRONG: &[&[u8]] = &[
    b"#include", b"#define", b"#ifdef", b"#ifndef", b"#endif", b"#pragma", b"#import",
    b"#undef", b"SELECT", b"INSERT", b"UPDATE", b"DELETE", b"CREATE", b"ALTER", b"DROP",
    b"FROM", b"WHERE", b"JOIN", b"LEFT", b"INNER", b"GROUP", b"ORDER", b"HAVING", b"VALUES",
    b"LIMIT", b"UNION", b"sudo", b"apt-get", b"pip", b"npm", b"cargo", b"docker", b"kubectl",
    b"curl", b"mkdir", b"chmod", b"elif", b"def", b"fn", b"func", b"impl", b"struct", b"enum",
    b"typedef", b"namespace", b"template", b"esac", b"fi", b"println!", b"printf",
    b"console.log",
];

/// Leading words typical of code that can also start a sentence (score 2).
#[rustfmt::skip]
const KEYWORDS: &[&[u8]] = &[
    b"if", b"else", b"for", b"while", b"return", b"import", b"from", b"class", b"function",
    b"let", b"const", b"var", b"pub", b"use", b"mod", b"trait", b"match", b"type", b"interface",
    b"export", b"package", b"public", b"private", b"protected", b"static", b"final", b"void",
    b"int", b"long", b"char", b"bool", b"float", b"double", b"unsigned", b"auto", b"try",
    b"catch", b"except", b"finally", b"with", b"raise", b"throw", b"yield", b"async", b"await",
    b"switch", b"case", b"break", b"continue", b"do", b"done", b"then", b"echo", b"print",
    b"local", b"new", b"delete", b"extern", b"lambda", b"pass", b"assert", b"defer", b"go",
    b"loop", b"unsafe", b"where", b"begin", b"end", b"self", b"this", b"cd", b"git", b"set",
];

/// Leading words packed into `u128`s (words are at most 16 bytes) in an open-addressing
/// table built at compile time: a lookup is one multiply and, for most prose words, one probe
/// of an empty slot, instead of string comparisons on every line.
const TABLE_BITS: u32 = 9;
// A `static`, not a `const`: a const array would be copied onto the stack at each use.
static TABLE: ([u128; 1 << TABLE_BITS], [u8; 1 << TABLE_BITS]) = table();

const fn table() -> ([u128; 1 << TABLE_BITS], [u8; 1 << TABLE_BITS]) {
    let mut keys = [0u128; 1 << TABLE_BITS];
    let mut scores = [0u8; 1 << TABLE_BITS];
    let lists: [(&[&[u8]], u8); 2] = [(STRONG, 3), (KEYWORDS, 2)];
    let mut l = 0;
    while l < lists.len() {
        let (words, score) = lists[l];
        let mut i = 0;
        while i < words.len() {
            let k = pack(words[i]);
            let mut slot = slot_of(k);
            while keys[slot] != 0 && keys[slot] != k {
                slot = (slot + 1) & ((1 << TABLE_BITS) - 1);
            }
            if keys[slot] == 0 {
                keys[slot] = k;
                scores[slot] = score;
            }
            i += 1;
        }
        l += 1;
    }
    (keys, scores)
}

const fn pack(w: &[u8]) -> u128 {
    let mut v = 0u128;
    let mut i = 0;
    while i < w.len() && i < 16 {
        v |= (w[i] as u128) << (8 * i);
        i += 1;
    }
    v
}

const fn slot_of(k: u128) -> usize {
    let folded = (k as u64) ^ ((k >> 64) as u64);
    (folded.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> (64 - TABLE_BITS)) as usize
}

/// Which `(first byte, second byte)` pairs start a leading word of either list: a line that
/// starts with any other pair has no keyword, without finding where its first word ends.
static PREFIXES: [u64; 1024] = prefixes();

const fn prefixes() -> [u64; 1024] {
    let mut bits = [0u64; 1024];
    let lists: [&[&[u8]]; 2] = [STRONG, KEYWORDS];
    let mut l = 0;
    while l < lists.len() {
        let mut i = 0;
        while i < lists[l].len() {
            let w = lists[l][i];
            let pair = (w[0] as usize) << 8 | w[1] as usize;
            bits[pair >> 6] |= 1 << (pair & 63);
            i += 1;
        }
        l += 1;
    }
    bits
}

/// Whether `t` (a line without its leading whitespace) may start with a word of either list.
/// A line of four bytes or more is looked up by its first four: a keyword's first four bytes,
/// or a shorter keyword and the byte that may follow it (`for `, `if(`); anything else (`the `,
/// `them`, `form`) is no keyword-led line. Shorter lines fall back to the first two bytes.
pub(super) fn may_start_keyword(t: &[u8]) -> bool {
    match t {
        [a, b, c, d, ..] => {
            let k = u32::from_le_bytes([*a, *b, *c, *d]);
            LEADS.contains(k) || LEADS.contains(k & 0x00FF_FFFF)
        }
        [a, b, ..] => {
            let pair = usize::from(*a) << 8 | usize::from(*b);
            PREFIXES[pair >> 6] >> (pair & 63) & 1 != 0
        }
        _ => false,
    }
}

/// The bytes that may follow a leading keyword (see `line::keyword_follows`), and the line
/// ends: a block's quiet lines are looked up from where they start, before their end is known.
const FOLLOWERS: &[u8] = b" (:{<;!\t\r\n";

/// Four-byte keys of keyword-led lines: the first four bytes of a keyword of four or more, a
/// three-byte keyword and a follower; and as three-byte keys (the top byte zero) a two-byte
/// keyword and a follower.
static LEADS: U32Set = leads();

const LEAD_BITS: u32 = 11;

/// An open-addressing set of non-zero `u32`s built at compile time.
struct U32Set([u32; 1 << LEAD_BITS]);

impl U32Set {
    fn contains(&self, k: u32) -> bool {
        let mut slot = lead_slot(k);
        loop {
            match self.0[slot] {
                0 => return false,
                x if x == k => return true,
                _ => slot = (slot + 1) & ((1 << LEAD_BITS) - 1),
            }
        }
    }
}

const fn lead_slot(k: u32) -> usize {
    ((k as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> (64 - LEAD_BITS)) as usize
}

const fn insert(set: &mut [u32; 1 << LEAD_BITS], k: u32) {
    let mut slot = lead_slot(k);
    while set[slot] != 0 && set[slot] != k {
        slot = (slot + 1) & ((1 << LEAD_BITS) - 1);
    }
    set[slot] = k;
}

const fn leads() -> U32Set {
    let mut set = [0u32; 1 << LEAD_BITS];
    let lists: [&[&[u8]]; 2] = [STRONG, KEYWORDS];
    let mut l = 0;
    while l < lists.len() {
        let mut i = 0;
        while i < lists[l].len() {
            let w = lists[l][i];
            if w.len() >= 4 {
                insert(&mut set, u32::from_le_bytes([w[0], w[1], w[2], w[3]]));
            } else {
                let mut f = 0;
                while f < FOLLOWERS.len() {
                    let k = if w.len() == 3 {
                        u32::from_le_bytes([w[0], w[1], w[2], FOLLOWERS[f]])
                    } else {
                        u32::from_le_bytes([w[0], w[1], FOLLOWERS[f], 0])
                    };
                    insert(&mut set, k);
                    f += 1;
                }
            }
            i += 1;
        }
        l += 1;
    }
    U32Set(set)
}

/// The packed key of `word`, the start of `line`: one unaligned 16-byte load, masked, when the
/// line is long enough (copying a short word byte by byte stalls store forwarding).
fn key(word: &[u8], line: &[u8]) -> u128 {
    match line.get(..16).and_then(|b| <[u8; 16]>::try_from(b).ok()) {
        Some(bytes) if word.len() < 16 => {
            u128::from_le_bytes(bytes) & ((1u128 << (8 * word.len())) - 1)
        }
        Some(bytes) => u128::from_le_bytes(bytes),
        None => pack(word),
    }
}

/// 3 for a strong leading word, 2 for a keyword, 0 otherwise. `word` starts `rest_of_line`.
pub(super) fn keyword_score(word: &[u8], rest_of_line: &[u8]) -> u8 {
    if word.len() < 2 || word.len() > 16 {
        return 0;
    }
    let k = key(word, rest_of_line);
    let mut slot = slot_of(k);
    loop {
        match TABLE.0[slot] {
            0 => return 0,
            key if key == k => return TABLE.1[slot],
            _ => slot = (slot + 1) & ((1 << TABLE_BITS) - 1),
        }
    }
}

/// The identifier-like run a line starts with (`self.items.append`, `#include`, `apt-get`).
pub(super) fn leading_word(t: &[u8]) -> &[u8] {
    let Some(&first) = t.first() else {
        return t;
    };
    if WORD_CLASS[usize::from(first)] & (WORD | HASH) == 0 {
        return &t[..0];
    }
    // Most lines: the word's end from a mask of the first sixteen bytes (and the next eight).
    if let Some(Ok(sixteen)) = t.get(..16).map(<&[u8; 16]>::try_from) {
        let stops = !(WORD_BYTES.mask16(sixteen) | 1);
        if stops != 0 {
            return &t[..stops.trailing_zeros() as usize];
        }
        if let Some(Ok(next)) = t.get(16..32).map(<&[u8; 16]>::try_from) {
            let stops = !WORD_BYTES.mask16(next);
            return &t[..(16 + stops.trailing_zeros() as usize).min(24)];
        }
    }
    let head = &t[..t.len().min(24)];
    let mut n = 1;
    while n < head.len() && WORD_CLASS[usize::from(head[n])] & (WORD | INNER) != 0 {
        n += 1;
    }
    &head[..n]
}

/// The bytes a leading word runs on with: [`WORD`] and [`INNER`] as a byte set.
const WORD_BYTES: ByteSet = ByteSet::alnum_and(b"_$-!.");

const WORD: u8 = 1;
const INNER: u8 = 2;
const HASH: u8 = 4;
static WORD_CLASS: [u8; 256] = word_class();

const fn word_class() -> [u8; 256] {
    let mut c = [0u8; 256];
    let mut b = 0;
    while b < 256 {
        let byte = b as u8;
        if byte.is_ascii_alphanumeric() || byte == b'_' || byte == b'$' {
            c[b] = WORD;
        } else if byte == b'-' || byte == b'!' || byte == b'.' {
            c[b] = INNER;
        } else if byte == b'#' {
            c[b] = HASH;
        }
        b += 1;
    }
    c
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The masked fast path against the byte loop, on lines of every length up to 40.
    #[test]
    fn leading_words_from_masks_match_the_byte_loop() {
        let plain = |t: &[u8]| -> usize {
            match t.first() {
                None => 0,
                Some(f) if WORD_CLASS[usize::from(*f)] & (WORD | HASH) == 0 => 0,
                Some(_) => {
                    let mut n = 1;
                    while n < t.len().min(24) && WORD_CLASS[usize::from(t[n])] & (WORD | INNER) != 0
                    {
                        n += 1;
                    }
                    n
                }
            }
        };
        let mut rng = crate::samples::SampleRng::new(12);
        let alphabet = b"aZ9_$-!.# (=\xc3@`[{/:";
        for len in 0..40 {
            for round in 0..200 {
                // Mostly word bytes, so that words run past sixteen and twenty-four bytes.
                let t: Vec<u8> = (0..len)
                    .map(|_| {
                        let wide = rng.below(10) < 1 + round % 3;
                        alphabet[if wide {
                            rng.below(alphabet.len())
                        } else {
                            rng.below(6)
                        }]
                    })
                    .collect();
                assert_eq!(leading_word(&t).len(), plain(&t), "{t:?}");
            }
        }
    }

    #[test]
    fn every_keyword_is_in_the_table() {
        for w in STRONG {
            assert_eq!(keyword_score(w, w), 3, "{}", String::from_utf8_lossy(w));
            let long = [*w, b" = something longer than sixteen"].concat();
            assert_eq!(keyword_score(w, &long), 3, "{}", String::from_utf8_lossy(w));
        }
        for w in KEYWORDS {
            assert_eq!(keyword_score(w, w), 2, "{}", String::from_utf8_lossy(w));
        }
        for w in STRONG.iter().chain(KEYWORDS) {
            assert!(may_start_keyword(w), "{}", String::from_utf8_lossy(w));
        }
        for w in [
            "We", "x", "", "budget", "Meeting", "the team", "them", "form", "iffy",
        ] {
            assert!(!may_start_keyword(w.as_bytes()), "{w}");
        }
        for w in [
            "for x", "if(a)", "if x", "then", "return x", "fn main", "let", "do {", "esac",
        ] {
            assert!(may_start_keyword(w.as_bytes()), "{w}");
        }
        for w in [
            "the",
            "The",
            "x",
            "selected",
            "iff",
            "a_very_long_identifier_name",
        ] {
            assert_eq!(keyword_score(w.as_bytes(), w.as_bytes()), 0, "{w}");
        }
    }
}
