//! The spool itself: opening (recovery), appending with segment rolls and the full-spool
//! policy, and the statistics the daemon exports as metrics.
//!
//! Invariants kept here: segments are ordered by sequence number and sequence numbers are
//! never reused; only the newest segment is ever written; every byte on disk is counted in
//! `bytes`; a record leaves the disk only through an ack or a reported `DropOldest`.

use std::collections::VecDeque;
use std::fs::File;
use std::path::{Path, PathBuf};

use crate::cursor::{self, Position};
use crate::error::SpoolError;
use crate::frame::{encode_into, frame_len, MAX_RECORD_BYTES};
use crate::fsutil::{create_private_dir, lock_dir, remove_file, sync_dir};
use crate::options::{FsyncPolicy, SpoolOptions, WhenFull};
use crate::segment::{self, SegmentMeta};
use crate::writer::SegmentWriter;

/// Frames are handed to the kernel in chunks of about this size, so appending a huge batch
/// does not build a copy of all of it in memory.
const WRITE_CHUNK: usize = 1024 * 1024;

/// What an append did besides writing the batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct AppendOutcome {
    /// Unacked records deleted to make room (`WhenFull::DropOldest`); raise an alarm when > 0.
    pub dropped_records: u64,
    /// Whole segments deleted to make room.
    pub dropped_segments: u64,
}

/// A snapshot of the spool's size, for metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SpoolStats {
    /// Segment files on disk.
    pub segments: usize,
    /// Bytes of all segment files (what `max_bytes` bounds).
    pub bytes: u64,
    /// Records appended and not yet acked, exactly (counted by scanning on open). Records in
    /// the unreadable remainder of a corrupt segment are not counted.
    pub records_pending: u64,
}

/// A durable, bounded, ordered queue of records on disk. See the crate docs.
#[derive(Debug)]
pub struct Spool {
    pub(crate) dir: PathBuf,
    pub(crate) options: SpoolOptions,
    /// Oldest first. Only the last may be unsealed, and then `writer` writes it.
    pub(crate) segments: VecDeque<SegmentMeta>,
    pub(crate) writer: Option<SegmentWriter>,
    next_seq: u64,
    /// Everything before this position has been acked.
    pub(crate) ack: Position,
    frame_buf: Vec<u8>,
    _lock: File,
}

impl Spool {
    /// Opens (creating it 0700 if needed) the spool in `dir`, takes its lock, and recovers the
    /// segments found there: torn tails are truncated, corrupt regions noted for replay,
    /// records counted. Reads every segment once, so it takes time in proportion to the spool.
    pub fn open(dir: &Path, options: SpoolOptions) -> Result<Spool, SpoolError> {
        options.validate()?;
        create_private_dir(dir)?;
        let lock = lock_dir(dir)?;
        let stored = cursor::load(dir)?;
        let mut ack = stored.unwrap_or_default();
        let mut segments = VecDeque::new();
        let mut removed_any = false;
        for (seq, path) in segment::list(dir)? {
            if seq < ack.seq {
                // Acked before a crash that came between storing the cursor and deleting.
                remove_file(&path)?;
                removed_any = true;
                continue;
            }
            let target = (seq == ack.seq).then_some(ack.offset);
            let recovered = segment::recover(seq, &path, target, options.fsync)?;
            let meta = recovered.meta;
            if seq == ack.seq {
                match recovered.records_before_target {
                    Some(records) => ack.records = records,
                    None => {
                        tracing::error!(
                            path = %path.display(),
                            offset = ack.offset,
                            "spool ack cursor is not at a record boundary; replaying this \
                             segment from its start (records may repeat)"
                        );
                        ack = Position::segment_start(seq);
                    }
                }
            }
            // A corrupt one stays until a replay has reported the skip.
            let fully_acked =
                seq == ack.seq && ack.offset >= meta.readable_end && meta.corrupt.is_none();
            if meta.len == 0 || fully_acked {
                remove_file(&path)?;
                removed_any = true;
                continue;
            }
            segments.push_back(meta);
        }
        if removed_any && options.fsync != FsyncPolicy::Never {
            sync_dir(dir)?;
        }
        let last_seq = segments.back().map_or(0, |s: &SegmentMeta| s.seq);
        let next_seq = last_seq.max(stored.map_or(0, |p| p.seq)) + 1;
        let spool = Spool {
            dir: dir.to_path_buf(),
            options,
            segments,
            writer: None,
            next_seq,
            ack,
            frame_buf: Vec::new(),
            _lock: lock,
        };
        let stats = spool.stats();
        tracing::info!(
            dir = %dir.display(),
            segments = stats.segments,
            bytes = stats.bytes,
            records_pending = stats.records_pending,
            "spool opened"
        );
        Ok(spool)
    }

