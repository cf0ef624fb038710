//! The value generators behind [`super::Sample::generate`].

use super::{Sample, SampleRng};
use crate::detectors::{card, iban, vcs};
use base64::Engine as _;

const ALNUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
const B64: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const B64URL: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
const UPPER_DIGITS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
const HEX: &[u8] = b"0123456789abcdef";

/// A fresh value of kind `s`.
pub(super) fn generate(s: Sample, rng: &mut SampleRng) -> String {
    match s {
        Sample::CreditCard => credit_card(rng),
        Sample::Iban => iban_value(rng),
        Sample::UsSsn => ssn(rng),
        Sample::EmailAddress => email(rng),
        Sample::AwsAccessKeyId => loop {
            let s = rng.chars(UPPER_DIGITS, 16);
            if s.bytes().any(|b| b.is_ascii_digit()) {
                break format!("{}{s}", rng.pick(&["AKIA", "ASIA"]));
            }
        },
        Sample::AwsSecretAccessKey => rng.mixed(B64, 40),
        Sample::GithubToken => {
            let random = rng.mixed(ALNUM, 30);
            let crc = vcs::base62_crc(random.as_bytes());
            let prefix = rng.pick(&["ghp_", "gho_", "ghu_", "ghs_", "ghr_"]);
            format!("{prefix}{random}{}", String::from_utf8_lossy(&crc))
        }
        Sample::GithubFineGrainedToken => format!(
            "github_pat_{}_{}",
            rng.mixed(ALNUM, 22),
            rng.mixed(ALNUM, 59)
        ),
        Sample::GitlabToken => format!("glpat-{}", rng.mixed(ALNUM, 20)),
        Sample::SlackBotToken => format!(
            "xoxb-{}-{}-{}",
            digits_str(rng, 11),
            digits_str(rng, 13),
            rng.mixed(ALNUM, 24)
        ),
        Sample::SlackUserToken => format!(
            "xoxp-{}-{}-{}-{}",
            digits_str(rng, 11),
            digits_str(rng, 11),
            digits_str(rng, 13),
            rng.chars(HEX, 32)
        ),
        Sample::SlackWebhook => format!(
            "https://hooks.slack.com/services/T{}/B{}/{}",
            rng.chars(&UPPER_DIGITS[..26], 8),
            rng.chars(&UPPER_DIGITS[..26], 10),
            rng.mixed(ALNUM, 24)
        ),
        Sample::StripeSecretKey => {
            let n = *rng.pick(&[24, 99]);
            format!("{}_live_{}", rng.pick(&["sk", "rk"]), rng.mixed(ALNUM, n))
        }
        Sample::OpenaiApiKey => format!(
            "sk-{}T3BlbkFJ{}",
            rng.mixed(ALNUM, 20),
            rng.mixed(ALNUM, 20)
        ),
        Sample::OpenaiProjectKey => {
            format!(
                "sk-proj-{}T3BlbkFJ{}",
                rng.mixed(B64URL, 74),
                rng.mixed(B64URL, 74)
            )
        }
        Sample::AnthropicApiKey => format!("sk-ant-api03-{}AA", rng.mixed(B64URL, 93)),
        Sample::GoogleApiKey => format!("AIza{}", rng.mixed(B64URL, 35)),
        Sample::PrivateKey => {
            let kind = *rng.pick(&["", "RSA ", "EC "]);
            pem(
                rng,
                &format!("{kind}PRIVATE KEY"),
                "MIIEvQIBADANBgkqhkiG9w0BAQEFAASC",
                1200,
            )
        }
        Sample::OpensshPrivateKey => pem(
            rng,
            "OPENSSH PRIVATE KEY",
            "b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ",
            360,
        ),
        Sample::Jwt => jwt(rng),
        other => super::more::generate(other, rng),
    }
}

fn digits_str(rng: &mut SampleRng, n: usize) -> String {
    let mut d = rng.digits(n);
    d[0] = d[0].max(1);
    d.iter().map(|v| char::from(b'0' + v)).collect()
}

fn credit_card(rng: &mut SampleRng) -> String {
    // (prefix, length, grouping)
    const BRANDS: &[(&str, usize, &[usize])] = &[
        ("4", 16, &[4, 4, 4, 4]),
        ("51", 16, &[4, 4, 4, 4]),
        ("55", 16, &[4, 4, 4, 4]),
        ("2221", 16, &[4, 4, 4, 4]),
        ("37", 15, &[4, 6, 5]),
        ("6011", 16, &[4, 4, 4, 4]),
        ("3530", 16, &[4, 4, 4, 4]),
        ("36", 14, &[4, 6, 4]),
        ("62", 19, &[4, 4, 4, 4, 3]),
    ];
    let (prefix, len, groups) = *rng.pick(BRANDS);
    let mut digits: Vec<u8> = prefix.bytes().map(|b| b - b'0').collect();
    digits.extend(rng.digits(len - prefix.len() - 1));
    digits.push(0);
    let check = (10 - card::luhn_sum(&digits) % 10) % 10;
    digits[len - 1] = check as u8;
    let plain: String = digits.iter().map(|d| char::from(b'0' + d)).collect();
    match rng.below(3) {
        0 => plain,
        n => {
            let sep = if n == 1 { " " } else { "-" };
            let mut at = 0;
            let parts: Vec<&str> = groups
                .iter()
                .map(|g| {
                    let p = &plain[at..at + g];
                    at += g;
                    p
                })
                .collect();
            parts.join(sep)
        }
    }
}

