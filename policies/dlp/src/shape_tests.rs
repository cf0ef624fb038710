//! Each hand matcher against its regex, run the way detectors run them, on generated inputs:
//! the real prefix (or a near miss) followed by bytes drawn mostly from the token's alphabet,
//! with separators, other classes and cut-off windows mixed in.

use super::*;
use crate::patterns::{self, anchored as compile};
use crate::samples::SampleRng;
use crate::text::anchored;

type Matcher = fn(&[u8], usize, usize) -> Option<usize>;

const ALPHABET: &[u8] =
    b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-./+ =:\n\"AAAAAaaa000";

const UPPER_DIGITS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";

fn cases() -> Vec<(&'static str, Matcher, &'static [&'static str], usize)> {
    vec![
        (
            patterns::AWS_ID,
            aws_id,
            &["AKIA", "ASIA", "AKI", "ASIB"],
            20,
        ),
        (
            patterns::GITHUB,
            github,
            &["ghp_", "gho_", "ghx_", "github_pat_", "github_pa"],
            93,
        ),
        (patterns::GITLAB, gitlab, &["glpat-", "glpat_"], 306),
        (
            patterns::SLACK,
            slack,
            &["xoxb-", "xoxp-", "xoxz-", "xox"],
            256,
        ),
        (
            patterns::SLACK_HOOK,
            slack_hook,
            &[
                "hooks.slack.com/services/",
                "hooks.slack.com/workflows/",
                "hooks.slack.com/triggers/",
                "hooks.slack.com/service/",
            ],
            256,
        ),
        (
            patterns::STRIPE,
            stripe,
            &["sk_live_", "rk_live_", "pk_live_"],
            255,
        ),
        (
            patterns::OPENAI,
            openai,
            &["sk-", "sk-proj-", "sk-svcacct-", "sk-None-", "sk-admin"],
            320,
        ),
        (
            patterns::ANTHROPIC,
            anthropic,
            &[
                "sk-ant-api03-",
                "sk-ant-admin01-",
                "sk-ant-oat0",
                "sk-ant-ap",
            ],
            320,
        ),
        (patterns::GOOGLE, google, &["AIza", "AIzb"], 39),
        (
            patterns::JWT,
            jwt,
            &["eyJ", "eyJhbGc.", "eyJ..", "eyK"],
            32 * 1024,
        ),
    ]
}

#[test]
fn hand_matchers_agree_with_their_regexes() {
    let mut rng = SampleRng::new(77);
    for (pattern, matcher, prefixes, max) in cases() {
        let re = compile(pattern).unwrap();
        let mut hits = 0;
        for round in 0..4000 {
            let mut text = Vec::new();
            let lead = rng.below(3);
            text.extend(std::iter::repeat_n(b' ', lead));
            text.extend_from_slice(rng.pick(prefixes).as_bytes());
            // Mostly long runs of the token alphabet, sometimes a stray byte.
            let len = rng.below(140);
            // Upper case and digits only in one round of two (AWS key ids are made of them).
            let body = if round % 2 == 0 {
                UPPER_DIGITS
            } else {
                &ALPHABET[..62]
            };
            for _ in 0..len {
                let b = if rng.below(12) == 0 {
                    *rng.pick(ALPHABET)
                } else {
                    *rng.pick(body)
                };
                text.push(b);
            }
            if round % 7 == 0 {
                // Dots and dashes where JWT and Slack tokens have them.
                for _ in 0..2 {
                    let at = lead + rng.below(text.len() - lead);
                    text[at] = if rng.below(2) == 0 { b'.' } else { b'-' };
                }
            }
            // Windows cut mid-token, and the full one.
            let window = if round % 3 == 0 {
                rng.below(max + 1)
            } else {
                max
            };
            let want = anchored(&re, &text, lead, window);
            let got = matcher(&text, lead, window);
            assert_eq!(
                got,
                want,
                "{pattern} on {:?} (window {window})",
                String::from_utf8_lossy(&text)
            );
            hits += usize::from(want.is_some());
        }
        assert!(
            hits > 100,
            "{pattern}: only {hits} matching inputs generated"
        );
    }
}

#[test]
fn generated_secrets_match_both_ways() {
    use crate::samples::Sample;
    let mut rng = SampleRng::new(78);
    let by_sample: &[(Sample, usize)] = &[
        (Sample::AwsAccessKeyId, 0),
        (Sample::GithubToken, 1),
        (Sample::GithubFineGrainedToken, 1),
        (Sample::GitlabToken, 2),
        (Sample::SlackBotToken, 3),
        (Sample::SlackUserToken, 3),
        (Sample::StripeSecretKey, 5),
        (Sample::OpenaiApiKey, 6),
        (Sample::OpenaiProjectKey, 6),
        (Sample::AnthropicApiKey, 7),
        (Sample::GoogleApiKey, 8),
        (Sample::Jwt, 9),
    ];
    let cases = cases();
    for (sample, case) in by_sample {
        let (pattern, matcher, _, max) = cases[*case];
        let re = compile(pattern).unwrap();
        for _ in 0..50 {
            let v = sample.generate(&mut rng);
            let text = format!("x {v} y");
            let want = anchored(&re, text.as_bytes(), 2, max);
            assert_eq!(want, Some(2 + v.len()), "{v}");
            assert_eq!(matcher(text.as_bytes(), 2, max), want, "{v}");
        }
    }
    let hook = Sample::SlackWebhook.generate(&mut rng);
    let at = hook.find("hooks.").unwrap();
    assert_eq!(slack_hook(hook.as_bytes(), at, 256), Some(hook.len()));
}
