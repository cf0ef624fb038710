//! Context words: a match with "card", "iban", "secret", "api key"... close by is more likely
//! real; one next to "order", "tracking", "phone", "example"... less. A window around a match
//! (never the whole input) is read as runs of letters; each run of a plausible length is
//! looked up, lower-cased and packed into a `u128`, in a small open-addressing table.

use super::byteset::LETTERS;
use super::detector::Detector::{self, *};
use super::finding::Confidence;

const CARD: &[Detector] = &[CreditCard];
const BANK: &[Detector] = &[Iban];
const SSN: &[Detector] = &[UsSsn];
const MAIL: &[Detector] = &[EmailAddress];
const NUMBERS: &[Detector] = &[
    CreditCard, Iban, UsSsn, UkNino, CaSin, DeTaxId, FrNir, InAadhaar, InPan, BrCpf,
];
/// Numbers that are not payments: what "order" and "invoice" argue against.
const NOT_PAYMENT: &[Detector] = &[
    UsSsn, UkNino, CaSin, DeTaxId, FrNir, InAadhaar, InPan, BrCpf,
];
const CARD_BANK: &[Detector] = &[CreditCard, Iban];
const NINO: &[Detector] = &[UkNino];
const SIN: &[Detector] = &[CaSin];
const DE_TAX: &[Detector] = &[DeTaxId];
const NIR: &[Detector] = &[FrNir];
const AADHAAR: &[Detector] = &[InAadhaar];
const PAN: &[Detector] = &[CreditCard, InPan];
const CPF: &[Detector] = &[BrCpf];
const TAX: &[Detector] = &[UsSsn, DeTaxId, InPan, BrCpf];
const IDS: &[Detector] = &[
    UsSsn, UkNino, CaSin, DeTaxId, FrNir, InAadhaar, InPan, BrCpf,
];
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
    AzureStorageKey,
    AzureSasToken,
    GcpServiceAccount,
    HuggingfaceToken,
    TwilioAuthToken,
    SendgridApiKey,
    NpmToken,
    PypiToken,
    DatabaseUrl,
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
    ("pan", PAN, &[]),
    ("cvv", CARD, &[]),
    ("cvc", CARD, &[]),
    ("expiry", CARD, &[]),
    ("exp", CARD, &[]),
    ("payment", CARD, &[]),
    // Words of a purchase: a card number beside them is more likely a card, not less (an
    // order's own number is told by its label, see `card::labelled_as_id`).
    ("order", CARD, NOT_PAYMENT),
    ("invoice", CARD_BANK, NOT_PAYMENT),
    ("refund", CARD, &[]),
    ("charge", CARD, &[]),
    ("billing", CARD, &[]),
    ("purchase", CARD, &[]),
    ("checkout", CARD, &[]),
    ("paid", CARD, &[]),
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
    ("taxpayer", TAX, &[]),
    ("tax", TAX, &[]),
    ("national", IDS, &[]),
    ("identity", IDS, &[]),
    ("nino", NINO, &[]),
    ("insurance", &[UkNino, CaSin, FrNir], &[]),
    ("hmrc", NINO, &[]),
    ("sin", SIN, &[]),
    ("steuer", DE_TAX, &[]),
    ("steuerid", DE_TAX, &[]),
    ("idnr", DE_TAX, &[]),
    ("steuernummer", DE_TAX, &[]),
    ("tin", DE_TAX, &[]),
    ("nir", NIR, &[]),
    ("insee", NIR, &[]),
    ("secu", NIR, &[]),
    ("sociale", NIR, &[]),
    ("aadhaar", AADHAAR, &[]),
    ("aadhar", AADHAAR, &[]),
    ("uidai", AADHAAR, &[]),
    ("cpf", CPF, &[]),
    ("contribuinte", CPF, &[]),
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
    ("iam", AWS, &[]),
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

/// Which end of a window the match is at: words are read from there outwards.
#[derive(Debug, Clone, Copy)]
enum Near {
    Start,
    End,
}

/// How far before and after a match context words count.
pub const BEFORE: usize = 64;
pub const AFTER: usize = 32;

/// The words, by their lower-case letters packed into a `u128`.
#[derive(Debug, Clone)]
pub(crate) struct ContextWords {
    /// Open addressing: `(key, support, against)`, key 0 for an empty slot.
    slots: Box<[(u128, u64, u64); SLOTS]>,
    /// Bit [`trigram`] set when a word or phrase of three letters or more starts with those
    /// letters in any case: most runs of letters in a window (English words, pieces of random
    /// tokens) are passed over after this one probe.
    starts: Box<[u64; TRIGRAM_WORDS]>,
}

const TRIGRAM_WORDS: usize = (26usize * 26 * 26).div_ceil(64);

/// The index of the first three letters of `w` (letters only, any case), below 26³.
fn trigram(w: &[u8]) -> usize {
    let l = |b: u8| usize::from((b | 0x20).wrapping_sub(b'a')) % 26;
    (l(w[0]) * 26 + l(w[1])) * 26 + l(w[2])
}

