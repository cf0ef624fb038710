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

/// `glpat-[A-Za-z0-9_.-]{20,}`
pub fn gitlab(text: &[u8], at: usize, max: usize) -> Option<usize> {
    let hi = window_end(text, at, max);
    let i = lit(text, at, hi, b"glpat-")?;
    at_least(text, i, hi, &GITLAB, 20)
}

/// `xox[baprs]-[A-Za-z0-9-]{10,}`
pub fn slack(text: &[u8], at: usize, max: usize) -> Option<usize> {
    let hi = window_end(text, at, max);
    let i = lit(text, at, hi, b"xox")
        .filter(|i| matches!(text.get(*i), Some(b'b' | b'a' | b'p' | b'r' | b's')))?;
    let i = lit(text, i + 1, hi, b"-")?;
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

/// `[sr]k_live_[A-Za-z0-9]{24,}`
pub fn stripe(text: &[u8], at: usize, max: usize) -> Option<usize> {
    let hi = window_end(text, at, max);
    let i = lit(text, at, hi, b"sk_live_").or_else(|| lit(text, at, hi, b"rk_live_"))?;
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

#[cfg(test)]
#[path = "shape_tests.rs"]
mod tests;
