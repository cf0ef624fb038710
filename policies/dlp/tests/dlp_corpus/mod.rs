//! The labelled DLP corpus of `testdata/`, loaded for the accuracy test: templates filled
//! with generated secrets (positives), hand-written and generated hard negatives, source files
//! (code), prose documents and prompts mixing both, and this crate's own Rust sources.

mod numeric;

use dlp::samples::{prose, Sample, SampleRng};
use std::path::{Path, PathBuf};

/// How many times each template is filled.
const FILLS: u64 = 12;
/// How many of each generated hard negative.
const GENERATED: usize = 60;

/// One labelled text. `spans`: (detector, start, end) that must be found. `code`: whether the
/// text as a whole is (or contains) source code; `None` for one-line cases.
pub struct Case {
    pub name: String,
    pub text: String,
    pub spans: Vec<(&'static str, usize, usize)>,
    pub code: Option<bool>,
}

fn testdata() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata")
}

fn lines(file: &str) -> Vec<String> {
    std::fs::read_to_string(testdata().join(file))
        .unwrap()
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .map(|l| l.replace("\\n", "\n"))
        .collect()
}

fn fill(template: &str, rng: &mut SampleRng) -> Case {
    let (mut text, mut spans) = (String::new(), Vec::new());
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        let Some(close) = rest[open..].find('}').map(|c| open + c) else {
            break;
        };
        let Some(sample) = Sample::from_name(&rest[open + 1..close]) else {
            text.push_str(&rest[..=open]);
            rest = &rest[open + 1..];
            continue;
        };
        text.push_str(&rest[..open]);
        let value = sample.generate(rng);
        spans.push((sample.detector().id(), text.len(), text.len() + value.len()));
        text.push_str(&value);
        rest = &rest[close + 1..];
    }
    text.push_str(rest);
    Case {
        name: template.to_owned(),
        text,
        spans,
        code: None,
    }
}

fn negative(name: &str, text: String) -> Case {
    Case {
        name: name.to_owned(),
        text,
        spans: Vec::new(),
        code: None,
    }
}

/// Hard negatives made from valid values by breaking what the validators check.
fn generated_negatives(rng: &mut SampleRng) -> Vec<Case> {
    let mut out = Vec::new();
    let hex = |rng: &mut SampleRng, n| rng.chars(b"0123456789abcdef", n);
    for _ in 0..GENERATED {
        let card: String = Sample::CreditCard
            .generate(rng)
            .chars()
            .filter(char::is_ascii_digit)
            .collect();
        let last = card.as_bytes()[card.len() - 1] - b'0';
        let broken = format!(
            "{}{}",
            &card[..card.len() - 1],
            (last + 1 + rng.below(8) as u8) % 10
        );
        out.push(negative(
            "card failing Luhn",
            format!("card {broken} declined"),
        ));
        let iban = Sample::Iban.generate(rng).replace(' ', "");
        let check: u32 = iban[2..4].parse().unwrap();
        let bad = format!(
            "{}{:02}{}",
            &iban[..2],
            (check + 1 + rng.below(90) as u32) % 97 + 2,
            &iban[4..]
        );
        if bad != iban {
            out.push(negative("IBAN failing mod-97", format!("IBAN {bad}")));
        }
        let itin = 900 + rng.below(100);
        let area = *rng.pick(&[0, 666, itin]);
        out.push(negative(
            "SSN with a bad area",
            format!(
                "SSN {area:03}-{:02}-{:04}",
                1 + rng.below(99),
                1 + rng.below(9999)
            ),
        ));
        let uuid = format!(
            "{}-{}-4{}-a{}-{}",
            hex(rng, 8),
            hex(rng, 4),
            hex(rng, 3),
            hex(rng, 3),
            hex(rng, 12)
        );
        out.push(negative("UUID", format!("request id {uuid}")));
        out.push(negative(
            "git SHA",
            format!("aws deploy of commit {} done", hex(rng, 40)),
        ));
        out.push(negative("SHA-256", format!("sha256 {}", hex(rng, 64))));
        let token = Sample::GithubToken.generate(rng);
        let mut typed = token.into_bytes();
        typed[20] = if typed[20] == b'Q' { b'R' } else { b'Q' };
        out.push(negative(
            "ghp_ with a bad checksum",
            String::from_utf8(typed).unwrap(),
        ));
        let b64 = rng.chars(
            b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/",
            40,
        );
        out.push(negative(
            "40 base64 characters without AWS context",
            format!("checksum {b64}"),
        ));
        let order = format!(
            "{}",
            4_000_000_000_000_000u64 + rng.next_u64() % 999_999_999_999_999
        );
        out.push(negative("order number", format!("Order #{order} shipped")));
        out.push(negative(
            "phone",
            format!(
                "phone +1 {}-555-{:04}",
                200 + rng.below(700),
                rng.below(10_000)
            ),
        ));
    }
    out
}

/// One labelled text holding `value` between `before` and `after`.
fn positive(name: &str, detector: &'static str, before: &str, value: &str, after: &str) -> Case {
    Case {
        name: name.to_owned(),
        text: format!("{before}{value}{after}"),
        spans: vec![(detector, before.len(), before.len() + value.len())],
        code: None,
    }
}

