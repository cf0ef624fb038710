//! Numbers hidden in base64: `NDU1NiA3Mzc1IDg2ODkgOTg1NQ==` is a card to anyone who decodes
//! it, and a `data:text/plain;base64,...` URL is how a pasted file travels in a prompt. Each
//! run of the base64 alphabets (standard or URL-safe, padded or not) of at least
//! [`MIN_RUN`] characters is decoded; when it decodes to printable text holding enough digits
//! for a number the numeric detectors want, that text is scanned for them (cards, IBANs,
//! SSNs, national ids) and each detector found is reported once over the whole run.
//!
//! Only base64 of ASCII text is decoded (a cheap test of every fourth character rules out
//! most other runs before any decoding). Only the numeric detectors: random tokens decode to bytes that are not text, and a token
//! detector run over decoded JWT payloads or keys would report what the token detectors
//! already report. One level only (base64 inside base64 is not decoded again), runs longer
//! than [`MAX_RUN`] are skipped, and what is decoded is never longer than the run: bounded in
//! time and memory by the text. Must never report a run whose decoding it did not scan.

use base64::alphabet;
use base64::engine::general_purpose::GeneralPurpose;
use base64::engine::{DecodePaddingMode, GeneralPurposeConfig};
use base64::Engine;

use super::byteset::ByteSet;
use super::detector::{Detection, Detector, DetectorRef, DetectorSet};
use super::finding::Confidence;
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

/// Decodes every long base64 run of `cx.text` and records what the numeric detectors of
/// `sub` find in it, over the run.
pub(crate) fn scan(scanner: &Scanner, cx: &mut Cx<'_>, sub: &DetectorSet) {
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
        if !(MIN_RUN..=MAX_RUN).contains(&run.len()) || run.len() % 4 == 1 || !ascii_text(run) {
            continue;
        }
        let Some(decoded) = decode(run, &standard, &url) else {
            continue;
        };
        if !printable(&decoded) || decoded.iter().filter(|b| b.is_ascii_digit()).count() < 9 {
            continue;
        }
        let span_end = end
            + text[end..]
                .iter()
                .take(2)
                .take_while(|b| **b == b'=')
                .count();
        let mut found: Vec<(Detector, Confidence)> = Vec::new();
        for d in scanner.scan_nested(&decoded, sub) {
            if let DetectorRef::Builtin(b) = d.detector {
                match found.iter_mut().find(|(f, _)| *f == b) {
                    Some(f) => f.1 = f.1.max(d.confidence),
                    None => found.push((b, d.confidence)),
                }
            }
        }
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
    let std_chars = run.iter().any(|b| matches!(b, b'+' | b'/'));
    let url_chars = run.iter().any(|b| matches!(b, b'-' | b'_'));
    match (std_chars, url_chars) {
        (true, true) => None,
        (true, false) => standard.decode(run).ok(),
        (false, _) => url.decode(run).ok(),
    }
}

/// The text a finding's span decodes to when it is a base64 run the scan decoded (padding
/// included), for checking the finding against its detector's pattern (the fuzz
/// properties); `None` for any other span.
pub fn decoded(span: &str) -> Option<String> {
    let run = span.trim_end_matches('=').as_bytes();
    if run.len() < MIN_RUN || !run.iter().all(|b| in_run(*b)) {
        return None;
    }
    let bytes = decode(
        run,
        &engine(&alphabet::STANDARD),
        &engine(&alphabet::URL_SAFE),
    )?;
    String::from_utf8(bytes).ok()
}

/// Whether `bytes` is UTF-8 text without control characters other than blanks.
fn printable(bytes: &[u8]) -> bool {
    std::str::from_utf8(bytes).is_ok_and(|s| {
        s.chars()
            .all(|c| !c.is_control() || matches!(c, '\t' | '\n' | '\r'))
    })
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
