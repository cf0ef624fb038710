//! How a spool is sized, how hard it syncs, and what it does when full.

use crate::error::SpoolError;
use crate::frame::frame_len;

/// When data reaches stable storage.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FsyncPolicy {
    /// `fsync` after every record, every segment roll, every ack and every directory change.
    /// A record is durable when the write of it returns. Slowest.
    Always,
    /// One `fsync` per `append_batch` call (plus one per segment rolled inside it), per ack
    /// and per directory change. The batch is durable when `append_batch` returns.
    #[default]
    EveryBatch,
    /// Never `fsync`; the kernel writes back when it likes. A process crash loses nothing,
    /// a power loss may lose the last seconds (a torn tail is truncated on the next open).
    Never,
}

/// What `append_batch` does when the batch would take the spool past `max_bytes`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum WhenFull {
    /// Delete whole oldest segments until the batch fits and report what was dropped in
    /// [`crate::AppendOutcome`]: traffic keeps flowing, the oldest events are lost loudly.
    #[default]
    DropOldest,
    /// Return [`SpoolError::Full`] and write nothing, so the caller applies back-pressure.
    Refuse,
}

/// Sizing and policies of a [`crate::Spool`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpoolOptions {
    /// Upper bound on the bytes of all segment files together.
    pub max_bytes: u64,
    /// A segment is rolled before a record would take it past this size (a single record
    /// larger than this gets a segment of its own).
    pub segment_bytes: u64,
    /// When appends, rolls and acks reach stable storage.
    pub fsync: FsyncPolicy,
    /// What to do when a batch would not fit.
    pub when_full: WhenFull,
    /// At most this many records in one [`crate::Replay`].
    pub replay_max_records: usize,
    /// At most this many payload bytes in one [`crate::Replay`] (a single larger record is
    /// still returned alone, so replay always makes progress).
    pub replay_max_bytes: u64,
}

impl Default for SpoolOptions {
    fn default() -> Self {
        SpoolOptions {
            max_bytes: 1024 * 1024 * 1024,
            segment_bytes: 64 * 1024 * 1024,
            fsync: FsyncPolicy::default(),
            when_full: WhenFull::default(),
            replay_max_records: 10_000,
            replay_max_bytes: 16 * 1024 * 1024,
        }
    }
}

impl SpoolOptions {
    pub(crate) fn validate(&self) -> Result<(), SpoolError> {
        if self.segment_bytes == 0 {
            return Err(SpoolError::InvalidOptions(
                "segment_bytes must be greater than 0",
            ));
        }
        if self.max_bytes < frame_len(0) {
            return Err(SpoolError::InvalidOptions(
                "max_bytes must hold at least one record frame",
            ));
        }
        if self.replay_max_records == 0 || self.replay_max_bytes == 0 {
            return Err(SpoolError::InvalidOptions(
                "replay_max_records and replay_max_bytes must be greater than 0",
            ));
        }
        Ok(())
    }
}
