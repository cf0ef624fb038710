//! National identifiers of the big markets, each held to its checksum or allocation rules:
//! `uk_nino` (two letters, six digits, A–D; HMRC's excluded letters and prefixes), `ca_sin`
//! (nine digits, Luhn), `de_tax_id` (Steuer-IdNr: eleven digits, ISO 7064 mod 11,10 and the
//! one-repeated-digit rule), `fr_nir` (numéro de sécurité sociale: fifteen digits, key
//! 97 − n mod 97), `in_aadhaar` (twelve digits, Verhoeff), `in_pan` (`AAAPA9999A`, holder
//! type letter) and `br_cpf` (eleven digits, two mod-11 check digits).
//!
//! Written in the country's usual grouping (`123 456 782`, `1 85 05 78 006 084 91`,
//! `123.456.789-09`) a valid number is medium; bare digits are low (many numbers pass one
//! check digit) until a context word ("SIN", "Aadhaar", "CPF", "Steuer"...) raises them.
//! Corsican NIRs (`2A`/`2B` departments) are not read. Never looks past the number's own
//! bytes and a few before and after it.

use crate::detector::Detector::{self, *};
use crate::finding::Confidence;
use crate::numbers::Digits;
use crate::scan::Cx;
use crate::text::is_alnum;

/// Numbers that are only digits: called by the digit pass for every sequence no card took.
pub(crate) fn numeric(cx: &mut Cx<'_>, d: &Digits) {
    let digits = d.digits();
    let groups = d.groups();
    let plain = d.plain;
    let compact = groups.len() == 1;
    let level = |grouped: bool| {
        if grouped {
            Confidence::Medium
        } else {
            Confidence::Low
        }
    };
    match digits.len() {
        9 if cx.set.has(CaSin) && (compact || (plain && groups == [3, 3, 3])) && sin_ok(digits) => {
            cx.found(CaSin, d.start, d.end, level(!compact));
        }
        11 => {
            if cx.set.has(BrCpf)
                && (compact || (groups == [9, 2] && d.sep == Some(b'-')))
                && cpf_ok(digits)
            {
                cx.found(BrCpf, d.start, d.end, level(!compact));
            }
            if cx.set.has(DeTaxId)
                && (compact || (plain && groups == [2, 3, 3, 3]))
                && de_tax_ok(digits)
            {
                cx.found(DeTaxId, d.start, d.end, level(!compact));
            }
        }
        12 if cx.set.has(InAadhaar)
            && (compact || (plain && groups == [4, 4, 4]))
            && aadhaar_ok(digits) =>
        {
            cx.found(InAadhaar, d.start, d.end, level(!compact));
        }
        15 if cx.set.has(FrNir)
            && (compact || (plain && groups == [1, 2, 2, 2, 3, 3, 2]))
            && nir_ok(digits) =>
        {
            cx.found(FrNir, d.start, d.end, level(!compact));
        }
        _ => {}
    }
    if groups == [3, 3, 3] && d.sep == Some(b'.') && cx.set.has(BrCpf) {
        cpf_dotted(cx, d);
    }
    if groups == [2, 2, 2] && plain && d.sep == Some(b' ') && cx.set.has(UkNino) {
        nino_spaced(cx, d);
    }
}

/// `123.456.789-09`: the digit pass stops at the dash (another separator); the check digits
/// follow it.
fn cpf_dotted(cx: &mut Cx<'_>, d: &Digits) {
    let text = cx.text;
    let e = d.end;
    let tail = match text.get(e..e + 3) {
        Some([b'-', a, b]) if a.is_ascii_digit() && b.is_ascii_digit() => [a - b'0', b - b'0'],
        _ => return,
    };
    if text.get(e + 3).is_some_and(|b| is_alnum(*b)) {
        return;
    }
    let mut all = [0u8; 11];
    all[..9].copy_from_slice(d.digits());
    all[9..].copy_from_slice(&tail);
    if cpf_ok(&all) {
        cx.found(BrCpf, d.start, e + 3, Confidence::Medium);
    }
}

/// `AB 12 34 56 C`: the letters before the digits, the suffix after.
fn nino_spaced(cx: &mut Cx<'_>, d: &Digits) {
    let text = cx.text;
    let (s, e) = (d.start, d.end);
    if s < 3 || text[s - 1] != b' ' || (s > 3 && is_alnum(text[s - 4])) {
        return;
    }
    if !matches!(text.get(e..e + 2), Some([b' ', b'A'..=b'D'])) {
        return;
    }
    if text.get(e + 2).is_some_and(|b| is_alnum(*b)) || !nino_letters(text[s - 3], text[s - 2]) {
        return;
    }
    cx.found(UkNino, s - 3, e + 2, Confidence::Medium);
}

