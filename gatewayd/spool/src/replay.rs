//! Replay and ack: reading spooled records back oldest first, and forgetting them only once
//! the caller says they were inserted.
//!
//! [`Spool::replay`] always starts at the ack position, so a batch that failed to insert is
//! simply replayed again by the next call. [`Spool::ack`] persists the new position and then
//! deletes the segments it has passed. Replay must never delete anything itself, and must
//! never read the segment being appended to: it seals that segment first, so records appended
//! during a replay go to a newer segment and are replayed after.

use std::fs::File;
use std::io::{BufReader, Seek, SeekFrom};

use crate::cursor::{self, Position};
use crate::error::{SkipReason, SkippedSegment, SpoolError};
use crate::frame::{FrameReader, HeaderRead, PayloadRead};
use crate::fsutil::{remove_file, sync_dir};
use crate::options::FsyncPolicy;
use crate::segment::READ_BUFFER;
use crate::spool::Spool;

/// Where a [`Replay`] ended; hand it to [`Spool::ack`] once its records are safely stored.
/// Opaque, cheap to copy. Acking an old cursor again, or one behind a newer ack, does nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReplayCursor(pub(crate) Position);

/// One batch of spooled records, oldest first.
#[derive(Debug)]
#[must_use = "records are only forgotten once the cursor is acked"]
pub struct Replay {
    /// The records, in the order they were appended.
    pub records: Vec<Vec<u8>>,
    /// Segments whose remainder was unreadable and is skipped by this batch (already logged
    /// at error level). Reported again if the batch is replayed again without an ack.
    pub skipped: Vec<SkippedSegment>,
    /// Ack this after inserting `records` (also when `records` is empty but `skipped` is not).
    pub cursor: ReplayCursor,
}

impl Replay {
    /// True when nothing was pending: no records and nothing skipped.
    pub fn is_empty(&self) -> bool {
        self.records.is_empty() && self.skipped.is_empty()
    }
}

/// Why reading one segment stopped.
enum SegmentEnd {
    /// Reached its readable end: go on with the next segment.
    Done,
    /// The batch is full.
    BatchFull,
}

impl Spool {
    /// Reads the next batch after the ack position: up to `replay_max_records` records and
    /// `replay_max_bytes` payload bytes (at least one record), across segments, skipping (and
    /// reporting) unreadable segment remainders. Does not advance anything: call
    /// [`Spool::ack`] with the batch's cursor after inserting it, or call `replay` again to get
    /// the same batch. An empty batch means nothing is pending.
    pub fn replay(&mut self) -> Result<Replay, SpoolError> {
        let mut batch = Replay {
            records: Vec::new(),
            skipped: Vec::new(),
            cursor: ReplayCursor(self.ack),
        };
        let mut bytes = 0u64;
        let mut index = 0;
        while index < self.segments.len() {
            let seq = self.segments[index].seq;
            if seq < self.ack.seq {
                index += 1;
                continue;
            }
            if batch.records.len() >= self.options.replay_max_records {
                break;
            }
            if !self.segments[index].sealed {
                self.seal_active()?;
                // Sealing drops the segment when it was empty.
                if index >= self.segments.len() {
                    break;
                }
            }
            let start = if seq == self.ack.seq {
                self.ack
            } else {
                Position::segment_start(seq)
            };
            match self.read_segment(index, start, &mut batch, &mut bytes)? {
                SegmentEnd::Done => index += 1,
                SegmentEnd::BatchFull => break,
            }
        }
        Ok(batch)
    }

