//! A full structural check of a MaxMind DB before the reader is allowed to see it.
//!
//! `maxminddb` 0.26 trusts the file: it slices without bounds checks, subtracts without
//! overflow checks and recurses through pointers without limit. This module walks every
//! search-tree node and decodes every record the tree points at (each once), so that after
//! it passes no lookup can panic, loop or blow up. It must stay at least as strict as the
//! reader is trusting; it only reads, never allocates in proportion to untrusted counts.

mod decode;
mod metadata;
mod walk;

use crate::error::FormatError;
use walk::SectionCheck;

const METADATA_MARKER: &[u8] = b"\xab\xcd\xefMaxMind.com";
/// Zero bytes between the search tree and the data section.
const SEPARATOR: u64 = 16;

/// What the check learned about the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Layout {
    pub ip_version: u64,
}

/// Checks `buf` is a MaxMind DB every lookup can be answered from safely.
pub(crate) fn check(buf: &[u8]) -> Result<Layout, FormatError> {
    let marker_at = memchr::memmem::rfind(buf, METADATA_MARKER).ok_or(FormatError::NoMetadata)?;
    let metadata_section = buf
        .get(marker_at + METADATA_MARKER.len()..)
        .ok_or(FormatError::NoMetadata)?;
    let shape = metadata::read(metadata_section)?;
    if !matches!(shape.record_size, 24 | 28 | 32) {
        return Err(FormatError::UnsupportedRecordSize(shape.record_size));
    }
    if !matches!(shape.ip_version, 4 | 6) {
        return Err(FormatError::UnsupportedIpVersion(shape.ip_version));
    }

    let node_bytes = shape.record_size / 4;
    let tree_len = shape.node_count.saturating_mul(node_bytes);
    let available = u64::try_from(marker_at).unwrap_or(u64::MAX);
    let too_large = || FormatError::TreeTooLarge {
        node_count: shape.node_count,
        needed: tree_len.saturating_add(SEPARATOR),
        available,
    };
    if tree_len.saturating_add(SEPARATOR) > available {
        return Err(too_large());
    }
    // Both fit below `marker_at`, itself a usize.
    let (Ok(tree_len), Ok(node_count), Ok(node_bytes)) = (
        usize::try_from(tree_len),
        usize::try_from(shape.node_count),
        usize::try_from(node_bytes),
    ) else {
        return Err(too_large());
    };
    let tree = buf.get(..tree_len).ok_or_else(too_large)?;
    let data = buf.get(tree_len + 16..marker_at).ok_or_else(too_large)?;

    let mut records = SectionCheck::new(data);
    for node in 0..node_count {
        let bytes = tree
            .get(node * node_bytes..(node + 1) * node_bytes)
            .ok_or_else(too_large)?;
        for side in [0, 1] {
            let value = record(bytes, side);
            check_record(&mut records, data.len(), node, node_count, value)?;
        }
    }
    Ok(Layout {
        ip_version: shape.ip_version,
    })
}

/// One record of a node: another node, "not found" (`node_count`) or a data pointer.
fn check_record(
    records: &mut SectionCheck<'_>,
    data_len: usize,
    node: usize,
    node_count: usize,
    value: usize,
) -> Result<(), FormatError> {
    let bad = |reason| FormatError::BadRecord {
        node,
        value,
        reason,
    };
    if value <= node_count {
        return Ok(());
    }
    // The reader computes `value - node_count - 16` unchecked.
    let offset = (value - node_count)
        .checked_sub(16)
        .ok_or_else(|| bad("points into the separator before the data section"))?;
    if offset >= data_len {
        return Err(bad("points past the end of the data section"));
    }
    records.record(offset).map_err(FormatError::Data)?;
    Ok(())
}

/// Unpacks record `side` (0 left, 1 right) of a 6-, 7- or 8-byte node.
fn record(node: &[u8], side: usize) -> usize {
    let be = |bytes: &[u8]| bytes.iter().fold(0, |acc, &b| (acc << 8) | usize::from(b));
    match node.len() {
        6 => be(node.get(side * 3..side * 3 + 3).unwrap_or_default()),
        7 => {
            let middle = node.get(3).copied().unwrap_or_default();
            let high = if side == 0 {
                middle >> 4
            } else {
                middle & 0x0f
            };
            let low = be(node.get(side * 4..side * 4 + 3).unwrap_or_default());
            (usize::from(high) << 24) | low
        }
        _ => be(node.get(side * 4..side * 4 + 4).unwrap_or_default()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unpacks_records_like_the_reader() {
        assert_eq!(record(&[0, 0, 1, 0, 0, 2], 0), 1);
        assert_eq!(record(&[0, 0, 1, 0, 0, 2], 1), 2);
        assert_eq!(
            record(&[0x01, 0x02, 0x03, 0xab, 0x04, 0x05, 0x06], 0),
            0x0a01_0203
        );
        assert_eq!(
            record(&[0x01, 0x02, 0x03, 0xab, 0x04, 0x05, 0x06], 1),
            0x0b04_0506
        );
        assert_eq!(record(&[0, 0, 0, 9, 1, 0, 0, 0], 1), 0x0100_0000);
    }

    #[test]
    fn rejects_files_without_metadata() {
        assert!(matches!(check(b""), Err(FormatError::NoMetadata)));
        assert!(matches!(
            check(b"not a database at all"),
            Err(FormatError::NoMetadata)
        ));
    }

    #[test]
    fn rejects_pointers_into_the_separator() {
        let mut records = SectionCheck::new(b"\x41a");
        let err = check_record(&mut records, 2, 0, 10, 20).unwrap_err();
        assert!(matches!(err, FormatError::BadRecord { .. }), "{err}");
        assert!(check_record(&mut records, 2, 0, 10, 26).is_ok());
        assert!(check_record(&mut records, 2, 0, 10, 28).is_err());
    }
}
