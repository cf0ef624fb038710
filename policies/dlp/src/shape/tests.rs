//! Each hand matcher against its regex, run the way detectors run them, on generated inputs:
//! the real prefix (or a near miss) followed by bytes drawn mostly from the token's alphabet,
//! with separators, other classes and cut-off windows mixed in.

use super::*;
use crate::patterns::{self, anchored as compile};
use crate::samples::SampleRng;
use crate::text::anchored;

type Matcher = fn(&[u8], usize, usize) -> Option<usize>;

/// A matcher's case: its pattern, the matcher, prefixes (real ones and near misses), the
/// window, and the body alphabet (empty: upper case and digits, or base62, by round).
type Case = (
    &'static str,
    Matcher,
    &'static [&'static str],
    usize,
    &'static [u8],
);

const ALPHABET: &[u8] =
    b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-./+ =:\n\"AAAAAaaa000";

const UPPER_DIGITS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
const LETTERS_ONLY: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
const TOKEN_BODY: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-";
const HEX_BODY: &[u8] = b"0123456789abcdef";
const B64_86: &str =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/ABCDEFGHIJKLMNOPQRSTUV";
const B64_PREFIXES: &[&str] = &["", B64_86, B64_85];
const B64_85: &str =
    "BCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/ABCDEFGHIJKLMNOPQRSTUV";
const SIG_BODY: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789%+/=";

fn cases() -> Vec<Case> {
    vec![
        (
            patterns::AWS_ID,
            aws_id,
            &["AKIA", "ASIA", "AKI", "ASIB"],
            20,
            b"",
        ),
        (
            patterns::GITHUB,
            github,
            &["ghp_", "gho_", "ghx_", "github_pat_", "github_pa"],
            93,
            b"",
        ),
        (
            patterns::GITLAB,
            gitlab,
            &[
                "glpat-", "glpat_", "gldt-", "glrt-", "glptt-", "glagent-", "glft-", "glsoat-",
                "glx-",
            ],
            310,
            b"",
        ),
        (
            patterns::GITLAB_RUNNER,
            gitlab_runner,
            &["GR1348941", "GR134894"],
            264,
            b"",
        ),
        (
            patterns::SLACK,
            slack,
            &[
                "xoxb-",
                "xoxp-",
                "xoxz-",
                "xox",
                "xoxe-",
                "xoxe.xoxp-",
                "xapp-1-",
                "xapp-x-",
            ],
            256,
            b"",
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
            b"",
        ),
        (
            patterns::STRIPE,
            stripe,
            &[
                "sk_live_", "rk_live_", "pk_live_", "sk_test_", "rk_test_", "sk_tset_",
            ],
            255,
            b"",
        ),
        (
            patterns::OPENAI,
            openai,
            &["sk-", "sk-proj-", "sk-svcacct-", "sk-None-", "sk-admin"],
            320,
            b"",
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
            b"",
        ),
        (patterns::GOOGLE, google, &["AIza", "AIzb"], 39, b""),
        (
            patterns::JWT,
            jwt,
            &["eyJ", "eyJhbGc.", "eyJ..", "eyK"],
            32 * 1024,
            b"",
        ),
        (
            patterns::HUGGINGFACE,
            huggingface,
            &["hf_", "hg_"],
            37,
            LETTERS_ONLY,
        ),
        (patterns::NPM, npm, &["npm_", "npm-"], 40, b""),
        (
            patterns::PYPI,
            pypi,
            &[
                "pypi-AgEIcHlwaS5vcmc",
                "pypi-AgENdGVzdC5weXBpLm9yZw",
                "pypi-AgEI",
                "pypi-",
            ],
            1024,
            TOKEN_BODY,
        ),
        (
            patterns::SENDGRID,
            sendgrid,
            &[
                "SG.",
                "SG-",
                "SG.abcdefghijklmnopqrstuv.",
                "SG.abcdefghijklmnopqrstu.",
            ],
            69,
            TOKEN_BODY,
        ),
        (
            patterns::TWILIO_SID,
            twilio_sid,
            &["AC", "AD"],
            34,
            HEX_BODY,
        ),
        // The 86 key bytes as a prefix (and one short), the `==` from the body.
        (
            patterns::AZURE_STORAGE_KEY,
            azure_key,
            B64_PREFIXES,
            88,
            b"==A/",
        ),
        (
            patterns::AZURE_SAS_SIG,
            azure_sig,
            &["", "%2B"],
            1024,
            SIG_BODY,
        ),
        (patterns::GCP_KEY_ID, gcp_key_id, &[""], 40, HEX_BODY),
    ]
}

#[test]
fn hand_matchers_agree_with_their_regexes() {
    let mut rng = SampleRng::new(77);
    for (pattern, matcher, prefixes, max, own_body) in cases() {
        let re = compile(pattern).unwrap();
        let mut hits = 0;
        for round in 0..4000 {
            let mut text = Vec::new();
            let lead = rng.below(3);
            text.extend(std::iter::repeat_n(b' ', lead));
            text.extend_from_slice(rng.pick(prefixes).as_bytes());
            // Mostly long runs of the token alphabet, sometimes a stray byte.
            let len = rng.below(if own_body.is_empty() {
                140
            } else {
                2 * max.min(140)
            });
            // Upper case and digits only in one round of two (AWS key ids are made of them).
            let body = if !own_body.is_empty() {
                own_body
            } else if round % 2 == 0 {
                UPPER_DIGITS
            } else {
                &ALPHABET[..62]
            };
            for _ in 0..len {
                let b = if rng.below(if own_body.is_empty() { 12 } else { 200 }) == 0 {
                    *rng.pick(ALPHABET)
                } else {
                    *rng.pick(body)
                };
                text.push(b);
            }
            if round % 7 == 0 && text.len() > lead {
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
        (Sample::GitlabOtherToken, 2),
        (Sample::GitlabRunnerToken, 3),
        (Sample::SlackBotToken, 4),
        (Sample::SlackUserToken, 4),
        (Sample::SlackAppToken, 4),
        (Sample::SlackConfigToken, 4),
        (Sample::StripeSecretKey, 6),
        (Sample::StripeTestKey, 6),
        (Sample::OpenaiApiKey, 7),
        (Sample::OpenaiProjectKey, 7),
        (Sample::AnthropicApiKey, 8),
        (Sample::GoogleApiKey, 9),
        (Sample::Jwt, 10),
        (Sample::HuggingfaceToken, 11),
        (Sample::NpmToken, 12),
        (Sample::PypiToken, 13),
        (Sample::SendgridApiKey, 14),
    ];
    let cases = cases();
    for (sample, case) in by_sample {
        let (pattern, matcher, _, max, _) = cases[*case];
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
