//! Errors the spool returns and the corruption reasons it reports.
//!
//! [`SpoolError`] says whose problem it is: the disk (`Io`), the caller's sizing (`Full`,
//! `RecordTooLarge`, `BatchTooLarge`, `InvalidOptions`) or another process (`Locked`).
//! Corruption inside a segment is not an error of the call: it is reported as a
//! [`SkippedSegment`] beside the records that could still be read.

use std::io;
use std::path::PathBuf;

/// Why a call on the spool failed.
#[derive(Debug, thiserror::Error)]
pub enum SpoolError {
    /// The filesystem failed; the operation and file say where. Retrying may help (disk full,
    /// transient EIO); the spool stays consistent: a failed append leaves no partial record.
    #[error("spool I/O error while trying to {op} {}: {source}", path.display())]
    Io {
        op: &'static str,
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    /// `WhenFull::Refuse` and the batch does not fit: apply back-pressure and retry later.
    #[error("spool is full: batch needs {needed} bytes, {used} of {max_bytes} bytes in use")]
    Full {
        needed: u64,
        used: u64,
        max_bytes: u64,
    },
    /// One record is larger than [`crate::MAX_RECORD_BYTES`]; nothing of the batch was written.
    #[error("record of {len} bytes exceeds the spool's maximum record size of {max} bytes")]
    RecordTooLarge { len: usize, max: u32 },
    /// The batch alone is larger than `max_bytes`; no amount of dropping makes it fit.
    #[error("batch of {needed} bytes can never fit in a spool of {max_bytes} bytes")]
    BatchTooLarge { needed: u64, max_bytes: u64 },
    /// The options cannot work (for example a zero segment size).
    #[error("invalid spool options: {0}")]
    InvalidOptions(&'static str),
    /// Another process (or another `Spool` in this one) holds the directory.
    #[error("spool directory {} is locked by another spool", path.display())]
    Locked { path: PathBuf },
}

impl SpoolError {
    pub(crate) fn io(op: &'static str, path: impl Into<PathBuf>) -> impl FnOnce(io::Error) -> Self {
        let path = path.into();
        move |source| SpoolError::Io { op, path, source }
    }
}

/// What was wrong with the bytes at a segment offset. Everything from that offset to the end
/// of the segment is unreadable, because frames cannot be re-synchronised without a length.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SkipReason {
    /// The frame does not start with [`crate::MAGIC_V1`].
    #[error("bad frame magic 0x{found:02x} (expected 0x{expected:02x})")]
    BadMagic { found: u8, expected: u8 },
    /// The length field is larger than [`crate::MAX_RECORD_BYTES`].
    #[error("record length {len} exceeds the maximum of {max} bytes")]
    LengthTooLarge { len: u32, max: u32 },
    /// The payload does not match its CRC-32.
    #[error("checksum mismatch: frame says {expected:08x}, payload has {actual:08x}")]
    ChecksumMismatch { expected: u32, actual: u32 },
    /// A sealed segment ended inside a frame (found while replaying, not on open).
    #[error("segment ends inside a record")]
    Truncated,
}

/// A segment whose remainder, from `offset` on, could not be read and was skipped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SkippedSegment {
    /// The segment file.
    pub path: PathBuf,
    /// Byte offset of the first unreadable frame.
    pub offset: u64,
    /// What was wrong there.
    pub reason: SkipReason,
}

impl std::fmt::Display for SkippedSegment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}: skipped from offset {}: {}",
            self.path.display(),
            self.offset,
            self.reason
        )
    }
}
