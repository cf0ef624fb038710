//! The block tests behind the two fast paths: whether a block is dense code, from how many
//! `(`, `;` and `=` it holds and how many lines (counted by `byteset::code_counts`, which
//! owns the SSE2 and portable paths), and whether it holds any of the bytes a line needs to be
//! code without a leading keyword (quiet prose), in byte lanes the compiler vectorises (about
//! 10 GB/s).
//! Prose has almost none of those bytes and JSON has none; code in every language the
//! detector knows is full of them.

/// Share of `(`, `;`, `=` bytes from which a block with short lines is code, in per mille.
const DENSE_PER_MILLE: usize = 16;
/// Longest average line of a dense code block.
const MAX_AVERAGE_LINE: usize = 100;

/// The bytes without which a line is code only when it starts with a keyword (see
/// `line::classify`): brackets and braces (closers, calls, indexing, blocks), `;`, `#`, `@`,
/// `"`, and `=`, `<`, `>` (every assignment or arrow operator holds one). Taken as byte ranges,
/// which adds `\` and `|`: a superset only makes the quiet path rarer, never wrong.
pub(super) fn is_mark(x: u8) -> bool {
    (x.wrapping_sub(b'"') < 2) // " #
        | (x.wrapping_sub(b'(') < 2) // ( )
        | (x.wrapping_sub(b';') < 4) // ; < = >
        | (x == b'@')
        | (x.wrapping_sub(b'[') < 3) // [ \ ]
        | (x.wrapping_sub(b'{') < 3) // { | }
}

/// Whether `block` holds a byte of [`is_mark`]: 32 bytes at a time without branches, stopping
/// at the first chunk with one (code has one within a line, prose usually none at all).
pub(super) fn has_mark(block: &[u8]) -> bool {
    const W: usize = 32;
    let mut chunks = block.chunks_exact(W);
    for chunk in &mut chunks {
        let mut any = 0u8;
        for x in chunk {
            any |= u8::from(is_mark(*x));
        }
        if any != 0 {
            return true;
        }
    }
    chunks.remainder().iter().any(|x| is_mark(*x))
}

/// Whether a block of `len` bytes with these counts is code through and through.
pub(super) fn is_dense_code(code_bytes: usize, newlines: usize, len: usize) -> bool {
    len >= 512 && code_bytes * 1000 >= DENSE_PER_MILLE * len && newlines * MAX_AVERAGE_LINE >= len
}

/// Bytes of operators and brackets that sentences almost never hold: `! $ & ( ) * + ; < = >
/// [ ] { | }`, as range tests the compiler vectorises (`\\` comes with `[ ]`).
#[inline(always)]
fn is_operator_byte(x: u8) -> bool {
    (x == b'!')
        | (x == b'$')
        | (x == b'&')
        | (x.wrapping_sub(b'(') < 4) // ( ) * +
        | (x.wrapping_sub(b';') < 4) // ; < = >
        | (x.wrapping_sub(b'[') < 3) // [ \ ]
        | (x.wrapping_sub(b'{') < 3) // { | }
}

/// Shortest span a short fragment is judged on, in bytes.
const FRAGMENT_MIN: usize = 24;
/// Share of operator bytes among the non-blank bytes of a short fragment from which it is
/// code, in per mille.
const FRAGMENT_PER_MILLE: usize = 100;

/// Whether a segment of one to three code lines (`span`, from its first code line to the
/// end of its last) is code worth reporting on its own: a one-line arrow function, an enum on
/// one line, a macro. One byte in ten an operator or bracket, and a bracket pair: sentences
/// that hold a formula or a parenthesis stay below.
pub(super) fn short_fragment_is_code(span: &[u8]) -> bool {
    // Most short segments (`KEY=value` lines) hold no bracket: passed over at memchr speed.
    if span.len() < FRAGMENT_MIN
        || memchr::memchr2(b'(', b'{', span).is_none()
        || memchr::memchr2(b')', b'}', span).is_none()
    {
        return false;
    }
    // Counted without branches, one byte class at a time per lane.
    let (mut ops, mut blank) = (0u32, 0u32);
    for &x in span {
        ops += u32::from(is_operator_byte(x));
        blank += u32::from(x <= b' ');
    }
    let solid = span.len() as u32 - blank;
    ops as usize * 1000 >= FRAGMENT_PER_MILLE * solid as usize
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn marks_are_found_anywhere() {
        let marks = b"\"#()[]{};=<>@\\|";
        for b in 0..=255u8 {
            assert_eq!(is_mark(b), marks.contains(&b), "{b}");
        }
        let mut text = vec![b'a'; 100];
        assert!(!has_mark(&text) && !has_mark(b""));
        for pos in [0, 31, 32, 63, 64, 99] {
            text[pos] = b'=';
            assert!(has_mark(&text), "{pos}");
            text[pos] = b'a';
        }
    }

    #[test]
    fn short_fragments() {
        for code in [
            "const avg = xs => xs.reduce((a, b) => a + b, 0) / xs.length;",
            "enum Priority { Low = 1, Normal = 5, High = 10 }",
            "#define SQUARE(x) ((x) * (x))",
        ] {
            assert!(short_fragment_is_code(code.as_bytes()), "{code}");
        }
        for prose in [
            "Please send the report (the one from Tuesday) by Friday.",
            "The total = 5 apples and 3 pears, so 8 in all",
            "if you could (please) help",
        ] {
            assert!(!short_fragment_is_code(prose.as_bytes()), "{prose}");
        }
    }

    #[test]
    fn prose_is_never_dense() {
        let prose =
            "The committee, which met on Tuesday, agreed (after a long debate).\n".repeat(20);
        let (c, n) = crate::byteset::code_counts(prose.as_bytes());
        assert!(!is_dense_code(c, n, prose.len()));
        let code = "    let total = items.iter().map(|x| x.price).sum();\n".repeat(20);
        let (c, n) = crate::byteset::code_counts(code.as_bytes());
        assert!(is_dense_code(c, n, code.len()));
    }
}
