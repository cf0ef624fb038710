//! SaaS credentials with a fixed prefix: `slack_token` (`xoxb-`, `xoxp-`, `xoxa-`, `xoxr-`,
//! `xoxs-`, app-level `xapp-`, configuration and refresh `xoxe.xoxp-`/`xoxe-`, and
//! `hooks.slack.com` webhook URLs), `stripe_secret_key` (`sk_live_`, `rk_live_` high;
//! test-mode `sk_test_`/`rk_test_` medium: a leaked test key still opens the account's test
//! data and webhooks) and `google_api_key` (`AIza` + 35).

use crate::detector::Detector::{GoogleApiKey, SlackToken, StripeSecretKey};
use crate::finding::Confidence;
use crate::scan::Cx;
use crate::shape;
use crate::text::{is_alnum, is_token, is_word, left_boundary, right_boundary};

/// A Slack token at `at` (`xox`).
pub(crate) fn slack(cx: &mut Cx<'_>, at: usize) {
    let text = cx.text;
    if !left_boundary(text, at, is_word) {
        return;
    }
    let Some(mut end) = shape::slack(text, at, 256) else {
        return;
    };
    while text[end - 1] == b'-' {
        end -= 1;
    }
    if !right_boundary(text, end, is_token) {
        return;
    }
    let prefix = if text[at..].starts_with(b"xoxe.xoxp-") {
        10
    } else {
        5
    };
    let body = &text[at + prefix..end];
    if cx.ph.is_placeholder(body) {
        return;
    }
    let mut parts = body.split(|b| *b == b'-');
    let numeric_first = parts
        .next()
        .is_some_and(|p| !p.is_empty() && p.iter().all(u8::is_ascii_digit));
    let more = parts.filter(|p| !p.is_empty()).count();
    let base = match (numeric_first, more) {
        (true, n) if n >= 2 => Confidence::High,
        (_, n) if n >= 1 && body.len() >= 20 => Confidence::Medium,
        _ => return,
    };
    cx.found(SlackToken, at, end, base);
}

/// A Slack incoming-webhook URL whose host starts at `at`.
pub(crate) fn slack_hook(cx: &mut Cx<'_>, at: usize) {
    let text = cx.text;
    let start = ["https://", "http://"]
        .iter()
        .find(|s| at >= s.len() && text[at - s.len()..at] == *s.as_bytes())
        .map_or(at, |s| at - s.len());
    if !left_boundary(text, start, |b| is_word(b) || b == b'.') {
        return;
    }
    let Some(mut end) = shape::slack_hook(text, at, 256) else {
        return;
    };
    while text[end - 1] == b'/' {
        end -= 1;
    }
    if !right_boundary(text, end, is_token) {
        return;
    }
    let path = &text[at + "hooks.slack.com/".len()..end];
    let Some(slash) = path.iter().position(|b| *b == b'/') else {
        return;
    };
    let ids = &path[slash + 1..];
    let secret = ids.rsplit(|b| *b == b'/').next().unwrap_or_default();
    if secret.len() < 16 || !secret.iter().all(|b| is_alnum(*b)) || cx.ph.is_placeholder(ids) {
        return;
    }
    cx.found(SlackToken, start, end, Confidence::High);
}

/// A Stripe secret or restricted key, live or test, at `at`.
pub(crate) fn stripe(cx: &mut Cx<'_>, at: usize) {
    let text = cx.text;
    if !left_boundary(text, at, is_word) {
        return;
    }
    let Some(end) = shape::stripe(text, at, 8 + 247) else {
        return;
    };
    if !right_boundary(text, end, is_word) || cx.ph.is_placeholder(&text[at + 8..end]) {
        return;
    }
    if text[at + 3] == b't' {
        // Test mode: reported, below a live key whatever the words around it say.
        cx.found_fixed(StripeSecretKey, at, end, Confidence::Medium);
    } else {
        cx.found(StripeSecretKey, at, end, Confidence::High);
    }
}

/// A Google API key at `at`.
pub(crate) fn google(cx: &mut Cx<'_>, at: usize) {
    let text = cx.text;
    if !left_boundary(text, at, is_token) {
        return;
    }
    let Some(end) = shape::google(text, at, 39) else {
        return;
    };
    if !right_boundary(text, end, is_token) || cx.ph.is_placeholder(&text[at + 4..end]) {
        return;
    }
    cx.found(GoogleApiKey, at, end, Confidence::High);
}

#[cfg(test)]
mod tests {
    use crate::detector::Detector;
    use crate::detectors::tests_support::found;
    use crate::samples::{Sample, SampleRng};

    #[test]
    fn slack_tokens_and_webhooks() {
        let mut rng = SampleRng::new(11);
        for s in [Sample::SlackBotToken, Sample::SlackUserToken] {
            let t = s.generate(&mut rng);
            let hits = found(&format!("SLACK_TOKEN={t}\n"), Detector::SlackToken);
            assert_eq!(hits, [(12, 12 + t.len(), "high")], "{t}");
        }
        let hook = Sample::SlackWebhook.generate(&mut rng);
        let text = format!("post to {hook} now");
        assert_eq!(
            found(&text, Detector::SlackToken),
            [(8, 8 + hook.len(), "high")]
        );
        for neg in [
            "xoxb-your-token-here",
            "xoxb-xxxxxxxxxxxx-xxxxxxxxxxxxx",
            "https://hooks.slack.com/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX",
            "xoxbox-1234",
            "boxox-12345678901-1234567890123",
        ] {
            assert!(found(neg, Detector::SlackToken).is_empty(), "{neg}");
        }
    }

    #[test]
    fn stripe_live_keys_high_test_keys_medium() {
        let mut rng = SampleRng::new(12);
        let k = Sample::StripeSecretKey.generate(&mut rng);
        assert_eq!(found(&k, Detector::StripeSecretKey), [(0, k.len(), "high")]);
        let test_key = k.replace("_live_", "_test_");
        assert_eq!(
            found(&format!("key {test_key}"), Detector::StripeSecretKey),
            [(4, 4 + k.len(), "medium")]
        );
        assert!(found(
            "sk_live_4eC39HqLyjWDarjtT1zdp7dc",
            Detector::StripeSecretKey
        )
        .is_empty());
        assert!(found("sk_live_short", Detector::StripeSecretKey).is_empty());
    }

    #[test]
    fn google_keys_are_exactly_39() {
        let mut rng = SampleRng::new(13);
        let k = Sample::GoogleApiKey.generate(&mut rng);
        assert_eq!(
            found(&format!("key={k}&q=1"), Detector::GoogleApiKey),
            [(4, 43, "high")]
        );
        assert!(found(&format!("{k}A"), Detector::GoogleApiKey).is_empty());
        assert!(found(&k[..38], Detector::GoogleApiKey).is_empty());
        assert!(found(
            "AIzaSyXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX",
            Detector::GoogleApiKey
        )
        .is_empty());
    }
}