/// Digits right after a capital letter: a GitLab runner registration token (`GR1348941`), a
/// compact NINO (`AB123456C`) or a PAN (`ABCPE1234F`). Returns the end of what it recorded.
pub(crate) fn lettered(cx: &mut Cx<'_>, p: usize) -> Option<usize> {
    let text = cx.text;
    let boundary_before = |at: usize| at == 0 || !is_alnum(text[at - 1]);
    if p >= 2 && text[p - 2] == b'G' && text[p - 1] == b'R' && text[p..].starts_with(b"1348941") {
        return super::vcs::gitlab_runner_registration(cx, p - 2);
    }
    if p >= 2 && boundary_before(p - 2) && cx.set.has(UkNino) {
        let e = p + 6;
        let ok = text
            .get(p..e)
            .is_some_and(|t| t.iter().all(u8::is_ascii_digit))
            && matches!(text.get(e), Some(b'A'..=b'D'))
            && !text.get(e + 1).is_some_and(|b| is_alnum(*b))
            && nino_letters(text[p - 2], text[p - 1]);
        if ok {
            cx.found(UkNino, p - 2, e + 1, Confidence::Medium);
            return Some(e + 1);
        }
    }
    if p >= 5 && boundary_before(p - 5) && cx.set.has(InPan) {
        let e = p + 4;
        let ok = text[p - 5..p].iter().all(u8::is_ascii_uppercase)
            && text
                .get(p..e)
                .is_some_and(|t| t.iter().all(u8::is_ascii_digit))
            && text[p..e] != *b"0000"
            && text.get(e).is_some_and(u8::is_ascii_uppercase)
            && !text.get(e + 1).is_some_and(|b| is_alnum(*b))
            && matches!(
                text[p - 2],
                b'A' | b'B' | b'C' | b'F' | b'G' | b'H' | b'L' | b'J' | b'P' | b'T'
            );
        if ok && !PAN_EXAMPLES.contains(&&text[p - 5..e + 1]) {
            cx.found(InPan, p - 5, e + 1, Confidence::Medium);
            return Some(e + 1);
        }
    }
    None
}

/// The income-tax department's and tutorials' example PANs.
const PAN_EXAMPLES: &[&[u8]] = &[b"AAAPL1234C", b"ABCPD1234E", b"AAAAA0000A", b"AAACA1234A"];

/// HMRC's rules for the two prefix letters of a NINO.
pub(crate) fn nino_letters(a: u8, b: u8) -> bool {
    a.is_ascii_uppercase()
        && b.is_ascii_uppercase()
        && !matches!(a, b'D' | b'F' | b'I' | b'Q' | b'U' | b'V')
        && !matches!(b, b'D' | b'F' | b'I' | b'O' | b'Q' | b'U' | b'V')
        && !matches!(
            &[a, b],
            b"BG" | b"GB" | b"KN" | b"NK" | b"NT" | b"TN" | b"ZZ"
        )
}

/// Canadian SIN: Luhn over nine digits; 0 (unassigned) and 8 (business numbers) never start
/// one.
pub(crate) fn sin_ok(d: &[u8]) -> bool {
    d.len() == 9 && !matches!(d[0], 0 | 8) && super::card::luhn(d)
}

/// Steuer-IdNr: no leading zero, in the first ten digits one digit twice or three times
/// (not three in a row) and every other at most once, and the ISO 7064 mod 11,10 check digit.
pub(crate) fn de_tax_ok(d: &[u8]) -> bool {
    if d.len() != 11 || d[0] == 0 {
        return false;
    }
    let mut counts = [0u8; 10];
    for x in &d[..10] {
        counts[usize::from(*x % 10)] += 1;
    }
    let repeated: Vec<usize> = (0..10).filter(|k| counts[*k] > 1).collect();
    let [k] = repeated[..] else {
        return false;
    };
    if counts[k] > 3
        || (counts[k] == 3
            && d[..10]
                .windows(3)
                .any(|w| w.iter().all(|x| usize::from(*x) == k)))
    {
        return false;
    }
    de_tax_check(&d[..10]) == d[10]
}

/// ISO 7064 MOD 11,10 check digit of `d`.
pub(crate) fn de_tax_check(d: &[u8]) -> u8 {
    let mut product = 10u32;
    for x in d {
        let mut sum = (u32::from(*x) + product) % 10;
        if sum == 0 {
            sum = 10;
        }
        product = (sum * 2) % 11;
    }
    let check = 11 - product;
    if check == 10 {
        0
    } else {
        check as u8
    }
}

