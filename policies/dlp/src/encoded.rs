//! Numbers hidden in base64: `NDU1NiA3Mzc1IDg2ODkgOTg1NQ==` is a card to anyone who decodes
//! it, and a `data:text/plain;base64,...` URL is how a pasted file travels in a prompt. Each
//! run of the base64 alphabets (standard or URL-safe, padded or not) of at least
//! [`MIN_RUN`] characters is decoded; when it decodes to printable text holding enough digits
//! for a number the numeric detectors want, that text is scanned for them (cards, IBANs,
//! SSNs, national ids) and each detector found is reported once over the whole run.
//!
//! A run is decoded only when a cheap test of every fourth character says it may be text
//! (see `worth_decoding`): most random tokens are never decoded. What it decodes to may be
//! wrapped again (gzip, UTF-16, percent-encoding, base64: see [`nested`]); each wrapping is
//! one level of [`nested::MAX_DEPTH`], every decoded byte is charged to the scan's budget, and
//! a scan that reaches either bound is unscannable, never clean. Only the numeric detectors:
//! random tokens decode to bytes that are not text, and a token detector run over decoded JWT
//! payloads or keys would report what the token detectors already report. Runs longer than
//! [`MAX_RUN`] are read in overlapping windows of that size (each decoded byte charged to the
//! budget). Must never report a run whose decoding it did not scan.

use base64::alphabet;
use base64::engine::general_purpose::GeneralPurpose;
use base64::engine::{DecodePaddingMode, GeneralPurposeConfig};
use base64::Engine;

use super::byteset::ByteSet;
use super::detector::{Detection, Detector, DetectorRef, DetectorSet};
use super::finding::Confidence;
use super::nested::{self, Decoding};
use super::scan::{Cx, Scanner};

/// Shortest run decoded: 20 characters hold 15 bytes, a 13-digit card and two separators.
pub const MIN_RUN: usize = 20;
/// Longest run decoded (a data URL of a short text file).
pub const MAX_RUN: usize = 1 << 16;

/// The detectors a decoded run is scanned for.
const NUMERIC: &[Detector] = &[
    Detector::CreditCard,
    Detector::Iban,
    Detector::UsSsn,
    Detector::UkNino,
    Detector::CaSin,
    Detector::DeTaxId,
    Detector::FrNir,
    Detector::InAadhaar,
    Detector::InPan,
    Detector::BrCpf,
];

/// Groups of four characters read by `digit_dense`: a message's worth (192 bytes).
const DENSE_GROUPS: usize = 64;

/// Both alphabets; which one a run uses is decided per run.
const RUN: ByteSet = ByteSet::alnum_and(b"+/-_");

fn engine(alphabet: &alphabet::Alphabet) -> GeneralPurpose {
    GeneralPurpose::new(
        alphabet,
        GeneralPurposeConfig::new()
            .with_decode_allow_trailing_bits(true)
            .with_decode_padding_mode(DecodePaddingMode::Indifferent),
    )
}

/// The numeric detectors of `set`, or `None` when it has none.
pub(crate) fn numeric_subset(set: &DetectorSet) -> Option<DetectorSet> {
    let mut sub = DetectorSet::default();
    for d in NUMERIC.iter().filter(|d| set.has(**d)) {
        sub.insert(DetectorRef::Builtin(*d));
    }
    set.any(NUMERIC).then_some(sub)
}

