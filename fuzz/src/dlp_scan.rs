//! The DLP scan over prompt and upload text: every shipped profile, every detector.

use std::collections::HashMap;
use std::sync::LazyLock;

use dlp::{finding_patterns, DlpEngine, Finding};
use regex::bytes::{Regex, RegexBuilder};

struct Reference {
    engine: DlpEngine,
    /// Each built-in detector's reference pattern, by detector id.
    patterns: HashMap<&'static str, Regex>,
}

static REFERENCE: LazyLock<Reference> = LazyLock::new(|| Reference {
    engine: DlpEngine::shipped().unwrap_or_else(|e| panic!("shipped DLP engine: {e}")),
    patterns: finding_patterns()
        .into_iter()
        .map(|(id, pattern)| {
            let regex = RegexBuilder::new(&pattern)
                .unicode(false)
                .size_limit(1 << 23)
                .build()
                .unwrap_or_else(|e| panic!("{id}: {e}"));
            (id, regex)
        })
        .collect(),
});

/// Scans `text` with every shipped profile. Each finding lies inside the text on character
/// boundaries, never shows a long secret in full in its snippet, and holds a match of its
/// detector's reference pattern (`dlp::finding_patterns`): the fast scanners find
/// nothing the specification does not.
/// Returns the findings of all profiles.
pub fn dlp_scan(text: &str) -> Vec<Finding> {
    let reference = &*REFERENCE;
    let mut all = Vec::new();
    let names: Vec<&str> = reference.engine.profile_names().collect();
    for profile in names {
        let result = match reference.engine.scan_profile(profile, text) {
            Ok(result) => result,
            // Encodings nested past the decode depth or budget: the caller refuses the text.
            Err(dlp::DlpError::Unscannable(_)) => continue,
            Err(e) => panic!("{profile}: {e}"),
        };
        for finding in result.findings {
            check(reference, text, &finding);
            all.push(finding);
        }
    }
    all
}

fn check(reference: &Reference, text: &str, f: &Finding) {
    assert!(
        f.start < f.end && f.end <= text.len(),
        "{f:?} outside {} bytes",
        text.len()
    );
    assert!(
        text.is_char_boundary(f.start) && text.is_char_boundary(f.end),
        "{f:?}"
    );
    let secret = &text[f.start..f.end];
    if secret.len() >= 16 {
        assert!(
            !f.snippet.as_str().contains(secret),
            "{f:?} shows the secret"
        );
    }
    if f.detector == "source_code" {
        return; // weighed from whole lines; no pattern specifies it
    }
    let Some(pattern) = reference.patterns.get(f.detector.as_ref()) else {
        panic!("{} has no reference pattern", f.detector);
    };
    // A scan reads text without its invisible characters (zero-width spaces between a card's
    // digits) and with other digits folded: the span holds them, the pattern is matched
    // against what the scan read. A base64 run is matched by what it decodes to.
    let read = dlp::visible(secret);
    let decoded = dlp::decoded(secret).map(|d| dlp::visible(&d).into_owned());
    assert!(
        pattern.is_match(read.as_bytes())
            || decoded.is_some_and(|d| pattern.is_match(d.as_bytes())),
        "{} found {secret:?} at {}..{}, which holds no match of its reference pattern",
        f.detector,
        f.start,
        f.end
    );
}
