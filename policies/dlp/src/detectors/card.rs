//! `credit_card`: 13–19 digits, compact or grouped as cards print them (4-4-4-4, 4-6-5,
//! 4-6-4, eights, fours with a short tail) with blanks, dots, dashes or commas (see
//! `numbers::separator`), that pass Luhn and fall in an issuer's prefix range with that
//! issuer's length. Medium on its own (low as a comma-separated list), high next to "card", "visa", "cvv", and words of a
//! purchase ("order", "invoice", "refund"...); low next to "tracking", "phone"..., and low when
//! the digits, ungrouped, are labelled as an order's or invoice's own number (`Order #...`,
//! `invoice no. ...`). Published test cards
//! (4111 1111 1111 1111, 4242 4242 4242 4242, ...) are always low: pasting a test card into a
//! chat leaks nothing, but a profile that asks for `low` still sees them.

use crate::detector::Detector::CreditCard;
use crate::finding::Confidence;
use crate::numbers::Digits;
use crate::scan::Cx;

/// (first digits as a number of `width` digits, low..=high prefix, lengths)
struct Issuer {
    width: u32,
    low: u32,
    high: u32,
    lengths: (usize, usize),
}

const fn issuer(width: u32, low: u32, high: u32, min: usize, max: usize) -> Issuer {
    Issuer {
        width,
        low,
        high,
        lengths: (min, max),
    }
}

const ISSUERS: &[Issuer] = &[
    issuer(1, 4, 4, 13, 19),       // Visa (13, 16, 19 checked below)
    issuer(2, 51, 55, 16, 16),     // Mastercard
    issuer(4, 2221, 2720, 16, 16), // Mastercard 2-series
    issuer(2, 34, 34, 15, 15),     // American Express
    issuer(2, 37, 37, 15, 15),     // American Express
    issuer(4, 6011, 6011, 16, 19), // Discover
    issuer(3, 644, 649, 16, 19),   // Discover
    issuer(2, 65, 65, 16, 19),     // Discover
    issuer(4, 3528, 3589, 16, 19), // JCB
    issuer(3, 300, 305, 14, 19),   // Diners Club
    issuer(2, 36, 36, 14, 19),     // Diners Club
    issuer(2, 38, 39, 14, 19),     // Diners Club
    issuer(2, 62, 62, 16, 19),     // UnionPay
    issuer(4, 2200, 2204, 16, 19), // Mir
    issuer(4, 5018, 5018, 12, 19), // Maestro
    issuer(4, 5020, 5020, 12, 19), // Maestro
    issuer(4, 5038, 5038, 12, 19), // Maestro
    issuer(4, 5893, 5893, 12, 19), // Maestro
    issuer(4, 6304, 6304, 12, 19), // Maestro
    issuer(4, 6759, 6763, 12, 19), // Maestro
];

/// Card networks' and payment processors' published test numbers.
const TEST_CARDS: &[&str] = &[
    "4111111111111111",
    "4242424242424242",
    "4012888888881881",
    "4222222222222",
    "4000056655665556",
    "4000000000000002",
    "4000000000009995",
    "4000000000000077",
    "4000000000000010",
    "4000000000000069",
    "4000000000000127",
    "4000002500003155",
    "4000000760000002",
    "4917610000000000",
    "4484070000000000",
    "5555555555554444",
    "5105105105105100",
    "5200828282828210",
    "5454545454545454",
    "2223003122003222",
    "2223000048400011",
    "378282246310005",
    "371449635398431",
    "378734493671000",
    "6011111111111117",
    "6011000990139424",
    "6011000400000000",
    "3530111333300000",
    "3566002020360505",
    "3566111111111113",
    "30569309025904",
    "38520000023237",
    "36227206271667",
    "6200000000000005",
    "6250941006528599",
];

