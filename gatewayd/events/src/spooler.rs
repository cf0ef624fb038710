//! The writer's view of the spool crate: records (transactions and AI calls) in, records out, with the
//! replay cursor kept between reading a batch and acknowledging it.

use std::path::Path;

use spool::{FsyncPolicy, ReplayCursor, Spool, SpoolError, SpoolOptions, WhenFull};

use super::Record;
use crate::{EventsOptions, SpoolFsync, SpoolWhenFull};

/// Why records could not be spooled, replayed or acknowledged.
#[derive(Debug, thiserror::Error)]
pub enum SpoolerError {
    #[error("event spool {dir}: {source}")]
    Open { dir: String, source: SpoolError },
    #[error(transparent)]
    Encode(#[from] serde_json::Error),
    /// Under back-pressure, a batch that could never fit: waiting would never end.
    #[error("a single batch is larger than events.spool_max_bytes")]
    BatchTooLarge,
    #[error(transparent)]
    Spool(#[from] SpoolError),
    /// The blocking task that touched the spool panicked or was cancelled.
    #[error(transparent)]
    Task(#[from] tokio::task::JoinError),
}

/// Spooled event records.
pub struct Spooler {
    spool: Spool,
    back_pressure: bool,
    pending_ack: Option<ReplayCursor>,
}

impl Spooler {
    /// Opens (or creates) the spool in `dir`.
    pub fn open(dir: &Path, config: &EventsOptions) -> Result<Self, SpoolerError> {
        let options = SpoolOptions {
            max_bytes: config.spool_max_bytes,
            segment_bytes: (config.spool_max_bytes / 16).clamp(1024 * 1024, 64 * 1024 * 1024),
            fsync: match config.spool_fsync {
                SpoolFsync::Always => FsyncPolicy::Always,
                SpoolFsync::EveryBatch => FsyncPolicy::EveryBatch,
                SpoolFsync::Never => FsyncPolicy::Never,
            },
            when_full: match config.spool_when_full {
                SpoolWhenFull::DropOldest => WhenFull::DropOldest,
                SpoolWhenFull::BackPressure => WhenFull::Refuse,
            },
            // A replayed batch is decoded whole, looked up and encoded again for the insert:
            // small batches keep that peak (and what the allocator keeps of it after an
            // outage) near a MiB. 2,000 records left 7 MiB more resident after the soak's
            // outage, 10,000 left 31 MiB; 500-row inserts still replay thousands a second.
            replay_max_records: 500,
            replay_max_bytes: 1024 * 1024,
        };
        let spool = Spool::open(dir, options).map_err(|source| SpoolerError::Open {
            dir: dir.display().to_string(),
            source,
        })?;
        let stats = spool.stats();
        if stats.records_pending > 0 {
            tracing::info!(
                pending = stats.records_pending,
                "event spool holds events from an earlier run; replaying them"
            );
        }
        Ok(Self {
            spool,
            back_pressure: config.spool_when_full == SpoolWhenFull::BackPressure,
            pending_ack: None,
        })
    }

    /// Appends records; returns how many older records were dropped to make room. Under
    /// back-pressure a full spool is retried (the caller's queue fills meanwhile).
    pub fn append(&mut self, records: &[Record]) -> Result<u64, SpoolerError> {
        let encoded: Vec<Vec<u8>> = records
            .iter()
            .map(Record::encode)
            .collect::<Result<_, _>>()?;
        loop {
            match self.spool.append_batch(&encoded) {
                Ok(outcome) => return Ok(outcome.dropped_records),
                Err(SpoolError::Full { .. }) if self.back_pressure => {
                    tracing::warn!("event spool full: holding events until ClickHouse drains it");
                    std::thread::sleep(std::time::Duration::from_secs(1));
                    if self.spool.stats().bytes == 0 {
                        return Err(SpoolerError::BatchTooLarge);
                    }
                }
                Err(e) => return Err(e.into()),
            }
        }
    }

    /// The next spooled batch, oldest first; `None` when nothing is pending. Records that no
    /// longer decode are reported and skipped.
    pub fn next_batch(&mut self, _max: usize) -> Result<Option<Vec<Record>>, SpoolerError> {
        let replay = self.spool.replay()?;
        if replay.is_empty() {
            return Ok(None);
        }
        let mut records = Vec::with_capacity(replay.records.len());
        for bytes in &replay.records {
            match Record::decode(bytes) {
                Ok(record) => records.push(record),
                Err(error) => tracing::error!(%error, "spooled event does not decode; skipped"),
            }
        }
        self.pending_ack = Some(replay.cursor);
        if records.is_empty() {
            // Only skipped or undecodable data: acknowledge it so replay moves on.
            self.ack()?;
            return self.next_batch(_max);
        }
        Ok(Some(records))
    }

    /// Forgets the batch last returned by [`Self::next_batch`].
    pub fn ack(&mut self) -> Result<(), SpoolerError> {
        match self.pending_ack.take() {
            Some(cursor) => Ok(self.spool.ack(cursor)?),
            None => Ok(()),
        }
    }

    pub fn bytes(&self) -> u64 {
        self.spool.stats().bytes
    }

    pub fn pending(&self) -> u64 {
        self.spool.stats().records_pending
    }
}
