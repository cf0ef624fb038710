//! Where token detectors start looking. Every built-in anchor (`AKIA`, `ghp_`, `sk-`,
//! `-----BEGIN `, `eyJ`, `hooks.slack.com/`, ...) holds one of five trigger bytes — `_`, `-`,
//! `J`, `A`, `/` — that prose rarely uses; one vectorised pass marks the triggers of each 64
//! bytes in a bit mask and a few byte comparisons around each say which anchor, if any, it
//! belongs to.
//! Keywords of custom regexes are found by their own Aho-Corasick automaton, run only when a
//! scan enables one of those regexes.

use super::byteset::{Bits, ByteSet};
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
    Huggingface,
    Npm,
    Pypi,
    Sendgrid,
    /// `AC` + 32 hex: a Twilio account SID, whose auth token may sit nearby.
    TwilioSid,
    /// `TWILIO_AUTH_TOKEN`: the token follows.
    TwilioNamed,
    /// `AccountKey=` of an Azure storage connection string.
    AzureKey,
    /// `sv=YYYY-` of an Azure shared access signature.
    AzureSas,
    /// `service_account`: a GCP key file when it is `"type"`'s value.
    Gcp,
    /// `://`: a database URL when the scheme is a database's.
    DbUrl,
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
            Anchor::Huggingface => &[HuggingfaceToken],
            Anchor::Npm => &[NpmToken],
            Anchor::Pypi => &[PypiToken],
            Anchor::Sendgrid => &[SendgridApiKey],
            Anchor::TwilioSid | Anchor::TwilioNamed => &[TwilioAuthToken],
            Anchor::AzureKey => &[AzureStorageKey],
            Anchor::AzureSas => &[AzureSasToken],
            Anchor::Gcp => &[GcpServiceAccount],
            Anchor::DbUrl => &[DatabaseUrl],
        }
    }
}

/// Calls `f(anchor, start, end)` for each built-in anchor of `text` in text order (`end`:
/// past the literal part, `aws_secret` or `AKIA`).
pub(crate) fn for_each(text: &[u8], mut f: impl FnMut(Anchor, usize, usize)) {
    for (n, chunk) in text.chunks(64).enumerate() {
        for k in Bits(trigger_mask(chunk)) {
            let i = n * 64 + k;
            if !neighbours_fit(text, i) {
                continue;
            }
            if let Some((anchor, start, end)) = resolve(text, i) {
                f(anchor, start, end);
            }
        }
    }
}

/// Whether the bytes around the trigger at `i` can be part of an anchor: three table loads.
/// Most triggers stop here: `_` in snake_case, `-` in prose, `/` in comments.
#[inline]
fn neighbours_fit(text: &[u8], i: usize) -> bool {
    let prev = if i > 0 { text[i - 1] } else { 0 };
    let next = text.get(i + 1).copied().unwrap_or(0);
    let wanted = WANTED[usize::from(text[i])];
    (NEIGHBOURS[usize::from(prev)] & wanted & 0x0F)
        | (NEIGHBOURS[usize::from(next)] & wanted & 0xF0)
        != 0
}

/// Per trigger byte: the neighbour bits ([`before_bit`], [`after_bit`]) that can make it an
/// anchor.
static WANTED: [u8; 256] = {
    let mut t = [0u8; 256];
    let triggers = b"_-JA/G";
    let mut i = 0;
    while i < triggers.len() {
        t[triggers[i] as usize] = before_bit(triggers[i]) | after_bit(triggers[i]);
        i += 1;
    }
    t
};

/// The positions of trigger bytes in `text`, in order.
#[cfg(test)]
fn triggers(text: &[u8]) -> Vec<usize> {
    let mut out = Vec::new();
    for (n, chunk) in text.chunks(64).enumerate() {
        out.extend(Bits(trigger_mask(chunk)).map(|k| n * 64 + k));
    }
    out
}

/// The six trigger bytes (`G`: of `SG.`, told by the `.` after it in [`neighbours_fit`]).
const TRIGGERS: ByteSet = ByteSet::of(b"_-JA/G");

