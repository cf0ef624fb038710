//! Each token detector's regex, written once. The PEM header is compiled anchored (`^`) and
//! run only in a window that starts at a hit; the token shapes are matched by hand
//! (`shape.rs`) and the e-mail domain too (`detectors/email.rs`), tested against these
//! expressions; [`naive_patterns`] hands the same
//! expressions, unanchored, to the benchmark's whole-input baseline (the gitleaks way).
//!
//! All are byte regexes with Unicode off (`(?-u)` semantics: `\d` and `\b` are ASCII), with a
//! compiled-size limit. Unbounded pieces use `+`: the window bounds the work, not the pattern.

use regex::bytes::{Regex, RegexBuilder};

pub const AWS_ID: &str = r"(?:AKIA|ASIA)[A-Z0-9]{16}";
pub const AWS_SECRET: &str = r"[A-Za-z0-9/+]{40}";
pub const GITHUB: &str = r"gh[pousr]_[A-Za-z0-9]{36}|github_pat_[A-Za-z0-9]{22}_[A-Za-z0-9]{59}";
pub const GITLAB: &str = r"glpat-[A-Za-z0-9_.-]{20,}";
pub const SLACK: &str = r"xox[baprs]-[A-Za-z0-9-]{10,}";
pub const SLACK_HOOK: &str =
    r"hooks\.slack\.com/(?:services|workflows|triggers)/[A-Za-z0-9_/-]{20,}";
pub const STRIPE: &str = r"[sr]k_live_[A-Za-z0-9]{24,}";
pub const OPENAI: &str = r"sk-(?:(?:proj|svcacct|admin|None)-)?[A-Za-z0-9_-]{20,}";
pub const ANTHROPIC: &str = r"sk-ant-(?:api|admin|oat)\d\d-[A-Za-z0-9_-]{40,}";
pub const GOOGLE: &str = r"AIza[0-9A-Za-z_-]{35}";
pub const PEM_BEGIN: &str =
    r"-----BEGIN (?:(?:RSA|EC|DSA|OPENSSH|ENCRYPTED|PGP) )?PRIVATE KEY(?: BLOCK)?-----";
pub const JWT: &str = r"eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*";
pub const EMAIL_DOMAIN: &str =
    r"(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,24}";
pub const CARD: &str = r"(?:\d[ -]?){12,18}\d";
pub const IBAN: &str = r"[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,4})?";
pub const SSN: &str = r"\d{3}[- ]\d{2}[- ]\d{4}";

/// Compiled-size limit for the built-in patterns (custom ones have their own, smaller one).
const SIZE_LIMIT: usize = 1 << 20;

/// The built-in window regexes that still run per hit, compiled once per engine. The token
/// patterns above are matched by hand in `shape.rs`, which its tests hold to these regexes.
#[derive(Debug, Clone)]
pub(crate) struct Patterns {
    pub pem_begin: Regex,
}

pub(crate) fn anchored(p: &str) -> Result<Regex, regex::Error> {
    RegexBuilder::new(&format!("^(?:{p})"))
        .unicode(false)
        .size_limit(SIZE_LIMIT)
        .dfa_size_limit(SIZE_LIMIT)
        .build()
}

impl Patterns {
    pub fn compile() -> Result<Self, regex::Error> {
        Ok(Patterns {
            pem_begin: anchored(PEM_BEGIN)?,
        })
    }
}

/// `(detector id, whole-input regex)` for every built-in detector: what a scanner without
/// prefilters or windows would run over all of the input. Used by the benchmark baseline; the
/// engine never runs these.
pub fn naive_patterns() -> Vec<(&'static str, String)> {
    let b = |p: &str| format!(r"\b(?:{p})\b");
    vec![
        ("credit_card", b(CARD)),
        ("iban", b(IBAN)),
        ("us_ssn", b(SSN)),
        ("email_address", format!(r"{}\b", email())),
        ("aws_access_key_id", b(AWS_ID)),
        (
            "aws_secret_access_key",
            format!(r"(?i:aws|secret)[^\n]{{0,64}}\b{AWS_SECRET}\b"),
        ),
        ("github_token", b(GITHUB)),
        ("gitlab_token", b(GITLAB)),
        ("slack_token", format!(r"\b(?:{SLACK})|{SLACK_HOOK}")),
        ("stripe_secret_key", b(STRIPE)),
        ("openai_api_key", b(OPENAI)),
        ("anthropic_api_key", b(ANTHROPIC)),
        ("google_api_key", b(GOOGLE)),
        ("private_key", format!(r"{PEM_BEGIN}[A-Za-z0-9+/=\s]{{64,}}-----END")),
        ("jwt", b(JWT)),
        (
            "source_code",
            r"(?m)^\s*(?:def|class|import|from|function|const|let|var|public|private|fn|func|package|#include|SELECT|INSERT|UPDATE)\b"
                .to_owned(),
        ),
    ]
}

fn email() -> String {
    format!(r"[A-Za-z0-9._%+-]{{1,64}}@{EMAIL_DOMAIN}")
}

/// `(detector id, regex)`: the shape every finding of a built-in detector holds, the
/// specification its fast matcher is held to (the fuzz crate's property tests check every
/// finding against it). Context words, checksums and boundaries only narrow what is reported.
/// `private_key` is its header (a cut-off body is still a finding); `source_code` has none: it
/// is recognised by weighing lines, not by a pattern.
pub fn finding_patterns() -> Vec<(&'static str, String)> {
    let own = |p: &str| p.to_owned();
    vec![
        ("credit_card", own(CARD)),
        ("iban", own(IBAN)),
        ("us_ssn", own(SSN)),
        ("email_address", email()),
        ("aws_access_key_id", own(AWS_ID)),
        ("aws_secret_access_key", own(AWS_SECRET)),
        ("github_token", own(GITHUB)),
        ("gitlab_token", own(GITLAB)),
        ("slack_token", format!("{SLACK}|{SLACK_HOOK}")),
        ("stripe_secret_key", own(STRIPE)),
        ("openai_api_key", own(OPENAI)),
        ("anthropic_api_key", own(ANTHROPIC)),
        ("google_api_key", own(GOOGLE)),
        ("private_key", own(PEM_BEGIN)),
        ("jwt", own(JWT)),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_pattern_compiles_both_ways() {
        Patterns::compile().unwrap();
        for (id, p) in naive_patterns() {
            RegexBuilder::new(&p)
                .unicode(false)
                .size_limit(SIZE_LIMIT * 4)
                .build()
                .unwrap_or_else(|e| panic!("{id}: {e}"));
        }
        assert_eq!(naive_patterns().len(), crate::Detector::ALL.len());
    }
}
