//! Developer-platform tokens with a fixed prefix: `huggingface_token` (`hf_` + 34 letters),
//! `npm_token` (`npm_` + 36), `pypi_token` (`pypi-` + a macaroon for pypi.org or
//! test.pypi.org), `sendgrid_api_key` (`SG.` + 22 + `.` + 43) and `twilio_auth_token` (32 hex
//! digits next to an account SID `AC` + 32 hex, or after `TWILIO_AUTH_TOKEN`). All high on
//! shape; stand-ins (`hf_xxxx...`, `your_token_here`) are dropped.

use crate::detector::Detector::{
    HuggingfaceToken, NpmToken, PypiToken, SendgridApiKey, TwilioAuthToken,
};
use crate::finding::Confidence;
use crate::scan::Cx;
use crate::shape;
use crate::text::{is_alnum, is_token, is_word, left_boundary, right_boundary};

/// `hf_` at `at`.
pub(crate) fn huggingface(cx: &mut Cx<'_>, at: usize) {
    let text = cx.text;
    if !left_boundary(text, at, is_word) {
        return;
    }
    let Some(end) = shape::huggingface(text, at, 37) else {
        return;
    };
    if !right_boundary(text, end, is_word) || cx.ph.is_placeholder(&text[at + 3..end]) {
        return;
    }
    cx.found(HuggingfaceToken, at, end, Confidence::High);
}

/// `npm_` at `at`.
pub(crate) fn npm(cx: &mut Cx<'_>, at: usize) {
    let text = cx.text;
    if !left_boundary(text, at, is_word) {
        return;
    }
    let Some(end) = shape::npm(text, at, 40) else {
        return;
    };
    if !right_boundary(text, end, is_word) || cx.ph.is_placeholder(&text[at + 4..end]) {
        return;
    }
    cx.found(NpmToken, at, end, Confidence::High);
}

/// `pypi-` at `at`.
pub(crate) fn pypi(cx: &mut Cx<'_>, at: usize) {
    let text = cx.text;
    if !left_boundary(text, at, is_token) {
        return;
    }
    let Some(end) = shape::pypi(text, at, 1024) else {
        return;
    };
    if !right_boundary(text, end, is_token) || cx.ph.is_placeholder(&text[at + 24..end]) {
        return;
    }
    cx.found(PypiToken, at, end, Confidence::High);
}

/// `SG.` at `at`.
pub(crate) fn sendgrid(cx: &mut Cx<'_>, at: usize) {
    let text = cx.text;
    if !left_boundary(text, at, is_token) {
        return;
    }
    let Some(end) = shape::sendgrid(text, at, 69) else {
        return;
    };
    if !right_boundary(text, end, is_token) || cx.ph.is_placeholder(&text[at + 3..end]) {
        return;
    }
    cx.found(SendgridApiKey, at, end, Confidence::High);
}

const HEX32: usize = 32;
/// How far from an account SID its auth token may sit (an `.env` file, a JSON object).
const SID_WINDOW: usize = 160;

/// An account SID (`AC` + 32 hex) at `at`: a 32-hex auth token near it.
pub(crate) fn twilio_sid(cx: &mut Cx<'_>, at: usize) {
    let text = cx.text;
    if !left_boundary(text, at, is_alnum) {
        return;
    }
    let Some(end) = shape::twilio_sid(text, at, 34) else {
        return;
    };
    if !right_boundary(text, end, is_alnum) {
        return;
    }
    let lo = at.saturating_sub(SID_WINDOW);
    let hi = end.saturating_add(SID_WINDOW).min(text.len());
    let mut i = lo;
    while i < hi {
        if i == at {
            i = end;
            continue;
        }
        if is_hex_lower(text[i]) && (i == 0 || !is_alnum(text[i - 1])) {
            let e = hex_end(text, i, hi);
            if e - i == HEX32 && right_boundary(text, e, is_alnum) {
                token(cx, i, e);
            }
            i = e.max(i + 1);
        } else {
            i += 1;
        }
    }
}

