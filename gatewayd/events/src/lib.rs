//! Every transaction becomes one row in ClickHouse (`http_events`, plus `dlp_findings`), and
//! every AI gateway call one row in `ai_requests`; not one is lost when ClickHouse is down.
//!
//! ```text
//! log phase ──try_send──► bounded queue ──► EventWriter: batch (size or time)
//!                                              ├─ insert (RowBinary, lz4) ──► ClickHouse
//!                                              └─ on failure ──► Spool (segment files, checksums)
//!                                                        ▲            │ replayed in order when
//!                                                        └────────────┘ ClickHouse answers again
//! ```
//!
//! The log phase never blocks and never drops: when the queue is full the event waits in a
//! task of its own (bounded by the requests in flight). Analytics never stops traffic.
//!
//! This crate knows ClickHouse only through `schema` and the disk only through `spool`; it
//! never reads the daemon's configuration (it takes [`EventsOptions`]) and never imports the
//! proxy, the admin plane or the reports.

mod insert_error;
mod options;
mod record;
mod replay_dedup;
mod sink;
mod spooler;
mod writer;

pub use options::{EventsOptions, SpoolFsync, SpoolWhenFull};
pub use record::{AiCall, EventContext, EventRecord, Record};
pub use sink::{EventSink, EventStats, RecordTap};
pub use spooler::{Spooler, SpoolerError};
pub use writer::{start_writer, WriterHandle};
