//! `us_ssn`: `AAA-GG-SSSS` (dashes or spaces) with the Social Security Administration's rules:
//! area not 000, 666 or 900–999 (ITINs), group not 00, serial not 0000. Medium when written
//! with separators, high next to "SSN" or "social security". Nine bare digits are low unless
//! such a word is near (then medium): most nine-digit numbers are not SSNs. Numbers the SSA
//! voided after publication (078-05-1120, the Woolworth wallet card) and the usual stand-in
//! 123-45-6789 are low.

use crate::detector::Detector::UsSsn;
use crate::finding::Confidence;
use crate::numbers::Digits;
use crate::scan::Cx;

const PUBLISHED: &[[u8; 9]] = &[
    [0, 7, 8, 0, 5, 1, 1, 2, 0],
    [2, 1, 9, 0, 9, 9, 9, 9, 9],
    [4, 5, 7, 5, 5, 5, 4, 6, 2],
    [1, 2, 3, 4, 5, 6, 7, 8, 9],
];

/// An SSN in the sequence `d`; whether one was recorded.
pub(crate) fn detect(cx: &mut Cx<'_>, d: &Digits) -> bool {
    let digits = d.digits();
    let separated = d.groups() == [3, 2, 4] && d.plain;
    let bare = d.groups() == [9];
    if !(separated || bare) || !valid(digits) {
        return false;
    }
    if PUBLISHED.iter().any(|p| p[..] == *digits) {
        cx.found_fixed(UsSsn, d.start, d.end, Confidence::Low);
    } else if separated {
        cx.found(UsSsn, d.start, d.end, Confidence::Medium);
    } else {
        cx.found(UsSsn, d.start, d.end, Confidence::Low);
    }
    true
}

/// The SSA's structural rules for nine digits.
pub(crate) fn valid(digits: &[u8]) -> bool {
    let num =
        |r: std::ops::Range<usize>| digits[r].iter().fold(0u32, |n, d| n * 10 + u32::from(*d));
    if digits.len() != 9 {
        return false;
    }
    let (area, group, serial) = (num(0..3), num(3..5), num(5..9));
    area != 0 && area != 666 && area < 900 && group != 0 && serial != 0
}

#[cfg(test)]
mod tests {
    use crate::detector::Detector;
    use crate::detectors::tests_support::found;
    use crate::samples::{Sample, SampleRng};

    #[test]
    fn valid_numbers_with_separators() {
        let mut rng = SampleRng::new(61);
        for _ in 0..100 {
            let s = Sample::UsSsn.generate(&mut rng);
            assert_eq!(
                found(&format!("SSN: {s}"), Detector::UsSsn),
                [(5, 16, "high")],
                "{s}"
            );
            assert_eq!(
                found(&format!("id {s}."), Detector::UsSsn)[0].2,
                "medium",
                "{s}"
            );
        }
        assert_eq!(found("536 22 8877", Detector::UsSsn)[0].2, "medium");
        // Review 2, finding 8: typographic dashes, as a word processor writes them.
        assert_eq!(
            found("id 536\u{2013}22\u{2013}1234.", Detector::UsSsn).len(),
            1
        );
        assert_eq!(
            found("id 536\u{2014}22\u{2014}1234", Detector::UsSsn).len(),
            1
        );
    }

    #[test]
    fn rule_breakers_are_not_ssns() {
        for neg in [
            "000-12-3456",
            "666-12-3456",
            "912-12-3456",
            "536-00-3456",
            "536-22-0000",
            "536-22-88771",
            "1536-22-8877",
            "536-228-877",
            "536-22 8877",
            "(555) 123-4567",
            "2024-05-17",
        ] {
            assert!(found(neg, Detector::UsSsn).is_empty(), "{neg}");
        }
    }

    #[test]
    fn bare_digits_need_context_and_examples_are_low() {
        assert_eq!(found("ref 536228877", Detector::UsSsn)[0].2, "low");
        assert_eq!(found("my ssn is 536228877", Detector::UsSsn)[0].2, "medium");
        assert_eq!(found("SSN 078-05-1120", Detector::UsSsn)[0].2, "low");
        assert_eq!(found("e.g. 123-45-6789", Detector::UsSsn)[0].2, "low");
    }
}
