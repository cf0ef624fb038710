//! What a decoded base64 run may still be wrapped in, and the bounds on unwrapping it: gzip
//! (`H4sI...` is gzip in base64), UTF-16 (a browser's `btoa` of a UTF-16 string, a Windows
//! file), percent-encoding (`4556%207375...` copied from a URL), and base64 again (found by
//! the nested scan itself). Each layer is one level of [`MAX_DEPTH`]; every byte decoded at any
//! level is charged to one [`Decoding`] budget per scan.
//!
//! Must never: decode past the budget or the depth (gzip output is read only up to what is
//! left), or take what it could not unwrap for clean text. Over either bound the scan is
//! marked over (see [`Decoding::over`]) and the engine reports the text as unscannable: the
//! policy's fail-closed decision, never a clean result.

use std::io::Read;

use super::byteset::ByteSet;

/// Levels of encoding unwrapped: base64 of base64 of base64, or gzip in base64 in base64.
pub const MAX_DEPTH: u8 = 3;

/// Decoded bytes one scan may produce at all levels together, beyond the text's own length
/// (base64 shrinks what it decodes; only gzip grows it).
pub const DECODE_BUDGET: usize = 1 << 20;

/// Where one scan stands in its decoding: how deep it is and what it may still decode.
#[derive(Debug)]
pub(crate) struct Decoding {
    pub depth: u8,
    left: usize,
    /// Why the scan could not unwrap everything it was given (too deep, over budget).
    pub over: Option<&'static str>,
}

impl Decoding {
    /// The budget of a scan of `len` bytes of text.
    pub fn new(len: usize) -> Self {
        Decoding {
            depth: 0,
            left: len.saturating_add(DECODE_BUDGET),
            over: None,
        }
    }

    /// Takes `n` bytes from the budget; false (and marked over) when they are not there.
    pub fn charge(&mut self, n: usize) -> bool {
        match self.left.checked_sub(n) {
            Some(left) => {
                self.left = left;
                true
            }
            None => {
                self.over = Some("decoding it would exceed the DLP decode budget");
                false
            }
        }
    }
}

/// The text `bytes` (a decoded run) holds once gzip, UTF-16 and percent-encoding are taken
/// off, each counted as a level of `dec`; `None` when it is not text (binary, a truncated
/// stream) or a bound was reached (then `dec.over` says which).
pub(crate) fn unwrap(mut bytes: Vec<u8>, dec: &mut Decoding) -> Option<String> {
    let mut levels = 0u8;
    while bytes.starts_with(&[0x1f, 0x8b]) {
        if dec.depth + levels >= MAX_DEPTH {
            dec.over = Some("encodings nested deeper than the DLP decode depth");
            return None;
        }
        levels += 1;
        bytes = gunzip(&bytes, dec)?;
    }
    let text = match String::from_utf8(bytes) {
        Ok(text) if printable(&text) => text,
        Ok(text) => utf16(text.as_bytes())?,
        Err(e) => utf16(e.as_bytes())?,
    };
    if !printable(&text) {
        return None;
    }
    Some(percent_decoded(&text).unwrap_or(text))
}

/// `bytes` inflated, charged to `dec`; `None` for a broken stream or one over the budget.
fn gunzip(bytes: &[u8], dec: &mut Decoding) -> Option<Vec<u8>> {
    let limit = dec.left;
    let mut out = Vec::new();
    let reader = flate2::read::MultiGzDecoder::new(bytes);
    // One byte past what is left tells a stream that fits from one that does not.
    reader
        .take(u64::try_from(limit).unwrap_or(u64::MAX).saturating_add(1))
        .read_to_end(&mut out)
        .ok()?;
    if !dec.charge(out.len()) {
        return None;
    }
    Some(out)
}

/// `bytes` as UTF-16 text when they look like it: a byte-order mark, or a zero high byte in
/// at least one unit of eight (blanks, digits and punctuation are ASCII in every script; one
/// unit in 256 of random bytes).
fn utf16(bytes: &[u8]) -> Option<String> {
    if bytes.len() < 4 || bytes.len() % 2 == 1 {
        return None;
    }
    let (little, body) = match bytes {
        [0xFF, 0xFE, rest @ ..] => (true, rest),
        [0xFE, 0xFF, rest @ ..] => (false, rest),
        // No zero byte: not UTF-16 text of any script with blanks or digits in it.
        _ if memchr::memchr(0, bytes).is_none() => return None,
        _ => {
            let n = bytes.len() / 2;
            let high_zero = bytes.chunks_exact(2).filter(|p| p[1] == 0).count();
            let low_zero = bytes.chunks_exact(2).filter(|p| p[0] == 0).count();
            match (8 * high_zero >= n, 8 * low_zero >= n) {
                (true, false) => (true, bytes),
                (false, true) => (false, bytes),
                // Latin text with many NULs both ways: the side with more.
                (true, true) if high_zero != low_zero => (high_zero > low_zero, bytes),
                _ => return None,
            }
        }
    };
    let units = body.chunks_exact(2).map(|p| {
        if little {
            u16::from_le_bytes([p[0], p[1]])
        } else {
            u16::from_be_bytes([p[0], p[1]])
        }
    });
    char::decode_utf16(units)
        .collect::<Result<String, _>>()
        .ok()
}

