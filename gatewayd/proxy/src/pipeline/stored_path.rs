//! The path that an event (`http_events.path`) and the transaction log keep: what any DLP
//! detector of the deployment's profiles finds in it is masked first (`/backend-api/4556
//! **********55`), so a secret sent in a URL path is never stored or logged in full, whether
//! or not a rule scanned the request. The path is read one segment a line, as the proxy's
//! scan reads it; when only its percent-decoded form holds a finding, the decoded form is
//! kept, masked. Policy decisions saw the path as it was: this runs in the log phase only.
//!
//! Must never return a path holding a detected secret in full, and never fails: a scan that
//! cannot run leaves the path as it is only when there is nothing a detector could read.

use std::borrow::Cow;

use dlp::{mask, DlpEngine};

use crate::inspect::percent_decode;

/// Shorter paths hold nothing a detector finds (the shortest is a 9-digit id).
const MIN_LEN: usize = 9;

/// `path` with every finding masked; borrowed when there is none.
pub(crate) fn masked<'a>(dlp: &DlpEngine, path: &'a str) -> Cow<'a, str> {
    if path.len() < MIN_LEN {
        return Cow::Borrowed(path);
    }
    let found = findings(dlp, path);
    if !found.is_empty() {
        return Cow::Owned(apply(path, &found));
    }
    if path.contains('%') {
        let decoded = percent_decode(path.as_bytes(), false);
        let found = findings(dlp, &decoded);
        if !found.is_empty() {
            return Cow::Owned(apply(&decoded, &found));
        }
    }
    Cow::Borrowed(path)
}

/// The spans of `path` any profile's detectors find, sorted, overlaps merged.
fn findings(dlp: &DlpEngine, path: &str) -> Vec<(usize, usize)> {
    // Same length, same offsets: each segment on its own line.
    let lines = path.replace('/', "\n");
    let names: Vec<&str> = dlp.profile_names().collect();
    let mut spans: Vec<(usize, usize)> = match dlp.scan_profiles(&names, &lines) {
        Ok(results) => results
            .iter()
            .flat_map(|r| r.findings.iter().map(|f| (f.start, f.end)))
            .collect(),
        // Every name came from the engine itself; nothing to mask by if it fails anyway.
        Err(_) => Vec::new(),
    };
    spans.sort_unstable();
    let mut merged: Vec<(usize, usize)> = Vec::with_capacity(spans.len());
    for (start, end) in spans {
        match merged.last_mut() {
            Some(last) if start <= last.1 => last.1 = last.1.max(end),
            _ => merged.push((start, end)),
        }
    }
    merged
}

/// `path` with each span replaced by its mask (`*` where a span does not fall on characters).
fn apply(path: &str, spans: &[(usize, usize)]) -> String {
    let mut out = String::with_capacity(path.len());
    let mut from = 0;
    for &(start, end) in spans {
        out.push_str(path.get(from..start).unwrap_or_default());
        match path.get(start..end) {
            Some(secret) => out.push_str(&mask(secret)),
            None => out.push('*'),
        }
        from = end;
    }
    out.push_str(path.get(from..).unwrap_or_default());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_in_a_path_are_masked_and_clean_paths_kept() {
        let dlp = DlpEngine::shipped().unwrap();
        let kept = "/backend-api/conversation/6f1c2a9e-1234-4abc-9def-0123456789ab";
        assert!(matches!(masked(&dlp, kept), Cow::Borrowed(_)));
        let m = masked(&dlp, "/backend-api/4556737586899855/x");
        assert!(!m.contains("4556737586899855") && m.starts_with("/backend-api/4556"));
        assert!(m.ends_with("/x"), "{m}");
        let m = masked(&dlp, "/a/4556%207375%208689%209855");
        assert!(!m.contains("7375 8689"), "{m}");
        let m = masked(&dlp, "/a/4556/7375/8689/9855");
        assert!(!m.contains("7375/8689"), "{m}");
        assert_eq!(masked(&dlp, "/"), "/");
    }
}
