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
pub const GITLAB: &str = r"gl(?:pat|dt|rt|ptt|agent|ft|imt|soat|oas|cbt|ffct)-[A-Za-z0-9_.-]{20,}";
pub const GITLAB_RUNNER: &str = r"GR1348941[A-Za-z0-9_-]{20,}";
pub const SLACK: &str =
    r"xox[baprse]-[A-Za-z0-9-]{10,}|xoxe\.xoxp-[A-Za-z0-9-]{10,}|xapp-\d-[A-Za-z0-9-]{10,}";
pub const SLACK_HOOK: &str =
    r"hooks\.slack\.com/(?:services|workflows|triggers)/[A-Za-z0-9_/-]{20,}";
pub const STRIPE: &str = r"[sr]k_(?:live|test)_[A-Za-z0-9]{24,}";
pub const OPENAI: &str = r"sk-(?:(?:proj|svcacct|admin|None)-)?[A-Za-z0-9_-]{20,}";
pub const ANTHROPIC: &str = r"sk-ant-(?:api|admin|oat)\d\d-[A-Za-z0-9_-]{40,}";
pub const GOOGLE: &str = r"AIza[0-9A-Za-z_-]{35}";
pub const PEM_BEGIN: &str =
    r"-----BEGIN (?:(?:RSA|EC|DSA|OPENSSH|ENCRYPTED|PGP) )?PRIVATE KEY(?: BLOCK)?-----";
pub const JWT: &str = r"eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*";
pub const EMAIL_DOMAIN: &str =
    r"(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,24}";
/// Between two digit groups of a card: one to three blanks (space, tab, line break, no-break
/// space, the Unicode spaces), a dot, `/`, `_` or a dash (ASCII, en dash, figure dash, minus), and the
/// invisible characters a scan strips (zero-width space, joiners, word joiner, BOM, soft
/// hyphen) anywhere.
pub const CARD: &str = r"(?:\d(?:\xE2\x80[\x8B-\x8D]|\xE2\x81\xA0|\xEF\xBB\xBF|\xC2\xAD)*(?:(?:[ \t\r\n]|\xC2\xA0|\xE2\x80[\x80-\x8A\xAF]|\xE2\x81\x9F|\xE3\x80\x80){1,3}|[./_-]|\xE2\x80[\x92\x93]|\xE2\x88\x92)?(?:\xE2\x80[\x8B-\x8D]|\xE2\x81\xA0|\xEF\xBB\xBF|\xC2\xAD)*){12,18}\d";
pub const IBAN: &str = r"[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,4})?";
pub const SSN: &str = r"\d{3}[- ]\d{2}[- ]\d{4}";
pub const UK_NINO: &str = r"[A-Z]{2} ?\d{2} ?\d{2} ?\d{2} ?[A-D]";
pub const CA_SIN: &str = r"\d{3}[ -]?\d{3}[ -]?\d{3}";
pub const DE_TAX_ID: &str = r"\d{2}[ -]?\d{3}[ -]?\d{3}[ -]?\d{3}";
pub const FR_NIR: &str = r"[12][ -]?\d{2}[ -]?\d{2}[ -]?\d{2}[ -]?\d{3}[ -]?\d{3}[ -]?\d{2}";
pub const IN_AADHAAR: &str = r"[2-9]\d{3}[ -]?\d{4}[ -]?\d{4}";
pub const IN_PAN: &str = r"[A-Z]{3}[ABCFGHLJPT][A-Z]\d{4}[A-Z]";
pub const BR_CPF: &str = r"\d{3}\.?\d{3}\.?\d{3}-?\d{2}";
pub const AZURE_STORAGE_KEY: &str = r"[A-Za-z0-9+/]{86}==";
pub const AZURE_SAS_SIG: &str = r"[A-Za-z0-9%+/=]{43,}";
pub const GCP_KEY_ID: &str = r"[0-9a-f]{40}";
pub const HUGGINGFACE: &str = r"hf_[A-Za-z]{34}";
pub const TWILIO_SID: &str = r"AC[0-9a-f]{32}";
pub const TWILIO_TOKEN: &str = r"[0-9a-f]{32}";
pub const SENDGRID: &str = r"SG\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}";
pub const NPM: &str = r"npm_[A-Za-z0-9]{36}";
pub const PYPI: &str = r"pypi-AgE(?:IcHlwaS5vcmc|NdGVzdC5weXBpLm9yZw)[A-Za-z0-9_-]{50,}";
pub const DATABASE_URL: &str = r"(?i:postgres(?:ql)?|mysql|mariadb|mongodb(?:\+srv)?|rediss?|amqps?|mssql|sqlserver|clickhouse|cockroachdb)://[A-Za-z0-9._%~-]*:[^\t\n\x0B\x0C\r @/\x22'<>]+@[A-Za-z0-9._-]+(?::[0-9]+)?";

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
        ("gitlab_token", format!(r"\b(?:{GITLAB}|{GITLAB_RUNNER})\b")),
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
        ("uk_nino", b(UK_NINO)),
        ("ca_sin", b(CA_SIN)),
        ("de_tax_id", b(DE_TAX_ID)),
        ("fr_nir", b(FR_NIR)),
        ("in_aadhaar", b(IN_AADHAAR)),
        ("in_pan", b(IN_PAN)),
        ("br_cpf", b(BR_CPF)),
        ("azure_storage_key", format!(r"AccountKey={AZURE_STORAGE_KEY}")),
        ("azure_sas_token", format!(r"sv=\d{{4}}-\d\d-\d\d&[A-Za-z0-9&=%:.-]*sig={AZURE_SAS_SIG}")),
        ("gcp_service_account", format!(r#""private_key_id"\s*:\s*"{GCP_KEY_ID}""#)),
        ("huggingface_token", b(HUGGINGFACE)),
        ("twilio_auth_token", format!(r"{TWILIO_SID}[^\n]{{0,160}}\b{TWILIO_TOKEN}\b")),
        ("sendgrid_api_key", b(SENDGRID)),
        ("npm_token", b(NPM)),
        ("pypi_token", b(PYPI)),
        ("database_url", DATABASE_URL.to_owned()),
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
        ("gitlab_token", format!("{GITLAB}|{GITLAB_RUNNER}")),
        ("slack_token", format!("{SLACK}|{SLACK_HOOK}")),
        ("stripe_secret_key", own(STRIPE)),
        ("openai_api_key", own(OPENAI)),
        ("anthropic_api_key", own(ANTHROPIC)),
        ("google_api_key", own(GOOGLE)),
        ("private_key", own(PEM_BEGIN)),
        ("jwt", own(JWT)),
        ("uk_nino", own(UK_NINO)),
        ("ca_sin", own(CA_SIN)),
        ("de_tax_id", own(DE_TAX_ID)),
        ("fr_nir", own(FR_NIR)),
        ("in_aadhaar", own(IN_AADHAAR)),
        ("in_pan", own(IN_PAN)),
        ("br_cpf", own(BR_CPF)),
        ("azure_storage_key", own(AZURE_STORAGE_KEY)),
        ("azure_sas_token", own(AZURE_SAS_SIG)),
        ("gcp_service_account", own(GCP_KEY_ID)),
        ("huggingface_token", own(HUGGINGFACE)),
        ("twilio_auth_token", own(TWILIO_TOKEN)),
        ("sendgrid_api_key", own(SENDGRID)),
        ("npm_token", own(NPM)),
        ("pypi_token", own(PYPI)),
        ("database_url", own(DATABASE_URL)),
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
