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

/// One literal of the automaton: what is searched (`needle`), how far before it the anchor
/// starts (`back`), and what must be there for the hit to count (`prefixes`; empty: no check).
///
/// Needles are chosen for the SIMD prefilter, which fingerprints the first three bytes of each:
/// `hp_` instead of `ghp_`, `_live_` instead of `sk_live_`, because `_` and `-` are rare in
/// prose and in random tokens while `gh`, `sk` and `aws` ("laws") are not.
pub(crate) struct Literal {
    pub needle: &'static str,
    pub back: usize,
    pub prefixes: &'static [&'static str],
    pub anchor: Anchor,
}

const fn lit(
    needle: &'static str,
    back: usize,
    prefixes: &'static [&'static str],
    anchor: Anchor,
) -> Literal {
    Literal {
        needle,
        back,
        prefixes,
        anchor,
    }
}

pub(crate) const BUILTIN: &[Literal] = &[
    lit("AKIA", 0, &[], Anchor::AwsKeyId),
    lit("ASIA", 0, &[], Anchor::AwsKeyId),
    // AWS secret context; not a bare `aws`, which "laws" and "draws" contain.
    lit("s_secret", 0, &[], Anchor::AwsContext),
    lit("S_SECRET", 0, &[], Anchor::AwsContext),
    lit("AWS secret", 0, &[], Anchor::AwsContext),
    lit("AWS Secret", 0, &[], Anchor::AwsContext),
    lit("tAccessKey", 0, &[], Anchor::AwsContext),
    lit("_access_key", 0, &[], Anchor::AwsContext),
    lit("_ACCESS_KEY", 0, &[], Anchor::AwsContext),
    lit("hp_", 1, &["ghp_"], Anchor::Github),
    lit("ho_", 1, &["gho_"], Anchor::Github),
    lit("hu_", 1, &["ghu_"], Anchor::Github),
    lit("hs_", 1, &["ghs_"], Anchor::Github),
    lit("hr_", 1, &["ghr_"], Anchor::Github),
    lit("b_pat_", 5, &["github_pat_"], Anchor::Github),
    lit("at-", 3, &["glpat-"], Anchor::Gitlab),
    lit("xox", 0, &[], Anchor::Slack),
    lit(".slack.com/", 5, &["hooks.slack.com/"], Anchor::SlackHook),
    lit("_live_", 2, &["sk_live_", "rk_live_"], Anchor::Stripe),
    lit("sk-", 0, &[], Anchor::SkDash),
    lit("AIza", 0, &[], Anchor::Google),
    lit("-----BEGIN ", 0, &[], Anchor::Pem),
    lit("eyJ", 0, &[], Anchor::Jwt),
];

/// The compiled automaton and what each of its patterns means.
#[derive(Debug, Clone)]
pub(crate) struct Anchors {
    pub automaton: AhoCorasick,
    /// Per pattern: the anchor, how far back it starts, and the prefixes to verify.
    kinds: Vec<(Anchor, usize, &'static [&'static str])>,
}

impl Anchors {
    /// The built-in anchors plus `(keyword, custom regex index)` pairs.
    pub fn new(custom: &[(String, usize)]) -> Result<Self, aho_corasick::BuildError> {
        let mut words: Vec<&str> = BUILTIN.iter().map(|l| l.needle).collect();
        let mut kinds: Vec<_> = BUILTIN
            .iter()
            .map(|l| (l.anchor, l.back, l.prefixes))
            .collect();
        for (w, i) in custom {
            words.push(w);
            kinds.push((Anchor::Custom(*i), 0, &[][..]));
        }
        let automaton = AhoCorasickBuilder::new()
            .match_kind(MatchKind::LeftmostFirst)
            .build(&words)?;
        Ok(Anchors { automaton, kinds })
    }

    /// The anchor a hit of pattern `pattern` at `at` stands for and where it starts, when the
    /// bytes before the needle are what the anchor needs.
    pub fn resolve(&self, text: &[u8], pattern: usize, at: usize) -> Option<(Anchor, usize)> {
        let (anchor, back, prefixes) = *self.kinds.get(pattern)?;
        let start = at.checked_sub(back)?;
        let rest = text.get(start..)?;
        (prefixes.is_empty() || prefixes.iter().any(|p| rest.starts_with(p.as_bytes())))
            .then_some((anchor, start))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn anchors_are_long_enough_for_the_simd_prefilter() {
        for l in BUILTIN {
            assert!(l.needle.len() >= 3, "{}", l.needle);
            for p in l.prefixes {
                assert_eq!(&p[l.back..l.back + l.needle.len()], l.needle, "{p}");
            }
        }
    }

    #[test]
    fn hits_map_to_their_kind() {
        let a = Anchors::new(&[("ACME-".to_owned(), 0)]).unwrap();
        let text = "x AKIA y sk-ant z ACME-1 -----BEGIN ghp_ zhp_ rk_live_";
        let kinds: Vec<(Anchor, usize)> = a
            .automaton
            .find_iter(text)
            .filter_map(|m| a.resolve(text.as_bytes(), m.pattern().as_usize(), m.start()))
            .collect();
        assert_eq!(
            kinds,
            [
                (Anchor::AwsKeyId, 2),
                (Anchor::SkDash, 9),
                (Anchor::Custom(0), 18),
                (Anchor::Pem, 25),
                (Anchor::Github, 36),
                (Anchor::Stripe, 46),
            ]
        );
    }
}
