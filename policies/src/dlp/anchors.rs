//! The one keyword automaton: every token detector's literal anchors (`AKIA`, `ghp_`,
//! `-----BEGIN `, `sk-`, ...) plus the keywords of custom regexes, in a single case-sensitive
//! Aho-Corasick pass. All built-in anchors are at least three bytes long so the automaton can
//! use its SIMD (Teddy) prefilter; `@` and digits are found by cheaper byte scans instead.

use super::detector::Detector::{self, *};
use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};

/// What an anchor hit asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Anchor {
    /// `AKIA` / `ASIA`: an access key id (and a secret may sit nearby).
    AwsKeyId,
    /// `aws_secret`, `SecretAccessKey`...: a secret access key may sit nearby.
    AwsContext,
    Github,
    Gitlab,
    Slack,
    SlackHook,
    Stripe,
    /// `sk-`: OpenAI, or Anthropic when it reads `sk-ant-`.
    SkDash,
    Google,
    Pem,
    Jwt,
    /// A keyword of the custom regex with this index.
    Custom(usize),
}

impl Anchor {
    /// The built-in detectors this anchor can produce.
    pub fn detectors(self) -> &'static [Detector] {
        match self {
            Anchor::AwsKeyId => &[AwsAccessKeyId, AwsSecretAccessKey],
            Anchor::AwsContext => &[AwsSecretAccessKey],
            Anchor::Github => &[GithubToken],
            Anchor::Gitlab => &[GitlabToken],
            Anchor::Slack | Anchor::SlackHook => &[SlackToken],
            Anchor::Stripe => &[StripeSecretKey],
            Anchor::SkDash => &[OpenaiApiKey, AnthropicApiKey],
            Anchor::Google => &[GoogleApiKey],
            Anchor::Pem => &[PrivateKey],
            Anchor::Jwt => &[Jwt],
            Anchor::Custom(_) => &[],
        }
    }
}

const BUILTIN: &[(&str, Anchor)] = &[
    ("AKIA", Anchor::AwsKeyId),
    ("ASIA", Anchor::AwsKeyId),
    // Not a bare `aws`: "laws", "draws" and "flaws" would wake the secret search in prose.
    ("aws_secret", Anchor::AwsContext),
    ("AWS_SECRET", Anchor::AwsContext),
    ("aws secret", Anchor::AwsContext),
    ("AWS secret", Anchor::AwsContext),
    ("AWS Secret", Anchor::AwsContext),
    ("SecretAccessKey", Anchor::AwsContext),
    ("secretAccessKey", Anchor::AwsContext),
    ("secret_access_key", Anchor::AwsContext),
    ("SECRET_ACCESS_KEY", Anchor::AwsContext),
    ("ghp_", Anchor::Github),
    ("gho_", Anchor::Github),
    ("ghu_", Anchor::Github),
    ("ghs_", Anchor::Github),
    ("ghr_", Anchor::Github),
    ("github_pat_", Anchor::Github),
    ("glpat-", Anchor::Gitlab),
    ("xox", Anchor::Slack),
    ("hooks.slack.com/", Anchor::SlackHook),
    ("sk_live_", Anchor::Stripe),
    ("rk_live_", Anchor::Stripe),
    ("sk-", Anchor::SkDash),
    ("AIza", Anchor::Google),
    ("-----BEGIN ", Anchor::Pem),
    ("eyJ", Anchor::Jwt),
];

/// The compiled automaton and what each of its patterns means.
#[derive(Debug, Clone)]
pub(crate) struct Anchors {
    pub automaton: AhoCorasick,
    pub kinds: Vec<Anchor>,
}

impl Anchors {
    /// The built-in anchors plus `(keyword, custom regex index)` pairs.
    pub fn new(custom: &[(String, usize)]) -> Result<Self, aho_corasick::BuildError> {
        let mut words: Vec<&str> = BUILTIN.iter().map(|(w, _)| *w).collect();
        let mut kinds: Vec<Anchor> = BUILTIN.iter().map(|(_, k)| *k).collect();
        for (w, i) in custom {
            words.push(w);
            kinds.push(Anchor::Custom(*i));
        }
        let automaton = AhoCorasickBuilder::new()
            .match_kind(MatchKind::LeftmostFirst)
            .build(&words)?;
        Ok(Anchors { automaton, kinds })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn anchors_are_long_enough_for_the_simd_prefilter() {
        assert!(BUILTIN.iter().all(|(w, _)| w.len() >= 3));
    }

    #[test]
    fn hits_map_to_their_kind() {
        let a = Anchors::new(&[("ACME-".to_owned(), 0)]).unwrap();
        let text = "x AKIA y sk-ant z ACME-1 -----BEGIN ";
        let kinds: Vec<Anchor> = a
            .automaton
            .find_iter(text)
            .map(|m| a.kinds[m.pattern().as_usize()])
            .collect();
        assert_eq!(
            kinds,
            [Anchor::AwsKeyId, Anchor::SkDash, Anchor::Custom(0), Anchor::Pem]
        );
    }
}
