//! `private_key`: a PEM block `-----BEGIN [RSA |EC |DSA |OPENSSH |ENCRYPTED |PGP ]PRIVATE
//! KEY-----` with a real body: at least 64 base64 characters (line breaks, JSON-escaped `\n`
//! and RFC 1421 headers allowed) up to `-----END`. High when the block is complete and the body
//! decodes; medium when it is cut off (a paste that stops mid-key still leaks most of it).
//! A header followed by `...` or `<your key>` has no body and is not reported.

use super::super::detector::Detector::PrivateKey;
use super::super::finding::Confidence;
use super::super::scan::Cx;
use super::super::text::{anchored, is_b64};
use base64::Engine as _;

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
                i += memchr::memchr(b'\n', rest).unwrap_or(rest.len());
            }
            b if is_b64(b) || b == b'=' => {
                chars += 1;
                i += 1;
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
    let line = &rest[..memchr::memchr(b'\n', rest).unwrap_or(rest.len())];
    let name_end = line
        .iter()
        .position(|b| !(b.is_ascii_alphanumeric() || *b == b'-'));
    name_end.is_some_and(|n| n > 0 && line[n] == b':')
}

/// Whether the base64 between the header and `-----END` decodes (allocates: only on a hit).
fn body_decodes(region: &[u8]) -> bool {
    let mut body = Vec::with_capacity(region.len());
    for line in region.split(|b| *b == b'\n') {
        if is_header_line(line) {
            continue;
        }
        let mut i = 0;
        while i < line.len() {
            match line[i] {
                b'\\' if matches!(line.get(i + 1), Some(b'n' | b'r')) => i += 1,
                b if is_b64(b) => body.push(b),
                _ => {}
            }
            i += 1;
        }
    }
    let decoded = base64::engine::general_purpose::STANDARD_NO_PAD.decode(&body);
    decoded.is_ok_and(|d| d.len() >= MIN_BODY / 4 * 3)
}

#[cfg(test)]
mod tests {
    use super::super::super::detector::Detector;
    use super::super::super::samples::{Sample, SampleRng};
    use super::super::tests_support::found;

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
