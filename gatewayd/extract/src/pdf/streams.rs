//! Finding the streams of a PDF by scanning for the `stream` keyword, the way damaged-file
//! recovery does: no cross-reference table is trusted. Each stream comes with its dictionary,
//! its object number when known, and its raw (still encoded) bytes.

use super::syntax::{
    find, integer, is_space, object_number_before, reference, skip_space, value_of,
};

/// Longest dictionary looked for before a `stream` keyword.
const MAX_DICT_BYTES: usize = 64 * 1024;

/// One stream as found in the file.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RawStream<'a> {
    /// The `N` of `N 0 obj`, when the header is right before the dictionary.
    pub(crate) object: Option<u32>,
    /// The stream dictionary, `<<` to `>>`.
    pub(crate) dict: &'a [u8],
    /// The encoded stream bytes.
    pub(crate) data: &'a [u8],
}

/// Iterates over the streams of `pdf`.
pub(crate) struct Streams<'a> {
    pdf: &'a [u8],
    at: usize,
}

pub(crate) fn streams(pdf: &[u8]) -> Streams<'_> {
    Streams { pdf, at: 0 }
}

impl<'a> Iterator for Streams<'a> {
    type Item = RawStream<'a>;

    fn next(&mut self) -> Option<RawStream<'a>> {
        let pdf = self.pdf;
        loop {
            let keyword = find(pdf, b"stream", self.at)?;
            let floor = self.at;
            self.at = keyword + 6;
            if keyword >= 3 && &pdf[keyword - 3..keyword] == b"end" {
                continue;
            }
            let start = match pdf.get(keyword + 6..keyword + 8) {
                Some(b"\r\n") => keyword + 8,
                Some([b'\n' | b'\r', ..]) => keyword + 7,
                _ => continue,
            };
            let Some(dict) = dict_before(pdf, floor, keyword) else {
                continue;
            };
            let end = data_end(pdf, dict.clone(), start);
            self.at = end.max(self.at);
            let object = object_number_before(pdf, dict.start);
            return Some(RawStream {
                object,
                dict: &pdf[dict],
                data: &pdf[start..end],
            });
        }
    }
}

/// The `<< ... >>` that ends (white space aside) right before `keyword`, not reaching back
/// before `floor`.
fn dict_before(pdf: &[u8], floor: usize, keyword: usize) -> Option<std::ops::Range<usize>> {
    let mut end = keyword;
    while end > floor && is_space(pdf[end - 1]) {
        end -= 1;
    }
    if end < floor + 2 || &pdf[end - 2..end] != b">>" {
        return None;
    }
    let lowest = floor.max(end.saturating_sub(MAX_DICT_BYTES));
    let mut depth = 0usize;
    let mut at = end;
    while at >= lowest + 2 {
        match &pdf[at - 2..at] {
            b">>" => {
                depth += 1;
                at -= 2;
            }
            b"<<" => {
                depth -= 1;
                at -= 2;
                if depth == 0 {
                    return Some(at..end);
                }
            }
            _ => at -= 1,
        }
    }
    None
}

/// Where the stream data starting at `start` ends: by its direct `/Length` when that lands on
/// `endstream`, else at the next `endstream` (or the end of the file).
fn data_end(pdf: &[u8], dict: std::ops::Range<usize>, start: usize) -> usize {
    let dict_bytes = &pdf[dict];
    if let Some(at) = value_of(dict_bytes, b"Length") {
        if reference(dict_bytes, at).is_none() {
            if let Some((len, _)) = integer(dict_bytes, at) {
                if let Some(end) = usize::try_from(len).ok().and_then(|l| start.checked_add(l)) {
                    let after = skip_space(pdf, end);
                    if end <= pdf.len() && pdf.get(after..after + 9) == Some(b"endstream") {
                        return end;
                    }
                }
            }
        }
    }
    match find(pdf, b"endstream", start) {
        Some(mut end) => {
            // The end-of-line before `endstream` is not part of the data.
            if end > start && pdf[end - 1] == b'\n' {
                end -= 1;
            }
            if end > start && pdf[end - 1] == b'\r' {
                end -= 1;
            }
            end
        }
        None => pdf.len(),
    }
}