const SLOTS: usize = 256;
/// Longest single word of the list; phrases (`american express`) are found by their first word.
const LONGEST: usize = 13;

fn mask(ds: &[Detector]) -> u64 {
    ds.iter().fold(0, |m, d| m | d.bit())
}

/// `word`'s bytes, lower-cased, in a `u128` (words of up to 16 bytes).
fn pack(word: &[u8]) -> u128 {
    word.iter().take(16).enumerate().fold(0, |k, (i, b)| {
        k | u128::from(b.to_ascii_lowercase()) << (8 * i)
    })
}

/// [`pack`] for a run of letters `text[start..end]` (2 to 16 of them): one 16-byte load when
/// the text is long enough, lower-cased by setting bit 5 of every byte (letters only).
fn pack_letters(text: &[u8], start: usize, end: usize) -> u128 {
    match text.get(start..start + 16) {
        Some(b) => {
            let mut bytes = [0u8; 16];
            bytes.copy_from_slice(b);
            let len = end - start;
            let keep = if len >= 16 {
                u128::MAX
            } else {
                (1u128 << (8 * len)) - 1
            };
            (u128::from_le_bytes(bytes) | 0x2020_2020_2020_2020_2020_2020_2020_2020) & keep
        }
        None => pack(&text[start..end]),
    }
}

fn slot_of(k: u128) -> usize {
    let folded = (k as u64) ^ ((k >> 64) as u64);
    (folded.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 56) as usize
}

impl ContextWords {
    pub fn new() -> Self {
        let mut slots = Box::new([(0u128, 0u64, 0u64); SLOTS]);
        let mut starts = Box::new([0u64; TRIGRAM_WORDS]);
        for (w, _, _) in WORDS {
            let head: Vec<u8> = w.bytes().take_while(u8::is_ascii_alphabetic).collect();
            if head.len() >= 3 {
                let t = trigram(&head);
                starts[t / 64] |= 1 << (t % 64);
            }
        }
        // Words with other bytes than letters are phrases, found from their first word (see
        // `phrase`), or hold a listed word that says the same (`api_key`: `key`; `e-mail`:
        // `mail`).
        for (word, support, against) in WORDS
            .iter()
            .filter(|w| w.0.bytes().all(|b| b.is_ascii_alphabetic()))
        {
            let k = pack(word.as_bytes());
            debug_assert!((word.len() == 2 && *word == "cc") || word.len() >= 3);
            let mut i = slot_of(k);
            while slots[i].0 != 0 && slots[i].0 != k {
                i = (i + 1) % SLOTS;
            }
            slots[i] = (k, slots[i].1 | mask(support), slots[i].2 | mask(against));
        }
        ContextWords { slots, starts }
    }

    /// `(support, against)` of the word packed as `k`, zero when it is none.
    fn lookup(&self, k: u128) -> (u64, u64) {
        let mut i = slot_of(k);
        loop {
            match self.slots[i] {
                (0, _, _) => return (0, 0),
                (key, s, a) if key == k => return (s, a),
                _ => i = (i + 1) % SLOTS,
            }
        }
    }

    /// What the whole words of `text[from..to]` say: `(support, against)` masks, read from
    /// the word nearest `near` (the match, at one end of the window) outwards and stopping at
    /// the first word that supports a detector of `want` (then nothing further can change the
    /// answer, see [`Self::adjust`]). A word cut by the window's edge does not count; a longer
    /// word may take a plural `s`. Runs of letters are found from a bit mask per 64 bytes (no
    /// branch per byte: the windows are mostly random tokens, where letters and digits
    /// alternate unpredictably).
    fn words_in(&self, text: &[u8], from: usize, to: usize, near: Near, want: u64) -> (u64, u64) {
        let (mut support, mut against) = (0, 0);
        let pieces = (to - from).div_ceil(64);
        for p in 0..pieces {
            // Nearest piece first: the window's last pieces when the match follows it.
            let (piece, piece_end) = match near {
                Near::End => ((to - 64 * p).saturating_sub(64).max(from), to - 64 * p),
                Near::Start => (from + 64 * p, (from + 64 * p + 64).min(to)),
            };
            let letters = LETTERS.mask_in(text, piece, piece_end);
            let mut starts = letters & !(letters << 1);
            // A run that began in the piece before is read with that piece.
            if piece > from && text[piece - 1].is_ascii_alphabetic() {
                starts &= !1;
            }
            while starts != 0 {
                let k = match near {
                    Near::End => 63 - starts.leading_zeros() as usize,
                    Near::Start => starts.trailing_zeros() as usize,
                };
                starts &= !(1 << k);
                let start = piece + k;
                let mut end = start + (!(letters >> k)).trailing_zeros() as usize;
                if end == piece_end {
                    // Runs on into the next piece: rare, read byte by byte.
                    while end < to && text[end].is_ascii_alphabetic() {
                        end += 1;
                    }
                }
                let (s, a) = self.run(text, start, end, from, to);
                support |= s;
                against |= a;
                if support & want != 0 {
                    return (support, against);
                }
            }
        }
        (support, against)
    }

