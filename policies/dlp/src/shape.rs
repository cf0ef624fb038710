//! Token shapes matched by hand: each function here matches exactly what its regex in
//! `patterns.rs` matches when that regex is run anchored on at most `max` bytes from `at`
//! (see [`super::text::anchored`]), and returns the same end. The regexes stay the
//! specification (the benchmark's naive baseline runs them, and the tests below compare both on
//! generated inputs); these loops only save a regex search per anchor hit, which on
//! secret-dense text was the largest single cost of a finding.
//!
//! Every pattern here is a fixed prefix and runs of one byte class, and every run is greedy up to
//! a byte outside its class, so there is nothing to backtrack: a run's end is where the class
//! stops or the window does.

use super::byteset::{ByteSet, ALNUM, DIGITS};

const UP: (u8, u8) = (b'A', b'Z');
const DIG: (u8, u8) = (b'0', b'9');

/// `[A-Z0-9]`
const UPPER_DIGIT: ByteSet = ByteSet {
    bytes: &[],
    letters: false,
    ranges: &[UP, DIG],
};
/// `[A-Za-z0-9_-]`
const TOKEN: ByteSet = ByteSet::alnum_and(b"_-");
/// `[A-Za-z0-9_.-]`
const GITLAB: ByteSet = ByteSet::alnum_and(b"_.-");
/// `[A-Za-z0-9-]`
const SLACK: ByteSet = ByteSet::alnum_and(b"-");
/// `[A-Za-z0-9_/-]`
const HOOK: ByteSet = ByteSet::alnum_and(b"_/-");

/// The window `..hi` a regex run at `at` with at most `max` bytes would see.
fn window_end(text: &[u8], at: usize, max: usize) -> usize {
    at.saturating_add(max).min(text.len())
}

/// Whether `text[i..]` starts with `prefix` inside the window `..hi`; where it ends.
fn lit(text: &[u8], i: usize, hi: usize, prefix: &[u8]) -> Option<usize> {
    let end = i.checked_add(prefix.len()).filter(|e| *e <= hi)?;
    (text.get(i..end)? == prefix).then_some(end)
}

/// Exactly `n` bytes of class `c` from `i` inside the window; where they end.
#[inline(always)]
fn exactly(text: &[u8], i: usize, hi: usize, c: &ByteSet, n: usize) -> Option<usize> {
    let end = i.checked_add(n).filter(|e| *e <= hi)?;
    (c.run_end(text, i, end) == end).then_some(end)
}

/// At least `min` bytes of class `c` from `i`, as many as the window allows; where they end.
#[inline(always)]
fn at_least(text: &[u8], i: usize, hi: usize, c: &ByteSet, min: usize) -> Option<usize> {
    let end = c.run_end(text, i, hi);
    (end - i >= min).then_some(end)
}

/// `(?:AKIA|ASIA)[A-Z0-9]{16}`
pub fn aws_id(text: &[u8], at: usize, max: usize) -> Option<usize> {
    let hi = window_end(text, at, max);
    let i = lit(text, at, hi, b"AKIA").or_else(|| lit(text, at, hi, b"ASIA"))?;
    exactly(text, i, hi, &UPPER_DIGIT, 16)
}

/// `gh[pousr]_[A-Za-z0-9]{36}|github_pat_[A-Za-z0-9]{22}_[A-Za-z0-9]{59}`
pub fn github(text: &[u8], at: usize, max: usize) -> Option<usize> {
    let hi = window_end(text, at, max);
    let classic = lit(text, at, hi, b"gh")
        .filter(|i| matches!(text.get(*i), Some(b'p' | b'o' | b'u' | b's' | b'r')))
        .and_then(|i| lit(text, i + 1, hi, b"_"))
        .and_then(|i| exactly(text, i, hi, &ALNUM, 36));
    classic.or_else(|| {
        let i = lit(text, at, hi, b"github_pat_")?;
        let i = exactly(text, i, hi, &ALNUM, 22)?;
        let i = lit(text, i, hi, b"_")?;
        exactly(text, i, hi, &ALNUM, 59)
    })
}

/// `gl(?:pat|dt|rt|ptt|agent|ft|imt|soat|oas|cbt|ffct)-[A-Za-z0-9_.-]{20,}`: GitLab's token
/// prefixes (personal, deploy, runner, pipeline trigger, agent, feed, incoming mail, SCIM,
/// OAuth application secret, CI/CD job, feature flag client).
pub fn gitlab(text: &[u8], at: usize, max: usize) -> Option<usize> {
    let hi = window_end(text, at, max);
    let i = lit(text, at, hi, b"gl")?;
    let i = GITLAB_KINDS.iter().find_map(|k| lit(text, i, hi, k))?;
    let i = lit(text, i, hi, b"-")?;
    at_least(text, i, hi, &GITLAB, 20)
}