/// Bit `k` set when `chunk[k]` is a trigger byte.
#[inline(always)]
fn trigger_mask(chunk: &[u8]) -> u64 {
    TRIGGERS.mask(chunk)
}

/// Whether `text[at..]` starts with `lit`.
fn at(text: &[u8], at: usize, lit: &[u8]) -> bool {
    text.get(at..).is_some_and(|t| t.starts_with(lit))
}

/// Whether the `lit.len()` bytes before `end` are `lit`.
fn before(text: &[u8], end: usize, lit: &[u8]) -> bool {
    end.checked_sub(lit.len())
        .is_some_and(|s| &text[s..end] == lit)
}

/// The anchor the trigger byte at `i` belongs to, and where that anchor starts. Where two
/// could claim one trigger, the one that starts first wins (`ghs_secret` is a GitHub prefix).
#[inline]
fn resolve(text: &[u8], i: usize) -> Option<(Anchor, usize, usize)> {
    match text[i] {
        b'_' => {
            // The byte on each side picks the literals worth comparing (snake_case code has
            // thousands of `_` per MB whose neighbours fit some anchor).
            let prev = if i > 0 { text[i - 1] } else { 0 };
            let next = text.get(i + 1).copied().unwrap_or(0);
            if matches!(prev, b'p' | b'o' | b'u' | b's' | b'r')
                && i >= 3
                && before(text, i - 1, b"gh")
            {
                Some((Anchor::Github, i - 3, i + 1))
            } else if prev == b'b' && before(text, i, b"github") && at(text, i + 1, b"pat_") {
                Some((Anchor::Github, i - 6, i + 5))
            } else if prev == b'k'
                && (next == b'l' || next == b't')
                && (before(text, i, b"sk") || before(text, i, b"rk"))
                && (at(text, i + 1, b"live_") || at(text, i + 1, b"test_"))
            {
                Some((Anchor::Stripe, i - 2, i + 6))
            } else if prev == b'f' && before(text, i, b"hf") {
                Some((Anchor::Huggingface, i - 2, i + 1))
            } else if prev == b'm' && before(text, i, b"npm") {
                Some((Anchor::Npm, i - 3, i + 1))
            } else if prev == b'e'
                && next == b'a'
                && before(text, i, b"service")
                && at(text, i + 1, b"account")
            {
                Some((Anchor::Gcp, i - 7, i + 8))
            } else if (next == b'A' || next == b'a')
                && i >= 6
                && text[i - 6..i].eq_ignore_ascii_case(b"twilio")
                && text
                    .get(i + 1..i + 11)
                    .is_some_and(|t| t.eq_ignore_ascii_case(b"auth_token"))
            {
                Some((Anchor::TwilioNamed, i - 6, i + 11))
            } else if (prev == b's' && next == b's' && at(text, i + 1, b"secret"))
                || (prev == b'S' && next == b'S' && at(text, i + 1, b"SECRET"))
            {
                Some((Anchor::AwsContext, i - 1, i + 7))
            } else if (next == b'a' && at(text, i + 1, b"access_key"))
                || (next == b'A' && at(text, i + 1, b"ACCESS_KEY"))
            {
                Some((Anchor::AwsContext, i, i + 11))
            } else {
                None
            }
        }
        b'-' => {
            let prev = if i > 0 { text[i - 1] } else { 0 };
            if text.get(i + 1) == Some(&b'-') && at(text, i, b"-----BEGIN ") {
                Some((Anchor::Pem, i, i + 11))
            } else if prev == b'k' && before(text, i, b"sk") {
                Some((Anchor::SkDash, i - 2, i + 1))
            } else if matches!(prev, b't' | b's')
                && (4..=7).any(|d| i >= d && text[i - d] == b'g' && text[i - d + 1] == b'l')
            {
                crate::shape::GITLAB_KINDS
                    .iter()
                    .find(|k| before(text, i, k) && before(text, i - k.len(), b"gl"))
                    .map(|k| (Anchor::Gitlab, i - k.len() - 2, i + 1))
                    .or_else(|| slack_anchor(text, i))
            } else if prev == b'i' && before(text, i, b"pypi") {
                Some((Anchor::Pypi, i - 4, i + 1))
            } else if prev.is_ascii_digit()
                && i >= 7
                && before(text, i - 4, b"sv=")
                && text[i - 4..i].iter().all(u8::is_ascii_digit)
            {
                Some((Anchor::AzureSas, i - 7, i + 1))
            } else {
                slack_anchor(text, i)
            }
        }
        b'J' => before(text, i, b"ey").then(|| (Anchor::Jwt, i - 2, i + 1)),
        b'G' => (before(text, i, b"S") && text.get(i + 1) == Some(&b'.'))
            .then(|| (Anchor::Sendgrid, i - 1, i + 2)),
        b'A' => match text.get(i + 1..i + 4)? {
            b"KIA" | b"SIA" => Some((Anchor::AwsKeyId, i, i + 4)),
            [b'I', b'z', b'a'] => Some((Anchor::Google, i, i + 4)),
            b"WS " if at(text, i + 4, b"secret") || at(text, i + 4, b"Secret") => {
                Some((Anchor::AwsContext, i, i + 10))
            }
            b"cce" if before(text, i, b"t") && at(text, i, b"AccessKey") => {
                Some((Anchor::AwsContext, i - 1, i + 9))
            }
            b"cco" if at(text, i, b"AccountKey=") => Some((Anchor::AzureKey, i, i + 11)),
            // `IAM secret key`, `IAM user's secret key`: AWS's name for the account system.
            [b'M', b' ' | b'_', _]
                if before(text, i, b"I")
                    && !(i >= 2 && text[i - 2].is_ascii_alphanumeric())
                    && secret_word_within(text, i + 3) =>
            {
                Some((Anchor::AwsContext, i - 1, i + 3))
            }
            [b'C', h, _] if h.is_ascii_digit() || (b'a'..=b'f').contains(h) => {
                Some((Anchor::TwilioSid, i, i + 2))
            }
            _ => None,
        },
        b'/' => match if i > 0 { text[i - 1] } else { 0 } {
            b':' => (text.get(i + 1) == Some(&b'/')).then(|| (Anchor::DbUrl, i - 1, i + 2)),
            _ => before(text, i, b"hooks.slack.com").then(|| (Anchor::SlackHook, i - 15, i + 1)),
        },
        _ => None,
    }
}