/// Decodes every long base64 run of `cx.text` (and what it is wrapped in, see [`nested`]) and
/// records what the numeric detectors of `sub` find in it, over the run. Runs in what was
/// decoded are decoded in turn, to [`nested::MAX_DEPTH`] levels and within `dec`'s budget.
pub(crate) fn scan(scanner: &Scanner, cx: &mut Cx<'_>, sub: &DetectorSet, dec: &mut Decoding) {
    let text = cx.text;
    let (standard, url) = (engine(&alphabet::STANDARD), engine(&alphabet::URL_SAFE));
    // Everything before `done` has been read; `at` is the window being looked at.
    let (mut at, mut done) = (0, 0);
    while at < text.len() {
        let hi = (at + 64).min(text.len());
        let Some(first) = long_run_in(RUN.mask_in(text, at, hi)) else {
            if hi == text.len() {
                break;
            }
            // Windows overlap by MIN_RUN - 1 bytes: a long run lies whole in one of them.
            at += 64 - (MIN_RUN - 1);
            continue;
        };
        let mut start = at + first;
        while start > done && in_run(text[start - 1]) {
            start -= 1;
        }
        let end = RUN.run_end(text, start, text.len());
        at = end;
        done = end;
        let run = &text[start..end];
        if run.len() < MIN_RUN || (run.len() <= MAX_RUN && run.len() % 4 == 1) {
            continue;
        }
        let mut found: Vec<(Detector, Confidence)> = Vec::new();
        // A longer run (a card behind 64 KiB of padding) is read in windows of MAX_RUN
        // characters, four-aligned from its start so each decodes as it would in the whole,
        // overlapping so a number across a seam lies whole in one of them.
        let mut w = 0;
        loop {
            let we = (w + MAX_RUN).min(run.len());
            let window = &run[w..we - usize::from((we - w) % 4 == 1)];
            if !read_window(scanner, sub, dec, window, (&standard, &url), &mut found) {
                return;
            }
            if we == run.len() {
                break;
            }
            w = we - WINDOW_OVERLAP;
        }
        if found.is_empty() {
            continue;
        }
        let span_end = end
            + text[end..]
                .iter()
                .take(2)
                .take_while(|b| **b == b'=')
                .count();
        for (d, confidence) in found {
            if cx.set.has(d) {
                cx.out
                    .push(Detection::builtin(d, start, span_end, confidence));
            }
        }
        at = span_end;
        done = span_end;
    }
}

/// Overlap of the windows a run longer than [`MAX_RUN`] is read in (a multiple of four).
const WINDOW_OVERLAP: usize = 1024;

/// Decodes one run (or window of a run) and adds what the numeric detectors find in it to
/// `found`; `false` when the decode budget is spent (the scan stops, unscannable).
fn read_window(
    scanner: &Scanner,
    sub: &DetectorSet,
    dec: &mut Decoding,
    run: &[u8],
    (standard, url): (&GeneralPurpose, &GeneralPurpose),
    found: &mut Vec<(Detector, Confidence)>,
) -> bool {
    if !worth_decoding(run) {
        return true;
    }
    let Some(decoded) = decode(run, standard, url) else {
        return true;
    };
    if !dec.charge(decoded.len()) {
        return false;
    }
    let depth = dec.depth;
    if depth >= nested::MAX_DEPTH {
        // One level too deep: text here is text the scan cannot read.
        if nested::unwrap(decoded, dec).is_some() {
            dec.over = Some("encodings nested deeper than the DLP decode depth");
        }
        return true;
    }
    dec.depth += 1;
    let unwrapped = nested::unwrap(decoded, dec);
    if let Some(inner) = unwrapped
        .filter(|t| t.bytes().filter(u8::is_ascii_digit).count() >= 9 || holds_run(t.as_bytes()))
    {
        for d in scanner.scan_nested(inner.as_bytes(), sub, dec) {
            if let DetectorRef::Builtin(b) = d.detector {
                match found.iter_mut().find(|(f, _)| *f == b) {
                    Some(f) => f.1 = f.1.max(d.confidence),
                    None => found.push((b, d.confidence)),
                }
            }
        }
    }
    dec.depth = depth;
    true
}

/// Whether `run` is worth decoding: base64 of ASCII text (see [`ascii_text`]), of gzip
/// (`H4sI`), of UTF-16 with a byte-order mark (`//4`, `/v8`), or of other text dense in
/// digits (see [`digit_dense`]). Random tokens mostly fail all four without a decode.
fn worth_decoding(run: &[u8]) -> bool {
    ascii_text(run)
        || matches!(
            run.get(..4),
            Some(b"H4sI") | Some([b'/', b'/', b'4', _]) | Some([b'/', b'v', b'8', _])
        )
        || matches!(run.get(..3), Some(b"_-4") | Some(b"_v8"))
        || digit_dense(run)
}

/// Whether decoded text holds a run the scan would decode in turn: without one (and without
/// digits) a nested scan could find nothing.
fn holds_run(text: &[u8]) -> bool {
    text.split(|b| !in_run(*b))
        .any(|r| r.len() >= MIN_RUN && r.len() % 4 != 1 && worth_decoding(r))
}

