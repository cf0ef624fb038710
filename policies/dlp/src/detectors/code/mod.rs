//! `source_code`: segments of text that are code in a common language (Python, JS/TS, Java,
//! C/C++, Go, Rust, SQL, shell). Each line is classified by [`line::classify`]; a segment runs
//! from a code line while no more than [`MAX_GAP`] prose lines interrupt it, and is scored by
//! how many code lines it has and what share of its lines they are:
//! high = at least 8 code lines and 70 %, medium = 4 and 60 %, low = 2 and 50 %.
//! A two-line snippet in a question is low, unless it is dense in operators and brackets (a
//! one-line arrow function or enum, see `density::short_fragment_is_code`): then medium; a
//! pasted function is medium or high. Inside a block opened by a line ending in `{`, a lone
//! member line (`Trace,`, `LINK_UP,`) counts as code: enums and initialisers are made of them.

mod density;
mod keywords;
mod line;

use crate::byteset::{Bits, NEWLINE};
use crate::detector::Detector::SourceCode;
use crate::finding::Confidence;
use crate::scan::Cx;
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
    /// The last code line opened a block (ends in `{`) or was a member of one.
    in_block: bool,
}

impl Segment {
    fn feed(&mut self, cx: &mut Cx<'_>, kind: Line, start: usize, end: usize) {
        let kind = if kind == Line::Neutral
            && self.in_block
            && line::is_member(cx.text[start..end].trim_ascii())
        {
            Line::Code
        } else {
            kind
        };
        match kind {
            Line::Code => {
                if !self.open {
                    *self = Segment {
                        open: true,
                        start,
                        ..Segment::default()
                    };
                }
                self.code += 1;
                self.prose += self.gap;
                self.gap = 0;
                self.end = end;
                let last = cx.text[start..end].trim_ascii_end().last().copied();
                self.in_block = last == Some(b'{') || (self.in_block && last == Some(b','));
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

    /// `n` code lines ending at `end`, counted without classifying them.
    fn add_code_lines(&mut self, n: usize, end: usize) {
        if self.open && n > 0 {
            self.code += n;
            self.prose += self.gap;
            self.gap = 0;
            self.end = end;
        }
    }

    fn close(&mut self, cx: &mut Cx<'_>) {
        if self.open {
            let mut c = confidence(self.code, self.prose);
            if c < Some(Confidence::Medium)
                && self.code <= 3
                && self.end - self.start <= FRAGMENT_MAX
                && density::short_fragment_is_code(&cx.text[self.start..self.end])
            {
                c = Some(Confidence::Medium);
            }
            if let Some(c) = c {
                cx.found_fixed(SourceCode, self.start, self.end, c);
            }
        }
        *self = Segment::default();
    }
}

/// Longest span a short fragment is judged on as a whole (three long lines).
const FRAGMENT_MAX: usize = 512;

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

/// Scores every line of `cx.text` and records the code segments. The text is read in blocks
/// of about [`BLOCK`] bytes (whole lines); a block dense in `(`, `;` and `=` with short lines is
/// code through and through, and only its first lines are classified (to place the segment's
/// start) before all its lines are counted as code at once; a block with none of the bytes
/// code lines are made of (quiet: most prose) has only its keyword-led lines classified.
pub(crate) fn scan(cx: &mut Cx<'_>) {
    let text = cx.text;
    let mut seg = Segment::default();
    let mut pos = 0;
    while pos < text.len() {
        let end = memchr::memchr(b'\n', text.get(pos + BLOCK..).unwrap_or_default())
            .map_or(text.len(), |i| pos + BLOCK + i + 1);
        let block = &text[pos..end];
        // Without a mark byte there is no `(`, `;` or `=` either: not dense, and quiet.
        if !density::has_mark(block) {
            lines(cx, &mut seg, pos, end, true);
        } else {
            let (code_bytes, newlines) = crate::byteset::code_counts(block);
            if density::is_dense_code(code_bytes, newlines, block.len()) {
                dense_block(cx, &mut seg, pos, end, newlines);
            } else {
                lines(cx, &mut seg, pos, end, false);
            }
        }
        pos = end;
    }
    seg.close(cx);
}

/// Blocks are this long, give or take a line.
const BLOCK: usize = 4096;

/// Classifies every line of `start..end` (which ends after a `\n` or at the end of the text).
///
/// `quiet`: the block holds none of the bytes of `density::is_mark`, so a line there is code
/// only when it starts with a keyword (`line::classify` has no other way to say code without
/// one of them). While no segment is open only code lines matter, so a line whose first word
/// is no keyword is passed over unread ([`line::may_be_quiet_code`]): most lines of prose.
fn lines(cx: &mut Cx<'_>, seg: &mut Segment, start: usize, end: usize, quiet: bool) {
    let text = cx.text;
    let start = if quiet && !seg.open {
        quiet_lines(cx, seg, start, end)
    } else {
        start
    };
    if start >= end {
        return;
    }
    let mut line_start = start;
    // The last line may have no `\n` (the end of the text).
    for nl in Newlines::new(text, start, end).chain((text[end - 1] != b'\n').then_some(end)) {
        let line = &text[line_start..nl];
        let from = line_start;
        line_start = nl + 1;
        if quiet && !seg.open && !line::may_be_quiet_code(line) {
            continue;
        }
        let line_end = if line.ends_with(b"\r") { nl - 1 } else { nl };
        seg.feed(cx, classify(line, seg.open), from, line_end);
    }
}

/// The positions of the newlines of `text[from..to]`, in order, from masks of 64 bytes: lines
/// are short, and a `memchr` call per line costs more than the line's mask.
struct Newlines<'t> {
    text: &'t [u8],
    /// The start of the chunk `mask` covers.
    chunk: usize,
    to: usize,
    /// Newlines of the chunk not yet returned.
    mask: Bits,
}

impl<'t> Newlines<'t> {
    fn new(text: &'t [u8], from: usize, to: usize) -> Self {
        let mask = Bits(if from < to {
            NEWLINE.mask_in(text, from, to.min(from + 64))
        } else {
            0
        });
        Newlines {
            text,
            chunk: from,
            to,
            mask,
        }
    }
}

impl Iterator for Newlines<'_> {
    type Item = usize;

    #[inline]
    fn next(&mut self) -> Option<usize> {
        loop {
            if let Some(k) = self.mask.next() {
                return Some(self.chunk + k);
            }
            self.chunk += 64;
            if self.chunk >= self.to {
                return None;
            }
            self.mask = Bits(NEWLINE.mask_in(self.text, self.chunk, self.to.min(self.chunk + 64)));
        }
    }
}

/// The lines of a quiet block while no segment is open: their starts come from a bit mask of
/// newlines per 64 bytes, and only a line whose first four bytes can start a keyword is read
/// to its end and classified. Returns where reading must go on line by line (the line after
/// one that opened a segment), or `end`.
fn quiet_lines(cx: &mut Cx<'_>, seg: &mut Segment, start: usize, end: usize) -> usize {
    let text = cx.text;
    let mut line_start = start;
    let mut chunk = start;
    // Newlines of `text[chunk..chunk + 64]` not yet passed.
    let mut newlines = Bits(NEWLINE.mask(&text[chunk..(chunk + 64).min(end)]));
    loop {
        // The line at `line_start` (a position after a newline, or the block's start).
        if line_start < end {
            let rest = text[line_start..end].trim_ascii_start();
            if keywords::may_start_keyword(rest) {
                let nl =
                    memchr::memchr(b'\n', &text[line_start..end]).map_or(end, |i| line_start + i);
                let line = &text[line_start..nl];
                if line::may_be_quiet_code(line) {
                    let line_end = if line.ends_with(b"\r") { nl - 1 } else { nl };
                    seg.feed(cx, classify(line, false), line_start, line_end);
                    if seg.open {
                        return (nl + 1).min(end);
                    }
                }
            }
        }
        // The next line start after `line_start`, from the newline masks.
        loop {
            if let Some(k) = newlines.next() {
                line_start = chunk + k + 1;
                break;
            }
            chunk += 64;
            if chunk >= end {
                return end;
            }
            newlines = Bits(NEWLINE.mask(&text[chunk..(chunk + 64).min(end)]));
        }
    }
}

/// A block dense in code bytes: its first lines are classified until [`PROBE`] of them were
/// code or prose (comments and blank lines say nothing), placing the segment's start and
/// guarding against prose full of equations; when those were code, the rest of the block
/// counts as code lines without being read one by one (`newlines`: the block's count, less
/// those of the lines read).
fn dense_block(cx: &mut Cx<'_>, seg: &mut Segment, mut start: usize, end: usize, newlines: usize) {
    let text = cx.text;
    let mut newlines_left = newlines;
    loop {
        let (mut code, mut prose) = (0, 0);
        let mut newlines = Newlines::new(text, start, end);
        // Comments and blank lines are read on: reading them here costs what `lines` would.
        while start < end && code + prose < PROBE {
            let nl = newlines.next().unwrap_or(end);
            let kind = classify(&text[start..nl], true);
            code += usize::from(kind == Line::Code);
            prose += usize::from(kind == Line::Prose);
            seg.feed(cx, kind, start, nl);
            newlines_left = newlines_left.saturating_sub(usize::from(nl < end));
            start = nl + 1;
        }
        if start >= end {
            return;
        }
        if code >= PROBE - 2 && prose <= 1 {
            let rest = &text[start..end];
            // Every test that reads a dense block holds the running count to a plain one.
            debug_assert_eq!(newlines_left, memchr::memchr_iter(b'\n', rest).count());
            let n = newlines_left + usize::from(!rest.ends_with(b"\n"));
            let last = start + rest.trim_ascii_end().len();
            seg.add_code_lines(n, last);
            return;
        }
        // Not code here (a table of strings, a long comment): read the next stretch line by
        // line, then probe again if enough of the block is left.
        let split = memchr::memchr(b'\n', text.get(start + RETRY..end).unwrap_or_default())
            .map_or(end, |i| start + RETRY + i + 1);
        lines(cx, seg, start, split, false);
        newlines_left =
            newlines_left.saturating_sub(memchr::memchr_iter(b'\n', &text[start..split]).count());
        start = split;
        if end - start < RETRY {
            return lines(cx, seg, start, end, false);
        }
    }
}

/// How much of a dense block is read line by line after a probe that did not find code.
const RETRY: usize = 1024;

/// Code or prose lines of a dense block read one by one before the rest is counted as code.
const PROBE: usize = 6;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detector::Detector;
    use crate::detectors::tests_support::found;

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