/// Whether `secret` (any case) starts within [`IAM_SECRET_GAP`] bytes of `from`.
fn secret_word_within(text: &[u8], from: usize) -> bool {
    let to = from.saturating_add(IAM_SECRET_GAP + 6).min(text.len());
    text.get(from..to)
        .is_some_and(|w| w.windows(6).any(|x| x.eq_ignore_ascii_case(b"secret")))
}

/// How many bytes may stand between `IAM ` and `secret` (`IAM user's secret`).
const IAM_SECRET_GAP: usize = 24;

/// A Slack token whose `-` is at `i`: `xox?-`, `xapp-`, `xoxe.xoxp-` from its first `x`, or
/// the second `-` of `xoxe-1-`.
fn slack_anchor(text: &[u8], i: usize) -> Option<(Anchor, usize, usize)> {
    if i >= 6 && text[i - 1].is_ascii_digit() && before(text, i - 1, b"xoxe-") {
        return Some((Anchor::Slack, i - 6, i - 2));
    }
    if i >= 4 && (before(text, i - 1, b"xox") || before(text, i, b"xapp")) {
        if before(text, i - 4, b"xoxe.") {
            return Some((Anchor::Slack, i - 9, i - 6));
        }
        return Some((Anchor::Slack, i - 4, i - 1));
    }
    None
}

/// Per byte: for which trigger bytes it may come right before (low bits) or right after (high
/// bits) in an anchor. A trigger with neither neighbour is no anchor, read no further (see
/// [`neighbours_fit`]).
static NEIGHBOURS: [u8; 256] = neighbours();

