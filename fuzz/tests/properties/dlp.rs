//! Prompt text for the DLP scan: the shipped samples of every detector (real-looking secrets,
//! their decoys), prose and secret-dense text, spliced together with separators and damaged.

use dlp::samples::{prose, secret_dense, Sample, SampleRng};
use proptest::prelude::*;
use warden_fuzz::dlp_scan::dlp_scan;

use crate::mutate::damaged_from;

fn piece() -> impl Strategy<Value = String> {
    let sample = (prop::sample::select(&Sample::ALL[..]), any::<u64>())
        .prop_map(|(sample, seed)| sample.generate(&mut SampleRng::new(seed)));
    let separator = prop::sample::select(
        &[
            " ", "\n", "\t", "-", "_", ".", "/", "=", ":", "\"", "@", "", "é", "\u{200b}", "\r\n",
        ][..],
    )
    .prop_map(str::to_string);
    prop_oneof![
        4 => sample,
        2 => separator,
        1 => any::<u64>().prop_map(|seed| prose(&mut SampleRng::new(seed), 200)),
        1 => any::<u64>().prop_map(|seed| secret_dense(&mut SampleRng::new(seed), 300)),
        1 => "(aws|secret|key|token|ssn|card|iban)[:= ]{0,2}",
    ]
}

proptest! {
    #![proptest_config(crate::config(256))]

    #[test]
    fn every_finding_is_matched_by_its_detectors_reference_pattern(
        text in damaged_from(
            prop::collection::vec(piece(), 1..10).prop_map(|p| p.concat().into_bytes()),
        ),
    ) {
        dlp_scan(&String::from_utf8_lossy(&text));
    }
}

#[test]
fn each_sample_is_found_and_matched() {
    let mut rng = SampleRng::new(16);
    for sample in Sample::ALL {
        // An AWS secret is only a secret next to its keyword, a national id written as bare
        // digits only next to a word that names it.
        let text = format!(
            "national id / aws_secret_access_key = {}\n",
            sample.generate(&mut rng)
        );
        let findings = dlp_scan(&text);
        assert!(
            findings
                .iter()
                .any(|f| f.detector == sample.detector().id()),
            "{} not found in {text:?}",
            sample.name()
        );
    }
}