/// A card in the sequence `d`; whether one was recorded.
pub(crate) fn detect(cx: &mut Cx<'_>, d: &Digits) -> bool {
    let digits = d.digits();
    let n = digits.len();
    if !(13..=19).contains(&n) || !grouped_like_a_card(d.groups()) || !luhn(digits) {
        return false;
    }
    // The first one to four digits as numbers, made once for all the issuers.
    let mut prefixes = [0u32; 4];
    let mut p = 0;
    for (w, d) in digits.iter().take(4).enumerate() {
        p = p * 10 + u32::from(*d);
        prefixes[w] = p;
    }
    if !ISSUERS.iter().any(|i| issues(i, &prefixes, n)) {
        return false;
    }
    if is_test_card(digits) || (d.ngroups == 1 && labelled_as_id(cx.text, d.start)) {
        cx.found_fixed(CreditCard, d.start, d.end, Confidence::Low);
    } else if distinct(digits) > 2 {
        // `4556, 7375, 8689, 9855`: four numbers of a list (a bounding box, prices) as often
        // as a card, unless a word of payment is near.
        let base = match d.sep {
            Some(b',') => Confidence::Low,
            _ => Confidence::Medium,
        };
        cx.found(CreditCard, d.start, d.end, base);
    } else {
        return false; // 4444 4444 4444 4448: typed, not issued
    }
    true
}

/// Words that name a number as a document's or shipment's own identifier.
const ID_LABELS: &[&[u8]] = &[
    b"order",
    b"invoice",
    b"tracking",
    b"ticket",
    b"reference",
    b"ref",
    b"po",
    b"shipment",
    b"confirmation",
    b"booking",
    b"transaction",
    b"receipt",
];

/// Whether the number at `start` is labelled as an identifier: `Order #N`, `invoice no. N`,
/// `Ticket: N`, `order number N` (any case), read backwards over at most 32 bytes.
fn labelled_as_id(text: &[u8], start: usize) -> bool {
    let lo = start.saturating_sub(32);
    let mut i = start;
    let skip = |i: &mut usize, bytes: &[u8]| {
        while *i > lo && bytes.contains(&text[*i - 1]) {
            *i -= 1;
        }
    };
    let word = |i: &mut usize| {
        let end = *i;
        while *i > lo && text[*i - 1].is_ascii_alphabetic() {
            *i -= 1;
        }
        &text[*i..end]
    };
    skip(&mut i, b" :#.\t");
    let mut w = word(&mut i);
    if [&b"no"[..], b"nr", b"number", b"num", b"id"]
        .iter()
        .any(|n| w.eq_ignore_ascii_case(n))
    {
        skip(&mut i, b" :#.\t");
        w = word(&mut i);
    }
    let plural = w.len() > 3 && matches!(w.last(), Some(b's' | b'S'));
    let w = if plural { &w[..w.len() - 1] } else { w };
    i < start && ID_LABELS.iter().any(|l| w.eq_ignore_ascii_case(l))
}

fn grouped_like_a_card(groups: &[u8]) -> bool {
    // One digit at a time (`4 5 5 6 ...`): typed to get past a scanner, not prose.
    if groups.len() >= 13 && groups.iter().all(|g| *g == 1) {
        return true;
    }
    match groups {
        [_] | [4, 6, 5] | [4, 6, 4] | [8, 8] => true,
        [init @ .., last] => init.iter().all(|g| *g == 4) && (1..=4).contains(last),
        [] => false,
    }
}

/// Whether issuer `i` issues cards of `n` digits starting with `prefixes` (the first one to
/// four digits as numbers).
fn issues(i: &Issuer, prefixes: &[u32; 4], n: usize) -> bool {
    let prefix = prefixes[(i.width as usize).clamp(1, 4) - 1];
    let visa_len = i.width != 1 || matches!(n, 13 | 16 | 19);
    (i.low..=i.high).contains(&prefix) && (i.lengths.0..=i.lengths.1).contains(&n) && visa_len
}

/// The Luhn (mod 10) check over digit values.
pub(crate) fn luhn(digits: &[u8]) -> bool {
    matches!(luhn_sum(digits) % 10, 0)
}

pub(crate) fn luhn_sum(digits: &[u8]) -> u32 {
    /// A digit doubled, its two digits summed: `2 * d`, less 9 when that is past 9.
    const DOUBLED: [u32; 10] = [0, 2, 4, 6, 8, 1, 3, 5, 7, 9];
    digits.iter().rev().enumerate().fold(0, |sum, (i, d)| {
        sum + if i % 2 == 1 {
            DOUBLED.get(usize::from(*d)).copied().unwrap_or(0)
        } else {
            u32::from(*d)
        }
    })
}

fn distinct(digits: &[u8]) -> u32 {
    digits
        .iter()
        .fold(0u16, |seen, d| seen | 1 << (d % 10))
        .count_ones()
}

