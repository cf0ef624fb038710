//! An index of a PDF's object bodies by object number, from the file itself (`N G obj ...`)
//! and from decoded object streams (`/Type /ObjStm`), so fonts can be followed to their
//! ToUnicode CMaps. Bodies are borrowed slices; the first definition of a number wins.

use std::collections::HashMap;

use super::syntax::{find, integer, is_delimiter, is_space, object_number_before, skip_space, value_of};

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
        let mut numbered: Vec<(u32, &'a [u8])> = self.bodies.iter().map(|(n, b)| (*n, *b)).collect();
        numbered.sort_unstable_by_key(|(n, _)| *n);
        numbered.into_iter().map(|(_, b)| b).collect()
    }

    /// Indexes every `N G obj` in `pdf`; a body ends at `endobj` or `stream`.
    pub(crate) fn add_file(&mut self, pdf: &'a [u8]) {
        let mut from = 0;
        while let Some(at) = find(pdf, b"obj", from) {
            from = at + 3;
            let before = at > 0 && is_space(pdf[at - 1]);
            let after = pdf.get(at + 3).is_none_or(|&b| is_space(b) || is_delimiter(b));
            if !before || !after {
                continue;
            }
            let Some(number) = object_number_before(pdf, at + 3) else {
                continue;
            };
            let start = at + 3;
            let limit = pdf.len().min(start + MAX_BODY);
            let window = &pdf[start..limit];
            let end = [find(window, b"endobj", 0), find(window, b"stream", 0)]
                .into_iter()
                .flatten()
                .min()
                .unwrap_or(window.len());
            self.bodies.entry(number).or_insert(&window[..end]);
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
        let mut pairs = Vec::new();
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
        for (i, &(number, offset)) in pairs.iter().enumerate() {
            let next = pairs.get(i + 1).map_or(data.len() as u64, |p| p.1 + first as u64);
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