/// Whether at least three groups of four characters of `run`'s first [`DENSE_GROUPS`], and
/// one in six, start with an ASCII digit byte (`M`, `N`, `O` hold a digit's top six bits): a
/// third of a number's digits fall there whatever surrounds them (UTF-8 letters of any
/// script), 3 groups in 64 of random bytes. Only the head is read, so a long random run
/// costs no more than a short one.
fn digit_dense(run: &[u8]) -> bool {
    let head = &run[..run.len().min(4 * DENSE_GROUPS)];
    let need = (head.len().div_ceil(4) / 6).max(3);
    let mut hits = 0;
    // 64 bytes at a time from masks; bits 0, 4, 8... are the groups' first characters.
    for at in (0..head.len()).step_by(64) {
        let m = DIGIT_HIGH.mask_in(head, at, (at + 64).min(head.len()));
        hits += (m & 0x1111_1111_1111_1111).count_ones() as usize;
    }
    hits >= need
}

/// The characters holding an ASCII digit's top six bits at a group's start.
const DIGIT_HIGH: ByteSet = ByteSet::of(b"MNO");

/// Where the first run of at least [`MIN_RUN`] set bits of `mask` starts (shift-and: bit
/// `k` survives when bits `k..k + n` are all set, `n` doubling, then topped up to 20).
fn long_run_in(mask: u64) -> Option<usize> {
    let mut r = mask;
    r &= r >> 1;
    r &= r >> 2;
    r &= r >> 4;
    r &= r >> 8;
    r &= r >> 4;
    (r != 0).then(|| r.trailing_zeros() as usize)
}

/// [`RUN`]'s definition, for walking back to a run's start.
fn in_run(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'-' | b'_')
}

/// Whether `run` can be base64 of ASCII text, without decoding it: each group of four
/// characters starts with the top six bits of a byte under 0x80, a value under 32 (`A`-`Z`,
/// `a`-`f` in both alphabets). Half of random tokens fail each group, identifiers in
/// `snake_case` nearly all: most runs are never decoded.
fn ascii_text(run: &[u8]) -> bool {
    run.iter()
        .step_by(4)
        .all(|b| b.is_ascii_uppercase() || (b'a'..=b'f').contains(b))
}

/// `run` decoded in the alphabet its characters name (`+` `/` standard, `-` `_` URL-safe;
/// both: not base64).
fn decode(run: &[u8], standard: &GeneralPurpose, url: &GeneralPurpose) -> Option<Vec<u8>> {
    let std_chars = memchr::memchr2(b'+', b'/', run).is_some();
    let url_chars = memchr::memchr2(b'-', b'_', run).is_some();
    match (std_chars, url_chars) {
        (true, true) => None,
        (true, false) => standard.decode(run).ok(),
        (false, _) => url.decode(run).ok(),
    }
}

/// The text a finding's span decodes to when it is a base64 run the scan decoded (padding
/// included): what it decodes to with its wrappings taken off, then, a line each, what the
/// base64 runs inside that decode to, to the decode depth. For checking the finding against
/// its detector's pattern (the fuzz properties); `None` for any other span.
pub fn decoded(span: &str) -> Option<String> {
    let run = span.trim_end_matches('=').as_bytes();
    if run.len() < MIN_RUN || !run.iter().all(|b| in_run(*b)) {
        return None;
    }
    let mut dec = Decoding::new(span.len());
    let mut out = String::new();
    expand(run, 1, &mut dec, &mut out);
    (!out.is_empty()).then_some(out)
}

