//! Generators of the kinds added with issue 17's second part: more GitLab, Slack and Stripe
//! token kinds, national ids with valid checksums, cloud keys, developer tokens and database
//! URLs. Kept apart from `values.rs`, whose kinds the benchmark's secret-dense text draws.

use super::{Sample, SampleRng};
use crate::detectors::{card, ids};

const ALNUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
const LOWER_DIGITS: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
const B64: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const B64URL: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
const HEX: &[u8] = b"0123456789abcdef";
const UPPER: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ";

/// A fresh value of one of the kinds this file makes (others: an empty string).
pub(super) fn generate(s: Sample, rng: &mut SampleRng) -> String {
    match s {
        Sample::GitlabOtherToken => {
            let kind = *rng.pick(&[
                "dt", "rt", "ptt", "agent", "ft", "imt", "soat", "oas", "cbt", "pat",
            ]);
            let body = match kind {
                // A routable token: payload, version, CRC (`glpat-<27>.01.<9>`).
                "pat" => format!(
                    "{}.01.{}",
                    rng.mixed(B64URL, 27),
                    rng.chars(LOWER_DIGITS, 9)
                ),
                "ptt" => hex(rng, 40),
                "agent" => rng.mixed(ALNUM, 50),
                "oas" => rng.mixed(ALNUM, 64),
                _ => {
                    let n = 20 + rng.below(8);
                    rng.mixed(ALNUM, n)
                }
            };
            format!("gl{kind}-{body}")
        }
        Sample::GitlabRunnerToken => format!("GR1348941{}", letters_and_digits(rng, LOWER_DIGITS, 20)),
        Sample::SlackAppToken => format!(
            "xapp-1-A{}-{}-{}",
            rng.chars(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", 10),
            digits(rng, 13),
            hex(rng, 64)
        ),
        Sample::SlackConfigToken => {
            let body = rng.mixed(&B64URL[..62], 140);
            if rng.below(2) == 0 {
                format!("xoxe.xoxp-1-{body}")
            } else {
                format!("xoxe-1-{body}")
            }
        }
        Sample::StripeTestKey => {
            let n = *rng.pick(&[24, 99]);
            format!("{}_test_{}", rng.pick(&["sk", "rk"]), rng.mixed(ALNUM, n))
        }
        Sample::UkNino => {
            let (a, b) = loop {
                let (a, b) = (*rng.pick(UPPER), *rng.pick(UPPER));
                if ids::nino_letters(a, b) {
                    break (a as char, b as char);
                }
            };
            let d = digits(rng, 6);
            let s = *rng.pick(&['A', 'B', 'C', 'D']);
            if rng.below(2) == 0 {
                format!("{a}{b}{d}{s}")
            } else {
                format!("{a}{b} {} {} {} {s}", &d[..2], &d[2..4], &d[4..])
            }
        }
        Sample::CaSin => {
            let mut d = rng.digits(9);
            d[0] = *rng.pick(&[1, 2, 3, 4, 5, 6, 7, 9]);
            d[8] = 0;
            d[8] = ((10 - card::luhn_sum(&d) % 10) % 10) as u8;
            let s = text(&d);
            let sep = if rng.below(2) == 0 { " " } else { "-" };
            format!("{}{sep}{}{sep}{}", &s[..3], &s[3..6], &s[6..])
        }
        Sample::DeTaxId => loop {
            let mut d: Vec<u8> = (0..10).collect();
            shuffle(rng, &mut d);
            // One digit twice: another one left out.
            let (to, from) = (rng.below(10), rng.below(10));
            d[to] = d[from];
            d.push(ids::de_tax_check(&d));
            if !ids::de_tax_ok(&d) {
                continue;
            }
            let s = text(&d);
            break if rng.below(2) == 0 {
                s
            } else {
                format!("{} {} {} {}", &s[..2], &s[2..5], &s[5..8], &s[8..])
            };
        },
        Sample::FrNir => {
            let mut d = vec![*rng.pick(&[1u8, 2])];
            d.extend(rng.digits(2));
            let month = 1 + rng.below(12) as u8;
            d.extend([month / 10, month % 10]);
            let dept = *rng.pick(&[1u8, 13, 33, 44, 59, 69, 75, 78, 92, 93]);
            d.extend([dept / 10, dept % 10]);
            d.extend(rng.digits(6));
            let key = ids::nir_key(&d);
            d.extend([key / 10, key % 10]);
            let s = text(&d);
            if rng.below(2) == 0 {
                s
            } else {
                format!(
                    "{} {} {} {} {} {} {}",
                    &s[..1],
                    &s[1..3],
                    &s[3..5],
                    &s[5..7],
                    &s[7..10],
                    &s[10..13],
                    &s[13..]
                )
            }
        }
        Sample::InAadhaar => {
            let mut d = rng.digits(11);
            d[0] = 2 + rng.below(8) as u8;
            d.push(ids::verhoeff_digit(&d));
            let s = text(&d);
            if rng.below(2) == 0 {
                s
            } else {
                format!("{} {} {}", &s[..4], &s[4..8], &s[8..])
            }
        }
        Sample::InPan => format!(
            "{}{}{}{}{}",
            rng.chars(UPPER, 3),
            *rng.pick(&['P', 'C', 'H', 'F', 'A', 'T']),
            rng.chars(UPPER, 1),
            1000 + rng.below(9000),
            rng.chars(UPPER, 1)
        ),
        Sample::BrCpf => {
            let mut d = rng.digits(9);
            d[0] = d[0].max(1);
            let c = ids::cpf_digits(&d);
            d.extend(c);
            let s = text(&d);
            if rng.below(3) == 0 {
                s
            } else {
                format!("{}.{}.{}-{}", &s[..3], &s[3..6], &s[6..9], &s[9..])
            }
        }
        Sample::AzureStorageKey => format!(
            "DefaultEndpointsProtocol=https;AccountName={};AccountKey={}==;EndpointSuffix=core.windows.net",
            rng.chars(LOWER_DIGITS, 12),
            rng.mixed(B64, 86)
        ),
        Sample::AzureSasToken => {
            let sig: String = rng
                .mixed(B64, 43)
                .replace('+', "%2B")
                .replace('/', "%2F");
            let query = format!(
                "sv=2022-11-02&ss=b&srt=sco&sp=rl&se=2026-0{}-01T00%3A00%3A00Z&spr=https&sig={sig}%3D",
                1 + rng.below(9)
            );
            if rng.below(2) == 0 {
                format!(
                    "https://{}.blob.core.windows.net/{}/report.csv?{query}",
                    rng.chars(LOWER_DIGITS, 10),
                    rng.chars(LOWER_DIGITS, 6)
                )
            } else {
                query
            }
        }
        Sample::GcpServiceAccount => {
            let project = format!("{}-{}", rng.pick(&["acme", "orbit", "ledger"]), rng.chars(LOWER_DIGITS, 6));
            let body = rng.chars(B64, 64 * 3);
            let lines: Vec<&str> = body.as_bytes().chunks(64).filter_map(|c| std::str::from_utf8(c).ok()).collect();
            format!(
                "{{\n  \"type\": \"service_account\",\n  \"project_id\": \"{project}\",\n  \"private_key_id\": \"{}\",\n  \"private_key\": \"-----BEGIN PRIVATE KEY-----\\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC{}\\n-----END PRIVATE KEY-----\\n\",\n  \"token_uri\": \"https://oauth2.googleapis.com/token\"\n}}",
                hex(rng, 40),
                lines.join("\\n")
            )
        }
        Sample::HuggingfaceToken => loop {
            let s = rng.chars(&ALNUM[..52], 34);
            if s.bytes().any(|b| b.is_ascii_uppercase()) && s.bytes().any(|b| b.is_ascii_lowercase()) {
                break format!("hf_{s}");
            }
        },
        Sample::TwilioAuthToken => format!(
            "TWILIO_ACCOUNT_SID=AC{}\nTWILIO_AUTH_TOKEN={}",
            hex(rng, 32),
            letters_and_digits(rng, HEX, 32)
        ),
        Sample::SendgridApiKey => format!("SG.{}.{}", rng.mixed(B64URL, 22), rng.mixed(B64URL, 43)),
        Sample::NpmToken => format!("npm_{}", rng.mixed(ALNUM, 36)),
        Sample::PypiToken => format!("pypi-AgEIcHlwaS5vcmc{}", rng.mixed(B64URL, 150)),
        Sample::DatabaseUrl => {
            let scheme = *rng.pick(&["postgres", "postgresql", "mysql", "mongodb+srv", "redis", "amqps"]);
            let port = match scheme {
                "mysql" => 3306,
                "redis" => 6379,
                "amqps" => 5671,
                "mongodb+srv" => 27017,
                _ => 5432,
            };
            format!(
                "{scheme}://{}:{}@db-{}.{}.internal:{port}/{}",
                rng.pick(&["app", "svc_orders", "reporting", "etl"]),
                rng.mixed(ALNUM, 18),
                rng.below(9),
                rng.pick(&["prod", "eu-west", "corp"]),
                rng.pick(&["orders", "main", "analytics"])
            )
        }
        _ => String::new(),
    }
}

fn digits(rng: &mut SampleRng, n: usize) -> String {
    text(&rng.digits(n))
}

fn text(d: &[u8]) -> String {
    d.iter().map(|v| char::from(b'0' + v)).collect()
}

fn hex(rng: &mut SampleRng, n: usize) -> String {
    rng.chars(HEX, n)
}

/// `n` bytes of `alphabet` holding at least one letter and one digit.
fn letters_and_digits(rng: &mut SampleRng, alphabet: &[u8], n: usize) -> String {
    loop {
        let s = rng.chars(alphabet, n);
        if s.bytes().any(|b| b.is_ascii_digit()) && s.bytes().any(|b| b.is_ascii_alphabetic()) {
            return s;
        }
    }
}

fn shuffle(rng: &mut SampleRng, v: &mut [u8]) {
    for i in (1..v.len()).rev() {
        v.swap(i, rng.below(i + 1));
    }
}
