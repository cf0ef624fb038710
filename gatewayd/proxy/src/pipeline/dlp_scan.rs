//! Scanning a request's text with the profiles its verdict names, recording what fired as
//! [`DlpHit`]s, and deciding again with the profiles that matched.
//!
//! A scan that cannot run is never taken for a clean one: it refuses the request.

use dlp::ProfileResult;
use policies::{StatusBook, Verdict};

use super::context::{ConnectionContext, DlpHit, RequestContext};
use super::decide;
use super::inspection::unscannable_refusal;
use crate::respond::Refusal;

/// At most this many distinct masked snippets are kept per request.
const MAX_SNIPPETS: usize = 16;

/// Scans `text` with every profile the verdict names, records what matched, and decides
/// again with the results; a blocking second verdict becomes the refusal.
pub(super) fn scan(
    conn: &ConnectionContext,
    ctx: &mut RequestContext,
    book: &StatusBook,
    verdict: &Verdict,
    text: &str,
) -> Result<Verdict, Refusal> {
    let profiles: Vec<&str> = verdict.profiles_to_scan().collect();
    let results = match conn.snapshot.dlp.scan_profiles(&profiles, text) {
        Ok(results) => results,
        Err(error) => {
            // Fail closed: a scan that cannot run is not a clean scan.
            ctx.inspection.unscanned = Some(error.to_string());
            return Err(unscannable_refusal(ctx, &error.to_string()));
        }
    };
    ctx.inspection.hits = hits(&results);
    if let Some(fingerprints) = conn.gateway.key_fingerprints.get() {
        link_keys(&mut ctx.inspection.hits, &results, text, fingerprints);
    }
    let matched: Vec<String> = results
        .iter()
        .filter(|r| r.matched)
        .map(|r| r.profile.clone())
        .collect();
    ctx.inspection.matched_profiles = matched.clone();
    let second = decide::decide(conn, ctx, book, Some(&matched));
    decide::apply(conn, ctx, &second)?;
    Ok(second)
}

/// One hit per detector that fired under any profile, sorted by detector id: the highest
/// count among the profiles, the confidence the last profile reported, and the detector's
/// first snippet among the first [`MAX_SNIPPETS`] distinct ones.
pub(super) fn hits(results: &[ProfileResult]) -> Vec<DlpHit> {
    let mut hits: Vec<DlpHit> = Vec::new();
    for count in results.iter().flat_map(|r| &r.counts) {
        let found = u32::try_from(count.count).unwrap_or(u32::MAX);
        match hits.binary_search_by(|h| h.detector.as_str().cmp(&count.detector)) {
            Ok(at) => {
                let hit = &mut hits[at];
                hit.count = hit.count.max(found);
                hit.max_confidence = count.max_confidence;
            }
            Err(at) => hits.insert(
                at,
                DlpHit {
                    detector: count.detector.clone(),
                    count: found,
                    max_confidence: count.max_confidence,
                    snippet: None,
                    key_fingerprint: None,
                },
            ),
        }
    }
    let mut kept: Vec<(&str, String)> = Vec::new();
    for finding in results.iter().flat_map(|r| &r.findings) {
        if kept.len() >= MAX_SNIPPETS {
            break;
        }
        let snippet = finding.snippet.to_string();
        if kept
            .iter()
            .any(|(d, s)| *d == finding.detector && *s == snippet)
        {
            continue;
        }
        if let Ok(at) = hits.binary_search_by(|h| h.detector.as_str().cmp(&finding.detector)) {
            hits[at].snippet.get_or_insert_with(|| snippet.clone());
        }
        kept.push((&finding.detector, snippet));
    }
    hits
}

/// The DLP detectors whose matches are AI API keys (the ones the key inventory sees).
const AI_KEY_DETECTORS: [&str; 5] = [
    "openai_api_key",
    "anthropic_api_key",
    "google_api_key",
    "huggingface_token",
    "aws_access_key_id",
];

/// Gives each AI key detector's hit the fingerprint of its first match, so a key pasted into
/// a prompt links to the inventory. The match is read in place and only hashed.
fn link_keys(
    hits: &mut [DlpHit],
    results: &[ProfileResult],
    text: &str,
    fingerprints: &crate::inspect::credentials::KeyFingerprints,
) {
    for finding in results.iter().flat_map(|r| &r.findings) {
        if !AI_KEY_DETECTORS.contains(&finding.detector.as_ref()) {
            continue;
        }
        let Ok(at) = hits.binary_search_by(|h| h.detector.as_str().cmp(&finding.detector)) else {
            continue;
        };
        if hits[at].key_fingerprint.is_some() {
            continue;
        }
        if let Some(value) = text.get(finding.start..finding.end) {
            hits[at].key_fingerprint = Some(fingerprints.fingerprint(value));
        }
    }
}

/// Adds `more` to `into`, one hit per detector (the higher count, the first snippet), sorted.
pub(super) fn merge_hits(into: &mut Vec<DlpHit>, more: Vec<DlpHit>) {
    for hit in more {
        match into.binary_search_by(|h| h.detector.cmp(&hit.detector)) {
            Ok(at) => {
                let kept = &mut into[at];
                kept.count = kept.count.max(hit.count);
                kept.max_confidence = kept.max_confidence.max(hit.max_confidence);
                if kept.snippet.is_none() {
                    kept.snippet = hit.snippet;
                }
                if kept.key_fingerprint.is_none() {
                    kept.key_fingerprint = hit.key_fingerprint;
                }
            }
            Err(at) => into.insert(at, hit),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn result(profile: &str, text: &str) -> ProfileResult {
        dlp::DlpEngine::shipped()
            .unwrap()
            .scan_profile(profile, text)
            .unwrap()
    }

    #[test]
    fn one_hit_per_detector_with_its_first_snippet() {
        let text = "card 4111 1111 1111 1111 and 5500 0000 0000 0004, mail a@example.com";
        let results = [
            result("financial", text),
            result("pii", text),
            result("default", text),
        ];
        let hits = hits(&results);
        let mut ids: Vec<&str> = hits.iter().map(|h| h.detector.as_str()).collect();
        let sorted = {
            let mut s = ids.clone();
            s.sort();
            s
        };
        assert_eq!(ids, sorted, "sorted by detector id");
        ids.dedup();
        assert_eq!(ids.len(), hits.len(), "one hit per detector");
        for hit in &hits {
            let first = results
                .iter()
                .flat_map(|r| &r.findings)
                .find(|f| f.detector == hit.detector)
                .map(|f| f.snippet.to_string());
            assert_eq!(hit.snippet, first, "{}", hit.detector);
            let max = results
                .iter()
                .flat_map(|r| &r.counts)
                .filter(|c| c.detector == hit.detector)
                .map(|c| c.count as u32)
                .max();
            assert_eq!(Some(hit.count), max);
        }
        assert!(hits.iter().any(|h| h.snippet.is_some()), "{hits:?}");
    }
}