/// Appends what `run` decodes to at `level`, and what the runs inside decode to.
fn expand(run: &[u8], level: u8, dec: &mut Decoding, out: &mut String) {
    let (standard, url) = (engine(&alphabet::STANDARD), engine(&alphabet::URL_SAFE));
    let Some(bytes) = decode(run, &standard, &url) else {
        return;
    };
    dec.depth = level;
    let Some(text) = nested::unwrap(bytes, dec) else {
        return;
    };
    out.push_str(&text);
    out.push('\n');
    if dec.depth >= nested::MAX_DEPTH {
        return;
    }
    let level = dec.depth + 1;
    for inner in text.as_bytes().split(|b| !in_run(*b)) {
        if inner.len() >= MIN_RUN {
            expand(inner, level, dec, out);
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::DlpEngine;
    use base64::Engine;

    fn found(text: &str) -> Vec<String> {
        let engine = DlpEngine::shipped().unwrap();
        engine
            .scan_profile("financial", text)
            .unwrap()
            .findings
            .iter()
            .map(|f| format!("{}:{}..{}", f.detector, f.start, f.end))
            .collect()
    }

    #[test]
    fn a_card_in_base64_is_found_over_the_run() {
        let b64 = base64::engine::general_purpose::STANDARD;
        let run = b64.encode("my card 4556 7375 8689 9855 thanks");
        let text = format!("see {run} ok");
        assert_eq!(found(&text), [format!("credit_card:4..{}", 4 + run.len())]);
        let url = format!("data:text/plain;base64,{}", b64.encode("4556737586899855"));
        assert_eq!(found(&url).len(), 1, "{url}");
        let url_safe = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode("4556737586899855");
        assert_eq!(found(&url_safe).len(), 1);
    }

    #[test]
    fn nested_and_non_ascii_encodings_are_unwrapped() {
        use std::io::Write;
        let b64 = base64::engine::general_purpose::STANDARD;
        let card = "4556 7375 8689 9855";
        let utf16: Vec<u8> = format!("карта {card} спасибо")
            .encode_utf16()
            .flat_map(u16::to_le_bytes)
            .collect();
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        gz.write_all(format!("card {card}").as_bytes()).unwrap();
        let gz = gz.finish().unwrap();
        let cases = [
            ("UTF-16", b64.encode(&utf16)),
            (
                "UTF-8 around the digits",
                b64.encode(format!("номер карты {card}, срок 12/29")),
            ),
            (
                "base64 of base64",
                b64.encode(b64.encode(format!("card {card}"))),
            ),
            (
                "percent in base64",
                b64.encode("card%204556%207375%208689%209855"),
            ),
            ("gzip in base64", b64.encode(&gz)),
            ("gzip in base64 in base64", b64.encode(b64.encode(&gz))),
            (
                "stringified JSON in base64",
                b64.encode(format!(r#"{{"p":"{{\"c\":\"{}\"}}"}}"#, b64.encode(card))),
            ),
        ];
        for (what, run) in cases {
            let text = format!("see {run} ok");
            assert_eq!(
                found(&text),
                [format!("credit_card:4..{}", 4 + run.len())],
                "{what}: {run}"
            );
        }
    }

    #[test]
    fn past_the_depth_or_the_budget_the_text_is_unscannable() {
        use std::io::Write;
        let engine = DlpEngine::shipped().unwrap();
        let b64 = base64::engine::general_purpose::STANDARD;
        let mut run = "card 4556 7375 8689 9855".to_owned();
        for _ in 0..3 {
            run = b64.encode(run);
        }
        assert_eq!(found(&run).len(), 1, "three levels are read");
        let four = b64.encode(&run);
        let err = engine.scan_profile("financial", &four).unwrap_err();
        assert!(matches!(err, crate::DlpError::Unscannable(_)), "{err}");
        // A gzip bomb: 32 MiB of digits in a few KiB of base64.
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        gz.write_all(&vec![b'7'; 32 << 20]).unwrap();
        let bomb = b64.encode(gz.finish().unwrap());
        assert!(bomb.len() < super::MAX_RUN, "{}", bomb.len());
        let started = std::time::Instant::now();
        let err = engine.scan_profile("financial", &bomb).unwrap_err();
        assert!(matches!(err, crate::DlpError::Unscannable(_)), "{err}");
        assert!(started.elapsed() < std::time::Duration::from_secs(5));
        // Base64 that decodes to ordinary words is read and found clean.
        assert!(found(&b64.encode(b64.encode("hello there, nothing to see"))).is_empty());
    }

    #[test]
    fn long_runs_are_found_in_masks() {
        assert_eq!(super::long_run_in(0), None);
        assert_eq!(super::long_run_in((1 << 19) - 1), None);
        assert_eq!(super::long_run_in(((1 << 20) - 1) << 7), Some(7));
        assert_eq!(super::long_run_in(u64::MAX), Some(0));
        // A run straddling two windows is found from the one that holds it whole.
        let text = format!("{}{}", "x ".repeat(27), "QUJDREVGR0hJSktMTU5PUFFSU1RVVldY");
        assert!(super::super::DlpEngine::shipped().is_ok() && text.len() > 64);
    }

    #[test]
    fn tokens_and_binary_are_not_cards() {
        assert!(found("token QUtJQUlPU0ZPRE5ON0VYQU1QTEVmb29iYXI= here").is_empty());
        let b64 = base64::engine::general_purpose::STANDARD;
        let binary: Vec<u8> = (0..64u8).map(|i| i.wrapping_mul(37)).collect();
        assert!(found(&b64.encode(binary)).is_empty());
        assert!(found(&b64.encode("order 4556 7375 8689 9856 wrong luhn")).is_empty());
    }
}
