//! Redaction: the text with every finding's span replaced by `[REDACTED:detector]`, what the
//! `redact` action forwards upstream. Overlapping spans merge into one marker (named after the
//! first); spans are widened to character boundaries and clamped to the text, so a bad offset
//! can only hide more, never leak a partial character or panic.

use super::finding::Finding;

/// `text` with each finding's span replaced by `[REDACTED:<detector>]`.
pub fn redact(text: &str, findings: &[Finding]) -> String {
    let mut spans: Vec<(usize, usize, &str)> = findings
        .iter()
        .filter(|f| f.start < f.end)
        .map(|f| (floor(text, f.start), ceil(text, f.end), &*f.detector))
        .collect();
    spans.sort_by_key(|s| (s.0, std::cmp::Reverse(s.1)));
    let mut out = String::with_capacity(text.len());
    let mut pos = 0;
    for (start, end, detector) in spans {
        if end <= pos {
            continue; // inside the span just redacted
        }
        if start >= pos {
            out.push_str(&text[pos..start]);
            out.push_str("[REDACTED:");
            out.push_str(detector);
            out.push(']');
        }
        pos = end;
    }
    out.push_str(&text[pos.min(text.len())..]);
    out
}

fn floor(text: &str, mut i: usize) -> usize {
    i = i.min(text.len());
    while !text.is_char_boundary(i) {
        i -= 1;
    }
    i
}

fn ceil(text: &str, mut i: usize) -> usize {
    i = i.min(text.len());
    while !text.is_char_boundary(i) {
        i += 1;
    }
    i
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::finding::{Confidence, Finding};

    fn f(d: &'static str, s: usize, e: usize) -> Finding {
        Finding::new(d, s, e, Confidence::High, "x")
    }

    #[test]
    fn spans_become_markers() {
        let t = "card 4111 and key AKIA0000 end";
        let out = redact(t, &[f("aws_access_key_id", 18, 26), f("credit_card", 5, 9)]);
        assert_eq!(
            out,
            "card [REDACTED:credit_card] and key [REDACTED:aws_access_key_id] end"
        );
        assert_eq!(redact(t, &[]), t);
    }

    #[test]
    fn overlaps_merge_and_bad_offsets_widen() {
        let t = "abcdefghij";
        assert_eq!(redact(t, &[f("a", 2, 6), f("b", 4, 8)]), "ab[REDACTED:a]ij");
        assert_eq!(redact(t, &[f("a", 0, 10), f("b", 3, 4)]), "[REDACTED:a]");
        assert_eq!(redact(t, &[f("a", 8, 99)]), "abcdefgh[REDACTED:a]");
        let u = "né 1234";
        assert_eq!(redact(u, &[f("x", 2, 3)]), "n[REDACTED:x] 1234");
    }
}
