//! Invisible characters — zero-width space, non-joiner and joiner, word joiner, byte-order
//! mark, soft hyphen — render as nothing, so `4539\u{200B}1488...` reads as a card to a person
//! and as two numbers to a scanner. A scan strips them first ([`strip`]) and maps the offsets
//! of what it finds back to the text it was given ([`Stripped::original`]): findings, masks
//! and redactions cover the original bytes, invisible ones included.
//!
//! The common path — a text without any of them — costs one `memchr3` pass over the text
//! for their lead bytes (0xE2, 0xEF, 0xC2) and no copy. Never allocates unless one is present.

use std::borrow::Cow;

/// The length of the invisible character at `i`, or 0.
#[inline]
fn invisible_at(text: &[u8], i: usize) -> usize {
    match text.get(i..).unwrap_or_default() {
        [0xE2, 0x80, 0x8B..=0x8D, ..] | [0xE2, 0x81, 0xA0, ..] | [0xEF, 0xBB, 0xBF, ..] => 3,
        [0xC2, 0xAD, ..] => 2,
        _ => 0,
    }
}

/// A text with its invisible characters removed, and where they were.
#[derive(Debug)]
pub(crate) struct Stripped<'a> {
    pub text: Cow<'a, [u8]>,
    /// `(offset in the stripped text, bytes removed up to there)`, by offset: each entry is one
    /// removed character, just before the stripped byte at its offset.
    removed: Vec<(usize, usize)>,
}

/// `text` without its invisible characters; borrowed when it has none.
pub(crate) fn strip(text: &[u8]) -> Stripped<'_> {
    let mut hits =
        memchr::memchr3_iter(0xE2, 0xEF, 0xC2, text).filter(|i| invisible_at(text, *i) > 0);
    let Some(first) = hits.next() else {
        return Stripped {
            text: Cow::Borrowed(text),
            removed: Vec::new(),
        };
    };
    let mut out = Vec::with_capacity(text.len());
    let mut removed = Vec::new();
    let mut from = 0;
    let mut total = 0;
    for i in std::iter::once(first).chain(hits) {
        if i < from {
            continue;
        }
        out.extend_from_slice(&text[from..i]);
        let len = invisible_at(text, i);
        total += len;
        removed.push((out.len(), total));
        from = i + len;
    }
    out.extend_from_slice(&text[from..]);
    Stripped {
        text: Cow::Owned(out),
        removed,
    }
}

impl Stripped<'_> {
    /// Whether nothing was removed.
    pub fn is_plain(&self) -> bool {
        self.removed.is_empty()
    }

    /// Bytes removed before the stripped byte at `at`.
    fn shift(&self, at: usize) -> usize {
        let k = self.removed.partition_point(|(o, _)| *o <= at);
        k.checked_sub(1).map_or(0, |k| self.removed[k].1)
    }

    /// The original offsets of the stripped span `start..end` (non-empty): from its first byte
    /// to just past its last, the invisible characters between them inside.
    pub fn original(&self, start: usize, end: usize) -> (usize, usize) {
        (start + self.shift(start), end - 1 + self.shift(end - 1) + 1)
    }
}

/// `text` without invisible characters, as a scan reads it: for checking findings against
/// their detector's pattern (the fuzz properties), where a span holds such characters.
pub fn visible(text: &str) -> Cow<'_, str> {
    match strip(text.as_bytes()).text {
        Cow::Borrowed(_) => Cow::Borrowed(text),
        // Whole UTF-8 characters were removed from valid UTF-8.
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
