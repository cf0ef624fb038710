//! `iban`: a country code, two check digits and the country's BBAN length, compact or printed
//! in groups of four, upper case, passing ISO 7064 mod-97. Medium on its own, high next to
//! "IBAN", "bank", "SWIFT"...; the registry's and textbooks' example IBANs are low.

use crate::detector::Detector::Iban;
use crate::finding::Confidence;
use crate::scan::Cx;
use crate::text::is_alnum;

/// IBAN length per country (SWIFT IBAN registry).
const LENGTHS: &[(&[u8; 2], usize)] = &[
    (b"AD", 24),
    (b"AE", 23),
    (b"AL", 28),
    (b"AT", 20),
    (b"AZ", 28),
    (b"BA", 20),
    (b"BE", 16),
    (b"BG", 22),
    (b"BH", 22),
    (b"BI", 27),
    (b"BR", 29),
    (b"BY", 28),
    (b"CH", 21),
    (b"CR", 22),
    (b"CY", 28),
    (b"CZ", 24),
    (b"DE", 22),
    (b"DJ", 27),
    (b"DK", 18),
    (b"DO", 28),
    (b"EE", 20),
    (b"EG", 29),
    (b"ES", 24),
    (b"FI", 18),
    (b"FK", 18),
    (b"FO", 18),
    (b"FR", 27),
    (b"GB", 22),
    (b"GE", 22),
    (b"GI", 23),
    (b"GL", 18),
    (b"GR", 27),
    (b"GT", 28),
    (b"HR", 21),
    (b"HU", 28),
    (b"IE", 22),
    (b"IL", 23),
    (b"IQ", 23),
    (b"IS", 26),
    (b"IT", 27),
    (b"JO", 30),
    (b"KW", 30),
    (b"KZ", 20),
    (b"LB", 28),
    (b"LC", 32),
    (b"LI", 21),
    (b"LT", 20),
    (b"LU", 20),
    (b"LV", 21),
    (b"LY", 25),
    (b"MC", 27),
    (b"MD", 24),
    (b"ME", 22),
    (b"MK", 19),
    (b"MN", 20),
    (b"MR", 27),
    (b"MT", 31),
    (b"MU", 30),
    (b"NI", 28),
    (b"NL", 18),
    (b"NO", 15),
    (b"OM", 23),
    (b"PK", 24),
    (b"PL", 28),
    (b"PS", 29),
    (b"PT", 25),
    (b"QA", 29),
    (b"RO", 24),
    (b"RS", 22),
    (b"RU", 33),
    (b"SA", 24),
    (b"SC", 31),
    (b"SD", 18),
    (b"SE", 24),
    (b"SI", 19),
    (b"SK", 24),
    (b"SM", 27),
    (b"SO", 23),
    (b"ST", 25),
    (b"SV", 28),
    (b"TL", 23),
    (b"TN", 24),
    (b"TR", 26),
    (b"UA", 29),
    (b"VA", 22),
    (b"VG", 24),
    (b"XK", 20),
    (b"YE", 30),
];

/// Example IBANs from the registry, Wikipedia and bank documentation.
const EXAMPLES: &[&[u8]] = &[
    b"GB82WEST12345698765432",
    b"GB29NWBK60161331926819",
    b"GB33BUKB20201555555555",
    b"DE89370400440532013000",
    b"DE75512108001245126199",
    b"FR1420041010050500013M02606",
    b"FR7630006000011234567890189",
    b"NL91ABNA0417164300",
    b"ES9121000418450200051332",
    b"IT60X0542811101000000123456",
    b"CH9300762011623852957",
    b"BE68539007547034",
    b"AT611904300234573201",
    b"PL61109010140000071219812874",
    b"SE4550000000058398257466",
    b"NO9386011117947",
    b"DK5000400440116243",
    b"FI2112345600000785",
    b"IE29AIBK93115212345678",
    b"PT50000201231234567890154",
    b"LU280019400644750000",
];

/// Longest IBAN (Russia).
pub(crate) const MAX_LEN: usize = 34;

/// The expected IBAN length for a country code: one load from a table of every pair of
/// capitals (the digit pass asks at each capital-capital-digit in a text).
pub(crate) fn length_for(cc: &[u8]) -> Option<usize> {
    match cc {
        [a @ b'A'..=b'Z', b @ b'A'..=b'Z'] => {
            let n = BY_CODE[usize::from(a - b'A') * 26 + usize::from(b - b'A')];
            (n > 0).then_some(usize::from(n))
        }
        _ => None,
    }
}

