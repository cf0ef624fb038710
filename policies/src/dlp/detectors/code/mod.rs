//! `source_code`: segments of text that are code in a common language (Python, JS/TS, Java,
//! C/C++, Go, Rust, SQL, shell). Each line is classified by [`line::classify`]; a segment runs
//! from a code line while no more than [`MAX_GAP`] prose lines interrupt it, and is scored by
//! how many code lines it has and what share of its lines they are:
//! high = at least 8 code lines and 70 %, medium = 4 and 60 %, low = 2 and 50 %.
//! A two-line snippet in a question is low; a pasted function is medium or high.

mod line;

use super::super::detector::Detector::SourceCode;
use super::super::finding::Confidence;
use super::super::scan::Cx;
use line::{classify, Line};

/// Prose lines a segment survives (a sentence between two blocks of one paste).
pub(crate) const MAX_GAP: usize = 2;

/// The segment being read.
#[derive(Debug, Default)]
struct Segment {
    open: bool,
    start: usize,
    end: usize,
    code: usize,
    prose: usize,
    /// Prose lines since the last code line: counted in only if code follows.
    gap: usize,
}

impl Segment {
    fn feed(&mut self, cx: &mut Cx<'_>, kind: Line, start: usize, end: usize) {
        match kind {
            Line::Code => {
                if !self.open {
                    *self = Segment { open: true, start, ..Segment::default() };
                }
                self.code += 1;
                self.prose += self.gap;
                self.gap = 0;
                self.end = end;
            }
            Line::Prose if self.open => {
                self.gap += 1;
                if self.gap > MAX_GAP {
                    self.close(cx);
                }
            }
            _ => {}
        }
    }

    fn close(&mut self, cx: &mut Cx<'_>) {
        if self.open {
            if let Some(c) = confidence(self.code, self.prose) {
                cx.found_fixed(SourceCode, self.start, self.end, c);
            }
        }
        *self = Segment::default();
    }
}

/// The confidence for a segment of `code` code lines and `prose` prose lines between them.
fn confidence(code: usize, prose: usize) -> Option<Confidence> {
    let total = code + prose;
    let share = |pct: usize| code * 100 >= pct * total;
    if code >= 8 && share(70) {
        Some(Confidence::High)
    } else if code >= 4 && share(60) {
        Some(Confidence::Medium)
    } else if code >= 2 && share(50) {
        Some(Confidence::Low)
    } else {
        None
    }
}

/// Scores every line of `cx.text` and records the code segments.
pub(crate) fn scan(cx: &mut Cx<'_>) {
    let text = cx.text;
    let mut seg = Segment::default();
    let mut start = 0;
    for nl in memchr::memchr_iter(b'\n', text).chain(std::iter::once(text.len())) {
        let line = &text[start..nl];
        let end = if line.ends_with(b"\r") { nl - 1 } else { nl };
        seg.feed(cx, classify(line, seg.open), start, end);
        start = nl + 1;
    }
    seg.close(cx);
}

#[cfg(test)]
mod tests {
    use super::super::super::detector::Detector;
    use super::super::tests_support::found;
    use super::*;

    const PY: &str = "def mean(xs):\n    total = 0\n    for x in xs:\n        total += x\n    return total / len(xs)\n";

    #[test]
    fn a_pasted_function_is_one_segment() {
        let text = format!("Why is this slow?\n\n{PY}\nThanks!");
        let hits = found(&text, Detector::SourceCode);
        assert_eq!(hits.len(), 1);
        let (s, e, c) = hits[0];
        assert_eq!(&text[s..e], PY.trim_end());
        assert_eq!(c, "medium");
    }

    #[test]
    fn shares_and_sizes_set_confidence() {
        assert_eq!(confidence(8, 3), Some(Confidence::High));
        assert_eq!(confidence(8, 4), Some(Confidence::Medium));
        assert_eq!(confidence(2, 2), Some(Confidence::Low));
        assert_eq!(confidence(1, 0), None);
        assert_eq!(confidence(3, 4), None);
    }

    #[test]
    fn prose_is_not_code() {
        let prose = "The meeting moved to Thursday.\nPlease bring the quarterly numbers.\nWe will discuss hiring, the budget and the offsite.\n";
        assert!(found(prose, Detector::SourceCode).is_empty());
    }

    #[test]
    fn long_gaps_split_segments() {
        let text = format!("{PY}One more line of prose.\nTwo more words here.\nThree words here now.\n{PY}");
        assert_eq!(found(&text, Detector::SourceCode).len(), 2);
    }
}
