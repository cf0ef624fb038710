//! Context words: a match with "card", "iban", "secret", "api key"... close by is more likely
//! real; one next to "order", "tracking", "phone", "example"... less. One case-insensitive
//! automaton over all words; it runs only on a small window around a match, never on the
//! whole input.

use super::detector::Detector::{self, *};
use super::finding::Confidence;
use aho_corasick::{AhoCorasick, AhoCorasickBuilder, AhoCorasickKind, MatchKind};

const CARD: &[Detector] = &[CreditCard];
const BANK: &[Detector] = &[Iban];
const SSN: &[Detector] = &[UsSsn];
const MAIL: &[Detector] = &[EmailAddress];
const NUMBERS: &[Detector] = &[CreditCard, Iban, UsSsn];
const SECRETS: &[Detector] = &[
    AwsAccessKeyId,
    AwsSecretAccessKey,
    GithubToken,
    GitlabToken,
    SlackToken,
    StripeSecretKey,
    OpenaiApiKey,
    AnthropicApiKey,
    GoogleApiKey,
    PrivateKey,
    Jwt,
];
const AWS: &[Detector] = &[AwsAccessKeyId, AwsSecretAccessKey];
const OPENAI: &[Detector] = &[OpenaiApiKey];

/// (word, detectors it supports, detectors it argues against).
const WORDS: &[(&str, &[Detector], &[Detector])] = &[
    ("card", CARD, &[]),
    ("credit", CARD, &[]),
    ("debit", CARD, &[]),
    ("visa", CARD, &[]),
    ("mastercard", CARD, &[]),
    ("amex", CARD, &[]),
    ("american express", CARD, &[]),
    ("discover", CARD, &[]),
    ("jcb", CARD, &[]),
    ("diners", CARD, &[]),
    ("cc", CARD, &[]),
    ("ccn", CARD, &[]),
    ("pan", CARD, &[]),
    ("cvv", CARD, &[]),
    ("cvc", CARD, &[]),
    ("expiry", CARD, &[]),
    ("exp", CARD, &[]),
    ("payment", CARD, &[]),
    ("iban", BANK, &[]),
    ("bank", BANK, &[]),
    ("account", BANK, &[]),
    ("swift", BANK, &[]),
    ("bic", BANK, &[]),
    ("sepa", BANK, &[]),
    ("wire", BANK, &[]),
    ("transfer", BANK, &[]),
    ("beneficiary", BANK, &[]),
    ("ssn", SSN, &[]),
    ("social security", SSN, &[]),
    ("ss#", SSN, &[]),
    ("taxpayer", SSN, &[]),
    ("email", MAIL, &[]),
    ("e-mail", MAIL, &[]),
    ("mail", MAIL, &[]),
    ("contact", MAIL, &[]),
    ("mailto", MAIL, &[]),
    ("secret", SECRETS, &[]),
    ("password", SECRETS, &[]),
    ("passwd", SECRETS, &[]),
    ("token", SECRETS, &[]),
    ("key", SECRETS, &[]),
    ("apikey", SECRETS, &[]),
    ("api_key", SECRETS, &[]),
    ("api-key", SECRETS, &[]),
    ("api key", SECRETS, &[]),
    ("credential", SECRETS, &[]),
    ("bearer", SECRETS, &[]),
    ("authorization", SECRETS, &[]),
    ("aws", AWS, &[]),
    ("amazon", AWS, &[]),
    ("openai", OPENAI, &[]),
    ("order", &[], NUMBERS),
    ("invoice", &[], NUMBERS),
    ("tracking", &[], NUMBERS),
    ("ref", &[], NUMBERS),
    ("reference", &[], NUMBERS),
    ("phone", &[], NUMBERS),
    ("tel", &[], NUMBERS),
    ("fax", &[], NUMBERS),
    ("isbn", &[], NUMBERS),
    ("serial", &[], NUMBERS),
    ("version", &[], NUMBERS),
    ("build", &[], NUMBERS),
    ("sku", &[], NUMBERS),
    ("ticket", &[], NUMBERS),
    ("timestamp", &[], NUMBERS),
    ("example", &[], NUMBERS),
    ("sample", &[], NUMBERS),
    ("dummy", &[], NUMBERS),
];