/// [`LENGTHS`] by country code (`AA` at 0, `AB` at 1...), 0 where there is none.
static BY_CODE: [u8; 26 * 26] = {
    let mut t = [0u8; 26 * 26];
    let mut i = 0;
    while i < LENGTHS.len() {
        let (code, len) = LENGTHS[i];
        t[(code[0] - b'A') as usize * 26 + (code[1] - b'A') as usize] = len as u8;
        i += 1;
    }
    t
};

/// An IBAN whose check digits start at `p` (the country code is the two bytes before). Returns
/// the end of anything IBAN-shaped, valid or not, so the digit pass skips all of it.
pub(crate) fn detect(cx: &mut Cx<'_>, p: usize) -> Option<usize> {
    let text = cx.text;
    if p < 2 || (p > 2 && is_alnum(text[p - 3])) || !text[p - 2].is_ascii_uppercase() {
        return None;
    }
    let len = length_for(&text[p - 2..p])?;
    let mut chars = [0u8; MAX_LEN];
    let end = read(text, p - 2, len, &mut chars)?;
    let iban = &chars[..len];
    if !iban[2..4].iter().all(u8::is_ascii_digit) || !mod97_ok(iban) {
        return Some(end);
    }
    if EXAMPLES.contains(&iban) {
        cx.found_fixed(Iban, p - 2, end, Confidence::Low);
    } else {
        cx.found(Iban, p - 2, end, Confidence::Medium);
    }
    Some(end)
}

/// An IBAN written with a space between country code and check digits (`BE 73 7370 ...`),
/// whose check digits start at `p`; the end of anything so shaped, as [`detect`].
pub(crate) fn detect_spaced(cx: &mut Cx<'_>, p: usize) -> Option<usize> {
    let text = cx.text;
    if p < 3 || text[p - 1] != b' ' || (p > 3 && is_alnum(text[p - 4])) {
        return None;
    }
    let len = length_for(&text[p - 3..p - 1])?;
    if !text.get(p..p + 2)?.iter().all(u8::is_ascii_digit) || text.get(p + 2) != Some(&b' ') {
        return None;
    }
    let mut chars = [0u8; MAX_LEN];
    chars[..2].copy_from_slice(&text[p - 3..p - 1]);
    chars[2..4].copy_from_slice(&text[p..p + 2]);
    // The rest in groups of four from after the check digits' space.
    let mut rest = [0u8; MAX_LEN];
    let end = read_groups(text, p + 3, len - 4, &mut rest)?;
    chars[4..len].copy_from_slice(&rest[..len - 4]);
    let iban = &chars[..len];
    if mod97_ok(iban) {
        if EXAMPLES.contains(&iban) {
            cx.found_fixed(Iban, p - 3, end, Confidence::Low);
        } else {
            cx.found(Iban, p - 3, end, Confidence::Medium);
        }
    }
    Some(end)
}

/// Reads `len` characters from `start` in space-separated groups of four; the end offset
/// when they end exactly there.
fn read_groups(text: &[u8], start: usize, len: usize, out: &mut [u8; MAX_LEN]) -> Option<usize> {
    let (mut i, mut n) = (start, 0);
    while n < len {
        if n > 0 && n % 4 == 0 {
            if text.get(i) != Some(&b' ') {
                return None;
            }
            i += 1;
        }
        let b = *text.get(i)?;
        if !(b.is_ascii_uppercase() || b.is_ascii_digit()) {
            return None;
        }
        out[n] = b;
        n += 1;
        i += 1;
    }
    let continues = text.get(i).is_some_and(|b| is_alnum(*b))
        || (len & 3 == 0
            && text.get(i) == Some(&b' ')
            && text
                .get(i + 1)
                .is_some_and(|b| b.is_ascii_uppercase() || b.is_ascii_digit()));
    (!continues).then_some(i)
}