    fn read_segment(
        &mut self,
        index: usize,
        start: Position,
        batch: &mut Replay,
        bytes: &mut u64,
    ) -> Result<SegmentEnd, SpoolError> {
        let max_records = self.options.replay_max_records;
        let max_bytes = self.options.replay_max_bytes;
        let meta = &mut self.segments[index];
        let path = meta.path.clone();
        let mut pos = start;
        if pos.offset < meta.readable_end {
            let mut file = File::open(&path).map_err(SpoolError::io("open", &path))?;
            file.seek(SeekFrom::Start(pos.offset))
                .map_err(SpoolError::io("seek", &path))?;
            let mut reader =
                FrameReader::new(BufReader::with_capacity(READ_BUFFER, file), pos.offset);
            let read_err = |e| SpoolError::Io {
                op: "read",
                path: path.clone(),
                source: e,
            };
            while reader.offset() < meta.readable_end {
                if batch.records.len() >= max_records {
                    return Ok(SegmentEnd::BatchFull);
                }
                let frame_start = reader.offset();
                let header = match reader.read_header().map_err(read_err)? {
                    HeaderRead::Frame(h) => h,
                    HeaderRead::End | HeaderRead::Torn => {
                        meta.mark_corrupt(frame_start, pos.records, SkipReason::Truncated);
                        break;
                    }
                    HeaderRead::Corrupt(reason) => {
                        meta.mark_corrupt(frame_start, pos.records, reason);
                        break;
                    }
                };
                let len = u64::from(header.len);
                if !batch.records.is_empty() && *bytes + len > max_bytes {
                    return Ok(SegmentEnd::BatchFull);
                }
                let mut payload = Vec::new();
                match reader
                    .read_payload(header, &mut payload)
                    .map_err(read_err)?
                {
                    PayloadRead::Complete => {}
                    PayloadRead::Torn => {
                        meta.mark_corrupt(frame_start, pos.records, SkipReason::Truncated);
                        break;
                    }
                    PayloadRead::Corrupt(reason) => {
                        meta.mark_corrupt(frame_start, pos.records, reason);
                        break;
                    }
                }
                batch.records.push(payload);
                *bytes += len;
                pos.offset = reader.offset();
                pos.records += 1;
                batch.cursor = ReplayCursor(pos);
            }
        }
        // Everything readable is in the batch; what follows, if anything, is skipped.
        if let Some(reason) = &meta.corrupt {
            let skipped = SkippedSegment {
                path: meta.path.clone(),
                offset: meta.readable_end,
                reason: reason.clone(),
            };
            tracing::error!(
                path = %skipped.path.display(),
                offset = skipped.offset,
                reason = %skipped.reason,
                "skipping the unreadable rest of a spool segment"
            );
            batch.skipped.push(skipped);
        }
        batch.cursor = ReplayCursor(Position {
            seq: meta.seq,
            offset: meta.len.max(meta.readable_end),
            records: pos.records,
        });
        Ok(SegmentEnd::Done)
    }

    /// Records that everything up to `cursor` has been stored downstream: persists the new
    /// ack position, then deletes the segments that are now fully acked. Never call it before
    /// the insert succeeded. Acking a cursor at or behind the current position does nothing.
    pub fn ack(&mut self, cursor: ReplayCursor) -> Result<(), SpoolError> {
        let target = cursor.0;
        if (target.seq, target.offset) <= (self.ack.seq, self.ack.offset) {
            return Ok(());
        }
        let mut new_ack = target;
        let mut delete = 0;
        for meta in &self.segments {
            let consumed = meta.seq < target.seq
                || (meta.seq == target.seq && meta.sealed && target.offset >= meta.readable_end);
            if !consumed {
                break;
            }
            if meta.seq == target.seq {
                new_ack = Position::segment_start(meta.seq + 1);
            }
            delete += 1;
        }
        // Cursor first: a crash before the deletions below leaves segments the next open
        // recognises as acked (their sequence number is below the cursor's).
        cursor::store(&self.dir, new_ack, self.options.fsync)?;
        self.ack = new_ack;
        for _ in 0..delete {
            if let Some(meta) = self.segments.front() {
                remove_file(&meta.path)?;
                self.segments.pop_front();
            }
        }
        if delete > 0 && self.options.fsync != FsyncPolicy::Never {
            sync_dir(&self.dir)?;
        }
        Ok(())
    }
}