const fn before_bit(trigger: u8) -> u8 {
    match trigger {
        b'_' => 1,
        b'-' => 2,
        b'J' => 4,
        b'/' => 8,
        _ => 0, // `A` and `G` anchors are told by what follows
    }
}

const fn after_bit(trigger: u8) -> u8 {
    match trigger {
        b'_' => 16,
        b'-' => 32,
        b'A' => 64,
        b'G' => 128,
        _ => 0,
    }
}

const fn neighbours() -> [u8; 256] {
    let mut t = [0u8; 256];
    // Before `_`: gh[pousr]_, github_pat_, [sr]k_live_, s_secret, S_SECRET.
    // hf_, npm_ (service_account is told by the `a` after: `e_` is everywhere in snake_case).
    let before_underscore = b"pousrbkSfm";
    let mut i = 0;
    while i < before_underscore.len() {
        t[before_underscore[i] as usize] |= before_bit(b'_');
        i += 1;
    }
    // Before `-`: sk-, glpat-, xox[baprs]-; after: the second `-` of `-----BEGIN `.
    // gl(pat|dt|rt|ptt|agent|ft|imt|soat|oas|cbt|ffct)-, xoxe-, xapp-, pypi-, sv=YYYY-.
    // `xoxe-1-` by its second `-` (a digit before it; `e-` is everywhere in prose).
    let before_dash = b"ktbaprsi0123456789";
    i = 0;
    while i < before_dash.len() {
        t[before_dash[i] as usize] |= before_bit(b'-');
        i += 1;
    }
    t[b'-' as usize] |= after_bit(b'-');
    t[b'y' as usize] |= before_bit(b'J');
    t[b'm' as usize] |= before_bit(b'/');
    t[b':' as usize] |= before_bit(b'/');
    t[b'.' as usize] |= after_bit(b'G');
    // After `_`: _access_key, _ACCESS_KEY. After `A`: AKIA, ASIA, AIza, AWS, AccessKey.
    t[b'a' as usize] |= after_bit(b'_');
    t[b'A' as usize] |= after_bit(b'_');
    // AKIA, ASIA, AIza, AWS, AccessKey/AccountKey, IAM secret, AC (Twilio SID).
    let after_a = b"KSIWcMC";
    i = 0;
    while i < after_a.len() {
        t[after_a[i] as usize] |= after_bit(b'A');
        i += 1;
    }
    t
}

/// The keywords of custom regexes: one automaton, `None` when no regex has keywords.
#[derive(Debug, Clone)]
pub(crate) struct CustomAnchors {
    automaton: Option<AhoCorasick>,
    /// Per pattern: the index of the custom regex it belongs to.
    regex: Vec<usize>,
}

impl CustomAnchors {
    /// From `(keyword, custom regex index)` pairs.
    pub fn new(custom: &[(String, usize)]) -> Result<Self, aho_corasick::BuildError> {
        let automaton = if custom.is_empty() {
            None
        } else {
            Some(
                AhoCorasickBuilder::new()
                    .match_kind(MatchKind::LeftmostFirst)
                    .build(custom.iter().map(|(w, _)| w))?,
            )
        };
        Ok(CustomAnchors {
            automaton,
            regex: custom.iter().map(|(_, i)| *i).collect(),
        })
    }

