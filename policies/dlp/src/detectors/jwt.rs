//! `jwt`: three base64url parts whose header decodes to a JSON object with an `alg` string.
//! High when the payload is JSON too and there is a signature; medium for unsigned (`alg:
//! none`) or opaque payloads. The jwt.io sample token is a documentation example, not reported.

use super::json;
use crate::detector::Detector::Jwt;
use crate::finding::Confidence;
use crate::scan::Cx;
use crate::shape;
use crate::text::{is_token, left_boundary, right_boundary};
use base64::Engine as _;
use serde::Deserialize;
use std::borrow::Cow;

const MAX_TOKEN: usize = 32 * 1024;
const MAX_HEADER: usize = 4 * 1024;

/// A JWT starting at `at` (`eyJ`, the base64url of `{"`).
pub(crate) fn detect(cx: &mut Cx<'_>, at: usize) {
    let text = cx.text;
    // Inside a token of three parts already read: from its payload or signature on, the
    // shape needs two more dots, and no dot follows the token.
    if at < cx.state.jwt_shaped_to || !left_boundary(text, at, is_token) {
        return;
    }
    let Some(end) = shape::jwt(text, at, MAX_TOKEN) else {
        return;
    };
    if text.get(end) != Some(&b'.') {
        cx.state.jwt_shaped_to = end;
    }
    if !right_boundary(text, end, is_token) {
        return;
    }
    let token = &text[at..end];
    let mut parts = token.splitn(3, |b| *b == b'.');
    let (Some(header), Some(payload), Some(signature)) = (parts.next(), parts.next(), parts.next())
    else {
        return;
    };
    if header.len() > MAX_HEADER || cx.ph.is_published(signature) {
        return;
    }
    let mut buf = std::mem::take(&mut cx.state.scratch);
    let unsigned = decode(header, &mut buf)
        .then(|| alg_is_none(&buf))
        .flatten();
    let signed = match unsigned {
        Some(none) => !none && !signature.is_empty(),
        None => {
            cx.state.scratch = buf;
            return; // no JSON header with an `alg`
        }
    };
    let json_payload = signed && is_json_object(payload, &mut buf);
    cx.state.scratch = buf;
    let base = if json_payload {
        Confidence::High
    } else {
        Confidence::Medium
    };
    cx.found(Jwt, at, end, base);
}

/// Whether the decoded `header` is a JSON object with a string `alg`, and whether that `alg`
/// is `none`; `None` when it is no such object.
fn alg_is_none(header: &[u8]) -> Option<bool> {
    if let Some(alg) = json::plain_alg(header) {
        return Some(alg.eq_ignore_ascii_case(b"none"));
    }
    // Escapes (rare in a header): a full parser decodes the names and the value.
    (header.contains(&b'\\') && json::is_object(header))
        .then(|| serde_json::from_slice::<Header<'_>>(header).ok())
        .flatten()
        .map(|h| h.alg.eq_ignore_ascii_case("none"))
}

/// The one header field that matters; the rest is skipped without being built.
#[derive(Deserialize)]
struct Header<'a> {
    #[serde(borrow)]
    alg: Cow<'a, str>,
}

/// `part` base64url-decoded into `buf` (the scan's scratch space, cleared first); whether it
/// decoded.
fn decode(part: &[u8], buf: &mut Vec<u8>) -> bool {
    buf.clear();
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode_vec(part, buf)
        .is_ok()
}

/// Whether `part` decodes to a JSON object (validated, not built).
fn is_json_object(part: &[u8], buf: &mut Vec<u8>) -> bool {
    decode(part, buf) && json::is_object(buf)
}

#[cfg(test)]
mod tests {
    use crate::detector::Detector;
    use crate::detectors::tests_support::found;
    use crate::samples::{Sample, SampleRng};

    const JWT_IO: &str = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c";

    #[test]
    fn signed_tokens_are_high() {
        let mut rng = SampleRng::new(41);
        let t = Sample::Jwt.generate(&mut rng);
        let text = format!("Authorization: Bearer {t}\r\n");
        assert_eq!(found(&text, Detector::Jwt), [(22, 22 + t.len(), "high")]);
    }

    #[test]
    fn unsigned_and_odd_tokens() {
        // {"alg":"none"} . {"sub":"x"} . (no signature)
        let none = "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.";
        assert_eq!(found(none, Detector::Jwt), [(0, none.len(), "medium")]);
        // Header without alg: {"typ":"JWT"}
        assert!(found("eyJ0eXAiOiJKV1QifQ.eyJzdWIiOiJ4In0.abc", Detector::Jwt).is_empty());
        // Not JSON at all.
        assert!(found("eyJhbGciOi.eyJzdWIiOiJ4In0.abc", Detector::Jwt).is_empty());
        assert!(found("eyJhbGciOiJub25lIn0", Detector::Jwt).is_empty());
        assert!(found(JWT_IO, Detector::Jwt).is_empty());
    }

    /// The parts after a token's first are passed over only when no dot follows the token: a
    /// token of four parts whose first is no header still holds a JWT from its second.
    #[test]
    fn a_jwt_after_a_junk_part_is_found() {
        let t = Sample::Jwt.generate(&mut SampleRng::new(42));
        let text = format!("eyJub3QganNvbg.{t}");
        assert_eq!(found(&text, Detector::Jwt), [(15, text.len(), "high")]);
        let two = format!("{t} {t}");
        assert_eq!(found(&two, Detector::Jwt).len(), 2);
    }
}