/// French NIR: sex 1 or 2, a month 01–12 (20–42 and 50–99 for unknown or special cases), and
/// the key 97 − (first thirteen digits mod 97).
pub(crate) fn nir_ok(d: &[u8]) -> bool {
    if d.len() != 15 || !matches!(d[0], 1 | 2) {
        return false;
    }
    let month = d[3] * 10 + d[4];
    if !matches!(month, 1..=12 | 20..=42 | 50..=99) {
        return false;
    }
    u64::from(nir_key(&d[..13])) == d[13..].iter().fold(0u64, |n, x| n * 10 + u64::from(*x))
}

/// The two-digit key of a NIR's first thirteen digits.
pub(crate) fn nir_key(d: &[u8]) -> u8 {
    let n = d.iter().fold(0u64, |n, x| n * 10 + u64::from(*x));
    (97 - n % 97) as u8
}

/// Aadhaar: twelve digits, the first 2–9, Verhoeff's check.
pub(crate) fn aadhaar_ok(d: &[u8]) -> bool {
    d.len() == 12 && d[0] >= 2 && verhoeff(d, 0) == 0 && distinct(d) > 2
}

const VERHOEFF_D: [[u8; 10]; 10] = [
    [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
    [1, 2, 3, 4, 0, 6, 7, 8, 9, 5],
    [2, 3, 4, 0, 1, 7, 8, 9, 5, 6],
    [3, 4, 0, 1, 2, 8, 9, 5, 6, 7],
    [4, 0, 1, 2, 3, 9, 5, 6, 7, 8],
    [5, 9, 8, 7, 6, 0, 4, 3, 2, 1],
    [6, 5, 9, 8, 7, 1, 0, 4, 3, 2],
    [7, 6, 5, 9, 8, 2, 1, 0, 4, 3],
    [8, 7, 6, 5, 9, 3, 2, 1, 0, 4],
    [9, 8, 7, 6, 5, 4, 3, 2, 1, 0],
];
const VERHOEFF_P: [[u8; 10]; 8] = [
    [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
    [1, 5, 7, 6, 2, 8, 3, 0, 9, 4],
    [5, 8, 0, 3, 7, 9, 6, 1, 4, 2],
    [8, 9, 1, 6, 0, 4, 3, 5, 2, 7],
    [9, 4, 5, 3, 1, 2, 6, 8, 7, 0],
    [4, 2, 8, 6, 5, 7, 3, 9, 0, 1],
    [2, 7, 9, 3, 8, 0, 6, 4, 1, 5],
    [7, 0, 4, 6, 9, 1, 3, 2, 5, 8],
];
#[cfg(any(test, feature = "samples"))]
const VERHOEFF_INV: [u8; 10] = [0, 4, 3, 2, 1, 5, 6, 7, 8, 9];

/// Verhoeff's running check over `d` read from the right, the first digit at position
/// `offset`: 0 for a number that ends in its check digit.
fn verhoeff(d: &[u8], offset: usize) -> u8 {
    d.iter().rev().enumerate().fold(0u8, |c, (i, x)| {
        VERHOEFF_D[usize::from(c)][usize::from(VERHOEFF_P[(i + offset) % 8][usize::from(*x % 10)])]
    })
}

/// The Verhoeff check digit to append to `d` (for the sample generators and tests).
#[cfg(any(test, feature = "samples"))]
pub(crate) fn verhoeff_digit(d: &[u8]) -> u8 {
    VERHOEFF_INV[usize::from(verhoeff(d, 1))]
}

/// CPF: two mod-11 check digits, and not one digit repeated (`111.111.111-11` passes both).
pub(crate) fn cpf_ok(d: &[u8]) -> bool {
    d.len() == 11 && distinct(d) > 1 && cpf_digits(&d[..9]) == [d[9], d[10]]
}

/// The two check digits of a CPF's first nine digits.
pub(crate) fn cpf_digits(d: &[u8]) -> [u8; 2] {
    let check = |ds: &[u8]| {
        let w = ds.len() as u32 + 1;
        let sum: u32 = ds
            .iter()
            .enumerate()
            .map(|(i, x)| u32::from(*x) * (w - i as u32))
            .sum();
        ((sum * 10) % 11 % 10) as u8
    };
    let first = check(d);
    let mut ten = [0u8; 10];
    ten[..9].copy_from_slice(&d[..9]);
    ten[9] = first;
    [first, check(&ten)]
}

fn distinct(d: &[u8]) -> u32 {
    d.iter()
        .fold(0u16, |seen, x| seen | 1 << (x % 10))
        .count_ones()
}

/// The detectors the digit pass offers digit sequences to.
pub(crate) const NUMERIC: &[Detector] = &[UkNino, CaSin, DeTaxId, FrNir, InAadhaar, BrCpf];

#[cfg(test)]
mod tests;
