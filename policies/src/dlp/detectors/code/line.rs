//! Classifies one line as code, prose or neither from cheap features: how it starts (keyword,
//! closing bracket, preprocessor, decorator, shell command), how it ends (`;`, `{`, `}`, `)`),
//! whether it is a call or an assignment, and whether it reads like a sentence. Only the first
//! word and the last byte are looked at for most lines; counting words or operators happens
//! only for the few lines where the answer depends on it.

/// What one line says about the segment around it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Line {
    Blank,
    /// Comments, fences, short or ambiguous lines: neither for nor against.
    Neutral,
    Code,
    Prose,
}

/// Leading words that end the discussion (score 3): they do not start English sentences.
const STRONG: &[&[u8]] = &[
    b"#include", b"#define", b"#ifdef", b"#ifndef", b"#endif", b"#pragma", b"#import", b"#undef",
    b"SELECT", b"INSERT", b"UPDATE", b"DELETE", b"CREATE", b"ALTER", b"DROP", b"FROM", b"WHERE",
    b"JOIN", b"LEFT", b"INNER", b"GROUP", b"ORDER", b"HAVING", b"VALUES", b"LIMIT", b"UNION",
    b"sudo", b"apt-get", b"pip", b"npm", b"cargo", b"docker", b"kubectl", b"curl", b"mkdir",
    b"chmod", b"elif", b"def", b"fn", b"func", b"impl", b"struct", b"enum", b"typedef",
    b"namespace", b"template", b"esac", b"fi", b"println!", b"printf", b"console.log",
];

/// Leading words typical of code that can also start a sentence (score 2).
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

/// The packed key of `word`, the start of `line`: one unaligned 16-byte load, masked, when the
/// line is long enough (copying a short word byte by byte stalls store forwarding).
fn key(word: &[u8], line: &[u8]) -> u128 {
    match line.get(..16).and_then(|b| <[u8; 16]>::try_from(b).ok()) {
        Some(bytes) if word.len() < 16 => u128::from_le_bytes(bytes) & ((1u128 << (8 * word.len())) - 1),
        Some(bytes) => u128::from_le_bytes(bytes),
        None => pack(word),
    }
}

