//! The digit pass: a vectorisable byte-class scan finds each run of digits; a run right after
//! two capitals may start an IBAN; a run after a non-word byte is read on as a [`Digits`]
//! sequence (groups joined by one consistent space or dash) and offered to the card and SSN
//! detectors. Every sequence is consumed whole, so no detector ever starts mid-number.

use super::detector::Detector::{CreditCard, Iban, UsSsn};
use super::detectors::{card, iban, ssn};
use super::scan::Cx;
use super::text::byte_mask;

/// Most digits a card or SSN has; longer sequences are something else.
pub const MAX_DIGITS: usize = 19;
const MAX_GROUPS: usize = 8;

/// A run of digit groups such as `4111 1111 1111 1111` or `078-05-1120`.
#[derive(Debug, Clone)]
pub(crate) struct Digits {
    pub start: usize,
    pub end: usize,
    pub groups: [u8; MAX_GROUPS],
    pub ngroups: usize,
    pub digits: [u8; MAX_DIGITS],
    pub len: usize,
    /// More than [`MAX_DIGITS`] digits or [`MAX_GROUPS`] groups: no detector wants it.
    pub overflow: bool,
}

impl Digits {
    /// Reads the sequence starting at the digit at `start`.
    pub fn parse(text: &[u8], start: usize) -> Digits {
        let mut d = Digits {
            start,
            end: start,
            groups: [0; MAX_GROUPS],
            ngroups: 0,
            digits: [0; MAX_DIGITS],
            len: 0,
            overflow: false,
        };
        let mut sep = None;
        let mut i = start;
        loop {
            let run_start = i;
            while i < text.len() && text[i].is_ascii_digit() {
                if d.len < MAX_DIGITS {
                    d.digits[d.len] = text[i] - b'0';
                }
                d.len += 1;
                i += 1;
            }
            if d.ngroups < MAX_GROUPS {
                d.groups[d.ngroups] = u8::try_from(i - run_start).unwrap_or(u8::MAX);
            }
            d.ngroups += 1;
            d.end = i;
            let next_sep = text.get(i).copied().filter(|b| matches!(b, b' ' | b'-'));
            let continues = text.get(i + 1).is_some_and(u8::is_ascii_digit);
            match next_sep {
                Some(s) if continues && sep.is_none_or(|p| p == s) => {
                    sep = Some(s);
                    i += 1;
                }
                _ => break,
            }
        }
        d.overflow = d.len > MAX_DIGITS || d.ngroups > MAX_GROUPS;
        d
    }

    pub fn digits(&self) -> &[u8] {
        &self.digits[..self.len.min(MAX_DIGITS)]
    }

    pub fn groups(&self) -> &[u8] {
        &self.groups[..self.ngroups.min(MAX_GROUPS)]
    }
}

/// Offset of the first ASCII digit at or after `from`. Blocks of 64 bytes without a digit are
/// skipped with a test the compiler vectorises; in a block with one, a bit mask gives it.
pub(crate) fn next_digit(text: &[u8], from: usize) -> Option<usize> {
    let mut i = from;
    while let Some(block) = text.get(i..i + 64) {
        let mut any = 0u8;
        for b in block {
            any |= u8::from(is_digit_lane(*b));
        }
        if any != 0 {
            let mask = byte_mask(block, is_digit_lane);
            return Some(i + mask.trailing_zeros() as usize);
        }
        i += 64;
    }
    let tail = text.get(i..)?;
    tail.iter().position(u8::is_ascii_digit).map(|k| i + k)
}

fn is_digit_lane(b: u8) -> bool {
    b.wrapping_sub(b'0') < 10
}

/// The end of the token (`[A-Za-z0-9_+/-]`) that `i` is in: the first byte outside it, from a
/// bit mask of 64 bytes at a time (random tokens are long and digits sit anywhere in them).
fn skip_word(text: &[u8], mut i: usize) -> usize {
    while i < text.len() {
        let chunk = &text[i..text.len().min(i + 64)];
        let outside = byte_mask(chunk, |b| !in_token_lane(b));
        if outside != 0 {
            return i + outside.trailing_zeros() as usize;
        }
        i += chunk.len();
    }
    text.len()
}

/// [`in_token`] without branches, for [`byte_mask`].
fn in_token_lane(b: u8) -> bool {
    ((b | 0x20).wrapping_sub(b'a') < 26)
        | (b.wrapping_sub(b'0') < 10)
        | (b == b'_')
        | (b == b'+')
        | (b == b'/')
        | (b == b'-')
}