    /// `(custom regex index, keyword start)` of every keyword hit in `text`.
    pub fn hits<'t>(&'t self, text: &'t [u8]) -> impl Iterator<Item = (usize, usize)> + 't {
        self.automaton
            .iter()
            .flat_map(move |a| a.find_iter(text))
            .filter_map(|m| Some((*self.regex.get(m.pattern().as_usize())?, m.start())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn triggers_map_to_their_anchor() {
        let text = "x AKIA y sk-ant z -----BEGIN ghp_ zhp_ rk_live_ eyJ AIzaX glpat-1 xoxb-1 \
                    https://hooks.slack.com/x aws_secret AWS_ACCESS_KEY SecretAccessKey AWS secret \
                    github_pat_ ghs_secret";
        let mut kinds: Vec<(Anchor, &str)> = Vec::new();
        for_each(text.as_bytes(), |a, s, _| kinds.push((a, &text[s..s + 4])));
        assert_eq!(
            kinds,
            [
                (Anchor::AwsKeyId, "AKIA"),
                (Anchor::SkDash, "sk-a"),
                (Anchor::Pem, "----"),
                (Anchor::Github, "ghp_"),
                (Anchor::Stripe, "rk_l"),
                (Anchor::Jwt, "eyJ "),
                (Anchor::Google, "AIza"),
                (Anchor::Gitlab, "glpa"),
                (Anchor::Slack, "xoxb"),
                (Anchor::DbUrl, "://h"),
                (Anchor::SlackHook, "hook"),
                (Anchor::AwsContext, "s_se"),
                (Anchor::AwsContext, "_ACC"),
                (Anchor::AwsContext, "tAcc"),
                (Anchor::AwsContext, "AWS "),
                (Anchor::Github, "gith"),
                (Anchor::Github, "ghs_"),
            ]
        );
    }

    #[test]
    fn the_new_prefixes_map_to_their_anchor() {
        for (text, anchor, start) in [
            ("x xoxe-1-abc", Anchor::Slack, 2),
            ("x xoxe.xoxp-1-abc", Anchor::Slack, 2),
            ("x xapp-1-abc", Anchor::Slack, 2),
            ("x glrt-abc", Anchor::Gitlab, 2),
            ("x glagent-abc", Anchor::Gitlab, 2),
            ("x hf_abc", Anchor::Huggingface, 2),
            ("x npm_abc", Anchor::Npm, 2),
            ("x pypi-AgE", Anchor::Pypi, 2),
            ("x SG.abc", Anchor::Sendgrid, 2),
            ("x AccountKey=abc", Anchor::AzureKey, 2),
            ("?sv=2022-11-02&sig=x", Anchor::AzureSas, 1),
            ("\"type\": \"service_account\"", Anchor::Gcp, 9),
            ("x IAM user's secret key", Anchor::AwsContext, 2),
            ("x ACdeadbeef", Anchor::TwilioSid, 2),
            ("x TWILIO_AUTH_TOKEN=", Anchor::TwilioNamed, 2),
            ("x postgres://u:p@h", Anchor::DbUrl, 10),
        ] {
            let mut kinds = Vec::new();
            for_each(text.as_bytes(), |a, s, _| kinds.push((a, s)));
            assert_eq!(kinds, [(anchor, start)], "{text}");
        }
    }

    #[test]
    fn masks_mark_every_trigger() {
        let text: Vec<u8> = (0..300u32)
            .map(|i| b"ab_c-dJ/eA \n9"[(i * 7 % 13) as usize])
            .collect();
        let plain: Vec<usize> = (0..text.len())
            .filter(|i| TRIGGERS.contains(text[*i]))
            .collect();
        assert_eq!(triggers(&text), plain);
    }

    #[test]
    fn prose_and_edges_hold_no_anchor() {
        for text in [
            "",
            "_",
            "-",
            "J",
            "A",
            "/",
            "laws and draws",
            "A-J_/",
            "AKI",
            "ey",
        ] {
            let mut n = 0;
            for_each(text.as_bytes(), |_, _, _| n += 1);
            assert_eq!(n, 0, "{text:?}");
        }
    }

    #[test]
    fn custom_keywords_name_their_regex() {
        let c = CustomAnchors::new(&[("ACME-".to_owned(), 3), ("ZETA".to_owned(), 5)]).unwrap();
        let hits: Vec<_> = c.hits(b"x ACME-1 ZETA ACME-").collect();
        assert_eq!(hits, [(3, 2), (5, 9), (3, 14)]);
        assert_eq!(CustomAnchors::new(&[]).unwrap().hits(b"ACME-").count(), 0);
    }
}
