//! `spool`: the durable on-disk queue the event writer falls back to when ClickHouse inserts
//! fail, so that not one event is lost while ClickHouse is down.
//!
//! Records are opaque byte blobs (the caller serialises its events). They are appended to
//! numbered segment files (`00000000000000000001.seg`, ...) with a checksummed frame per record,
//! replayed oldest first, and deleted only after the caller [`Spool::ack`]s a replayed batch.
//! See `README.md` beside this crate for the file format and the recovery rules.
//!
//! Delivery is **at-least-once**: a crash between a successful insert and the `ack` that
//! follows it replays that batch again, so the consumer must de-duplicate (by `request_id`,
//! with a `ReplacingMergeTree` or an insert de-duplication token; the README says which).
//!
//! This crate never panics on bad input, never allocates more than [`MAX_RECORD_BYTES`] for a
//! record whatever a length field claims, and never deletes a record that was not acked except
//! when the caller chose [`WhenFull::DropOldest`], which reports every record it drops.
//! It is synchronous: async callers run it from a dedicated task or `spawn_blocking`.

mod cursor;
mod error;
mod frame;
mod fsutil;
mod options;
mod replay;
mod segment;
mod spool;
mod writer;

pub use error::{SkipReason, SkippedSegment, SpoolError};
pub use frame::{HEADER_LEN, MAGIC_V1, MAX_RECORD_BYTES};
pub use options::{FsyncPolicy, SpoolOptions, WhenFull};
pub use replay::{Replay, ReplayCursor};
pub use spool::{AppendOutcome, Spool, SpoolStats};