/// `TWILIO_AUTH_TOKEN` (any case) ending at `end`: the token after `=`, `:` or quotes.
pub(crate) fn twilio_named(cx: &mut Cx<'_>, end: usize) {
    let text = cx.text;
    let mut i = end;
    while i < text.len() && i < end + 6 && matches!(text[i], b' ' | b'=' | b':' | b'"' | b'\'') {
        i += 1;
    }
    let e = hex_end(text, i, (i + HEX32 + 1).min(text.len()));
    if e - i == HEX32 && right_boundary(text, e, is_alnum) {
        token(cx, i, e);
    }
}

fn token(cx: &mut Cx<'_>, s: usize, e: usize) {
    let t = &cx.text[s..e];
    // An all-digit run is a number, a run without digits a word.
    if t.iter().any(u8::is_ascii_digit)
        && t.iter().any(u8::is_ascii_lowercase)
        && !cx.ph.is_placeholder(t)
    {
        cx.found(TwilioAuthToken, s, e, Confidence::High);
    }
}

fn is_hex_lower(b: u8) -> bool {
    b.is_ascii_digit() || (b'a'..=b'f').contains(&b)
}

fn hex_end(text: &[u8], mut i: usize, hi: usize) -> usize {
    while i < hi && is_hex_lower(text[i]) {
        i += 1;
    }
    i
}

#[cfg(test)]
mod tests {
    use crate::detector::Detector;
    use crate::detectors::tests_support::found;
    use crate::samples::{Sample, SampleRng};

    #[test]
    fn generated_tokens_are_found_whole() {
        let mut rng = SampleRng::new(23);
        for s in [
            Sample::HuggingfaceToken,
            Sample::NpmToken,
            Sample::PypiToken,
            Sample::SendgridApiKey,
        ] {
            for _ in 0..50 {
                let v = s.generate(&mut rng);
                let text = format!("token: {v}\n");
                assert_eq!(
                    found(&text, s.detector()),
                    [(7, 7 + v.len(), "high")],
                    "{v}"
                );
            }
        }
    }

    /// `SG.` is found by its `G`, also where the `G` and the `.` sit in different 64-byte
    /// chunks of the trigger masks.
    #[test]
    fn sendgrid_keys_at_every_offset() {
        let mut rng = SampleRng::new(25);
        let key = Sample::SendgridApiKey.generate(&mut rng);
        for pad in 55..70 {
            let text = format!("{} {key}", "x".repeat(pad));
            let at = pad + 1;
            let want = [(at, at + key.len(), "high")];
            assert_eq!(found(&text, Detector::SendgridApiKey), want, "{pad}");
        }
    }

    #[test]
    fn twilio_tokens_need_their_account_sid_or_name() {
        let mut rng = SampleRng::new(24);
        let env = Sample::TwilioAuthToken.generate(&mut rng);
        let token = env.rsplit('=').next().unwrap();
        let at = env.len() - token.len();
        assert_eq!(
            found(&env, Detector::TwilioAuthToken),
            [(at, env.len(), "high")]
        );
        // The same 32 hex digits alone are a hash, not a token.
        assert!(found(&format!("md5 {token}"), Detector::TwilioAuthToken).is_empty());
        let named = format!("twilio_auth_token: \"{token}\"");
        assert_eq!(found(&named, Detector::TwilioAuthToken).len(), 1);
    }

    #[test]
    fn near_misses_are_not_tokens() {
        for (text, d) in [
            (
                "hf_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
                Detector::HuggingfaceToken,
            ),
            (
                "hf_abcdefghijklmnopqrstuvwxyzabcdefg",
                Detector::HuggingfaceToken,
            ), // 33
            (
                "my_hf_AbCdEfGhIjKlMnOpQrStUvWxYzAbCdEfGh",
                Detector::HuggingfaceToken,
            ),
            (
                "npm_XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX",
                Detector::NpmToken,
            ),
            ("npm_install_the_package_before_running", Detector::NpmToken),
            ("pypi-AgEIcHlwaS5vcmcshort", Detector::PypiToken),
            ("pypi-upload-token-for-the-project", Detector::PypiToken),
            ("SG.abc.def", Detector::SendgridApiKey),
            ("SG.your_api_key_here", Detector::SendgridApiKey),
        ] {
            assert!(found(text, d).is_empty(), "{text}");
        }
    }
}