/// Whether `text` has no control characters other than blanks.
fn printable(text: &str) -> bool {
    // Bytes, 64 at a time by mask, not chars: in valid UTF-8 a control character other than
    // a tab or line break is one of these bytes, or 0xC2 then 0x80-0x9F (C1). Decoded
    // payloads are read whole here, on the hot path of a secret-dense scan.
    let b = text.as_bytes();
    let mut at = 0;
    while at < b.len() {
        let hi = (at + 64).min(b.len());
        let mut m = CONTROL.mask_in(b, at, hi);
        while m != 0 {
            let i = at + m.trailing_zeros() as usize;
            if b[i] != 0xC2 || matches!(b.get(i + 1), Some(0x80..=0x9F)) {
                return false;
            }
            m &= m - 1;
        }
        at = hi;
    }
    true
}

/// C0 controls but tab and line breaks, DEL, and the lead byte of the C1 controls.
const CONTROL: ByteSet = ByteSet::of(&[
    0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x0B, 0x0C, 0x0E, 0x0F, 0x10, 0x11, 0x12,
    0x13, 0x14, 0x15, 0x16, 0x17, 0x18, 0x19, 0x1A, 0x1B, 0x1C, 0x1D, 0x1E, 0x1F, 0x7F, 0xC2,
]);

/// `text` with its `%XX` escapes decoded, when it has any and the result is UTF-8.
fn percent_decoded(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    memchr::memchr(b'%', bytes)?;
    let hex = |b: u8| char::from(b).to_digit(16);
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    let mut any = false;
    while i < bytes.len() {
        let pair = bytes
            .get(i + 1..i + 3)
            .and_then(|p| Some((hex(p[0])?, hex(p[1])?)));
        match (bytes[i], pair) {
            (b'%', Some((hi, lo))) => {
                out.push(u8::try_from(hi * 16 + lo).unwrap_or(b' '));
                any = true;
                i += 3;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    let text = String::from_utf8(out).ok()?;
    (any && printable(&text)).then_some(text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn printable_matches_the_char_rule() {
        let by_chars = |t: &str| {
            t.chars()
                .all(|c| !c.is_control() || matches!(c, '\t' | '\n' | '\r'))
        };
        let mut texts: Vec<String> = (0u32..0x250)
            .filter_map(char::from_u32)
            .map(|c| format!("{}{c}é€{}", "a".repeat(60), "b".repeat(5)))
            .collect();
        texts.extend(["", "plain\ttext\r\n", "\u{85}", "\u{a0}\u{9f}x"].map(String::from));
        for t in &texts {
            assert_eq!(printable(t), by_chars(t), "{t:?}");
        }
    }

    fn gzip(bytes: &[u8]) -> Vec<u8> {
        let mut z = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        z.write_all(bytes).unwrap();
        z.finish().unwrap()
    }

    fn utf16le(s: &str) -> Vec<u8> {
        s.encode_utf16().flat_map(u16::to_le_bytes).collect()
    }

    #[test]
    fn layers_come_off_in_order() {
        let mut dec = Decoding::new(0);
        let text = "карта 4556 7375 8689 9855";
        assert_eq!(
            unwrap(gzip(text.as_bytes()), &mut dec).as_deref(),
            Some(text)
        );
        assert_eq!(unwrap(utf16le(text), &mut dec).as_deref(), Some(text));
        let be: Vec<u8> = "4556 7375"
            .encode_utf16()
            .flat_map(u16::to_be_bytes)
            .collect();
        assert_eq!(unwrap(be, &mut dec).as_deref(), Some("4556 7375"));
        assert_eq!(
            unwrap(b"card%204556%207375".to_vec(), &mut dec).as_deref(),
            Some("card 4556 7375")
        );
        assert_eq!(
            unwrap(b"100% sure".to_vec(), &mut dec).as_deref(),
            Some("100% sure")
        );
        assert_eq!(unwrap(vec![0, 1, 2, 3, 0x80, 0xff], &mut dec), None);
        assert!(dec.over.is_none());
    }

    #[test]
    fn a_gzip_bomb_is_over_the_budget_not_clean() {
        let bomb = gzip(&vec![b'0'; 4 * DECODE_BUDGET]);
        let mut dec = Decoding::new(100);
        assert_eq!(unwrap(bomb, &mut dec), None);
        assert!(dec.over.is_some());
        // gzip in gzip in gzip past the depth.
        let deep = gzip(&gzip(&gzip(&gzip(b"4556 7375 8689 9855"))));
        let mut dec = Decoding::new(100);
        assert_eq!(unwrap(deep, &mut dec), None);
        assert!(dec.over.is_some());
        assert_eq!(
            unwrap(b"\x1f\x8bbroken".to_vec(), &mut Decoding::new(0)),
            None
        );
    }
}
