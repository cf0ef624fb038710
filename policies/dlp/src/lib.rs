//! Data-loss prevention: detectors that find sensitive data in text, the profiles that group
//! them, and the [`DlpScanner`] contract that policy rules rely on.
//!
//! A `dlp` rule only names a profile; the daemon calls a [`DlpScanner`] with that profile and the
//! extracted text, and reports which profiles matched back to the policy. [`DlpEngine`] is the
//! scanner: built once from the shipped profiles (`policies/dlp/profiles.toml`) plus the
//! deployment's keyword lists, regexes and exact-data sets, then shared read-only.
//!
//! How a scan works (see `scan.rs`): invisible characters are stripped and other digits
//! (full-width, other scripts, HTML numeric references) folded to ASCII first (`invisible.rs`), and long
//! base64 runs are decoded for the numeric detectors (`encoded.rs`). Every token detector's anchor (`AKIA`, `ghp_`,
//! `-----BEGIN`, `eyJ`, ...) holds one of five trigger bytes (`_ - J A /`), marked 64 bytes at a
//! time in a bit mask (`byteset`: SSE2 compares gathered by `pmovmskb` on x86-64, a flag array
//! packed by multiplication elsewhere); a trigger is checked against its neighbours by table before any
//! comparison. Digit runs (cards, IBANs, SSNs) and token ends come from the same kind of masks;
//! `memchr` finds `@` (email); one line pass scores source code (blocks dense in `(`, `;`, `=`
//! are probed and counted; lines of blocks without code punctuation are read only when their
//! first word is a keyword). Each detector's shape is then matched only in a bounded window at
//! its hit (token shapes by hand, in `shape.rs`, held to their regexes in `patterns.rs` by
//! tests; PEM headers and e-mail domains by regex), validators (Luhn, mod-97, checksums, JSON
//! headers) confirm, context words (letter runs looked up in a small table) move the
//! confidence, and placeholders and published example values (`literals.rs`) are dropped.
//! Keywords of custom regexes have their own Aho-Corasick pass. Each pass leaves its
//! detections in text order (`detections.rs`); the runs are merged, not sorted, and overlaps
//! resolved. Nothing allocates until something is found, and a finding of a built-in detector
//! allocates nothing.
//!
//! Also here: [`source`], the `file:line:col` errors of text files, shared with the `policies`
//! crate (profiles are such files); and, behind the `samples` feature (on in this crate's own
//! tests), `samples`: seeded generators of fake secrets and prose for tests and benches.
//!
//! Never: read files, open sockets or keep global state (the daemon hands text over); log,
//! store or return a secret in full. Findings carry masked snippets only, and no
//! type here keeps the raw match after the scan returns.

mod anchors;
mod builder;
mod byteset;
mod context;
mod custom;
mod detections;
mod detector;
mod detectors;
mod edm;
mod encoded;
mod engine;
mod error;
mod finding;
mod invisible;
mod literals;
mod nested;
mod numbers;
mod patterns;
mod placeholder;
mod profile;
mod redact;
#[cfg(any(test, feature = "samples"))]
pub mod samples;
mod scan;
mod shape;
pub mod source;
mod text;

pub use builder::DlpEngineBuilder;
pub use custom::{CustomRegex, KeywordList, CUSTOM_REGEX_MAX_LEN, CUSTOM_REGEX_SIZE_LIMIT};
pub use detector::Detector;
pub use edm::{EdmOptions, EdmSet};
pub use encoded::decoded;
pub use engine::{DetectorCount, DlpEngine, ProfileResult};
pub use error::DlpError;
pub use finding::{mask, Confidence, Finding, Snippet};
pub use invisible::visible;
pub use patterns::{finding_patterns, naive_patterns};
pub use profile::{Profile, Threshold, SHIPPED_PROFILES};
pub use redact::redact;

/// Scans text for the detectors of a named profile. Implementations must be bounded in time and
/// memory for any input, and must not log what they find.
pub trait DlpScanner {
    /// Findings of `profile` in `text`; an unknown profile yields no findings.
    fn scan(&self, profile: &str, text: &str) -> Vec<Finding>;
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Always;
    impl DlpScanner for Always {
        fn scan(&self, profile: &str, text: &str) -> Vec<Finding> {
            vec![Finding::new(
                profile.to_owned(),
                0,
                text.len(),
                Confidence::Low,
                text,
            )]
        }
    }

    #[test]
    fn scanner_is_object_safe() {
        let s: &dyn DlpScanner = &Always;
        assert_eq!(s.scan("default", "secret-value").len(), 1);
    }
}
