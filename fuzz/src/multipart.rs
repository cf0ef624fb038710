//! `multipart/form-data` uploads: text fields, and file parts through the extractor.

use proxy::inspect::{extract_text, Extracted};

/// Extracts the text of a multipart `body` with `boundary`. Text comes only from the body's
/// own bytes or from file parts, each within the extractor's output limit. The body's bytes
/// can appear twice (the parts' text, and the raw body when the parts do not account for all
/// of it) and decoding invalid UTF-8 lossily turns a byte into at most 3, so the text is
/// bounded by six times the body plus separators, plus one limit per part; no part is named
/// more than once.
pub fn multipart(boundary: &str, body: &[u8]) -> Extracted {
    let content_type = format!("multipart/form-data; boundary={boundary}");
    let out = extract_text(&content_type, body, &[]);
    let delimiter = format!("--{}", boundary.trim().trim_matches('"'));
    let parts = if delimiter.len() > 2 {
        count(body, delimiter.as_bytes())
    } else {
        body.len()
    };
    let per_part = extract::Limits::default().max_output_bytes as usize;
    assert!(
        out.text.len() <= 6 * body.len() + 2 + parts * (per_part + 1),
        "{} bytes of text from a {}-byte body with {parts} parts",
        out.text.len(),
        body.len()
    );
    assert!(out.file_names.len() <= parts);
    out
}

fn count(haystack: &[u8], needle: &[u8]) -> usize {
    haystack
        .windows(needle.len())
        .filter(|w| *w == needle)
        .count()
}