    /// The quiet path's premise: without a mark byte, a line that `classify` calls code starts
    /// with a keyword's first two bytes. Checked on prose, on the corpus's code with its mark
    /// bytes taken out (what is left is keyword and word lines), and on keyword-led lines.
    #[test]
    fn quiet_lines_are_code_only_after_a_keyword_prefix() {
        use crate::samples::{prose, SampleRng};
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/testdata/code");
        let mut texts = vec![prose(&mut SampleRng::new(3), 64 * 1024)];
        for entry in std::fs::read_dir(dir).unwrap() {
            let code = std::fs::read(entry.unwrap().path()).unwrap();
            let stripped: Vec<u8> = code
                .iter()
                .copied()
                .filter(|b| !density::is_mark(*b))
                .collect();
            texts.push(String::from_utf8_lossy(&stripped).into_owned());
        }
        texts.push(
            "import os\nfor x in xs:\nreturn total\n  def mean xs:\nSELECT id FROM t\nfn main\n\
             if ready then\nelse\npip install x\nfor us.\nwith care\n"
                .to_owned(),
        );
        let mut code_lines = 0;
        for text in &texts {
            for line in text.lines() {
                assert!(!density::has_mark(line.as_bytes()), "{line}");
                if classify(line.as_bytes(), false) == Line::Code {
                    code_lines += 1;
                    assert!(line::may_be_quiet_code(line.as_bytes()), "{line:?}");
                }
            }
        }
        assert!(code_lines > 50, "{code_lines}");
    }

