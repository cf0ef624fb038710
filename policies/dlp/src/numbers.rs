//! The digit pass: a vectorisable byte-class scan finds each run of digits; a run right after
//! capitals may start an IBAN, a NINO, a PAN or a GitLab runner token; a run after a non-word
//! byte is read on as a [`Digits`] sequence (groups joined by one kind of separator: blanks,
//! dashes or dots, see [`separator`]) and offered to the card, SSN and national-id detectors.
//! Every sequence is consumed whole, so no detector ever starts mid-number.

use super::byteset::{ByteSet, DIGITS};
use super::detector::Detector::{self, CreditCard, GitlabToken, Iban, UsSsn};
use super::detectors::{card, iban, ids, ssn};
use super::scan::Cx;

/// Most digits a card or SSN has; longer sequences are something else.
pub const MAX_DIGITS: usize = 19;
/// Most groups: a card typed one digit at a time (`4 5 5 6 ...`) has up to 19.
const MAX_GROUPS: usize = 19;

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
    /// The separator's kind (`b' '` for blanks, `b'-'`, `b'.'`); `None` for one group.
    pub sep: Option<u8>,
    /// Every separator is one space or one dash (how SSNs and national ids are written).
    pub plain: bool,
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
            sep: None,
            plain: true,
        };
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
            match separator(text, i) {
                Some((kind, len, plain))
                    if text.get(i + len).is_some_and(u8::is_ascii_digit)
                        && d.sep.is_none_or(|k| k == kind)
                        && (kind != b',' || short_groups(text, run_start, i, i + len)) =>
                {
                    d.sep = Some(kind);
                    d.plain &= plain;
                    i += len;
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

/// Whether the groups on both sides of a comma (`run_start..end`, and the digits from
/// `next`) are of at most four digits: a list of card groups or digits, never a list of whole
/// cards (`4556737586899855, 4539148803436467` is two numbers, each found on its own).
fn short_groups(text: &[u8], run_start: usize, end: usize, next: usize) -> bool {
    end - run_start <= 4 && skip_digits(text, next) - next <= 4
}

/// The separator at `i` between two digit groups: its kind (`b' '`, `b'-'`, `b'.'`, `b'/'`,
/// `b'_'`, `b','` with up to two blanks), length
/// in bytes, and whether it is plain (one space or one dash). Blanks are one to three of
/// space, tab, a line break (at most one), no-break space and the Unicode spaces; dashes are
/// `-` and the Unicode hyphens, dashes and minus signs. Cards are printed, typed and pasted with all of
/// these; none of them joins two numbers of prose by accident more than a space does.
#[inline]
pub(crate) fn separator(text: &[u8], i: usize) -> Option<(u8, usize, bool)> {
    match *text.get(i)? {
        b'-' => return Some((b'-', 1, true)),
        b'.' => return Some((b'.', 1, false)),
        // `4556/7375/...`, `4556_7375_...`: never plain, so only cards read them.
        b'/' => return Some((b'/', 1, false)),
        b'_' => return Some((b'_', 1, false)),
        // `[4556, 7375, 8689, 9855]`: a JSON array or CSV row of the groups. Never plain (a
        // thousands separator is not an SSN's), and `1,234,567` is not grouped like a card.
        b',' => {
            let blanks = text
                .get(i + 1..)
                .unwrap_or_default()
                .iter()
                .take(2)
                .take_while(|b| **b == b' ')
                .count();
            return Some((b',', 1 + blanks, false));
        }
        // Hyphen, non-breaking hyphen, figure, en and em dash, horizontal bar, minus sign,
        // small and full-width hyphen-minus: word processors and keyboards turn `-` into these
        // (`536–22–1234`), and a person reads them as the same dash, so they are as plain.
        0xE2 if matches!(
            text.get(i + 1..i + 3),
            Some([0x80, 0x90..=0x95] | [0x88, 0x92])
        ) =>
        {
            return Some((b'-', 3, true))
        }
        0xEF if matches!(
            text.get(i + 1..i + 3),
            Some([0xB9, 0x98 | 0xA3] | [0xBC, 0x8D])
        ) =>
        {
            return Some((b'-', 3, true))
        }
        _ => {}
    }
    let (mut j, mut units, mut breaks) = (i, 0, 0);
    while units < 3 {
        let len = match text.get(j..).unwrap_or_default() {
            [b' ' | b'\t', ..] => 1,
            [b'\r', b'\n', ..] | [b'\n', ..] | [b'\r', ..] => {
                breaks += 1;
                if text[j] == b'\r' && text.get(j + 1) == Some(&b'\n') {
                    2
                } else {
                    1
                }
            }
            [0xC2, 0xA0, ..] => 2,
            [0xE2, 0x80, 0x80..=0x8A | 0xAF, ..]
            | [0xE2, 0x81, 0x9F, ..]
            | [0xE3, 0x80, 0x80, ..] => 3,
            _ => break,
        };
        j += len;
        units += 1;
    }
    // One space of any width (`536\u{A0}22\u{A0}1234`) reads as one space.
    let plain = units == 1 && breaks == 0 && text[i] != b'\t';
    (units > 0 && breaks <= 1).then(|| (b' ', j - i, plain))
}

/// The digits of a text from left to right, 64 bytes at a time: each chunk's mask is made
/// once, however many digit runs the chunk holds (code and tables hold many).
struct DigitCursor {
    /// Start of the chunk `mask` describes (a multiple of 64).
    chunk: usize,
    /// Digits of `text[chunk..chunk + 64]`.
    mask: u64,
}

impl DigitCursor {
    fn new(text: &[u8]) -> Self {
        DigitCursor {
            chunk: 0,
            mask: DIGITS.mask(chunk_at(text, 0)),
        }
    }

    /// Offset of the first ASCII digit at or after `from`; `from` never goes back.
    fn next_from(&mut self, text: &[u8], from: usize) -> Option<usize> {
        if from >= text.len() {
            return None;
        }
        if from >= self.chunk + 64 {
            self.chunk = from & !63;
            self.mask = DIGITS.mask(chunk_at(text, self.chunk));
        }
        self.mask &= u64::MAX << from.saturating_sub(self.chunk);
        while self.mask == 0 {
            self.chunk += 64;
            if self.chunk >= text.len() {
                return None;
            }
            self.mask = DIGITS.mask(chunk_at(text, self.chunk));
        }
        Some(self.chunk + self.mask.trailing_zeros() as usize)
    }
}

/// The (up to) 64 bytes of `text` from `at`.
fn chunk_at(text: &[u8], at: usize) -> &[u8] {
    &text[at.min(text.len())..(at + 64).min(text.len())]
}

/// What a token (`[A-Za-z0-9_+/-]`) is made of.
const TOKEN: ByteSet = ByteSet::alnum_and(b"_+/-");

/// The end of the token that `i` is in: the first byte outside it, from a bit mask of 64
/// bytes at a time (random tokens are long and digits sit anywhere in them).
fn skip_word(text: &[u8], i: usize) -> usize {
    TOKEN.run_end(text, i, text.len())
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
    let want_lettered = cx
        .set
        .any(&[Detector::UkNino, Detector::InPan, GitlabToken]);
    let want_grouped = cx.set.has(CreditCard) || cx.set.has(UsSsn) || cx.set.any(ids::NUMERIC);
    let mut digits = DigitCursor::new(text);
    let mut i = 0;
    while let Some(p) = digits.next_from(text, i) {
        let prev = if p > 0 { text[p - 1] } else { b' ' };
        if prev.is_ascii_alphabetic() {
            let mut end = None;
            if prev.is_ascii_uppercase() {
                if want_lettered {
                    end = ids::lettered(cx, p);
                }
                if end.is_none() && want_iban {
                    end = iban::detect(cx, p);
                }
            }
            // Inside a word or token nothing numeric can start: skip all of it at once
            // (random tokens hold many short digit runs).
            i = end.unwrap_or_else(|| skip_word(text, p));
            continue;
        }
        // `BE 73 7370 ...`: the country code, a space, the check digits.
        if want_iban && prev == b' ' && p >= 3 && text[p - 2].is_ascii_uppercase() {
            if let Some(end) = iban::detect_spaced(cx, p) {
                i = end;
                continue;
            }
        }
        if !want_grouped || matches!(prev, b'.' | b'_' | b',') {
            i = skip_digits(text, p);
            continue;
        }
        // `-` or `+` right after a letter or digit: the middle of a token or a date; what
        // follows is not the start of a card or an SSN. A `/` is different: `x/`, `https://h/`
        // and `file:///home/` put a number at the start of a path segment, where a person
        // pastes a card as readily as after a space, so the number is read when it ends the
        // segment (a token's digits run into more letters and fail the right edge).
        let joined =
            matches!(prev, b'-' | b'+' | b'/') && p >= 2 && text[p - 2].is_ascii_alphanumeric();
        // Unless a space follows its first group (`x-4556 7375 8689 9855`): a token never
        // holds one, a number a person typed does.
        let spaced = joined && prev != b'/' && {
            let k = skip_digits(text, p);
            k - p <= 4
                && text.get(k) == Some(&b' ')
                && text.get(k + 1).is_some_and(u8::is_ascii_digit)
        };
        if joined && prev != b'/' && !spaced {
            i = skip_word(text, p);
            continue;
        }
        let d = Digits::parse(text, p);
        i = d.end;
        // `/usr/4556/7375/...` is a path of numbered segments, not a card written with `/`.
        let wrong_sep = if prev == b'/' {
            d.sep == Some(b'/')
        } else {
            d.sep != Some(b' ')
        };
        if d.overflow || !right_edge_ok(text, d.end) || (joined && wrong_sep) {
            if joined {
                i = skip_word(text, p);
            }
            continue;
        }
        if !card::detect(cx, &d) {
            ssn::detect(cx, &d);
            ids::numeric(cx, &d);
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
        let next_digit = |t: &[u8], from| DigitCursor::new(t).next_from(t, from);
        let mut t = vec![b'a'; 200];
        assert_eq!(next_digit(&t, 0), None);
        for pos in [0, 31, 32, 63, 64, 99, 128, 199] {
            t[pos] = b'7';
            assert_eq!(next_digit(&t, 0), Some(pos));
            assert_eq!(next_digit(&t, pos), Some(pos));
            assert_eq!(next_digit(&t, pos + 1), None);
            t[pos] = b'a';
        }
        assert_eq!(next_digit(b"", 0), None);
        assert_eq!(next_digit(b"12", 5), None);
    }

    #[test]
    fn one_cursor_walks_a_text_like_a_plain_search() {
        // Digits at irregular places; the cursor is asked from increasing offsets, some
        // inside the chunk it holds, some chunks ahead.
        let t: Vec<u8> = (0..700u32)
            .map(|i| if (i * 7919) % 13 < 2 { b'5' } else { b'x' })
            .collect();
        let plain = |from: usize| {
            t.iter()
                .skip(from)
                .position(u8::is_ascii_digit)
                .map(|k| from + k)
        };
        for step in [1, 3, 17, 64, 65, 130] {
            let mut cursor = DigitCursor::new(&t);
            let mut from = 0;
            while from <= t.len() {
                assert_eq!(
                    cursor.next_from(&t, from),
                    plain(from),
                    "step {step} from {from}"
                );
                from += step;
            }
        }
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
            assert_eq!(TOKEN.contains(b), in_token(b), "{b}");
        }
    }

    #[test]
    fn sequences_keep_one_separator() {
        let d = Digits::parse(b"4111 1111-1111 1111", 0);
        assert_eq!((d.groups(), d.end), (&[4u8, 4][..], 9));
        let d = Digits::parse("4111\u{a0}1111\u{2009}1111  1111".as_bytes(), 0);
        assert_eq!(
            (d.groups(), d.sep, d.plain),
            (&[4u8, 4, 4, 4][..], Some(b' '), false)
        );
        let d = Digits::parse("4111\n1111\n\n1111".as_bytes(), 0);
        assert_eq!(d.groups(), [4, 4], "two line breaks end a number");
        let d = Digits::parse("4111.1111\u{2013}1111".as_bytes(), 0);
        assert_eq!(d.groups(), [4, 4], "one kind of separator");
        let d = Digits::parse(b"078-05-1120 x", 0);
        assert_eq!(d.groups(), [3, 2, 4]);
        assert_eq!(d.digits(), [0, 7, 8, 0, 5, 1, 1, 2, 0]);
        let d = Digits::parse(b"1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0", 0);
        assert!(d.overflow);
        let d = Digits::parse(b"4556/7375_8689/9855", 0);
        assert_eq!((d.groups(), d.sep), (&[4u8, 4][..], Some(b'/')));
        let d = Digits::parse(b"[4556, 7375,8689,  9855]", 1);
        assert_eq!(
            (d.groups(), d.sep, d.end),
            (&[4u8, 4, 4, 4][..], Some(b','), 23)
        );
        let d = Digits::parse(b"4556737586899855, 4539148803436467", 0);
        assert_eq!(d.groups(), [16], "a list of cards is not one number");
        let d = Digits::parse(b"4556, 7375, 45391488", 0);
        assert_eq!(d.groups(), [4, 4]);
        let d = Digits::parse(b"1,234,567", 0);
        assert_eq!((d.groups(), d.plain), (&[1u8, 3, 3][..], false));
        let d = Digits::parse(b"12345678901234567890", 0);
        assert!(d.overflow && d.end == 20);
    }

    #[test]
    fn a_slash_does_not_hide_a_number() {
        use crate::detector::Detector;
        use crate::detectors::tests_support::found;
        // Review 2, finding 5: two characters in front hid a card or an SSN.
        for (text, d) in [
            ("a/4556 7375 8689 9855", Detector::CreditCard),
            (
                "card number: https://evil.example/4556737586899855",
                Detector::CreditCard,
            ),
            ("file:///home/4556737586899855", Detector::CreditCard),
            ("https://x/4556737586899855?q=1", Detector::CreditCard),
            ("x/536-22-1234", Detector::UsSsn),
            ("https://a/536-22-1234", Detector::UsSsn),
            ("x-4556 7375 8689 9855", Detector::CreditCard),
            ("a+536 22 1234", Detector::UsSsn),
        ] {
            assert_eq!(found(text, d).len(), 1, "{text}");
        }
        // A token's digits run on into letters; a date is not a card; `-` and `+` still join.
        for (text, d) in [
            ("k/4556737586899855Ab+/x", Detector::CreditCard),
            ("Zm9v/4556737586899855_x", Detector::CreditCard),
            ("12/05/2024", Detector::CreditCard),
            ("path /usr/4556/7375/8689/9855", Detector::CreditCard),
            ("v1/536-22-1234abc", Detector::UsSsn),
            ("order-4556737586899855", Detector::CreditCard),
            ("ab12-4556-7375-8689-9855", Detector::CreditCard),
        ] {
            assert!(found(text, d).is_empty(), "{text}");
        }
    }

    #[test]
    fn unicode_dashes_and_spaces_are_plain() {
        for text in [
            "536\u{2013}22\u{2013}1234",
            "536\u{2010}22\u{2011}1234",
            "536\u{2212}22\u{2212}1234",
            "536\u{FF0D}22\u{FE63}1234",
            "536\u{a0}22\u{2009}1234",
        ] {
            let d = Digits::parse(text.as_bytes(), 0);
            assert_eq!((d.groups(), d.plain), (&[3u8, 2, 4][..], true), "{text}");
        }
        let d = Digits::parse(b"536\t22\t1234", 0);
        assert!(!d.plain, "a tab is a column, not a space in a number");
    }

    #[test]
    fn right_edges() {
        assert!(right_edge_ok(b"1. Next", 1));
        assert!(!right_edge_ok(b"1.5", 1));
        assert!(!right_edge_ok(b"1x", 1));
        assert!(right_edge_ok(b"1", 1));
    }
}
