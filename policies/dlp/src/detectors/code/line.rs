//! Classifies one line as code, prose or neither from cheap features: how it starts (keyword,
//! closing bracket, preprocessor, decorator, shell command), how it ends (`;`, `{`, `}`, `)`),
//! whether it is a call or an assignment, and whether it reads like a sentence. Only the first
//! word and the last byte are looked at for most lines; counting words or operators happens
//! only for the few lines where the answer depends on it.

use super::keywords::{keyword_score, leading_word, may_start_keyword};
use crate::byteset::ByteSet;

/// What one line says about the segment around it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Line {
    Blank,
    /// Comments, fences, short or ambiguous lines: neither for nor against.
    Neutral,
    Code,
    Prose,
}

/// Classifies `line` (without its `\n`). `need_prose` says whether telling prose from
/// neutral lines matters (only while a segment is open): that is the one costly question.
pub(crate) fn classify(line: &[u8], need_prose: bool) -> Line {
    let t = line.trim_ascii();
    let (Some(&first), Some(&last)) = (t.first(), t.last()) else {
        return Line::Blank;
    };
    // Bare brackets (`}`, `});`, `],`) and quoted keys are shared with JSON, which is data.
    if first == b'"'
        || t.iter()
            .all(|b| matches!(b, b'{' | b'}' | b'[' | b']' | b'(' | b')' | b';' | b','))
    {
        return Line::Neutral;
    }
    // The cheapest, most common verdicts next: closers and block ends are code.
    if matches!(first, b'}' | b')' | b']') || (matches!(last, b'{' | b'}') && !is_comment(first, t))
    {
        return Line::Code;
    }
    let mut start = 0;
    match first {
        _ if is_comment(first, t) => return Line::Neutral,
        b'#' => {
            let strong = t.starts_with(b"#[")
                || t.starts_with(b"#!")
                || keyword_score(leading_word(t), t) == 3;
            return if strong { Line::Code } else { Line::Neutral }; // a comment or a heading
        }
        b'@' if t.get(1).is_some_and(u8::is_ascii_alphabetic) => start = 2,
        _ => {}
    }
    let word = leading_word(t);
    let mut shaped = false;
    if start == 0 && !word.is_empty() {
        if keyword_follows(t, word) {
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
        return if need_prose && words_at_least(t, 4) {
            Line::Prose
        } else {
            Line::Neutral
        };
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

/// A member line of an enum or initialiser (trimmed): `Trace,`, `LINK_UP,`, `Red = 1,`,
/// `Some(u8),`: one identifier, then nothing, `= value` or `(...)`, and a final `,`. Code
/// only inside a block (see `Segment::feed`): alone, `Thanks,` has the same shape.
pub(crate) fn is_member(t: &[u8]) -> bool {
    let Some(body) = t.strip_suffix(b",") else {
        return false;
    };
    let ident = body
        .iter()
        .position(|b| !(b.is_ascii_alphanumeric() || *b == b'_'))
        .unwrap_or(body.len());
    if ident == 0 || !(body[0].is_ascii_alphabetic() || body[0] == b'_') || body.len() > 80 {
        return false;
    }
    let rest = body[ident..].trim_ascii_start();
    rest.is_empty() || rest[0] == b'=' || (rest[0] == b'(' && rest.ends_with(b")"))
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

/// Whether `line`, in a block without any byte of `density::is_mark`, can be code: there
/// [`classify`] says code only after a leading keyword (brackets, `;`, `=`, `#`, `@` and the
/// operators are all marks), so a line whose first word is none is skipped unread.
pub(crate) fn may_be_quiet_code(line: &[u8]) -> bool {
    let t = line.trim_ascii(); // as `classify` reads it: a CRLF line ends in `\r`
    if !may_start_keyword(t) {
        return false;
    }
    let word = leading_word(t);
    keyword_follows(t, word) && keyword_score(word, t) > 0
}

/// Whether the byte after a line's leading word lets that word be a keyword.
fn keyword_follows(t: &[u8], word: &[u8]) -> bool {
    t.get(word.len())
        .is_none_or(|b| matches!(b, b' ' | b'(' | b':' | b'{' | b'<' | b';' | b'!' | b'\t'))
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
    if !rest.first().is_some_and(|b| is_operator(*b)) {
        return false; // most lines: a word follows the first word
    }
    let op_end = rest
        .iter()
        .take(4)
        .position(|b| !is_operator(*b))
        .unwrap_or(rest.len().min(4));
    matches!(
        &rest[..op_end],
        b"=" | b":="
            | b"+="
            | b"-="
            | b"*="
            | b"/="
            | b"|="
            | b"&="
            | b"^="
            | b"%="
            | b"<<="
            | b">>="
            | b"->"
            | b"=>"
            | b"<-"
    )
}

/// `= : + - * / | & ^ % < > !`, as one bit test (a `match` here compiles to a jump table,
/// whose target changes from line to line).
fn is_operator(b: u8) -> bool {
    const OPERATORS: u128 = {
        let mut set = 0u128;
        let ops = b"=:+-*/|&^%<>!";
        let mut i = 0;
        while i < ops.len() {
            set |= 1 << ops[i];
            i += 1;
        }
        set
    };
    b < 128 && OPERATORS >> b & 1 != 0
}

/// At least `n` space-separated words: spaces counted from bit masks, 16 bytes at a time,
/// stopping at the vector where enough were seen; the last few bytes one by one (a padded
/// copy of a short line costs more than they do). Long lines without spaces (tokens,
/// base64) are the ones that cost, and they cost a vector pass.
fn words_at_least(t: &[u8], n: usize) -> bool {
    let need = n.saturating_sub(1);
    let mut spaces = 0;
    let mut sixteens = t.chunks_exact(16);
    for sixteen in &mut sixteens {
        if let Ok(sixteen) = <&[u8; 16]>::try_from(sixteen) {
            spaces += SPACE.mask16(sixteen).count_ones() as usize;
        }
        if spaces >= need {
            return true;
        }
    }
    spaces += sixteens.remainder().iter().filter(|b| **b == b' ').count();
    spaces >= need
}

const SPACE: ByteSet = ByteSet::of(b" ");

/// Whether under one byte in twenty is something other than letters, spaces and sentence
/// punctuation: true of sentences, false of code (`=`, `+`, `(`, `_`, digits...).
fn reads_as_words(t: &[u8]) -> bool {
    let symbols = t
        .iter()
        .filter(|b| {
            !(b.is_ascii_alphabetic() || matches!(b, b' ' | b',' | b'.' | b'\'' | b'"' | b'-'))
        })
        .count();
    symbols * 20 < t.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Spaces counted by vectors and a tail agree with a plain count, at every line length
    /// about the vector's and with the spaces anywhere.
    #[test]
    fn words_are_counted_like_a_plain_count() {
        for len in 0..70 {
            for every in [1, 2, 5, 16, 100] {
                let line: Vec<u8> = (0..len)
                    .map(|i| if i % every == every - 1 { b' ' } else { b'x' })
                    .collect();
                let spaces = line.iter().filter(|b| **b == b' ').count();
                for n in 1..8 {
                    assert_eq!(
                        words_at_least(&line, n),
                        spaces + 1 >= n,
                        "{len} {every} {n}"
                    );
                }
            }
        }
    }

    #[test]
    fn code_lines() {
        for l in [
            "def parse(data):",
            "    return x * 2",
            "fn main() {",
            "} else {",
            "  }).unwrap();",
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
        for l in [
            "",
            "   ",
            "// a comment",
            "# Heading",
            "```python",
            "Thanks",
            "- item one",
            "}",
            "});",
            "\"name\": {",
            "],",
        ] {
            assert_ne!(classify(l.as_bytes(), true), Line::Code, "{l}");
        }
    }
}
