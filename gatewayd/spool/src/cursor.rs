//! The ack cursor: the position of the first record the caller has not acked yet, persisted in
//! `ack.cursor` so a restart does not replay what was already inserted.
//!
//! The file is replaced atomically (write a temporary file, fsync per policy, rename). A
//! missing or damaged cursor file is never fatal: replay then starts at the oldest segment,
//! which can only duplicate records, never lose them.

use std::io::Write;
use std::path::Path;

use crate::error::SpoolError;
use crate::fsutil::{private_file, sync_dir};
use crate::options::FsyncPolicy;

pub(crate) const CURSOR_FILE: &str = "ack.cursor";
const CURSOR_TMP: &str = "ack.cursor.tmp";
const CURSOR_MAGIC: &[u8; 8] = b"WSPACK01";
const CURSOR_LEN: usize = 8 + 8 + 8 + 8 + 4;

/// A position in the spool: segment `seq`, byte `offset` in it, and how many records lie
/// before that offset in that segment. Ordered by segment, then offset.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub(crate) struct Position {
    pub seq: u64,
    pub offset: u64,
    pub records: u64,
}

impl Position {
    pub(crate) fn segment_start(seq: u64) -> Self {
        Position {
            seq,
            offset: 0,
            records: 0,
        }
    }
}

fn encode(pos: Position) -> [u8; CURSOR_LEN] {
    let mut out = [0u8; CURSOR_LEN];
    out[..8].copy_from_slice(CURSOR_MAGIC);
    out[8..16].copy_from_slice(&pos.seq.to_le_bytes());
    out[16..24].copy_from_slice(&pos.offset.to_le_bytes());
    out[24..32].copy_from_slice(&pos.records.to_le_bytes());
    let crc = crc32fast::hash(&out[..32]);
    out[32..].copy_from_slice(&crc.to_le_bytes());
    out
}

fn decode(bytes: &[u8]) -> Option<Position> {
    if bytes.len() != CURSOR_LEN || &bytes[..8] != CURSOR_MAGIC {
        return None;
    }
    let word = |at: usize| {
        let mut b = [0u8; 8];
        b.copy_from_slice(&bytes[at..at + 8]);
        u64::from_le_bytes(b)
    };
    let crc = u32::from_le_bytes([bytes[32], bytes[33], bytes[34], bytes[35]]);
    if crc32fast::hash(&bytes[..32]) != crc {
        return None;
    }
    Some(Position {
        seq: word(8),
        offset: word(16),
        records: word(24),
    })
}

/// Reads the persisted cursor. `None` when there is none or it is unreadable (logged).
pub(crate) fn load(dir: &Path) -> Result<Option<Position>, SpoolError> {
    let path = dir.join(CURSOR_FILE);
    // A leftover temporary file is an interrupted write; the old cursor still stands.
    crate::fsutil::remove_file(&dir.join(CURSOR_TMP))?;
    let bytes = match std::fs::read(&path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => {
            return Err(SpoolError::Io {
                op: "read",
                path,
                source: e,
            })
        }
    };
    let pos = decode(&bytes);
    if pos.is_none() {
        tracing::error!(
            path = %path.display(),
            "spool ack cursor is damaged; replaying from the oldest segment (records may repeat)"
        );
    }
    Ok(pos)
}

/// Persists `pos` atomically.
pub(crate) fn store(dir: &Path, pos: Position, fsync: FsyncPolicy) -> Result<(), SpoolError> {
    let tmp = dir.join(CURSOR_TMP);
    let path = dir.join(CURSOR_FILE);
    let mut file = private_file()
        .write(true)
        .create(true)
        .truncate(true)
        .open(&tmp)
        .map_err(SpoolError::io("create", &tmp))?;
    file.write_all(&encode(pos))
        .map_err(SpoolError::io("write", &tmp))?;
    if fsync != FsyncPolicy::Never {
        file.sync_data().map_err(SpoolError::io("fsync", &tmp))?;
    }
    drop(file);
    std::fs::rename(&tmp, &path).map_err(SpoolError::io("rename cursor to", &path))?;
    if fsync != FsyncPolicy::Never {
        sync_dir(dir)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn encode_decode_and_reject_damage() {
        let pos = Position {
            seq: 7,
            offset: 1234,
            records: 5,
        };
        let mut bytes = encode(pos);
        assert_eq!(decode(&bytes), Some(pos));
        bytes[17] ^= 1;
        assert_eq!(decode(&bytes), None);
        assert_eq!(decode(&bytes[..10]), None);
    }
}