    /// The directory this spool lives in.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The options it was opened with.
    pub fn options(&self) -> &SpoolOptions {
        &self.options
    }

    /// Size and backlog, exact.
    pub fn stats(&self) -> SpoolStats {
        let records: u64 = self.segments.iter().map(|s| s.records).sum();
        let acked = match self.segments.front() {
            Some(front) if front.seq == self.ack.seq => self.ack.records.min(front.records),
            _ => 0,
        };
        SpoolStats {
            segments: self.segments.len(),
            bytes: self.bytes(),
            records_pending: records - acked,
        }
    }

    pub(crate) fn bytes(&self) -> u64 {
        self.segments.iter().map(|s| s.len).sum()
    }

    /// Appends `records`, in order, after everything already spooled, and syncs them per the
    /// fsync policy. All or nothing with respect to capacity and record size: a batch that
    /// does not fit (`Refuse`) or holds an oversized record writes nothing. On an I/O error a
    /// prefix of the batch may already be on disk; retrying then duplicates that prefix,
    /// which the consumer's de-duplication absorbs.
    pub fn append_batch<R: AsRef<[u8]>>(
        &mut self,
        records: &[R],
    ) -> Result<AppendOutcome, SpoolError> {
        let mut needed = 0u64;
        for record in records {
            let len = record.as_ref().len();
            if len > MAX_RECORD_BYTES as usize {
                return Err(SpoolError::RecordTooLarge {
                    len,
                    max: MAX_RECORD_BYTES,
                });
            }
            needed += frame_len(len);
        }
        if records.is_empty() {
            return Ok(AppendOutcome::default());
        }
        let outcome = self.make_room(needed)?;
        let mut buf = std::mem::take(&mut self.frame_buf);
        let written = self.write_records(records, &mut buf);
        buf.clear();
        self.frame_buf = buf;
        written.map(|()| outcome)
    }

    fn write_records<R: AsRef<[u8]>>(
        &mut self,
        records: &[R],
        buf: &mut Vec<u8>,
    ) -> Result<(), SpoolError> {
        let mut buffered_records = 0u64;
        for record in records {
            let payload = record.as_ref();
            let len = frame_len(payload.len());
            if let Some(writer) = &self.writer {
                let at = writer.len + buf.len() as u64;
                if at > 0 && at + len > self.options.segment_bytes {
                    self.flush(buf, &mut buffered_records)?;
                    self.seal_active()?;
                }
            }
            if self.writer.is_none() {
                self.start_segment()?;
            }
            encode_into(buf, payload);
            buffered_records += 1;
            if self.options.fsync == FsyncPolicy::Always {
                self.flush(buf, &mut buffered_records)?;
                self.sync_active()?;
            } else if buf.len() >= WRITE_CHUNK {
                self.flush(buf, &mut buffered_records)?;
            }
        }
        self.flush(buf, &mut buffered_records)?;
        if self.options.fsync == FsyncPolicy::EveryBatch {
            self.sync_active()?;
        }
        Ok(())
    }

