//! National ids: published and generated valid numbers are found at the confidence their
//! writing and context give; one changed digit, a wrong grouping, a number inside a longer
//! one and the issuers' excluded values are not.

use super::*;
use crate::detector::Detector;
use crate::detectors::tests_support::found;
use crate::samples::{Sample, SampleRng};

/// `(id, detector)` of numbers that pass their checks (verified by hand against each
/// algorithm's definition).
const VALID: &[(&str, Detector)] = &[
    ("130 692 544", Detector::CaSin),
    ("193-456-787", Detector::CaSin),
    ("86 095 742 719", Detector::DeTaxId),
    ("1 85 05 78 006 084 91", Detector::FrNir),
    ("2345 6789 0124", Detector::InAadhaar),
    ("529.982.247-25", Detector::BrCpf),
    ("AB 12 34 56 C", Detector::UkNino),
    ("AB123456C", Detector::UkNino),
    ("ABCPE1234F", Detector::InPan),
];

#[test]
fn valid_numbers_in_their_usual_writing_are_medium_and_high_in_context() {
    for (id, d) in VALID {
        let hits = found(&format!("x {id} y"), *d);
        assert_eq!(hits, [(2, 2 + id.len(), "medium")], "{id}");
    }
    assert_eq!(found("SIN: 130 692 544", Detector::CaSin)[0].2, "high");
    assert_eq!(found("CPF 529.982.247-25", Detector::BrCpf)[0].2, "high");
    assert_eq!(
        found("Aadhaar 2345 6789 0124", Detector::InAadhaar)[0].2,
        "high"
    );
}

#[test]
fn bare_digits_are_low_until_named() {
    assert_eq!(found("x 130692544 y", Detector::CaSin), [(2, 11, "low")]);
    assert_eq!(
        found("x 86095742719 y", Detector::DeTaxId),
        [(2, 13, "low")]
    );
    assert_eq!(
        found("Steuer-ID 86095742719", Detector::DeTaxId)[0].2,
        "medium"
    );
    assert_eq!(found("CPF: 52998224725", Detector::BrCpf)[0].2, "medium");
}

#[test]
fn one_changed_digit_fails_the_check() {
    for (id, d) in VALID.iter().filter(|(id, _)| !id.starts_with("AB")) {
        let b = id.as_bytes();
        let k = b.iter().rposition(u8::is_ascii_digit).unwrap();
        let mut changed = b.to_vec();
        changed[k] = if b[k] == b'9' { b'0' } else { b[k] + 1 };
        let changed = String::from_utf8(changed).unwrap();
        assert!(found(&format!("x {changed} y"), *d).is_empty(), "{changed}");
    }
}

#[test]
fn near_misses_are_not_ids() {
    for (text, d) in [
        ("QQ123456C", Detector::UkNino), // Q never starts a NINO (HMRC's example)
        ("GB123456A", Detector::UkNino), // an excluded prefix
        ("AB123456E", Detector::UkNino), // suffixes are A-D
        ("AB 12 34 56 CD", Detector::UkNino),
        ("XAB123456C", Detector::UkNino),
        ("AAAPL1234C", Detector::InPan), // the tax department's own example
        ("ABCDE1234F", Detector::InPan), // holder type E does not exist
        ("ABCPE0000F", Detector::InPan),
        ("046 454 286", Detector::CaSin), // 0: never issued
        ("830 692 544", Detector::CaSin), // 8: business numbers
        ("111.111.111-11", Detector::BrCpf),
        ("11111111111", Detector::DeTaxId), // one digit repeated throughout
        ("1234 5678 9012", Detector::InAadhaar),
        ("0345 6789 0124", Detector::InAadhaar),
        ("3 85 05 78 006 084 91", Detector::FrNir),
        ("1 85 13 78 006 084 91", Detector::FrNir), // month 13
        ("12345 130692544", Detector::CaSin),
        ("v130692544", Detector::CaSin),
        ("130 692 5440", Detector::CaSin),
    ] {
        assert!(found(text, d).is_empty(), "{text}: {:?}", found(text, d));
    }
}

#[test]
fn generated_ids_pass_their_own_checks_and_are_found() {
    let mut rng = SampleRng::new(17);
    for s in [
        Sample::UkNino,
        Sample::CaSin,
        Sample::DeTaxId,
        Sample::FrNir,
        Sample::InAadhaar,
        Sample::InPan,
        Sample::BrCpf,
    ] {
        for _ in 0..200 {
            let v = s.generate(&mut rng);
            let text = format!("id {v}.");
            let hits = found(&text, s.detector());
            assert_eq!(hits.len(), 1, "{s:?} {v}");
            assert_eq!((hits[0].0, hits[0].1), (3, 3 + v.len()), "{v}");
        }
    }
}

#[test]
fn checks_agree_with_their_definitions() {
    assert_eq!(de_tax_check(&[8, 6, 0, 9, 5, 7, 4, 2, 7, 1]), 9);
    assert_eq!(nir_key(&[1, 8, 5, 0, 5, 7, 8, 0, 0, 6, 0, 8, 4]), 91);
    assert_eq!(cpf_digits(&[5, 2, 9, 9, 8, 2, 2, 4, 7]), [2, 5]);
    assert_eq!(verhoeff_digit(&[2, 3, 4, 1, 2, 3, 4, 1, 2, 3, 4]), 6);
    assert!(aadhaar_ok(&[2, 3, 4, 1, 2, 3, 4, 1, 2, 3, 4, 6]));
    assert!(sin_ok(&[1, 3, 0, 6, 9, 2, 5, 4, 4]));
}
