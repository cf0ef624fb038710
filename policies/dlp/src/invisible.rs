//! What a person reads and a scanner must read the same way. Invisible characters —
//! zero-width space, non-joiner and joiner, word joiner, byte-order mark, soft hyphen —
//! render as nothing, so `4539\u{200B}1488...` reads as a card to a person and as two numbers
//! to a scanner; digits of other scripts and forms (full-width U+FF10.., Arabic-Indic
//! U+0660.., Devanagari, mathematical bold, superscripts: what NFKC folds to `0`–`9`) and
//! HTML numeric character references of digits and separators (`&` `#52;`, `#x34;`, `#32;`)
//! read as digits.
//! A scan folds all of them first ([`strip`]: invisible ones removed, the others replaced by
//! their ASCII digit or separator) and maps the offsets of what it finds back to the text it
//! was given ([`Stripped::original`]): findings, masks and redactions cover the original
//! bytes, invisible ones and whole multi-byte digits included.
//!
//! The common path — a text with none of these — costs one pass of 64-byte masks for the
//! bytes they start with (`&` and a few UTF-8 lead bytes; curly quotes and dashes are
//! rejected on their second byte) and no copy. Never allocates unless something is folded,
//! and never makes a text longer.

use std::borrow::Cow;

use super::byteset::ByteSet;

/// The bytes a fold can start with: `&`, and the lead bytes of the invisible characters and
/// of the digits in [`ZEROS`] and the superscripts. Found 64 bytes at a time by mask.
const LEADS: ByteSet = ByteSet::of(&[
    b'&', 0xC2, 0xD9, 0xDB, 0xDF, 0xE0, 0xE1, 0xE2, 0xEA, 0xEF, 0xF0,
]);

/// The first offset at or after `from` where something folds.
fn next_fold(text: &[u8], mut from: usize) -> Option<usize> {
    while from < text.len() {
        let hi = (from + 64).min(text.len());
        let mut mask = LEADS.mask_in(text, from, hi);
        while mask != 0 {
            let i = from + mask.trailing_zeros() as usize;
            if fold_at(text, i).is_some() {
                return Some(i);
            }
            mask &= mask - 1;
        }
        from = hi;
    }
    None
}

/// The length of the invisible character at `i`, or 0.
#[inline]
fn invisible_at(text: &[u8], i: usize) -> usize {
    match text.get(i..).unwrap_or_default() {
        [0xE2, 0x80, 0x8B..=0x8D, ..] | [0xE2, 0x81, 0xA0, ..] | [0xEF, 0xBB, 0xBF, ..] => 3,
        [0xC2, 0xAD, ..] => 2,
        _ => 0,
    }
}

/// Code points of a zero in the Unicode decimal-digit blocks (each is followed by one to nine
/// in order), sorted. Mathematical digits come in five runs of ten from U+1D7CE.
const ZEROS: &[u32] = &[
    0x0660, 0x06F0, 0x07C0, 0x0966, 0x09E6, 0x0A66, 0x0AE6, 0x0B66, 0x0BE6, 0x0C66, 0x0CE6, 0x0D66,
    0x0DE6, 0x0E50, 0x0ED0, 0x0F20, 0x1040, 0x1090, 0x17E0, 0x1810, 0x1946, 0x19D0, 0x1A80, 0x1A90,
    0x1B50, 0x1BB0, 0x1C40, 0x1C50, 0x2080, 0xA620, 0xA8D0, 0xA900, 0xA9D0, 0xA9F0, 0xAA50, 0xABF0,
    0xFF10, 0x104A0, 0x11066, 0x1D7CE, 0x1D7D8, 0x1D7E2, 0x1D7EC, 0x1D7F6, 0x1FBF0,
];

/// The ASCII digit NFKC folds code point `c` to, if any.
fn digit_of(c: u32) -> Option<u8> {
    match c {
        0x2070 => return Some(b'0'),
        0xB9 => return Some(b'1'),
        0xB2 => return Some(b'2'),
        0xB3 => return Some(b'3'),
        0x2074..=0x2079 => return Some(b'4' + (c - 0x2074) as u8),
        _ => {}
    }
    let k = ZEROS.partition_point(|z| *z <= c).checked_sub(1)?;
    let off = c - ZEROS[k];
    // The mathematical runs are contiguous: past 9 is the next run's zero, found above.
    (off < 10).then(|| b'0' + off as u8)
}

/// The code point of the UTF-8 sequence (two to four bytes) at `i`, and its length.
fn decode(text: &[u8], i: usize) -> Option<(u32, usize)> {
    let cont = |k: usize| {
        text.get(i + k)
            .filter(|b| (0x80..0xC0).contains(*b))
            .map(|b| u32::from(b & 0x3F))
    };
    let lead = u32::from(*text.get(i)?);
    match lead {
        0xC2..=0xDF => Some(((lead & 0x1F) << 6 | cont(1)?, 2)),
        0xE0..=0xEF => Some(((lead & 0x0F) << 12 | cont(1)? << 6 | cont(2)?, 3)),
        0xF0..=0xF4 => Some((
            (lead & 0x07) << 18 | cont(1)? << 12 | cont(2)? << 6 | cont(3)?,
            4,
        )),
        _ => None,
    }
}