/// Reads `len` IBAN characters from `start`, compact or in space-separated groups of four;
/// the end offset when the IBAN ends exactly there.
fn read(text: &[u8], start: usize, len: usize, out: &mut [u8; MAX_LEN]) -> Option<usize> {
    let spaced = text.get(start + 4) == Some(&b' ');
    let (mut i, mut n) = (start, 0);
    while n < len {
        if spaced && n > 0 && n % 4 == 0 {
            if text.get(i) != Some(&b' ') {
                return None;
            }
            i += 1;
        }
        let b = *text.get(i)?;
        if !(b.is_ascii_uppercase() || b.is_ascii_digit()) {
            return None;
        }
        out[n] = b;
        n += 1;
        i += 1;
    }
    // After a full last group, another group of capitals or digits means a longer number.
    let group = |b: &u8| b.is_ascii_uppercase() || b.is_ascii_digit();
    let continues = text.get(i).is_some_and(|b| is_alnum(*b))
        || (spaced
            && len & 3 == 0
            && text.get(i) == Some(&b' ')
            && text.get(i + 1).is_some_and(group));
    (!continues).then_some(i)
}

/// ISO 7064 mod 97-10 over the IBAN with its first four characters moved to the end.
pub(crate) fn mod97_ok(iban: &[u8]) -> bool {
    mod97(iban.iter().skip(4).chain(&iban[..4])) == 1
}

/// The remainder mod 97 of the number a sequence of IBAN characters spells (A = 10 ... Z = 35).
pub(crate) fn mod97<'a>(chars: impl Iterator<Item = &'a u8>) -> u32 {
    chars.fold(0u32, |r, c| match c {
        b'0'..=b'9' => (r * 10 + u32::from(c - b'0')) % 97,
        b'A'..=b'Z' => (r * 100 + u32::from(c - b'A') + 10) % 97,
        _ => r,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detector::Detector;
    use crate::detectors::tests_support::found;
    use crate::samples::{Sample, SampleRng};

    #[test]
    fn the_code_table_holds_the_registry_lengths() {
        for a in b'A'..=b'Z' {
            for b in b'A'..=b'Z' {
                let listed = LENGTHS.iter().find(|(c, _)| **c == [a, b]).map(|(_, n)| *n);
                assert_eq!(length_for(&[a, b]), listed, "{}{}", a as char, b as char);
            }
        }
        for odd in [&b"de"[..], b"D1", b"D", b"DEU", b""] {
            assert_eq!(length_for(odd), None);
        }
    }

    #[test]
    fn mod97_on_the_registry_examples() {
        for e in EXAMPLES {
            assert!(mod97_ok(e), "{}", String::from_utf8_lossy(e));
            assert_eq!(length_for(&e[..2]), Some(e.len()));
        }
        assert!(!mod97_ok(b"GB82WEST12345698765433"));
    }

    #[test]
    fn generated_ibans_compact_and_grouped() {
        let mut rng = SampleRng::new(71);
        for _ in 0..100 {
            let i = Sample::Iban.generate(&mut rng);
            let t = format!("IBAN: {i}, thanks");
            assert_eq!(found(&t, Detector::Iban), [(6, 6 + i.len(), "high")], "{i}");
            assert_eq!(
                found(&format!("to {i}"), Detector::Iban)[0].2,
                "medium",
                "{i}"
            );
        }
    }

    #[test]
    fn near_misses() {
        for neg in [
            "GB82 WEST 1234 5698 7654 33", // check fails
            "GB82WEST123456987654",        // too short for GB
            "GB82WEST1234569876543200",    // too long
            "BE68 5390 0754 7034 1",       // a group too many
            "XX82WEST12345698765432",      // no such country
            "xGB82WEST12345698765432",     // inside a word
            "gb82west12345698765432",      // lower case is not read
        ] {
            assert!(found(neg, Detector::Iban).is_empty(), "{neg}");
        }
        assert_eq!(
            found("GB82 WEST 1234 5698 7654 32 is ours", Detector::Iban)[0].2,
            "low"
        );
    }

    #[test]
    fn a_space_after_the_country_code() {
        let mut rng = SampleRng::new(72);
        for _ in 0..100 {
            let i = Sample::Iban.generate(&mut rng).replace(' ', "");
            let groups: Vec<&str> = i.as_bytes()[4..]
                .chunks(4)
                .map(|c| std::str::from_utf8(c).unwrap())
                .collect();
            let spaced = format!("{} {} {}", &i[..2], &i[2..4], groups.join(" "));
            let t = format!("IBAN: {spaced}, thanks");
            assert_eq!(
                found(&t, Detector::Iban),
                [(6, 6 + spaced.len(), "high")],
                "{t}"
            );
        }
        assert!(found("BE 69 5390 0754 7034", Detector::Iban).is_empty());
        assert!(found("xBE 68 5390 0754 7034", Detector::Iban).is_empty());
    }
}