    /// What the run of letters `text[start..end]`, inside the window `from..to`, says.
    fn run(&self, text: &[u8], start: usize, end: usize, from: usize, to: usize) -> (u64, u64) {
        let cut = (start == from && start > 0 && text[start - 1].is_ascii_alphabetic())
            || (end == to && text.get(to).is_some_and(u8::is_ascii_alphabetic));
        let len = end - start;
        if cut || !(2..=LONGEST + 1).contains(&len) {
            return (0, 0);
        }
        let word = &text[start..end];
        if len == 2 {
            // `cc`, and `ss` of `ss#`: the only listed words of two letters.
            let found = if word.eq_ignore_ascii_case(b"cc") {
                self.lookup(pack(word))
            } else {
                (0, 0)
            };
            return self.phrase(text, word, end, to, found);
        }
        let t = trigram(word);
        if self.starts[t / 64] >> (t % 64) & 1 == 0 {
            return (0, 0);
        }
        let mut found = self.lookup(pack_letters(text, start, end));
        if found == (0, 0) && len > 4 && matches!(word[len - 1], b's' | b'S') {
            found = self.lookup(pack_letters(text, start, end - 1));
        }
        self.phrase(text, word, end, to, found)
    }

    /// The masks of a phrase that starts with `word` (ending at `end`): `american express`,
    /// `social security`, `ss#`.
    fn phrase(
        &self,
        text: &[u8],
        word: &[u8],
        end: usize,
        to: usize,
        found: (u64, u64),
    ) -> (u64, u64) {
        let rest = &text[end..to];
        let follows = |tail: &[u8]| {
            rest.len() >= tail.len()
                && rest[..tail.len()].eq_ignore_ascii_case(tail)
                && !text
                    .get(end + tail.len())
                    .is_some_and(u8::is_ascii_alphabetic)
        };
        let full = match word.len() {
            8 if word.eq_ignore_ascii_case(b"american") && follows(b" express") => {
                "american express"
            }
            6 if word.eq_ignore_ascii_case(b"social") && follows(b" security") => "social security",
            2 if word.eq_ignore_ascii_case(b"ss") && rest.first() == Some(&b'#') => "ss#",
            _ => return found,
        };
        WORDS
            .iter()
            .find(|w| w.0 == full)
            .map_or(found, |w| (found.0 | mask(w.1), found.1 | mask(w.2)))
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
        // A supporting word decides: the words after the match are read only without one before.
        let (s1, a1) = self.words_in(text, lo, start, Near::End, d.bit());
        let (s2, a2) = if s1 & d.bit() != 0 {
            (0, 0)
        } else {
            self.words_in(text, end, hi, Near::Start, d.bit())
        };
        let (up, down) = ((s1 | s2) & d.bit() != 0, (a1 | a2) & d.bit() != 0);
        match (up, down) {
            (true, _) => base.raised(),
            (false, true) => base.lowered(),
            _ => base,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn adj(text: &str, d: Detector, needle: &str) -> Confidence {
        let c = ContextWords::new();
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
    fn phrases_plurals_and_spellings_count() {
        assert_eq!(
            adj("American Express 4242", CreditCard, "4242"),
            Confidence::High
        );
        assert_eq!(adj("american 4242", CreditCard, "4242"), Confidence::Medium);
        assert_eq!(
            adj("social security: 4242", UsSsn, "4242"),
            Confidence::High
        );
        assert_eq!(adj("SS# 4242", UsSsn, "4242"), Confidence::High);
        assert_eq!(adj("ss 4242", UsSsn, "4242"), Confidence::Medium);
        assert_eq!(adj("E-Mail: 4242", EmailAddress, "4242"), Confidence::High);
        assert_eq!(
            adj("my api_key=4242", GithubToken, "4242"),
            Confidence::High
        );
        assert_eq!(adj("the api 4242", GithubToken, "4242"), Confidence::Medium);
        assert_eq!(adj("4242 (tracking)", CreditCard, "4242"), Confidence::Low);
        assert_eq!(adj("PASSWORDS 4242", Jwt, "4242"), Confidence::High);
        assert_eq!(adj("refs 4242", CreditCard, "4242"), Confidence::Medium);
        for w in ["order", "Invoice", "REFUND"] {
            assert_eq!(
                adj(&format!("{w} paid with 4242"), CreditCard, "4242"),
                Confidence::High
            );
        }
    }

    #[test]
    fn opposing_words_lower_and_partial_words_do_not_count() {
        assert_eq!(
            adj("Tracking #4242 shipped", CreditCard, "4242"),
            Confidence::Low
        );
        assert_eq!(adj("order 4242", UsSsn, "4242"), Confidence::Low);
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