/// `&#NN;` or `&#xHH;` at `i` whose value is an ASCII digit, space, `-`, `.` or `/`: that
/// byte and the reference's length. At most eight digits are read.
fn entity_at(text: &[u8], i: usize) -> Option<(u8, usize)> {
    let rest = text.get(i..)?;
    let (radix, from) = match rest {
        [b'&', b'#', b'x' | b'X', ..] => (16, 3),
        [b'&', b'#', ..] => (10, 2),
        _ => return None,
    };
    let len = rest.iter().skip(from).take(9).position(|b| *b == b';')?;
    if len == 0 {
        return None;
    }
    let digits = &rest[from..from + len];
    if !digits.iter().all(u8::is_ascii_hexdigit) {
        return None;
    }
    let digits = std::str::from_utf8(digits).ok()?;
    let value = u32::from_str_radix(digits, radix).ok()?;
    let b = u8::try_from(value).ok()?;
    (b.is_ascii_digit() || matches!(b, b' ' | b'-' | b'.' | b'/')).then_some((b, from + len + 1))
}

/// What the bytes at `i` fold to: `(replacement, original length)`, the replacement empty
/// for an invisible character; `None` when they stay as they are.
#[inline]
fn fold_at(text: &[u8], i: usize) -> Option<(Option<u8>, usize)> {
    match text[i] {
        b'&' => entity_at(text, i).map(|(b, len)| (Some(b), len)),
        0x00..=0x7F => None,
        _ => {
            let inv = invisible_at(text, i);
            if inv > 0 {
                return Some((None, inv));
            }
            // Quotes, dashes and spaces (U+2000-U+203F), the common case in prose: no digit.
            if text.get(i..i + 2) == Some(&[0xE2, 0x80][..]) {
                return None;
            }
            let (c, len) = decode(text, i)?;
            digit_of(c).map(|d| (Some(d), len))
        }
    }
}

/// A text with its invisible characters removed and its digits folded, and where.
#[derive(Debug)]
pub(crate) struct Stripped<'a> {
    pub text: Cow<'a, [u8]>,
    /// The text it was made from.
    orig: &'a [u8],
    /// `(offset in the folded text, bytes removed up to there)`, by offset: each entry is one
    /// folded character, just before the folded byte at its offset.
    removed: Vec<(usize, usize)>,
}

/// `text` folded as a scan reads it; borrowed when nothing changes.
pub(crate) fn strip(text: &[u8]) -> Stripped<'_> {
    let plain = Stripped {
        text: Cow::Borrowed(text),
        orig: text,
        removed: Vec::new(),
    };
    let Some(first) = next_fold(text, 0) else {
        return plain;
    };
    let mut out = Vec::with_capacity(text.len());
    let mut removed = Vec::new();
    let mut total = 0;
    let mut from = 0;
    let mut next = Some(first);
    while let Some(i) = next {
        out.extend_from_slice(&text[from..i]);
        // `next_fold` returned `i` because something folds there.
        let (replacement, len) = fold_at(text, i).unwrap_or((None, 0));
        if let Some(r) = replacement {
            out.push(r);
        }
        total += len - usize::from(replacement.is_some());
        removed.push((out.len(), total));
        from = i + len.max(1);
        next = next_fold(text, from);
    }
    out.extend_from_slice(&text[from..]);
    Stripped {
        text: Cow::Owned(out),
        orig: text,
        removed,
    }
}

impl Stripped<'_> {
    /// Whether nothing was folded.
    pub fn is_plain(&self) -> bool {
        self.removed.is_empty()
    }

    /// Bytes removed before the folded byte at `at`.
    fn shift(&self, at: usize) -> usize {
        let k = self.removed.partition_point(|(o, _)| *o <= at);
        k.checked_sub(1).map_or(0, |k| self.removed[k].1)
    }

    /// The original offsets of the folded span `start..end` (non-empty): from its first byte
    /// to just past its last (the whole character a digit was folded from), the invisible
    /// characters between them inside.
    pub fn original(&self, start: usize, end: usize) -> (usize, usize) {
        let last = end - 1 + self.shift(end - 1);
        let len = match self.orig.get(last) {
            Some(b'&') => entity_at(self.orig, last).map_or(1, |(_, len)| len),
            Some(0xC0..=0xFF) => decode(self.orig, last).map_or(1, |(_, len)| len),
            _ => 1,
        };
        (start + self.shift(start), last + len)
    }
}

/// `text` folded as a scan reads it: for checking findings against their detector's pattern
/// (the fuzz properties), where a span holds invisible characters or folded digits.
pub fn visible(text: &str) -> Cow<'_, str> {
    match strip(text.as_bytes()).text {
        Cow::Borrowed(_) => Cow::Borrowed(text),
        // Whole UTF-8 characters were replaced by ASCII in valid UTF-8.
        Cow::Owned(v) => Cow::Owned(String::from_utf8_lossy(&v).into_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strips_and_maps_back() {
        let t = "4539\u{200B}1488\u{200C}0343\u{FEFF}6467 x\u{AD}y é – ok";
        let s = strip(t.as_bytes());
        assert_eq!(&*s.text, "4539148803436467 xy é – ok".as_bytes());
        // The card: stripped 0..16, original from its first digit to its last.
        assert_eq!(s.original(0, 16), (0, t.find(" x").unwrap()));
        assert_eq!(s.original(4, 8), (7, 11));
        // `xy`: the soft hyphen between them is inside the span.
        let x = t.find('x').unwrap();
        assert_eq!(s.original(17, 19), (x, x + 4));
        // After every removal: shifted by all of them.
        assert_eq!(s.original(20, 22), (20 + 11, 22 + 11));
        let plain = strip(b"no invisible \xE2\x80\x93 here");
        assert!(plain.is_plain() && matches!(plain.text, Cow::Borrowed(_)));
        assert_eq!(visible("a\u{200D}b"), "ab");
    }

    #[test]
    fn cut_sequences_are_kept() {
        for t in [&b"\xE2\x80"[..], b"\xC2", b"\xEF\xBB", b"a\xE2"] {
            let s = strip(t);
            assert_eq!(&*s.text, t);
        }
    }
}
