//! `private_key`: a PEM block `-----BEGIN [RSA |EC |DSA |OPENSSH |ENCRYPTED |PGP ]PRIVATE
//! KEY-----` with a real body: at least 64 base64 characters (line breaks, JSON-escaped `\n`
//! and RFC 1421 headers allowed) up to `-----END`. High when the block is complete and the body
//! decodes; medium when it is cut off (a paste that stops mid-key still leaks most of it).
//! A header followed by `...` or `<your key>` has no body and is not reported.

use crate::byteset::ByteSet;
use crate::detector::Detector::PrivateKey;
use crate::finding::Confidence;
use crate::scan::Cx;
use crate::text::{anchored, is_b64, is_b64_lane};

/// What a PEM body's lines are made of: base64 and its padding.
const BASE64_PADDED: ByteSet = ByteSet::alnum_and(b"+/=");

/// Largest body looked at: an RSA-8192 key in PEM is about 6.3 KB.
const MAX_BODY: usize = 16 * 1024;
const MIN_BODY: usize = 64;

/// A private key block whose header starts at `at`.
pub(crate) fn detect(cx: &mut Cx<'_>, at: usize) {
    let text = cx.text;
    let Some(header_end) = anchored(&cx.pats.pem_begin, text, at, 64) else {
        return;
    };
    let limit = header_end.saturating_add(MAX_BODY).min(text.len());
    let mut i = header_end;
    let (mut chars, mut last_b64) = (0usize, header_end);
    let mut end = None; // (where `-----END` starts, where its line ends)
    while i < limit {
        let rest = &text[i..limit];
        match rest[0] {
            b' ' | b'\t' | b'\r' | b'\n' | b'"' => i += 1,
            b'\\' if matches!(rest.get(1), Some(b'n' | b'r')) => i += 2,
            b'-' if rest.starts_with(b"-----END ") => {
                end = memchr::memmem::find(&rest[9..], b"-----").map(|e| (i, i + 9 + e + 5));
                break;
            }
            b if (is_b64(b) || b == b'=') && chars == 0 && is_header_line(rest) => {
                i += line_len(rest);
            }
            b if is_b64(b) || b == b'=' => {
                // A whole run of body bytes at once, from masks.
                let run = BASE64_PADDED.run_end(text, i, limit) - i;
                chars += run;
                i += run;
                last_b64 = i;
            }
            _ => break,
        }
    }
    if chars < MIN_BODY {
        return;
    }
    match end {
        Some((marker, end)) if body_decodes(&text[header_end..marker]) => {
            cx.found(PrivateKey, at, end, Confidence::High);
        }
        Some((_, end)) => cx.found(PrivateKey, at, end, Confidence::Medium),
        None => cx.found(PrivateKey, at, last_b64, Confidence::Medium),
    }
}

/// `Proc-Type: 4,ENCRYPTED`, `DEK-Info: ...`, `Version: ...`, `Comment: ...` before the body.
fn is_header_line(rest: &[u8]) -> bool {
    let line = &rest[..line_len(rest)];
    let name_end = line
        .iter()
        .position(|b| !(b.is_ascii_alphanumeric() || *b == b'-'));
    name_end.is_some_and(|n| n > 0 && line[n] == b':')
}

/// The length of the line `rest` starts with: up to a newline, or a JSON-escaped one (`\n`,
/// `\r`) in a key pasted inside a JSON string.
fn line_len(rest: &[u8]) -> usize {
    memchr::memchr2_iter(b'\n', b'\\', rest)
        .find(|&i| rest[i] == b'\n' || matches!(rest.get(i + 1), Some(b'n' | b'r')))
        .unwrap_or(rest.len())
}

/// The lines of `region`, split at newlines and at JSON-escaped ones.
fn lines(region: &[u8]) -> impl Iterator<Item = &[u8]> {
    let mut rest = region;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        let n = line_len(rest);
        let line = &rest[..n];
        let skip = match rest.get(n) {
            Some(b'\n') => 1,
            Some(_) => 2,
            None => 0,
        };
        rest = &rest[(n + skip).min(rest.len())..];
        Some(line)
    })
}

/// Whether the base64 between the header and `-----END` decodes to at least 48 bytes, decided
/// without building the body or decoding it: its symbols are base64 by construction, so
/// unpadded decoding (`STANDARD_NO_PAD`) succeeds exactly when the symbol count is not 1 mod 4
/// and the last symbol carries no bits past the final byte. The symbols are counted in one
/// vectorised pass; RFC 1421 header lines (they hold a `:`, base64 never does) and the `n` or
/// `r` of JSON-escaped line breaks are taken back out.
fn body_decodes(region: &[u8]) -> bool {
    let mut symbols = count_b64(region);
    if memchr::memchr(b':', region).is_some() {
        for line in lines(region).filter(|l| is_header_line(l)) {
            symbols = symbols.saturating_sub(count_b64(line));
        }
    }
    let escaped = |j: usize| j > 0 && region[j - 1] == b'\\' && matches!(region[j], b'n' | b'r');
    let escapes = memchr::memchr_iter(b'\\', region)
        .filter(|j| matches!(region.get(j + 1), Some(b'n' | b'r')))
        .count();
    symbols = symbols.saturating_sub(escapes);
    // The last symbol, read backwards past line breaks and escapes.
    let last = (0..region.len())
        .rev()
        .find(|j| is_b64(region[*j]) && !escaped(*j))
        .map_or(0, |j| region[j]);
    let unused_bits = match symbols % 4 {
        0 => 0,
        1 => return false,
        2 => 0x0F,
        _ => 0x03,
    };
    let decoded_len = symbols / 4 * 3 + (symbols % 4).saturating_sub(1);
    b64_value(last) & unused_bits == 0 && decoded_len >= MIN_BODY / 4 * 3
}