/// How far before and after a match context words count.
pub const BEFORE: usize = 64;
pub const AFTER: usize = 32;

#[derive(Debug, Clone)]
pub(crate) struct ContextWords {
    words: AhoCorasick,
    support: Vec<u32>,
    against: Vec<u32>,
    lens: Vec<usize>,
}

fn mask(ds: &[Detector]) -> u32 {
    ds.iter().fold(0, |m, d| m | d.bit())
}

impl ContextWords {
    pub fn new() -> Result<Self, aho_corasick::BuildError> {
        let words = AhoCorasickBuilder::new()
            .ascii_case_insensitive(true)
            .match_kind(MatchKind::LeftmostLongest)
            .kind(Some(AhoCorasickKind::DFA)) // windows are ~100 bytes: no prefilter set-up
            .prefilter(false)
            .build(WORDS.iter().map(|w| w.0))?;
        Ok(ContextWords {
            words,
            support: WORDS.iter().map(|w| mask(w.1)).collect(),
            against: WORDS.iter().map(|w| mask(w.2)).collect(),
            lens: WORDS.iter().map(|w| w.0.len()).collect(),
        })
    }

    /// `base` moved one step up when a supporting word is near `start..end`, one step down
    /// when only an opposing one is. Skips the look when no word could change the answer
    /// (a high-confidence credential: no word lowers those).
    pub fn adjust(
        &self,
        text: &[u8],
        d: Detector,
        start: usize,
        end: usize,
        base: Confidence,
    ) -> Confidence {
        if base == Confidence::High && NUMBERS.iter().all(|n| *n != d) {
            return base;
        }
        let (lo, hi) = super::text::around(text, start, end, BEFORE, AFTER);
        let (mut up, mut down) = (false, false);
        for (from, to) in [(lo, start), (end, hi)] {
            let Some(window) = text.get(from..to) else {
                continue;
            };
            for m in self.words.find_iter(window) {
                let i = m.pattern().as_usize();
                if !whole_word(text, from + m.start(), from + m.end(), self.lens[i]) {
                    continue;
                }
                up |= self.support[i] & d.bit() != 0;
                down |= self.against[i] & d.bit() != 0;
            }
        }
        match (up, down) {
            (true, _) => base.raised(),
            (false, true) => base.lowered(),
            _ => base,
        }
    }
}

/// A word starts after a non-letter; short words (`cc`, `ssn`, `key`) must also end before
/// one, longer ones may take a plural `s`.
fn whole_word(text: &[u8], start: usize, end: usize, len: usize) -> bool {
    let letter = |i: usize| text.get(i).is_some_and(u8::is_ascii_alphabetic);
    if start > 0 && letter(start - 1) {
        return false;
    }
    match text.get(end) {
        Some(b's' | b'S') if len > 3 => !letter(end + 1),
        _ => !letter(end),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn adj(text: &str, d: Detector, needle: &str) -> Confidence {
        let c = ContextWords::new().unwrap();
        let s = text.find(needle).unwrap();
        c.adjust(text.as_bytes(), d, s, s + needle.len(), Confidence::Medium)
    }

    #[test]
    fn supporting_words_raise() {
        assert_eq!(adj("my Visa: 4242", CreditCard, "4242"), Confidence::High);
        assert_eq!(
            adj("AWS_SECRET_ACCESS_KEY=abc", AwsSecretAccessKey, "abc"),
            Confidence::High
        );
        assert_eq!(
            adj("cards 4242 on file", CreditCard, "4242"),
            Confidence::High
        );
    }

    #[test]
    fn opposing_words_lower_and_partial_words_do_not_count() {
        assert_eq!(
            adj("Order #4242 shipped", CreditCard, "4242"),
            Confidence::Low
        );
        assert_eq!(adj("discard 4242", CreditCard, "4242"), Confidence::Medium);
        assert_eq!(
            adj("keyboard 4242", GithubToken, "4242"),
            Confidence::Medium
        );
        assert_eq!(
            adj("nothing here 4242", CreditCard, "4242"),
            Confidence::Medium
        );
    }
}
