//! AI provider keys behind the shared `sk-` anchor. `anthropic_api_key`: `sk-ant-api03-` and
//! kin, high when it has the issued shape (93 characters then `AA`). `openai_api_key`: high with
//! the `T3BlbkFJ` marker (base64 of "OpenAI") or a `proj`/`svcacct`/`admin` prefix; a bare
//! `sk-` + random base62 (the shape many OpenAI-compatible providers copy) is medium.

use crate::detector::Detector::{AnthropicApiKey, OpenaiApiKey};
use crate::finding::Confidence;
use crate::scan::Cx;
use crate::shape;
use crate::text::{is_token, left_boundary, mixed_classes, right_boundary};

const MARKER: &[u8] = b"T3BlbkFJ";
const MAX: usize = 320;
const PREFIXES: &[&[u8]] = &[b"sk-proj-", b"sk-svcacct-", b"sk-admin-", b"sk-None-"];

/// An `sk-` key at `at`.
pub(crate) fn sk_dash(cx: &mut Cx<'_>, at: usize) {
    let text = cx.text;
    if !left_boundary(text, at, is_token) {
        return;
    }
    if text[at..].starts_with(b"sk-ant-") {
        anthropic(cx, at);
    } else {
        openai(cx, at);
    }
}

fn anthropic(cx: &mut Cx<'_>, at: usize) {
    let text = cx.text;
    let Some(end) = shape::anthropic(text, at, MAX) else {
        return;
    };
    if !right_boundary(text, end, is_token) {
        return;
    }
    let token = &text[at..end];
    let Some(dash) = token[7..].iter().position(|b| *b == b'-') else {
        return;
    };
    let body = &token[7 + dash + 1..];
    if cx.ph.is_placeholder(body) {
        return;
    }
    let issued = body.len() == 95 && body.ends_with(b"AA");
    let base = if issued {
        Confidence::High
    } else {
        Confidence::Medium
    };
    cx.found(AnthropicApiKey, at, end, base);
}

fn openai(cx: &mut Cx<'_>, at: usize) {
    let text = cx.text;
    let Some(end) = shape::openai(text, at, MAX) else {
        return;
    };
    if !right_boundary(text, end, is_token) {
        return;
    }
    let token = &text[at..end];
    let prefixed = PREFIXES.iter().find(|p| token.starts_with(p));
    let body = &token[prefixed.map_or(3, |p| p.len())..];
    if cx.ph.is_placeholder(body) {
        return;
    }
    // The marker's `T`s are rare in a key (one byte in 62): a byte search and a compare at
    // each, where building a substring searcher per key costs more than the key's search.
    let marked = memchr::memchr_iter(MARKER[0], body).any(|i| body[i..].starts_with(MARKER));
    let base = if marked || (prefixed.is_some() && body.len() >= 40 && mixed_classes(body)) {
        Confidence::High
    } else if random_base62(body) || hex32(body) {
        // Plain `sk-` keys, and 32 hex digits (DeepSeek-style keys for OpenAI-compatible APIs).
        Confidence::Medium
    } else {
        return; // `sk-learn-classifier-notes` and other hyphenated words
    };
    cx.found(OpenaiApiKey, at, end, base);
}

fn random_base62(body: &[u8]) -> bool {
    body.len() >= 32 && body.iter().all(u8::is_ascii_alphanumeric) && mixed_classes(body)
}

fn hex32(body: &[u8]) -> bool {
    body.len() == 32 && body.iter().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

#[cfg(test)]
mod tests {
    use crate::detector::Detector;
    use crate::detectors::tests_support::found;
    use crate::samples::{Sample, SampleRng};

    #[test]
    fn openai_keys_by_marker_and_prefix() {
        let mut rng = SampleRng::new(21);
        for s in [Sample::OpenaiApiKey, Sample::OpenaiProjectKey] {
            let k = s.generate(&mut rng);
            let t = format!("OPENAI_API_KEY=\"{k}\"");
            assert_eq!(
                found(&t, Detector::OpenaiApiKey),
                [(16, 16 + k.len(), "high")],
                "{k}"
            );
            assert!(found(&t, Detector::AnthropicApiKey).is_empty());
        }
        let bare = "sk-9fQ2LmZ7xR4tK8wP1nB6vC3hJ5dG0aYeUi2Ow7Tq4ZxN";
        assert_eq!(
            found(bare, Detector::OpenaiApiKey),
            [(0, bare.len(), "medium")]
        );
        assert_eq!(
            found(&format!("openai key {bare}"), Detector::OpenaiApiKey)[0].2,
            "high"
        );
    }

    #[test]
    fn openai_rejects_words_and_placeholders() {
        for neg in [
            "sk-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
            "sk-your-key-here",
            "sk-proj-...",
            "risk-management-framework-guidelines-v2",
            "sk-learn-compatible-estimator-for-classification",
            "task-9fQ2LmZ7xR4tK8wP1nB6vC3hJ5dG0aYeUi2Ow7Tq4ZxN",
        ] {
            assert!(found(neg, Detector::OpenaiApiKey).is_empty(), "{neg}");
        }
    }

    #[test]
    fn anthropic_keys() {
        let mut rng = SampleRng::new(22);
        let k = Sample::AnthropicApiKey.generate(&mut rng);
        assert_eq!(k.len(), 108);
        assert_eq!(
            found(&format!("x-api-key: {k}"), Detector::AnthropicApiKey),
            [(11, 119, "high")]
        );
        assert!(found(&k, Detector::OpenaiApiKey).is_empty());
        assert!(found("sk-ant-api03-your-key-here", Detector::AnthropicApiKey).is_empty());
        let odd = &k[..90];
        assert_eq!(found(odd, Detector::AnthropicApiKey)[0].2, "medium");
    }
}