    /// Hands the buffered frames to the active segment and accounts for them.
    fn flush(&mut self, buf: &mut Vec<u8>, buffered_records: &mut u64) -> Result<(), SpoolError> {
        if buf.is_empty() {
            return Ok(());
        }
        let Some(writer) = self.writer.as_mut() else {
            // write_records always starts a segment before buffering a frame.
            buf.clear();
            *buffered_records = 0;
            return Ok(());
        };
        let result = writer.write(buf);
        let len = writer.len;
        buf.clear();
        let records = std::mem::take(buffered_records);
        match result {
            Ok(()) => {
                if let Some(meta) = self.segments.back_mut() {
                    meta.len = len;
                    meta.readable_end = len;
                    meta.records += records;
                }
                Ok(())
            }
            Err(failure) => {
                if !failure.rolled_back {
                    // Half a frame may follow the good ones: account for the file's real
                    // size and never append after it again; replay skips the torn part.
                    if let Some(meta) = self.segments.back_mut() {
                        meta.len = std::fs::metadata(&meta.path).map_or(meta.len, |m| m.len());
                    }
                }
                self.writer = None;
                self.seal_back();
                Err(failure.error)
            }
        }
    }

    fn start_segment(&mut self) -> Result<(), SpoolError> {
        let seq = self.next_seq;
        let writer = SegmentWriter::create(&self.dir, seq, self.options.fsync)?;
        self.next_seq += 1;
        self.segments
            .push_back(SegmentMeta::new_active(seq, writer.path.clone()));
        self.writer = Some(writer);
        Ok(())
    }

    fn sync_active(&self) -> Result<(), SpoolError> {
        match &self.writer {
            Some(writer) => writer.sync(),
            None => Ok(()),
        }
    }

    /// Closes the active segment: later appends go to a new one. Syncs it unless `Never`.
    pub(crate) fn seal_active(&mut self) -> Result<(), SpoolError> {
        if let Some(writer) = self.writer.take() {
            if self.options.fsync != FsyncPolicy::Never {
                writer.sync()?;
            }
        }
        self.seal_back();
        Ok(())
    }

    /// Marks the newest segment sealed, dropping it if it holds nothing.
    fn seal_back(&mut self) {
        let empty = match self.segments.back_mut() {
            Some(meta) if !meta.sealed => {
                meta.sealed = true;
                meta.len == 0
            }
            _ => false,
        };
        if empty {
            if let Some(meta) = self.segments.pop_back() {
                if let Err(e) = remove_file(&meta.path) {
                    tracing::warn!(error = %e, "could not remove an empty spool segment");
                }
            }
        }
    }

    /// Applies the full-spool policy so that `needed` more bytes fit under `max_bytes`.
    fn make_room(&mut self, needed: u64) -> Result<AppendOutcome, SpoolError> {
        let max_bytes = self.options.max_bytes;
        if needed > max_bytes {
            return Err(SpoolError::BatchTooLarge { needed, max_bytes });
        }
        let mut used = self.bytes();
        let mut outcome = AppendOutcome::default();
        if used + needed <= max_bytes {
            return Ok(outcome);
        }
        if self.options.when_full == WhenFull::Refuse {
            return Err(SpoolError::Full {
                needed,
                used,
                max_bytes,
            });
        }
        while used + needed > max_bytes {
            let Some(front) = self.segments.front() else {
                break;
            };
            if !front.sealed {
                self.seal_active()?;
            }
            let Some(front) = self.segments.front() else {
                break;
            };
            remove_file(&front.path)?;
            let acked = if front.seq == self.ack.seq {
                self.ack.records.min(front.records)
            } else {
                0
            };
            outcome.dropped_records += front.records - acked;
            outcome.dropped_segments += 1;
            used -= front.len;
            if self.ack.seq <= front.seq {
                self.ack = Position::segment_start(front.seq + 1);
            }
            self.segments.pop_front();
        }
        if self.options.fsync != FsyncPolicy::Never {
            sync_dir(&self.dir)?;
        }
        tracing::error!(
            dir = %self.dir.display(),
            dropped_records = outcome.dropped_records,
            dropped_segments = outcome.dropped_segments,
            max_bytes,
            "spool full: dropped the oldest unsent records to make room"
        );
        Ok(outcome)
    }
}
