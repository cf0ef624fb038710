//! The zip central directory, read by hand so that every number in it is checked before use:
//! the entry count against the limit before a single entry is parsed, every offset and size
//! against the archive's bounds, and entries that share bytes (the overlapping-file bomb) are
//! refused. Nothing here allocates by a size the archive declares.

use std::ops::Range;

/// One entry as the central directory describes it.
#[derive(Debug, Clone)]
pub(crate) struct Entry {
    pub(crate) name: String,
    pub(crate) flags: u16,
    pub(crate) method: u16,
    pub(crate) size: u64,
    /// Where its compressed bytes are, when the local header is where it should be.
    pub(crate) data: Option<Range<usize>>,
    /// Where its local header starts.
    header: usize,
}

impl Entry {
    pub(crate) fn is_dir(&self) -> bool {
        self.name.ends_with('/') || self.name.ends_with('\\')
    }

    /// Password-protected (traditional or AES).
    pub(crate) fn is_encrypted(&self) -> bool {
        self.flags & 1 != 0 || self.method == 99
    }
}

/// Why a central directory was not read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum DirError {
    /// Malformed: the reason.
    Corrupt(&'static str),
    /// More entries than allowed: the count declared.
    TooMany(u64),
    /// Two entries share compressed bytes.
    Overlap,
}

const EOCD: &[u8] = b"PK\x05\x06";
const EOCD_LEN: usize = 22;
const CENTRAL: &[u8] = b"PK\x01\x02";
const CENTRAL_LEN: usize = 46;
const LOCAL: &[u8] = b"PK\x03\x04";
const LOCAL_LEN: usize = 30;

fn u16_at(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_le_bytes(b.get(at..at + 2)?.try_into().ok()?))
}