#[cfg(test)]
fn in_token(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'_' | b'+' | b'/' | b'-')
}

fn skip_digits(text: &[u8], mut i: usize) -> usize {
    while i < text.len() && text[i].is_ascii_digit() {
        i += 1;
    }
    i
}

/// Runs the numeric detectors the scan asked for over all of `cx.text`.
pub(crate) fn scan(cx: &mut Cx<'_>) {
    let text = cx.text;
    let want_iban = cx.set.has(Iban);
    let want_grouped = cx.set.has(CreditCard) || cx.set.has(UsSsn);
    let mut i = 0;
    while let Some(p) = next_digit(text, i) {
        let prev = if p > 0 { text[p - 1] } else { b' ' };
        if prev.is_ascii_alphabetic() {
            let iban_end = if want_iban && prev.is_ascii_uppercase() {
                iban::detect(cx, p)
            } else {
                None
            };
            // Inside a word or token nothing numeric can start: skip all of it at once
            // (random tokens hold many short digit runs).
            i = iban_end.unwrap_or_else(|| skip_word(text, p));
            continue;
        }
        if !want_grouped || matches!(prev, b'.' | b'_' | b',') {
            i = skip_digits(text, p);
            continue;
        }
        // `-`, `+` or `/` right after a letter or digit: the middle of a token, a path or a
        // date; what follows is not the start of a card or an SSN.
        if matches!(prev, b'-' | b'+' | b'/') && p >= 2 && text[p - 2].is_ascii_alphanumeric() {
            i = skip_word(text, p);
            continue;
        }
        let d = Digits::parse(text, p);
        i = d.end;
        if d.overflow || !right_edge_ok(text, d.end) {
            continue;
        }
        if !card::detect(cx, &d) {
            ssn::detect(cx, &d);
        }
    }
}

/// A number continues into a word (`1234abc`), a decimal or version (`1234.5`), an identifier.
fn right_edge_ok(text: &[u8], end: usize) -> bool {
    match text.get(end) {
        Some(b) if b.is_ascii_alphanumeric() || *b == b'_' => false,
        Some(b'.' | b',') => !text.get(end + 1).is_some_and(u8::is_ascii_digit),
        _ => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digit_search_finds_the_first_digit_anywhere() {
        let mut t = vec![b'a'; 100];
        assert_eq!(next_digit(&t, 0), None);
        for pos in [0, 31, 32, 63, 64, 99] {
            t[pos] = b'7';
            assert_eq!(next_digit(&t, 0), Some(pos));
            assert_eq!(next_digit(&t, pos + 1), None);
            t[pos] = b'a';
        }
        assert_eq!(next_digit(b"", 0), None);
        assert_eq!(next_digit(b"12", 5), None);
    }

    #[test]
    fn words_end_at_the_first_byte_outside_a_token() {
        let mut t = vec![b'a'; 200];
        assert_eq!(skip_word(&t, 0), 200);
        for pos in [0, 1, 63, 64, 65, 127, 199] {
            t[pos] = b' ';
            assert_eq!(skip_word(&t, 0), pos);
            t[pos] = b'a';
        }
        assert_eq!(skip_word(b"ab+/_-9.x", 0), 7);
        for b in 0..=255u8 {
            assert_eq!(in_token_lane(b), in_token(b), "{b}");
        }
    }

    #[test]
    fn sequences_keep_one_separator() {
        let d = Digits::parse(b"4111 1111-1111 1111", 0);
        assert_eq!((d.groups(), d.end), (&[4u8, 4][..], 9));
        let d = Digits::parse(b"078-05-1120 x", 0);
        assert_eq!(d.groups(), [3, 2, 4]);
        assert_eq!(d.digits(), [0, 7, 8, 0, 5, 1, 1, 2, 0]);
        let d = Digits::parse(b"1 2 3 4 5 6 7 8 9", 0);
        assert!(d.overflow);
        let d = Digits::parse(b"12345678901234567890", 0);
        assert!(d.overflow && d.end == 20);
    }

    #[test]
    fn right_edges() {
        assert!(right_edge_ok(b"1. Next", 1));
        assert!(!right_edge_ok(b"1.5", 1));
        assert!(!right_edge_ok(b"1x", 1));
        assert!(right_edge_ok(b"1", 1));
    }
}