    /// Reading a quiet block from newline masks finds the segments that classifying every
    /// line finds: keyword lines at every offset against the 64-byte chunks, short lines,
    /// CRLF, a block without a final newline.
    #[test]
    fn quiet_lines_match_reading_every_line() {
        use crate::detectors::tests_support::run_with;
        use crate::samples::{prose, SampleRng};
        let mut rng = SampleRng::new(8);
        let code = [
            "import os",
            "fi",
            "for x in xs:",
            "  return total",
            "else",
            "let",
            "do",
        ];
        for round in 0..200 {
            let mut text = prose(&mut rng, 300 + round * 7);
            for k in 0..(round % 6) {
                let at = text.floor_char_boundary((round * 37 + k * 101) % text.len());
                let at = text[..at].rfind('\n').map_or(0, |i| i + 1);
                let run: Vec<&str> = code
                    .iter()
                    .cycle()
                    .skip(round + k)
                    .take(2 + k % 3)
                    .copied()
                    .collect();
                let nl = if round % 4 == 0 { "\r\n" } else { "\n" };
                text.insert_str(at, &(run.join(nl) + nl));
            }
            if round % 3 == 0 {
                text = text.trim_end().to_owned();
            }
            assert!(!density::has_mark(text.as_bytes()));
            let end = text.len();
            let read = |quiet| {
                run_with(&text, Detector::SourceCode, |cx| {
                    let mut seg = Segment::default();
                    lines(cx, &mut seg, 0, end, quiet);
                    seg.close(cx);
                })
            };
            assert_eq!(read(true), read(false), "{text:?}");
        }
    }

    #[test]
    fn keyword_lines_in_quiet_prose_are_still_code() {
        let imports = "import os\nimport sys\nimport json\nimport re\nimport time\n";
        let text = format!("We moved the scripts over\nlast week and they run fine\n{imports}\nThanks for the help with all of it\n");
        assert!(!density::has_mark(text.as_bytes()));
        let hits = found(&text, Detector::SourceCode);
        assert_eq!(hits.len(), 1);
        assert_eq!(&text[hits[0].0..hits[0].1], imports.trim_end());
        assert_eq!(hits[0].2, "medium");
    }

    #[test]
    fn long_gaps_split_segments() {
        let text = format!(
            "{PY}One more line of prose.\nTwo more words here.\nThree words here now.\n{PY}"
        );
        assert_eq!(found(&text, Detector::SourceCode).len(), 2);
    }
}