fn u32_at(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

fn u64_at(b: &[u8], at: usize) -> Option<u64> {
    Some(u64::from_le_bytes(b.get(at..at + 8)?.try_into().ok()?))
}

/// Where the central directory is and how many entries it declares.
struct Directory {
    start: usize,
    count: u64,
    /// Bytes prepended to the archive, added to every offset it records.
    shift: u64,
}

/// Reads the central directory of `zip`, refusing more than `max_entries` entries.
pub(crate) fn read(zip: &[u8], max_entries: u64) -> Result<Vec<Entry>, DirError> {
    let dir = locate(zip)?;
    if dir.count > max_entries {
        return Err(DirError::TooMany(dir.count));
    }
    let mut entries = Vec::new();
    let mut at = dir.start;
    for _ in 0..dir.count {
        let (entry, next) = central_entry(zip, at, dir.shift)?;
        entries.push(entry);
        at = next;
    }
    let mut spans: Vec<(usize, usize)> = entries
        .iter()
        .filter_map(|e| e.data.as_ref().map(|d| (e.header, d.end)))
        .collect();
    spans.sort_unstable();
    if spans.windows(2).any(|w| w[1].0 < w[0].1) {
        return Err(DirError::Overlap);
    }
    Ok(entries)
}

fn locate(zip: &[u8]) -> Result<Directory, DirError> {
    let corrupt = DirError::Corrupt("no end of central directory");
    if zip.len() < EOCD_LEN {
        return Err(corrupt);
    }
    let earliest = zip.len().saturating_sub(EOCD_LEN + usize::from(u16::MAX));
    let eocd = (earliest..=zip.len() - EOCD_LEN)
        .rev()
        .find(|&i| zip.get(i..i + 4) == Some(EOCD))
        .ok_or(corrupt)?;
    let bad = DirError::Corrupt("bad end of central directory");
    let mut count = u64::from(u16_at(zip, eocd + 10).ok_or(bad.clone())?);
    let mut size = u64::from(u32_at(zip, eocd + 12).ok_or(bad.clone())?);
    let mut offset = u64::from(u32_at(zip, eocd + 16).ok_or(bad.clone())?);
    let mut end = eocd as u64;
    if count == 0xffff || size == 0xffff_ffff || offset == 0xffff_ffff {
        // Zip64: the locator sits just before the classic record and points at the real one.
        let locator = eocd.checked_sub(20).ok_or(bad.clone())?;
        if zip.get(locator..locator + 4) == Some(b"PK\x06\x07") {
            let record = u64_at(zip, locator + 8).ok_or(bad.clone())?;
            let record = usize::try_from(record).map_err(|_| bad.clone())?;
            if zip.get(record..record + 4) != Some(b"PK\x06\x06") {
                return Err(DirError::Corrupt("bad zip64 end of central directory"));
            }
            count = u64_at(zip, record + 32).ok_or(bad.clone())?;
            size = u64_at(zip, record + 40).ok_or(bad.clone())?;
            offset = u64_at(zip, record + 48).ok_or(bad.clone())?;
            end = record as u64;
        }
    }
    // Data prepended to the archive (a self-extractor stub) shifts every offset by its length.
    let declared_end = offset.checked_add(size).ok_or(bad.clone())?;
    let shift = end.checked_sub(declared_end).ok_or(bad.clone())?;
    let start = usize::try_from(offset + shift).map_err(|_| bad.clone())?;
    if count > 0 && zip.get(start..start + 4) != Some(CENTRAL) {
        // The shift guess was wrong; try the offsets as written.
        let start = usize::try_from(offset).map_err(|_| bad.clone())?;
        if zip.get(start..start + 4) != Some(CENTRAL) {
            return Err(DirError::Corrupt("central directory not found"));
        }
        return Ok(Directory {
            start,
            count,
            shift: 0,
        });
    }
    Ok(Directory {
        start,
        count,
        shift,
    })
}

/// Parses the central directory entry at `at`; returns it and where the next one starts.
fn central_entry(zip: &[u8], at: usize, shift: u64) -> Result<(Entry, usize), DirError> {
    let bad = DirError::Corrupt("bad central directory entry");
    if zip.get(at..at + 4) != Some(CENTRAL) {
        return Err(bad);
    }
    let field16 = |off| u16_at(zip, at + off).ok_or(bad.clone());
    let field32 = |off| u32_at(zip, at + off).ok_or(bad.clone());
    let flags = field16(8)?;
    let method = field16(10)?;
    let mut compressed = u64::from(field32(20)?);
    let mut size = u64::from(field32(24)?);
    let name_len = usize::from(field16(28)?);
    let extra_len = usize::from(field16(30)?);
    let comment_len = usize::from(field16(32)?);
    let mut local = u64::from(field32(42)?);
    let name_at = at + CENTRAL_LEN;
    let name = zip.get(name_at..name_at + name_len).ok_or(bad.clone())?;
    let extra = zip
        .get(name_at + name_len..name_at + name_len + extra_len)
        .ok_or(bad.clone())?;
    zip64_extra(extra, &mut size, &mut compressed, &mut local);
    let local = local.saturating_add(shift);
    let entry = Entry {
        name: clean_name(name),
        flags,
        method,
        size,
        data: local_data(zip, local, compressed),
        header: usize::try_from(local).unwrap_or(usize::MAX),
    };
    Ok((entry, name_at + name_len + extra_len + comment_len))
}

/// Applies the zip64 extended information field: it holds, in order, the values whose
/// classic fields read all ones.
fn zip64_extra(mut extra: &[u8], size: &mut u64, compressed: &mut u64, local: &mut u64) {
    while extra.len() >= 4 {
        let id = u16::from_le_bytes([extra[0], extra[1]]);
        let len = usize::from(u16::from_le_bytes([extra[2], extra[3]]));
        let Some(body) = extra.get(4..4 + len) else {
            return;
        };
        if id == 1 {
            let mut at = 0;
            for field in [size, compressed, local] {
                if *field == 0xffff_ffff {
                    if let Some(v) = u64_at(body, at) {
                        *field = v;
                    }
                    at += 8;
                }
            }
            return;
        }
        extra = &extra[4 + len..];
    }
}

/// The compressed bytes behind a local header, when it is valid and in bounds.
fn local_data(zip: &[u8], local: u64, compressed: u64) -> Option<Range<usize>> {
    let at = usize::try_from(local).ok()?;
    if zip.get(at..at + 4)? != LOCAL {
        return None;
    }
    let name_len = usize::from(u16_at(zip, at + 26)?);
    let extra_len = usize::from(u16_at(zip, at + 28)?);
    let start = at.checked_add(LOCAL_LEN + name_len + extra_len)?;
    let end = start.checked_add(usize::try_from(compressed).ok()?)?;
    (end <= zip.len()).then_some(start..end)
}

/// An entry name for display: UTF-8 (lossy), control characters replaced.
fn clean_name(raw: &[u8]) -> String {
    String::from_utf8_lossy(raw)
        .chars()
        .map(|c| if c.is_control() { '?' } else { c })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A one-entry stored zip; with `zip64` its end record is the zip64 one (classic fields all
    /// ones), and `prefix` is prepended as a self-extractor stub would be.
    fn one_entry(zip64: bool, prefix: &[u8]) -> Vec<u8> {
        let name = b"a.txt";
        let data = b"stored text";
        let mut out = prefix.to_vec();
        let local = (out.len() - prefix.len()) as u32;
        out.extend_from_slice(LOCAL);
        out.extend_from_slice(&[20, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
        out.extend_from_slice(&(data.len() as u32).to_le_bytes());
        out.extend_from_slice(&(data.len() as u32).to_le_bytes());
        out.extend_from_slice(&(name.len() as u16).to_le_bytes());
        out.extend_from_slice(&0u16.to_le_bytes());
        out.extend_from_slice(name);
        out.extend_from_slice(data);
        let central_at = out.len() - prefix.len();
        out.extend_from_slice(CENTRAL);
        out.extend_from_slice(&[20, 0, 20, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
        out.extend_from_slice(&(data.len() as u32).to_le_bytes());
        out.extend_from_slice(&(data.len() as u32).to_le_bytes());
        out.extend_from_slice(&(name.len() as u16).to_le_bytes());
        out.extend_from_slice(&[0; 12]);
        out.extend_from_slice(&local.to_le_bytes());
        out.extend_from_slice(name);
        let central_len = out.len() - prefix.len() - central_at;
        if zip64 {
            let record = out.len() - prefix.len();
            out.extend_from_slice(b"PK\x06\x06");
            out.extend_from_slice(&44u64.to_le_bytes());
            out.extend_from_slice(&[45, 0, 45, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
            out.extend_from_slice(&1u64.to_le_bytes());
            out.extend_from_slice(&1u64.to_le_bytes());
            out.extend_from_slice(&(central_len as u64).to_le_bytes());
            out.extend_from_slice(&(central_at as u64).to_le_bytes());
            out.extend_from_slice(b"PK\x06\x07");
            out.extend_from_slice(&0u32.to_le_bytes());
            out.extend_from_slice(&((record + prefix.len()) as u64).to_le_bytes());
            out.extend_from_slice(&1u32.to_le_bytes());
            out.extend_from_slice(EOCD);
            out.extend_from_slice(&[0; 4]);
            out.extend_from_slice(&[0xff; 16]);
            out.extend_from_slice(&0u16.to_le_bytes());
        } else {
            out.extend_from_slice(EOCD);
            out.extend_from_slice(&[0, 0, 0, 0, 1, 0, 1, 0]);
            out.extend_from_slice(&(central_len as u32).to_le_bytes());
            out.extend_from_slice(&(central_at as u32).to_le_bytes());
            out.extend_from_slice(&0u16.to_le_bytes());
        }
        out
    }

    fn text_of(zip: &[u8]) -> Vec<u8> {
        let entries = read(zip, 10).unwrap();
        assert_eq!(entries.len(), 1);
        assert_eq!(entries[0].name, "a.txt");
        zip[entries[0].data.clone().unwrap()].to_vec()
    }

    #[test]
    fn classic_zip64_and_prefixed_archives_are_located() {
        assert_eq!(text_of(&one_entry(false, b"")), b"stored text");
        assert_eq!(text_of(&one_entry(true, b"")), b"stored text");
        assert_eq!(
            text_of(&one_entry(false, b"#!/bin/sh\nexit 0\n")),
            b"stored text"
        );
    }

    #[test]
    fn declared_entry_count_is_checked_before_parsing() {
        assert_eq!(
            read(&one_entry(false, b""), 0).unwrap_err(),
            DirError::TooMany(1)
        );
    }

    #[test]
    fn short_or_missing_directories_are_corrupt() {
        assert!(matches!(read(b"PK\x03\x04", 10), Err(DirError::Corrupt(_))));
        let zip = one_entry(false, b"");
        assert!(matches!(
            read(&zip[..zip.len() - 1], 10),
            Err(DirError::Corrupt(_))
        ));
    }
}
