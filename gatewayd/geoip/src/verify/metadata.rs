//! The three metadata fields the layout depends on, read without trusting the section.
//!
//! The whole metadata map is checked first (as the data section is), so the reader's own
//! metadata decoding afterwards cannot run out of bounds.

use super::decode::{item_at, uint, Item, T_STRING};
use super::walk::SectionCheck;
use crate::error::{DecodeError, FormatError};

/// Where the search tree ends and how records are packed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct TreeShape {
    pub node_count: u64,
    pub record_size: u64,
    pub ip_version: u64,
}

/// Reads `node_count`, `record_size` and `ip_version` from the metadata section.
pub(crate) fn read(section: &[u8]) -> Result<TreeShape, FormatError> {
    let mut check = SectionCheck::new(section);
    check.value(0, 0).map_err(FormatError::Metadata)?;

    let (item, mut cur) = resolve(section, 0).map_err(FormatError::Metadata)?;
    let Item::Map(entries) = item else {
        return Err(FormatError::MissingMetadataField("node_count"));
    };
    let (mut node_count, mut record_size, mut ip_version) = (None, None, None);
    for _ in 0..entries {
        let (key, value_at) = resolve(section, cur).map_err(FormatError::Metadata)?;
        let slot = match key_bytes(section, &key) {
            Some(b"node_count") => Some(&mut node_count),
            Some(b"record_size") => Some(&mut record_size),
            Some(b"ip_version") => Some(&mut ip_version),
            _ => None,
        };
        if let Some(slot) = slot {
            let (value, _) = resolve(section, value_at).map_err(FormatError::Metadata)?;
            *slot = uint(section, &value);
        }
        // Already checked above, so this only finds where the next key starts.
        cur = check.value(value_at, 1).map_err(FormatError::Metadata)?.1;
    }
    Ok(TreeShape {
        node_count: node_count.ok_or(FormatError::MissingMetadataField("node_count"))?,
        record_size: record_size.ok_or(FormatError::MissingMetadataField("record_size"))?,
        ip_version: ip_version.ok_or(FormatError::MissingMetadataField("ip_version"))?,
    })
}

/// The item at `pos` with one pointer followed, and the offset after the item at `pos`.
fn resolve(section: &[u8], pos: usize) -> Result<(Item, usize), DecodeError> {
    let (item, next) = item_at(section, pos)?;
    match item {
        Item::Pointer(target) => Ok((item_at(section, target)?.0, next)),
        direct => Ok((direct, next)),
    }
}

fn key_bytes<'a>(section: &'a [u8], key: &Item) -> Option<&'a [u8]> {
    match key {
        Item::Scalar {
            ty: T_STRING,
            payload,
        } => section.get(payload.clone()),
        _ => None,
    }
}