/// Base64 symbols in `s` (a count the compiler vectorises).
fn count_b64(s: &[u8]) -> usize {
    s.iter().filter(|b| is_b64_lane(**b)).count()
}

/// The 6-bit value of a standard base64 symbol.
fn b64_value(b: u8) -> u8 {
    match b {
        b'A'..=b'Z' => b - b'A',
        b'a'..=b'z' => b - b'a' + 26,
        b'0'..=b'9' => b - b'0' + 52,
        b'+' => 62,
        _ => 63,
    }
}

#[cfg(test)]
mod tests {
    use crate::detector::Detector;
    use crate::detectors::tests_support::found;
    use crate::samples::{Sample, SampleRng};

    #[test]
    fn complete_blocks_are_high() {
        let mut rng = SampleRng::new(31);
        for s in [Sample::PrivateKey, Sample::OpensshPrivateKey] {
            let k = s.generate(&mut rng);
            let t = format!("here:\n{k}\nthanks");
            assert_eq!(
                found(&t, Detector::PrivateKey),
                [(6, 6 + k.len(), "high")],
                "{k}"
            );
            let json = format!("{{\"key\": \"{}\"}}", k.replace('\n', "\\n"));
            assert_eq!(found(&json, Detector::PrivateKey).len(), 1, "{json}");
            assert_eq!(found(&json, Detector::PrivateKey)[0].2, "high");
        }
    }

    #[test]
    fn header_lines_and_escapes_never_upset_the_count() {
        let line = "MIIBOgIBAAJBAKj34GkxFhD90vcNLYLInFEX6Ppy1tPf9Cnzj4p4WGeKLs1Pt8Qu";
        let body = format!("{line}\n").repeat(3);
        let (begin, end) = (
            "-----BEGIN RSA PRIVATE KEY-----",
            "-----END RSA PRIVATE KEY-----",
        );
        let headers = "Proc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,0A\n\n";
        let encrypted = format!("{begin}\n{headers}{body}{end}");
        assert_eq!(found(&encrypted, Detector::PrivateKey)[0].2, "high");
        let escaped = encrypted.replace('\n', "\\n");
        assert_eq!(found(&escaped, Detector::PrivateKey)[0].2, "high");
        let stub = format!("{begin}\\n\\n\\n{end}");
        assert!(found(&stub, Detector::PrivateKey).is_empty());
        // A region of headers and escapes only: the counts never go below zero.
        assert!(!super::body_decodes(b"Proc-Type: 4\\n\\n\\n"));
        assert!(super::body_decodes(body.as_bytes()));
    }

    #[test]
    fn truncated_blocks_are_medium_and_stubs_are_nothing() {
        let mut rng = SampleRng::new(32);
        let k = Sample::PrivateKey.generate(&mut rng);
        let cut = &k[..k.len() / 2];
        assert_eq!(found(cut, Detector::PrivateKey)[0].2, "medium");
        for neg in [
            "-----BEGIN PRIVATE KEY-----\n...\n-----END PRIVATE KEY-----",
            "-----BEGIN RSA PRIVATE KEY-----\n<your key here>\n-----END RSA PRIVATE KEY-----",
            "-----BEGIN PUBLIC KEY-----\nMIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAu1SU1LfVLPHCozMxH2Mo\n-----END PUBLIC KEY-----",
            "-----BEGIN CERTIFICATE-----",
            "starts with -----BEGIN PRIVATE KEY----- and so on",
        ] {
            assert!(found(neg, Detector::PrivateKey).is_empty(), "{neg}");
        }
    }

    /// The allocation-free check against what it replaced: collect the symbols and decode.
    #[test]
    fn body_check_agrees_with_decoding() {
        use base64::Engine as _;
        let decodes = |region: &[u8]| {
            let body: Vec<u8> = region
                .split(|b| *b == b'\n')
                .filter(|l| !super::is_header_line(l))
                .flat_map(|l| {
                    let mut out = Vec::new();
                    let mut i = 0;
                    while i < l.len() {
                        match l[i] {
                            b'\\' if matches!(l.get(i + 1), Some(b'n' | b'r')) => i += 1,
                            b if super::is_b64(b) => out.push(b),
                            _ => {}
                        }
                        i += 1;
                    }
                    out
                })
                .collect();
            base64::engine::general_purpose::STANDARD_NO_PAD
                .decode(&body)
                .is_ok_and(|d| d.len() >= 48)
        };
        let mut rng = SampleRng::new(34);
        let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        for n in 0..200 {
            let mut region = rng.chars(alphabet, n).into_bytes();
            if n % 5 == 0 && n > 10 {
                region.splice(n / 2..n / 2, b"\\n".iter().copied());
            }
            if n % 7 == 0 && n > 10 {
                region.splice(0..0, b"\nProc-Type: 4,ENCRYPTED\n".iter().copied());
            }
            assert_eq!(super::body_decodes(&region), decodes(&region), "{n}");
        }
        for s in [Sample::PrivateKey, Sample::OpensshPrivateKey] {
            let k = s.generate(&mut rng);
            let body = &k.as_bytes()[k.find('\n').unwrap()..k.rfind("-----END").unwrap()];
            assert!(super::body_decodes(body) && decodes(body));
        }
    }

    #[test]
    fn encrypted_pem_headers_are_skipped() {
        let mut rng = SampleRng::new(33);
        let k = Sample::PrivateKey.generate(&mut rng);
        let body_start = k.find('\n').unwrap() + 1;
        let enc = format!(
            "{}Proc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,0123456789ABCDEF\n\n{}",
            &k[..body_start],
            &k[body_start..]
        );
        assert_eq!(found(&enc, Detector::PrivateKey)[0].2, "high");
    }
}
