//! An index of a PDF's object bodies by object number, from the file itself (`N G obj ...`)
//! and from decoded object streams (`/Type /ObjStm`), so fonts can be followed to their
//! ToUnicode CMaps. Bodies are borrowed slices; the first definition of a number wins.

use std::collections::HashMap;

use super::syntax::{
    find, integer, is_delimiter, is_space, object_number_before, skip_space, value_of,
};

/// Longest object body indexed (dictionaries are small; anything longer is cut).
const MAX_BODY: usize = 64 * 1024;

/// Object bodies by number.
#[derive(Default)]
pub(crate) struct Objects<'a> {
    bodies: HashMap<u32, &'a [u8]>,
}

impl<'a> Objects<'a> {
    pub(crate) fn get(&self, number: u32) -> Option<&'a [u8]> {
        self.bodies.get(&number).copied()
    }

    /// All bodies, in object-number order (so that "first wins" is deterministic).
    pub(crate) fn bodies(&self) -> Vec<&'a [u8]> {
        let mut numbered: Vec<(u32, &'a [u8])> =
            self.bodies.iter().map(|(n, b)| (*n, *b)).collect();
        numbered.sort_unstable_by_key(|(n, _)| *n);
        numbered.into_iter().map(|(_, b)| b).collect()
    }

    /// Indexes every `N G obj` in `pdf`; a body ends at `endobj`, `stream` or the next
    /// object header, whichever comes first, so bodies never overlap and indexing (and every
    /// later scan of the bodies) stays linear in the file's size.
    pub(crate) fn add_file(&mut self, pdf: &'a [u8]) {
        let headers = object_headers(pdf);
        let mut endobj = NextMatch::new(b"endobj");
        let mut stream = NextMatch::new(b"stream");
        for (i, &(number, start)) in headers.iter().enumerate() {
            let next_header = headers.get(i + 1).map_or(pdf.len(), |h| h.1);
            let end = [
                endobj.at_or_after(pdf, start),
                stream.at_or_after(pdf, start),
                Some(next_header),
                Some(start.saturating_add(MAX_BODY)),
            ]
            .into_iter()
            .flatten()
            .min()
            .unwrap_or(pdf.len())
            .clamp(start, pdf.len());
            self.bodies.entry(number).or_insert(&pdf[start..end]);
        }
    }

    /// Indexes the objects of a decoded object stream with dictionary `dict`.
    pub(crate) fn add_object_stream(&mut self, dict: &[u8], data: &'a [u8]) {
        let Some(first) = value_of(dict, b"First").and_then(|at| integer(dict, at)) else {
            return;
        };
        let Some(count) = value_of(dict, b"N").and_then(|at| integer(dict, at)) else {
            return;
        };
        let Ok(first) = usize::try_from(first.0) else {
            return;
        };
        let Some(header) = data.get(..first) else {
            return;
        };
        let mut pairs: Vec<(u64, u64)> = Vec::new();
        let mut at = 0;
        for _ in 0..count.0.min(1 << 20) {
            let Some((number, end)) = integer(header, skip_space(header, at)) else {
                break;
            };
            let Some((offset, end)) = integer(header, skip_space(header, end)) else {
                break;
            };
            pairs.push((number, offset));
            at = end;
        }
        // Sorted by offset, each body ends where the next begins: bodies never overlap, whatever
        // offsets the stream claims.
        pairs.sort_unstable_by_key(|p| p.1);
        for (i, &(number, offset)) in pairs.iter().enumerate() {
            let next = pairs
                .get(i + 1)
                .map_or(data.len() as u64, |p| p.1 + first as u64);
            let (Ok(number), Ok(start), Ok(end)) = (
                u32::try_from(number),
                usize::try_from(offset + first as u64),
                usize::try_from(next),
            ) else {
                continue;
            };
            if let Some(body) = data.get(start..end.min(start.saturating_add(MAX_BODY))) {
                self.bodies.entry(number).or_insert(body);
            }
        }
    }
}

/// Every `N G obj` header in `pdf`: the object number and where its body starts.
fn object_headers(pdf: &[u8]) -> Vec<(u32, usize)> {
    let mut out = Vec::new();
    let mut from = 0;
    while let Some(at) = find(pdf, b"obj", from) {
        from = at + 3;
        let before = at > 0 && is_space(pdf[at - 1]);
        let after = pdf
            .get(at + 3)
            .is_none_or(|&b| is_space(b) || is_delimiter(b));
        if before && after {
            if let Some(number) = object_number_before(pdf, at + 3) {
                out.push((number, at + 3));
            }
        }
    }
    out
}

/// The next occurrence of a keyword at or after a moving position, searched again only once
/// the position passes it: amortised linear over a whole file.
struct NextMatch {
    needle: &'static [u8],
    /// `None`: not searched yet; `Some(None)`: no more occurrences.
    found: Option<Option<usize>>,
}

impl NextMatch {
    fn new(needle: &'static [u8]) -> Self {
        Self {
            needle,
            found: None,
        }
    }

    fn at_or_after(&mut self, hay: &[u8], from: usize) -> Option<usize> {
        match self.found {
            Some(Some(at)) if at >= from => Some(at),
            Some(None) => None,
            _ => {
                let at = find(hay, self.needle, from);
                self.found = Some(at);
                at
            }
        }
    }
}
