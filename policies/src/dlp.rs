//! The contract between policy and data-loss prevention: a scanner trait and its findings.
//!
//! A `dlp` rule only names a profile; the daemon calls a [`DlpScanner`] with that profile and the
//! extracted text, and reports which profiles matched back to the policy. Findings carry masked
//! snippets only: the secret itself never leaves the scanner.

use serde::{Deserialize, Serialize};
use std::fmt;

/// How sure a detector (or a discovery heuristic) is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Confidence {
    Low,
    Medium,
    High,
}

impl Confidence {
    pub fn as_str(self) -> &'static str {
        match self {
            Confidence::Low => "low",
            Confidence::Medium => "medium",
            Confidence::High => "high",
        }
    }

    /// One step up, saturating at `High`.
    pub fn raised(self) -> Confidence {
        match self {
            Confidence::Low => Confidence::Medium,
            _ => Confidence::High,
        }
    }
}

impl fmt::Display for Confidence {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One piece of sensitive data found in a text. Serialises as the `gatewayd dlp scan` JSON line:
/// `{"detector", "start", "end", "confidence", "snippet"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    /// Detector id, e.g. `aws-access-key`.
    pub detector: String,
    /// Byte offsets of the match in the scanned text.
    pub start: usize,
    pub end: usize,
    pub confidence: Confidence,
    /// The match with most characters masked; never the full secret.
    pub snippet: String,
}

impl Finding {
    /// A finding whose snippet is `matched` masked with [`mask`].
    pub fn new(
        detector: impl Into<String>,
        start: usize,
        end: usize,
        confidence: Confidence,
        matched: &str,
    ) -> Self {
        Finding {
            detector: detector.into(),
            start,
            end,
            confidence,
            snippet: mask(matched),
        }
    }
}

/// Scans text for the detectors of a named profile. Implementations must be bounded in time and
/// memory for any input, and must not log what they find.
pub trait DlpScanner {
    /// Findings of `profile` in `text`; an unknown profile yields no findings.
    fn scan(&self, profile: &str, text: &str) -> Vec<Finding>;
}

/// Masks a secret for display: a few leading and trailing characters stay (at most a quarter
/// and an eighth of it), the rest becomes `*` (at most 16 of them).
pub fn mask(secret: &str) -> String {
    let n = secret.chars().count();
    let front = (n / 4).min(4);
    let back = (n / 8).min(2);
    let hidden = (n - front - back).min(16);
    let mut out: String = secret.chars().take(front).collect();
    out.extend(std::iter::repeat_n('*', hidden));
    out.extend(secret.chars().skip(n - back));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_keep_little_of_the_secret() {
        assert_eq!(mask(""), "");
        assert_eq!(mask("abc"), "***");
        assert_eq!(mask("12345678"), "12*****8");
        assert_eq!(
            mask("sk-proj-abcdefghijklmnopqrstuvwxyz"),
            "sk-p****************yz"
        );
        assert_eq!(mask("ééééééééé"), "éé******é");
    }

    #[test]
    fn findings_serialise_as_the_cli_json_line() {
        let f = Finding::new(
            "aws-access-key",
            3,
            23,
            Confidence::High,
            "AKIAIOSFODNN7EXAMPLE",
        );
        let json = serde_json::to_string(&f).unwrap();
        assert_eq!(
            json,
            r#"{"detector":"aws-access-key","start":3,"end":23,"confidence":"high","snippet":"AKIA**************LE"}"#
        );
    }

    struct Always;
    impl DlpScanner for Always {
        fn scan(&self, profile: &str, text: &str) -> Vec<Finding> {
            vec![Finding::new(profile, 0, text.len(), Confidence::Low, text)]
        }
    }

    #[test]
    fn scanner_is_object_safe() {
        let s: &dyn DlpScanner = &Always;
        assert_eq!(s.scan("default", "secret-value").len(), 1);
    }
}