/// What follows `gl` in GitLab's token prefixes.
pub const GITLAB_KINDS: [&[u8]; 11] = [
    b"pat", b"dt", b"rt", b"ptt", b"agent", b"ft", b"imt", b"soat", b"oas", b"cbt", b"ffct",
];

/// `GR1348941[A-Za-z0-9_-]{20,}`: a runner registration token.
pub fn gitlab_runner(text: &[u8], at: usize, max: usize) -> Option<usize> {
    let hi = window_end(text, at, max);
    let i = lit(text, at, hi, b"GR1348941")?;
    at_least(text, i, hi, &TOKEN, 20)
}

/// `xox[baprse]-[A-Za-z0-9-]{10,}|xoxe\.xoxp-[A-Za-z0-9-]{10,}|xapp-\d-[A-Za-z0-9-]{10,}`
pub fn slack(text: &[u8], at: usize, max: usize) -> Option<usize> {
    let hi = window_end(text, at, max);
    if let Some(i) = lit(text, at, hi, b"xapp-") {
        let i = exactly(text, i, hi, &DIGITS, 1)?;
        let i = lit(text, i, hi, b"-")?;
        return at_least(text, i, hi, &SLACK, 10);
    }
    let i = lit(text, at, hi, b"xoxe.xoxp-").or_else(|| {
        lit(text, at, hi, b"xox")
            .filter(|i| matches!(text.get(*i), Some(b'b' | b'a' | b'p' | b'r' | b's' | b'e')))
            .and_then(|i| lit(text, i + 1, hi, b"-"))
    })?;
    at_least(text, i, hi, &SLACK, 10)
}

/// `hooks\.slack\.com/(?:services|workflows|triggers)/[A-Za-z0-9_/-]{20,}`
pub fn slack_hook(text: &[u8], at: usize, max: usize) -> Option<usize> {
    let hi = window_end(text, at, max);
    let i = lit(text, at, hi, b"hooks.slack.com/")?;
    let i = [&b"services"[..], b"workflows", b"triggers"]
        .iter()
        .find_map(|w| lit(text, i, hi, w))?;
    let i = lit(text, i, hi, b"/")?;
    at_least(text, i, hi, &HOOK, 20)
}

/// `[sr]k_(?:live|test)_[A-Za-z0-9]{24,}`
pub fn stripe(text: &[u8], at: usize, max: usize) -> Option<usize> {
    let hi = window_end(text, at, max);
    let i = lit(text, at, hi, b"sk_")
        .or_else(|| lit(text, at, hi, b"rk_"))
        .and_then(|i| lit(text, i, hi, b"live_").or_else(|| lit(text, i, hi, b"test_")))?;
    at_least(text, i, hi, &ALNUM, 24)
}

/// `sk-(?:(?:proj|svcacct|admin|None)-)?[A-Za-z0-9_-]{20,}`. The optional prefix is made of
/// bytes of the run's own class, so with or without it the match ends where the run from
/// `sk-` ends, and it matches when that run has 20 bytes (with the prefix it needs more).
pub fn openai(text: &[u8], at: usize, max: usize) -> Option<usize> {
    let hi = window_end(text, at, max);
    let i = lit(text, at, hi, b"sk-")?;
    at_least(text, i, hi, &TOKEN, 20)
}

/// `sk-ant-(?:api|admin|oat)\d\d-[A-Za-z0-9_-]{40,}`
pub fn anthropic(text: &[u8], at: usize, max: usize) -> Option<usize> {
    let hi = window_end(text, at, max);
    let i = lit(text, at, hi, b"sk-ant-")?;
    let i = [&b"api"[..], b"admin", b"oat"]
        .iter()
        .find_map(|w| lit(text, i, hi, w))?;
    let i = exactly(text, i, hi, &DIGITS, 2)?;
    let i = lit(text, i, hi, b"-")?;
    at_least(text, i, hi, &TOKEN, 40)
}

/// `AIza[0-9A-Za-z_-]{35}`
pub fn google(text: &[u8], at: usize, max: usize) -> Option<usize> {
    let hi = window_end(text, at, max);
    let i = lit(text, at, hi, b"AIza")?;
    exactly(text, i, hi, &TOKEN, 35)
}

/// `eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*`
pub fn jwt(text: &[u8], at: usize, max: usize) -> Option<usize> {
    let hi = window_end(text, at, max);
    let i = lit(text, at, hi, b"eyJ")?;
    let i = at_least(text, i, hi, &TOKEN, 1)?;
    let i = lit(text, i, hi, b".")?;
    let i = at_least(text, i, hi, &TOKEN, 1)?;
    let i = lit(text, i, hi, b".")?;
    Some(TOKEN.run_end(text, i, hi))
}