/// 3 for a strong leading word, 2 for a keyword, 0 otherwise. `word` starts `rest_of_line`.
fn keyword_score(word: &[u8], rest_of_line: &[u8]) -> u8 {
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

/// Classifies `line` (without its `\n`). `need_prose` says whether telling prose from
/// neutral lines matters (only while a segment is open): that is the one costly question.
pub(crate) fn classify(line: &[u8], need_prose: bool) -> Line {
    let t = line.trim_ascii();
    let (Some(&first), Some(&last)) = (t.first(), t.last()) else {
        return Line::Blank;
    };
    // The cheapest, most common verdicts first: closers and block ends are code.
    if matches!(first, b'}' | b')' | b']') || (matches!(last, b'{' | b'}') && !is_comment(first, t)) {
        return Line::Code;
    }
    let mut start = 0;
    match first {
        _ if is_comment(first, t) => return Line::Neutral,
        b'#' => {
            let strong = t.starts_with(b"#[") || t.starts_with(b"#!") || keyword_score(leading_word(t), t) == 3;
            return if strong { Line::Code } else { Line::Neutral }; // a comment or a heading
        }
        b'@' if t.get(1).is_some_and(u8::is_ascii_alphabetic) => start = 2,
        _ => {}
    }
    let word = leading_word(t);
    let mut shaped = false;
    if start == 0 && !word.is_empty() {
        let next = t.get(word.len()).copied();
        let keyword_follows =
            next.is_none_or(|b| matches!(b, b' ' | b'(' | b':' | b'{' | b'<' | b';' | b'!' | b'\t'));
        if keyword_follows {
            start = keyword_score(word, t);
        }
        if start == 0 && is_call_or_assignment(t, word) {
            start = 2;
            shaped = true;
        }
    }
    let end = match last {
        b';' => 2,
        b')' | b']' | b'\\' => 1,
        b':' if start >= 2 => 1,
        _ => 0,
    };
    if start + end == 0 {
        return if need_prose && words_at_least(t, 4) { Line::Prose } else { Line::Neutral };
    }
    if matches!(last, b'.' | b'?' | b'!') && words_at_least(t, 3) {
        return Line::Prose;
    }
    if start == 3 || shaped {
        return Line::Code;
    }
    if start + end < 2 {
        return Line::Neutral;
    }
    // A weak keyword or a `;` ending: long lines of plain words are sentences ("let me know
    // what you think", legal clauses ending in `;`).
    if words_at_least(t, 6) && reads_as_words(t) {
        Line::Prose
    } else {
        Line::Code
    }
}

fn is_comment(first: u8, t: &[u8]) -> bool {
    match first {
        b'/' => matches!(t.get(1), Some(b'/' | b'*')),
        b'*' | b'`' => true,
        b'<' => t.starts_with(b"<!--"),
        b'-' => t.starts_with(b"-- "),
        _ => false,
    }
}

/// The identifier-like run a line starts with (`self.items.append`, `#include`, `apt-get`).
fn leading_word(t: &[u8]) -> &[u8] {
    let Some(&first) = t.first() else {
        return t;
    };
    if WORD_CLASS[usize::from(first)] & (WORD | HASH) == 0 {
        return &t[..0];
    }
    let n = t.iter().take(24).skip(1).position(|b| WORD_CLASS[usize::from(*b)] & (WORD | INNER) == 0);
    &t[..n.map_or(t.len().min(24), |n| n + 1)]
}

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

/// `name(...`, `a.b.c(`, `x = ...`, `x := ...`, `count += 1`, `items[i] = ...`.
fn is_call_or_assignment(t: &[u8], word: &[u8]) -> bool {
    if !(word[0].is_ascii_alphabetic() || word[0] == b'_' || word[0] == b'$') {
        return false;
    }
    let mut rest = &t[word.len()..];
    if rest.first() == Some(&b'(') {
        return true;
    }
    if rest.first() == Some(&b'[') {
        match rest.iter().take(64).position(|b| *b == b']') {
            Some(close) => rest = &rest[close + 1..],
            None => return false,
        }
    }
    let rest = rest.trim_ascii_start();
    let op_end = rest.iter().take(4).position(|b| !b"=:+-*/|&^%<>!".contains(b)).unwrap_or(rest.len().min(4));
    matches!(
        &rest[..op_end],
        b"=" | b":=" | b"+=" | b"-=" | b"*=" | b"/=" | b"|=" | b"&=" | b"^=" | b"%=" | b"<<=" | b">>=" | b"->" | b"=>" | b"<-"
    )
}

/// At least `n` space-separated words. A plain loop that stops at the `n - 1`th space: words
/// are short, so this beats a `memchr` call per space.
fn words_at_least(t: &[u8], n: usize) -> bool {
    let mut spaces = 0;
    for b in t {
        spaces += usize::from(*b == b' ');
        if spaces + 1 >= n {
            return true;
        }
    }
    false
}

/// Whether under one byte in twenty is something other than letters, spaces and sentence
/// punctuation: true of sentences, false of code (`=`, `+`, `(`, `_`, digits...).
fn reads_as_words(t: &[u8]) -> bool {
    let symbols = t
        .iter()
        .filter(|b| !(b.is_ascii_alphabetic() || matches!(b, b' ' | b',' | b'.' | b'\'' | b'"' | b'-')))
        .count();
    symbols * 20 < t.len()
}

#[cfg(test)]
mod tests {
    use super::*;

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
        for w in ["the", "The", "x", "selected", "iff", "a_very_long_identifier_name"] {
            assert_eq!(keyword_score(w.as_bytes(), w.as_bytes()), 0, "{w}");
        }
    }

    #[test]
    fn code_lines() {
        for l in [
            "def parse(data):",
            "    return x * 2",
            "fn main() {",
            "}",
            "  });",
            "#include <stdio.h>",
            "SELECT id, email FROM users WHERE id = 1;",
            "x := compute(y)",
            "self.items.append(item)",
            "const total = items.reduce((a, b) => a + b, 0);",
            "@Override",
            "sudo apt-get install -y curl git build-essential pkg-config",
            "for i in range(10):",
            "if [ -f \"$FILE\" ]; then",
            "count += 1",
            "public static void main(String[] args) {",
            "import numpy as np",
            "int total = first + second * third;",
            "} else {",
        ] {
            assert_eq!(classify(l.as_bytes(), true), Line::Code, "{l}");
        }
    }

    #[test]
    fn prose_and_neutral_lines() {
        for l in [
            "The quarterly results were better than expected.",
            "if you could help me sort this list that would be great",
            "(a) the licensee shall not sublicense the software to third parties;",
            "let me know what you think about the proposal",
            "Can you explain how this works?",
        ] {
            assert_eq!(classify(l.as_bytes(), true), Line::Prose, "{l}");
        }
        for l in ["", "   ", "// a comment", "# Heading", "```python", "Thanks", "- item one"] {
            assert_ne!(classify(l.as_bytes(), true), Line::Code, "{l}");
        }
    }
}