/// Cards written the ways people write, paste and disguise them (a penetration test's list:
/// dots, double spaces, line breaks, tabs, no-break and thin spaces, en dashes, groups of
/// eight, zero-width spaces), and IBANs with a space between country code and check digits.
fn formatted_numbers(rng: &mut SampleRng) -> Vec<Case> {
    const SEPARATORS: &[(&str, &str)] = &[
        ("dots", "."),
        ("double spaces", "  "),
        ("line breaks", "\n"),
        ("tabs", "\t"),
        ("no-break spaces", "\u{a0}"),
        ("thin spaces", "\u{2009}"),
        ("en dashes", "\u{2013}"),
        ("zero-width spaces", "\u{200b}"),
        ("zero-width joiners and spaces", "\u{200d} "),
    ];
    let mut out = Vec::new();
    for _ in 0..GENERATED / 4 {
        let card = loop {
            let c: String = Sample::CreditCard
                .generate(rng)
                .chars()
                .filter(char::is_ascii_digit)
                .collect();
            if c.len() == 16 {
                break c;
            }
        };
        let groups: Vec<&str> = (0..4).map(|k| &card[4 * k..4 * k + 4]).collect();
        for (name, sep) in SEPARATORS {
            out.push(positive(
                &format!("card with {name}"),
                "credit_card",
                "card: ",
                &groups.join(sep),
                " exp 11/28",
            ));
        }
        out.push(positive(
            "card in groups of eight",
            "credit_card",
            "my card ",
            &format!("{} {}", &card[..8], &card[8..]),
            "",
        ));
        // A zero-width space inside every group, not only between them.
        let hidden: String = card.chars().flat_map(|c| [c, '\u{200b}']).collect();
        out.push(positive(
            "card with a zero-width space after every digit",
            "credit_card",
            "pay with ",
            hidden.trim_end_matches('\u{200b}'),
            "",
        ));
        let iban = Sample::Iban.generate(rng).replace(' ', "");
        let rest: Vec<String> = iban.as_bytes()[4..]
            .chunks(4)
            .map(|c| String::from_utf8_lossy(c).into_owned())
            .collect();
        let spaced = format!("{} {} {}", &iban[..2], &iban[2..4], rest.join(" "));
        out.push(positive(
            "IBAN with a space after the country code",
            "iban",
            "IBAN: ",
            &spaced,
            ", thanks",
        ));
        out.push(positive(
            "IBAN with a space after the country code, no context",
            "iban",
            "to ",
            &spaced,
            "",
        ));
    }
    out
}

fn documents(dir: &str, code: bool) -> Vec<Case> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(testdata().join(dir))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    paths.sort();
    paths
        .into_iter()
        .map(|p| Case {
            name: format!("{dir}/{}", p.file_name().unwrap().to_string_lossy()),
            text: std::fs::read_to_string(&p).unwrap(),
            spans: Vec::new(),
            code: Some(code),
        })
        .collect()
}

/// The Rust sources of the `policies` crate beside this one (not this crate's, whose tests hold
/// sensitive-looking values on purpose): real code not written for this corpus. Files that are mostly doc comments are
/// left out: comments are not code.
fn own_sources() -> Vec<Case> {
    let mut out = Vec::new();
    let mut dirs = vec![Path::new(env!("CARGO_MANIFEST_DIR")).join("../src")];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let text = std::fs::read_to_string(&path).unwrap();
                let code_lines = text
                    .lines()
                    .filter(|l| !l.trim().is_empty() && !l.trim_start().starts_with("//"))
                    .count();
                if code_lines >= 10 {
                    out.push(Case {
                        name: path.display().to_string(),
                        text,
                        spans: Vec::new(),
                        code: Some(true),
                    });
                }
            }
        }
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    out
}

pub fn corpus() -> Vec<Case> {
    let mut cases = Vec::new();
    for (i, t) in lines("templates.txt").iter().enumerate() {
        for fill_no in 0..FILLS {
            let mut rng = SampleRng::new(1000 * i as u64 + fill_no);
            cases.push(fill(t, &mut rng));
        }
    }
    cases.extend(
        lines("negatives.txt")
            .into_iter()
            .map(|l| negative(&l.clone(), l)),
    );
    cases.extend(generated_negatives(&mut SampleRng::new(7)));
    cases.extend(documents("code", true));
    cases.extend(documents("snippets", true));
    cases.extend(formatted_numbers(&mut SampleRng::new(17)));
    cases.extend(numeric::negatives(&mut SampleRng::new(23), GENERATED / 4));
    cases.extend(numeric::positives(&mut SampleRng::new(29), GENERATED / 4));
    cases.extend(documents("mixed", true));
    cases.extend(documents("prose", false));
    cases.extend(own_sources());
    for seed in 0..20 {
        cases.push(Case {
            name: format!("generated prose {seed}"),
            text: prose(&mut SampleRng::new(seed), 3000),
            spans: Vec::new(),
            code: Some(false),
        });
    }
    cases
}