/// [`TEST_CARDS`] as (length, value): a card's digits are compared as one number.
const TEST_VALUES: [(usize, u64); TEST_CARDS.len()] = {
    let mut out = [(0, 0); TEST_CARDS.len()];
    let mut i = 0;
    while i < TEST_CARDS.len() {
        let card = TEST_CARDS[i].as_bytes();
        let mut value = 0;
        let mut k = 0;
        while k < card.len() {
            value = value * 10 + (card[k] - b'0') as u64;
            k += 1;
        }
        out[i] = (card.len(), value);
        i += 1;
    }
    out
};

fn is_test_card(digits: &[u8]) -> bool {
    // At most 19 digits: below 10^19, which a `u64` holds.
    let value = digits.iter().fold(0u64, |v, d| v * 10 + u64::from(*d));
    TEST_VALUES.contains(&(digits.len(), value))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detector::Detector;
    use crate::detectors::tests_support::found;
    use crate::samples::{Sample, SampleRng};

    #[test]
    fn luhn_values() {
        assert!(luhn(&[7, 9, 9, 2, 7, 3, 9, 8, 7, 1, 3]));
        assert!(!luhn(&[7, 9, 9, 2, 7, 3, 9, 8, 7, 1, 4]));
        // Every digit at every place, against the textbook sum.
        for len in 1..=19 {
            for d in 0..10u8 {
                let digits: Vec<u8> = (0..len).map(|k| (d + k as u8 * 7) % 10).collect();
                let textbook: u32 = digits
                    .iter()
                    .rev()
                    .enumerate()
                    .map(|(i, d)| {
                        let v = u32::from(*d) * if i % 2 == 1 { 2 } else { 1 };
                        v / 10 + v % 10
                    })
                    .sum();
                assert_eq!(luhn_sum(&digits), textbook, "{digits:?}");
            }
        }
    }

    #[test]
    fn test_cards_are_known_by_value() {
        let digits = |s: &str| s.bytes().map(|b| b - b'0').collect::<Vec<u8>>();
        for card in TEST_CARDS {
            assert!(is_test_card(&digits(card)), "{card}");
        }
        assert!(!is_test_card(&digits("4111111111111112")));
        // The same value with a leading zero is another number of digits.
        assert!(!is_test_card(&digits("04111111111111111")));
    }

    #[test]
    fn generated_cards_in_every_format() {
        let mut rng = SampleRng::new(51);
        for _ in 0..200 {
            let c = Sample::CreditCard.generate(&mut rng);
            let t = format!("pay by card {c} today");
            assert_eq!(
                found(&t, Detector::CreditCard),
                [(12, 12 + c.len(), "high")],
                "{c}"
            );
        }
    }

    #[test]
    fn context_moves_confidence() {
        assert_eq!(
            found("4556 7375 8689 9855", Detector::CreditCard),
            [(0, 19, "medium")]
        );
        assert_eq!(
            found("Card: 4556-7375-8689-9855", Detector::CreditCard)[0].2,
            "high"
        );
        for id in [
            "Order #4556737586899855",
            "invoice no. 4556737586899855",
            "Tracking: 4556737586899855",
            "order number 4556737586899855",
        ] {
            assert_eq!(found(id, Detector::CreditCard)[0].2, "low", "{id}");
        }
        for paid in [
            "Order 1182 was paid with 4556 7375 8689 9855",
            "refund to 4556-7375-8689-9855 please",
            "invoice 2231: charge 4556737586899855",
        ] {
            assert_eq!(found(paid, Detector::CreditCard)[0].2, "high", "{paid}");
        }
    }

    #[test]
    fn near_misses_are_not_cards() {
        for neg in [
            "4556 7375 8689 9856",      // Luhn fails
            "1234 5678 9012 3452",      // no issuer starts with 1
            "4556 7375 8689 98552",     // group of five
            "4556-7375 8689-9855",      // mixed separators
            "45567375868998550",        // 17 digits: not a Visa length
            "3.4556737586899855",       // decimal
            "v4556737586899855",        // inside a word
            "4556737586899855.12",      // decimal
            "4444 4444 4444 4448",      // two distinct digits
            "4556 7375 8689 9855 1234", // too long
        ] {
            assert!(found(neg, Detector::CreditCard).is_empty(), "{neg}");
        }
    }

    #[test]
    fn test_cards_are_low() {
        for t in [
            "4111 1111 1111 1111",
            "4242424242424242",
            "3782-822463-10005",
        ] {
            assert_eq!(
                found(&format!("card {t}"), Detector::CreditCard)[0].2,
                "low",
                "{t}"
            );
        }
    }
}
