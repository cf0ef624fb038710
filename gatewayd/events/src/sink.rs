//! The log phase's end of the event queue: never blocks, never drops.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::Arc;

use tokio::sync::mpsc;

use schema::{AiRequest, DlpFinding};

use super::{AiCall, EventRecord, Record};

/// Counters of the events path, exported at `/metrics`.
#[derive(Default)]
pub struct EventStats {
    pub queued: AtomicU64,
    pub inserted: AtomicU64,
    pub spooled: AtomicU64,
    pub replayed: AtomicU64,
    pub dropped: AtomicU64,
    pub insert_failures: AtomicU64,
    pub overflowed: AtomicU64,
    pub spool_bytes: AtomicU64,
    pub spool_pending: AtomicU64,
}

/// Sends transaction records to the writer.
#[derive(Clone)]
pub struct EventSink {
    tx: mpsc::Sender<Record>,
    pub stats: Arc<EventStats>,
}

impl EventSink {
    pub fn new(tx: mpsc::Sender<Record>, stats: Arc<EventStats>) -> Self {
        Self { tx, stats }
    }

    /// Queues a transaction's rows. When the queue is full the record waits in its own task
    /// rather than being dropped or blocking the request.
    pub fn emit(&self, record: EventRecord) {
        self.emit_record(Record::Http(record));
    }

    /// Queues an AI gateway call's row and its DLP findings, like [`Self::emit`].
    pub fn emit_ai(&self, call: AiRequest, findings: Vec<DlpFinding>) {
        self.emit_record(Record::Ai(AiCall { ai: call, findings }));
    }

    fn emit_record(&self, record: Record) {
        self.stats.queued.fetch_add(1, Relaxed);
        match self.tx.try_send(record) {
            Ok(()) => {}
            Err(mpsc::error::TrySendError::Full(record)) => {
                self.stats.overflowed.fetch_add(1, Relaxed);
                let tx = self.tx.clone();
                let stats = self.stats.clone();
                match tokio::runtime::Handle::try_current() {
                    Ok(handle) => {
                        // Untracked on purpose: it holds a sender, so the writer (joined after
                        // the drain) does not finish until this record is queued.
                        #[allow(clippy::disallowed_methods)]
                        handle.spawn(async move {
                            if tx.send(record).await.is_err() {
                                stats.dropped.fetch_add(1, Relaxed);
                                tracing::error!("event lost: the writer has stopped");
                            }
                        });
                    }
                    Err(_) => {
                        self.stats.dropped.fetch_add(1, Relaxed);
                        tracing::error!("event lost: no runtime to queue it on");
                    }
                }
            }
            Err(mpsc::error::TrySendError::Closed(_)) => {
                self.stats.dropped.fetch_add(1, Relaxed);
                tracing::error!("event lost: the writer has stopped");
            }
        }
    }
}