/// `[A-Za-z]`
const LETTERS: ByteSet = ByteSet {
    bytes: &[],
    letters: true,
    ranges: &[],
};
/// `[0-9a-f]`
const HEX_LOWER: ByteSet = ByteSet {
    bytes: &[],
    letters: false,
    ranges: &[DIG, (b'a', b'f')],
};
/// `[A-Za-z0-9+/]`
const B64: ByteSet = ByteSet::alnum_and(b"+/");
/// `[A-Za-z0-9%+/=]`: a URL-encoded base64 signature.
const SIG: ByteSet = ByteSet::alnum_and(b"%+/=");
/// `[A-Za-z0-9._-]`: a host name.
const HOST: ByteSet = ByteSet::alnum_and(b"._-");
/// `[A-Za-z0-9._%~-]`: a URL's user name.
const USER: ByteSet = ByteSet::alnum_and(b"._%~-");

/// `hf_[A-Za-z]{34}`
pub fn huggingface(text: &[u8], at: usize, max: usize) -> Option<usize> {
    let hi = window_end(text, at, max);
    let i = lit(text, at, hi, b"hf_")?;
    exactly(text, i, hi, &LETTERS, 34)
}

/// `npm_[A-Za-z0-9]{36}`
pub fn npm(text: &[u8], at: usize, max: usize) -> Option<usize> {
    let hi = window_end(text, at, max);
    let i = lit(text, at, hi, b"npm_")?;
    exactly(text, i, hi, &ALNUM, 36)
}

/// `pypi-AgE(?:IcHlwaS5vcmc|NdGVzdC5weXBpLm9yZw)[A-Za-z0-9_-]{50,}`
pub fn pypi(text: &[u8], at: usize, max: usize) -> Option<usize> {
    let hi = window_end(text, at, max);
    let i = lit(text, at, hi, b"pypi-AgE")?;
    let i =
        lit(text, i, hi, b"IcHlwaS5vcmc").or_else(|| lit(text, i, hi, b"NdGVzdC5weXBpLm9yZw"))?;
    at_least(text, i, hi, &TOKEN, 50)
}

/// `SG\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}`
pub fn sendgrid(text: &[u8], at: usize, max: usize) -> Option<usize> {
    let hi = window_end(text, at, max);
    let i = lit(text, at, hi, b"SG.")?;
    let i = exactly(text, i, hi, &TOKEN, 22)?;
    let i = lit(text, i, hi, b".")?;
    exactly(text, i, hi, &TOKEN, 43)
}

/// `AC[0-9a-f]{32}`
pub fn twilio_sid(text: &[u8], at: usize, max: usize) -> Option<usize> {
    let hi = window_end(text, at, max);
    let i = lit(text, at, hi, b"AC")?;
    exactly(text, i, hi, &HEX_LOWER, 32)
}

/// `[A-Za-z0-9+/]{86}==`
pub fn azure_key(text: &[u8], at: usize, max: usize) -> Option<usize> {
    let hi = window_end(text, at, max);
    let i = exactly(text, at, hi, &B64, 86)?;
    lit(text, i, hi, b"==")
}

/// `[A-Za-z0-9%+/=]{43,}`
pub fn azure_sig(text: &[u8], at: usize, max: usize) -> Option<usize> {
    let hi = window_end(text, at, max);
    at_least(text, at, hi, &SIG, 43)
}

/// `[0-9a-f]{40}`
pub fn gcp_key_id(text: &[u8], at: usize, max: usize) -> Option<usize> {
    let hi = window_end(text, at, max);
    exactly(text, at, hi, &HEX_LOWER, 40)
}

/// The user information and host of a URL from `at` (past `://`):
/// `[A-Za-z0-9._%~-]*:[^\s@/"'<>]+@[A-Za-z0-9._-]+(?::[0-9]+)?`; where the `:`, the `@` and
/// the host (with its port) end.
pub fn userinfo(text: &[u8], at: usize, max: usize) -> Option<(usize, usize, usize)> {
    let hi = window_end(text, at, max);
    let colon = USER.run_end(text, at, hi);
    lit(text, colon, hi, b":")?;
    let mut i = colon + 1;
    while i < hi
        && !matches!(text[i], b'@' | b'/' | b'"' | b'\'' | b'<' | b'>' | 0x0B)
        && !text[i].is_ascii_whitespace()
    {
        i += 1;
    }
    if i == colon + 1 || text.get(i) != Some(&b'@') || i >= hi {
        return None;
    }
    let at_sign = i;
    let mut end = at_least(text, at_sign + 1, hi, &HOST, 1)?;
    if let Some(p) = lit(text, end, hi, b":") {
        if let Some(e) = at_least(text, p, hi, &DIGITS, 1) {
            end = e;
        }
    }
    Some((colon, at_sign, end))
}

#[cfg(test)]
mod tests;
