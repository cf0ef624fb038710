//! ToUnicode CMaps: how a font's character codes map to Unicode, for fonts whose codes are
//! glyph numbers (Identity-H, subset TrueType). Only the parts text extraction needs are read:
//! code space ranges (code lengths), `bfchar` and `bfrange`. Ranges are kept as ranges, never
//! expanded, so a CMap costs memory in proportion to its own size.

use std::collections::HashMap;

use super::syntax::{find, is_space};

/// A parsed ToUnicode CMap.
#[derive(Debug, Default, Clone)]
pub(crate) struct CMap {
    /// Code space ranges: byte length, low and high code.
    spaces: Vec<(usize, u32, u32)>,
    chars: HashMap<u32, String>,
    /// `lo..=hi` maps to `base` with its last UTF-16 unit advanced by `code - lo`.
    ranges: Vec<(u32, u32, Vec<u16>)>,
}

/// Whether decoded stream bytes are a CMap.
pub(crate) fn is_cmap(bytes: &[u8]) -> bool {
    find(bytes, b"begincmap", 0).is_some()
        || find(bytes, b"beginbfchar", 0).is_some()
        || find(bytes, b"beginbfrange", 0).is_some()
}

/// Most mappings kept from one CMap (a full Unicode font needs ~65k).
const MAX_MAPPINGS: usize = 1 << 17;

impl CMap {
    pub(crate) fn parse(bytes: &[u8]) -> Self {
        let mut map = CMap::default();
        for section in sections(bytes, b"begincodespacerange", b"endcodespacerange") {
            for pair in hex_tokens(section).chunks_exact(2) {
                let (lo, hi) = (&pair[0], &pair[1]);
                if (1..=4).contains(&lo.len()) && lo.len() == hi.len() {
                    map.spaces.push((lo.len(), be(lo), be(hi)));
                }
            }
        }
        for section in sections(bytes, b"beginbfchar", b"endbfchar") {
            for pair in hex_tokens(section).chunks_exact(2) {
                if map.chars.len() < MAX_MAPPINGS && pair[0].len() <= 4 {
                    map.chars.insert(be(&pair[0]), utf16(&pair[1]));
                }
            }
        }
        for section in sections(bytes, b"beginbfrange", b"endbfrange") {
            map.parse_ranges(section);
        }
        map.ranges.sort_by_key(|(lo, _, _)| *lo);
        map
    }

    fn parse_ranges(&mut self, section: &[u8]) {
        let mut at = 0;
        loop {
            let Some((lo, next)) = hex_token(section, at) else {
                return;
            };
            let Some((hi, next)) = hex_token(section, next) else {
                return;
            };
            let next = skip(section, next);
            let (lo, hi) = (be(&lo), be(&hi));
            if section.get(next) == Some(&b'[') {
                // An array: one destination per code.
                let mut at_item = next + 1;
                let mut code = lo;
                while let Some((dst, after)) = hex_token(section, at_item) {
                    if code > hi || self.chars.len() >= MAX_MAPPINGS {
                        break;
                    }
                    self.chars.insert(code, utf16(&dst));
                    code += 1;
                    at_item = after;
                }
                at = find(section, b"]", next).map_or(section.len(), |e| e + 1);
            } else {
                let Some((dst, after)) = hex_token(section, next) else {
                    return;
                };
                if lo <= hi && self.ranges.len() < MAX_MAPPINGS && !dst.is_empty() {
                    let units = dst
                        .chunks(2)
                        .map(|p| u16::from_be_bytes([p[0], p.get(1).copied().unwrap_or(0)]))
                        .collect();
                    self.ranges.push((lo, hi, units));
                }
                at = after;
            }
        }
    }

    /// The text a shown string stands for.
    pub(crate) fn decode(&self, bytes: &[u8], out: &mut String) {
        let mut at = 0;
        while at < bytes.len() {
            let len = self.code_len(&bytes[at..]);
            let code = be(&bytes[at..(at + len).min(bytes.len())]);
            at += len;
            if let Some(s) = self.chars.get(&code) {
                out.push_str(s);
            } else if let Some((lo, _, base)) = self.range_of(code) {
                let mut units = base.clone();
                if let Some(last) = units.last_mut() {
                    *last = last.wrapping_add((code - lo) as u16);
                }
                out.extend(char::decode_utf16(units).filter_map(Result::ok));
            }
        }
    }

    /// The range holding `code`: the last one starting at or below it (ranges sorted by start).
    fn range_of(&self, code: u32) -> Option<&(u32, u32, Vec<u16>)> {
        let after = self.ranges.partition_point(|(lo, _, _)| *lo <= code);
        let range = self.ranges.get(after.checked_sub(1)?)?;
        (code <= range.1).then_some(range)
    }

    fn code_len(&self, rest: &[u8]) -> usize {
        for (len, lo, hi) in &self.spaces {
            if let Some(code) = rest.get(..*len) {
                if (*lo..=*hi).contains(&be(code)) {
                    return *len;
                }
            }
        }
        // No code space matched: guess from the first range (usually two bytes).
        self.spaces
            .first()
            .map_or(2, |s| s.0)
            .min(rest.len())
            .max(1)
    }
}

fn be(bytes: &[u8]) -> u32 {
    bytes
        .iter()
        .take(4)
        .fold(0, |acc, &b| acc << 8 | u32::from(b))
}

fn utf16(bytes: &[u8]) -> String {
    let units: Vec<u16> = bytes
        .chunks(2)
        .map(|p| u16::from_be_bytes([p[0], p.get(1).copied().unwrap_or(0)]))
        .collect();
    String::from_utf16_lossy(&units)
}

/// The bytes between each `begin` and its `end` keyword.
fn sections<'a>(bytes: &'a [u8], begin: &[u8], end: &[u8]) -> Vec<&'a [u8]> {
    let mut out = Vec::new();
    let mut at = 0;
    while let Some(start) = find(bytes, begin, at) {
        let start = start + begin.len();
        let stop = find(bytes, end, start).unwrap_or(bytes.len());
        out.push(&bytes[start..stop]);
        at = stop;
    }
    out
}

fn skip(bytes: &[u8], mut at: usize) -> usize {
    while bytes.get(at).is_some_and(|&b| is_space(b)) {
        at += 1;
    }
    at
}

/// The hex string `<...>` at or after `at` (white space skipped) and where it ends.
fn hex_token(bytes: &[u8], at: usize) -> Option<(Vec<u8>, usize)> {
    let at = skip(bytes, at);
    if bytes.get(at) != Some(&b'<') {
        return None;
    }
    let end = find(bytes, b">", at)?;
    let digits: Vec<u8> = bytes[at + 1..end]
        .iter()
        .filter_map(|&b| char::from(b).to_digit(16))
        .map(|d| d as u8)
        .collect();
    let value = digits
        .chunks(2)
        .map(|p| p[0] << 4 | p.get(1).copied().unwrap_or(0))
        .collect();
    Some((value, end + 1))
}

fn hex_tokens(section: &[u8]) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let mut at = 0;
    while let Some(start) = find(section, b"<", at) {
        match hex_token(section, start) {
            Some((value, end)) => {
                out.push(value);
                at = end;
            }
            None => break,
        }
    }
    out
}
