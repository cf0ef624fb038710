//! The block tests behind the two fast paths: how many `(`, `;` and `=` a block holds and how
//! many lines (dense code: byte lanes the compiler vectorises, or SSE2 compares on x86-64
//! builds without AVX2), and whether it holds any of the bytes a line needs to be code without
//! a leading keyword (quiet prose), in byte lanes the compiler vectorises (about 10 GB/s).
//! Prose has almost none of those bytes and JSON has none; code in every language the
//! detector knows is full of them.

/// Share of `(`, `;`, `=` bytes from which a block with short lines is code, in per mille.
const DENSE_PER_MILLE: usize = 16;
/// Longest average line of a dense code block.
const MAX_AVERAGE_LINE: usize = 100;

/// `(code bytes, newlines)` in `block`.
pub(super) fn counts(block: &[u8]) -> (usize, usize) {
    // With AVX2 the compiler vectorises the portable lanes 32 bytes wide.
    #[cfg(all(target_arch = "x86_64", not(target_feature = "avx2")))]
    return counts_sse2(block);
    #[cfg(any(not(target_arch = "x86_64"), target_feature = "avx2"))]
    counts_portable(block)
}

/// [`counts`] sixteen bytes per step: a compare gives 0xFF (-1) in each lane that matches, and
/// subtracting it counts the lane up by one; every 255 steps (before a lane can wrap) the
/// lanes are summed by `psadbw` against zero.
#[cfg(target_arch = "x86_64")]
#[cfg_attr(target_feature = "avx2", allow(dead_code))]
fn counts_sse2(block: &[u8]) -> (usize, usize) {
    use safe_arch::{
        bitor_m128i, cmp_eq_mask_i8_m128i as eq, load_unaligned_m128i, m128i, set_splat_i8_m128i,
        sub_i8_m128i, sum_of_u8_abs_diff_m128i, zeroed_m128i,
    };
    let splat = |b: u8| set_splat_i8_m128i(i8::from_ne_bytes([b]));
    let (open, semi, equals, newline) = (splat(b'('), splat(b';'), splat(b'='), splat(b'\n'));
    let total = |lanes: m128i| -> usize {
        let [lo, hi] = <[u64; 2]>::from(sum_of_u8_abs_diff_m128i(lanes, zeroed_m128i()));
        (lo + hi) as usize
    };
    let (mut code, mut lines) = (0usize, 0usize);
    for big in block.chunks(16 * 255) {
        let (mut c, mut n) = (zeroed_m128i(), zeroed_m128i());
        let mut sixteens = big.chunks_exact(16);
        for sixteen in &mut sixteens {
            let mut lane = [0u8; 16];
            lane.copy_from_slice(sixteen);
            let v = load_unaligned_m128i(&lane);
            let marks = bitor_m128i(bitor_m128i(eq(v, open), eq(v, semi)), eq(v, equals));
            c = sub_i8_m128i(c, marks);
            n = sub_i8_m128i(n, eq(v, newline));
        }
        code += total(c);
        lines += total(n);
        for x in sixteens.remainder() {
            code += usize::from((*x == b'(') | (*x == b';') | (*x == b'='));
            lines += usize::from(*x == b'\n');
        }
    }
    (code, lines)
}

/// [`counts`] in byte lanes the compiler vectorises.
#[cfg_attr(
    all(target_arch = "x86_64", not(target_feature = "avx2")),
    allow(dead_code)
)]
fn counts_portable(block: &[u8]) -> (usize, usize) {
    const W: usize = 32;
    let (mut code, mut lines) = (0usize, 0usize);
    // u8 lanes overflow after 255 rounds.
    for big in block.chunks(W * 255) {
        let (mut c, mut n) = ([0u8; W], [0u8; W]);
        let mut chunks = big.chunks_exact(W);
        for chunk in &mut chunks {
            for (i, x) in chunk.iter().enumerate() {
                c[i] += u8::from((*x == b'(') | (*x == b';') | (*x == b'='));
                n[i] += u8::from(*x == b'\n');
            }
        }
        code += c.iter().map(|v| usize::from(*v)).sum::<usize>();
        lines += n.iter().map(|v| usize::from(*v)).sum::<usize>();
        for x in chunks.remainder() {
            code += usize::from((*x == b'(') | (*x == b';') | (*x == b'='));
            lines += usize::from(*x == b'\n');
        }
    }
    (code, lines)
}

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_match_a_plain_count() {
        let text: Vec<u8> = (0..20_000u32)
            .map(|i| b"ab(;=\n x"[(i * 7 % 8) as usize])
            .collect();
        let plain = |set: &[u8]| text.iter().filter(|b| set.contains(b)).count();
        assert_eq!(counts(&text), (plain(b"(;="), plain(b"\n")));
        assert_eq!(counts_portable(&text), (plain(b"(;="), plain(b"\n")));
        #[cfg(target_arch = "x86_64")]
        assert_eq!(counts_sse2(&text), (plain(b"(;="), plain(b"\n")));
        // Every length around the vector and overflow steps.
        for len in [0, 1, 15, 16, 17, 4079, 4080, 4081, 8161, 20_000] {
            let part = &text[..len];
            let plain = |set: &[u8]| part.iter().filter(|b| set.contains(b)).count();
            assert_eq!(counts(part), (plain(b"(;="), plain(b"\n")), "{len}");
        }
        // All one byte: lanes that would wrap without the periodic sums.
        let same = vec![b'='; 9000];
        assert_eq!(counts(&same), (9000, 0));
        assert_eq!(counts(b""), (0, 0));
    }

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
    fn prose_is_never_dense() {
        let prose =
            "The committee, which met on Tuesday, agreed (after a long debate).\n".repeat(20);
        let (c, n) = counts(prose.as_bytes());
        assert!(!is_dense_code(c, n, prose.len()));
        let code = "    let total = items.iter().map(|x| x.price).sum();\n".repeat(20);
        let (c, n) = counts(code.as_bytes());
        assert!(is_dense_code(c, n, code.len()));
    }
}
