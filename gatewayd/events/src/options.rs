//! What the events path is told by the daemon's `[events]` section, as plain values: the
//! section itself (its keys, defaults and duration syntax) belongs to the daemon's config
//! module, which builds these. The spool enums are declared here, where they mean something,
//! and the config module reads them straight from the file.

use std::time::Duration;

use serde::Deserialize;

/// How the writer batches and spools.
#[derive(Debug, Clone)]
pub struct EventsOptions {
    /// Records buffered between the log phase and the writer.
    pub queue_size: usize,
    /// A batch is inserted when it has this many records ...
    pub batch_size: usize,
    /// ... or when this much time has passed.
    pub flush_interval: Duration,
    pub insert_timeout: Duration,
    /// Largest size of the on-disk spool.
    pub spool_max_bytes: u64,
    pub spool_fsync: SpoolFsync,
    pub spool_when_full: SpoolWhenFull,
}

/// When spool writes reach the disk.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum SpoolFsync {
    Always,
    EveryBatch,
    Never,
}

/// What a full spool does.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum SpoolWhenFull {
    /// Delete the oldest spooled events, with a loud alarm and a metric.
    DropOldest,
    /// Keep every event: the writer waits for space and the queue holds the rest.
    BackPressure,
}