fn iban_value(rng: &mut SampleRng) -> String {
    const COUNTRIES: &[(&str, &str)] = &[
        ("DE", "18n"),
        ("GB", "4a14n"),
        ("FR", "10n11c2n"),
        ("ES", "20n"),
        ("IT", "1a10n12c"),
        ("NL", "4a10n"),
        ("BE", "12n"),
        ("CH", "5n12c"),
        ("AT", "16n"),
        ("PL", "24n"),
        ("SE", "20n"),
        ("NO", "11n"),
        ("IE", "4a14n"),
        ("PT", "21n"),
        ("DK", "14n"),
    ];
    let (cc, spec) = *rng.pick(COUNTRIES);
    let mut bban = String::new();
    let mut count = 0usize;
    for c in spec.bytes() {
        if c.is_ascii_digit() {
            count = count * 10 + usize::from(c - b'0');
            continue;
        }
        let alphabet: &[u8] = match c {
            b'n' => b"0123456789",
            b'a' => b"ABCDEFGHIJKLMNOPQRSTUVWXYZ",
            _ => b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789",
        };
        bban.push_str(&rng.chars(alphabet, count));
        count = 0;
    }
    let rearranged = format!("{bban}{cc}00");
    let check = 98 - iban::mod97(rearranged.as_bytes().iter());
    let compact = format!("{cc}{check:02}{bban}");
    if rng.below(2) == 0 {
        return compact;
    }
    let chunks: Vec<String> = compact
        .as_bytes()
        .chunks(4)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect();
    chunks.join(" ")
}

fn ssn(rng: &mut SampleRng) -> String {
    loop {
        let area = 1 + rng.below(899);
        if area == 666 {
            continue;
        }
        let (group, serial) = (1 + rng.below(99), 1 + rng.below(9999));
        let sep = if rng.below(4) == 0 { ' ' } else { '-' };
        let s = format!("{area:03}{sep}{group:02}{sep}{serial:04}");
        if !matches!(
            s.as_str(),
            "078-05-1120" | "219-09-9999" | "457-55-5462" | "123-45-6789"
        ) {
            return s;
        }
    }
}

fn email(rng: &mut SampleRng) -> String {
    const FIRST: &[&str] = &[
        "maria", "wei", "olu", "anna", "raj", "sven", "lucia", "kenji", "fatima", "tom",
    ];
    const LAST: &[&str] = &[
        "gonzalez", "chen", "adeyemi", "kowalska", "patel", "berg", "rossi", "tanaka", "haddad",
        "okafor",
    ];
    const DOMAINS: &[&str] = &[
        "northwind-traders.com",
        "fabrikam.io",
        "contoso-mail.net",
        "initech.co.uk",
        "globex.de",
        "umbrella-corp.fr",
    ];
    let (f, l, d) = (rng.pick(FIRST), rng.pick(LAST), rng.pick(DOMAINS));
    match rng.below(3) {
        0 => format!("{f}.{l}@{d}"),
        1 => format!("{}{l}{}@{d}", &f[..1], rng.below(100)),
        _ => format!("{f}_{l}+work@{d}"),
    }
}

fn pem(rng: &mut SampleRng, label: &str, body_prefix: &str, body_len: usize) -> String {
    let mut body = body_prefix.to_owned();
    body.push_str(&rng.chars(B64, body_len - body_prefix.len()));
    let lines: Vec<&str> = body
        .as_bytes()
        .chunks(64)
        .filter_map(|c| std::str::from_utf8(c).ok())
        .collect();
    format!(
        "-----BEGIN {label}-----\n{}\n-----END {label}-----",
        lines.join("\n")
    )
}

fn jwt(rng: &mut SampleRng) -> String {
    let b64 = |s: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s);
    let alg = rng.pick(&["HS256", "RS256", "ES256"]);
    let header = b64(&format!(r#"{{"alg":"{alg}","typ":"JWT"}}"#));
    let payload = b64(&format!(
        r#"{{"sub":"{}","name":"{}","iat":{},"scope":"read write"}}"#,
        rng.chars(HEX, 12),
        rng.pick(&["Ana", "Bo", "Chidi"]),
        1_700_000_000 + rng.below(50_000_000)
    ));
    let sig_len = if *alg == "RS256" { 342 } else { 43 };
    format!("{header}.{payload}.{}", rng.mixed(B64URL, sig_len))
}
