//! Every mask, count and bit walk of `byteset` held to its plain definition, on the vector
//! path and the portable one alike (both compile on x86-64; the tests run both).

use super::*;

const SETS: [ByteSet; 7] = [
    DIGITS,
    LETTERS,
    BASE64,
    NEWLINE,
    ByteSet {
        bytes: b"_-\x00\xff",
        letters: false,
        ranges: &[(0x80, 0x90), (b'0', b'0')],
    },
    // Ranges at the edges of the byte values, across the signed boundary, backwards.
    ByteSet {
        bytes: &[],
        letters: false,
        ranges: &[(0x00, 0x05), (0x7E, 0x81), (0xFA, 0xFF), (0x50, 0x40)],
    },
    ByteSet {
        bytes: &[],
        letters: false,
        ranges: &[(0x00, 0xFF)],
    },
];

#[test]
fn masks_match_the_definition_for_every_byte_at_every_lane() {
    for set in SETS {
        for b in 0..=255u8 {
            for k in [0usize, 1, 15, 16, 31, 47, 63] {
                let mut chunk = [b'.'; 64];
                chunk[k] = b;
                let plain = (0..64)
                    .filter(|i| set.contains(chunk[*i]))
                    .fold(0u64, |m, i| m | 1 << i);
                assert_eq!(set.mask(&chunk), plain, "{set:?} byte {b} at {k}");
                let mut sixteen = [0u8; 16];
                sixteen.copy_from_slice(&chunk[k / 16 * 16..][..16]);
                assert_eq!(
                    u64::from(set.mask16(&sixteen)),
                    plain >> (k / 16 * 16) & 0xFFFF,
                    "{set:?} byte {b} at {k}"
                );
                assert_eq!(
                    set.mask64_portable(&chunk),
                    plain,
                    "{set:?} byte {b} at {k}"
                );
            }
        }
    }
}

/// `n` bytes cycling through letters, a digit, punctuation, a non-ASCII byte and `\n`.
fn mixed_text(n: u32) -> Vec<u8> {
    (0..n)
        .map(|i| b"aZ9_ -\xc3\n"[(i * 5 % 8) as usize])
        .collect()
}

#[test]
fn runs_end_at_the_first_byte_outside_or_the_bound() {
    let text = mixed_text(200);
    for set in SETS {
        for from in [0, 1, 63, 64, 130, 199, 200] {
            for hi in [from, from + 1, from + 70, 200] {
                let hi = hi.min(200);
                let plain = (from..hi).find(|k| !set.contains(text[*k])).unwrap_or(hi);
                assert_eq!(set.run_end(&text, from, hi), plain, "{from} {hi}");
            }
        }
    }
}

#[test]
fn windows_of_a_text_match_their_own_masks() {
    let text = mixed_text(200);
    for set in SETS {
        for from in [0, 1, 63, 100, 136, 150, 199, 200] {
            for n in [0, 1, 17, 63, 64] {
                let to = (from + n).min(text.len());
                assert_eq!(
                    set.mask_in(&text, from, to),
                    set.mask(&text[from..to]),
                    "{from} {n}"
                );
            }
        }
    }
}

#[test]
fn short_chunks_have_no_bits_past_their_end() {
    let text = mixed_text(64);
    for set in SETS {
        for n in [0, 1, 7, 16, 33, 63, 64] {
            let plain = (0..n)
                .filter(|k| set.contains(text[*k]))
                .fold(0u64, |m, k| m | 1 << k);
            assert_eq!(set.mask(&text[..n]), plain, "{n}");
        }
    }
}

#[test]
fn equal_lanes_are_marked_on_both_paths() {
    let a: [u8; 16] = std::array::from_fn(|i| (i * 7 % 5) as u8 + 0x7E);
    for shift in 0..5 {
        let b: [u8; 16] = std::array::from_fn(|i| ((i + shift) * 7 % 5) as u8 + 0x7E);
        let plain = (0..16)
            .filter(|k| a[*k] == b[*k])
            .fold(0u16, |m, k| m | 1 << k);
        assert_eq!(eq_mask16(&a, &b), plain, "{shift}");
        assert_eq!(eq_mask16_portable(&a, &b), plain, "{shift}");
    }
}

#[test]
fn distinct_bytes_of_sixteen_on_both_paths() {
    let mut rng = crate::samples::SampleRng::new(4);
    for round in 0..2000 {
        // Narrow alphabets repeat bytes; the wide one brings 0x00 and 0xFF.
        let alphabet: Vec<u8> = match round % 4 {
            0 => b"ab".to_vec(),
            1 => b"abcdefgh".to_vec(),
            2 => (b'0'..=b'z').collect(),
            _ => (0..=255).collect(),
        };
        let mut bytes = [0u8; 16];
        bytes.fill_with(|| alphabet[rng.below(alphabet.len())]);
        let mut plain: Vec<u8> = bytes.to_vec();
        plain.sort_unstable();
        plain.dedup();
        assert_eq!(distinct_in_16(&bytes) as usize, plain.len(), "{bytes:?}");
        assert_eq!(distinct_in_16_portable(&bytes) as usize, plain.len());
    }
}

#[test]
fn packing_moves_byte_k_to_bit_k() {
    for v in [0u64, 1, 0x0101_0101_0101_0101, 0x0100_0000_0000_0001] {
        let bits = (0..8)
            .filter(|k| v >> (8 * k) & 1 == 1)
            .fold(0, |m, k| m | 1 << k);
        assert_eq!(pack8(v), bits);
    }
}

#[test]
fn code_counts_match_a_plain_count() {
    let text: Vec<u8> = (0..20_000u32)
        .map(|i| b"ab(;=\n x"[(i * 7 % 8) as usize])
        .collect();
    let plain = |set: &[u8]| text.iter().filter(|b| set.contains(b)).count();
    assert_eq!(code_counts(&text), (plain(b"(;="), plain(b"\n")));
    assert_eq!(code_counts_portable(&text), (plain(b"(;="), plain(b"\n")));
    #[cfg(target_arch = "x86_64")]
    assert_eq!(code_counts_sse2(&text), (plain(b"(;="), plain(b"\n")));
    // Every length around the vector and overflow steps.
    for len in [0, 1, 15, 16, 17, 4079, 4080, 4081, 8161, 20_000] {
        let part = &text[..len];
        let plain = |set: &[u8]| part.iter().filter(|b| set.contains(b)).count();
        assert_eq!(code_counts(part), (plain(b"(;="), plain(b"\n")), "{len}");
    }
    // All one byte: lanes that would wrap without the periodic sums.
    let same = vec![b'='; 9000];
    assert_eq!(code_counts(&same), (9000, 0));
    assert_eq!(code_counts(b""), (0, 0));
}

#[test]
fn bits_walk_set_bits_lowest_first() {
    for mask in [
        0u64,
        1,
        1 << 63,
        0b1011_0000,
        u64::MAX,
        0x8000_0000_0000_0001,
    ] {
        let plain: Vec<usize> = (0..64).filter(|k| mask >> k & 1 == 1).collect();
        assert_eq!(Bits(mask).collect::<Vec<_>>(), plain, "{mask:#x}");
        assert_eq!(Bits(mask).len(), plain.len());
    }
}
