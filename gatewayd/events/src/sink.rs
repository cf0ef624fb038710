//! The log phase's end of the event queue: never blocks, never drops, and never wakes the
//! writer for one record: the writer drains the queue on its flush tick, or when the
//! [`Doorbell`] says a whole batch is waiting (a wake per record cost more than the record).

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering::Relaxed};
use std::sync::Arc;

use tokio::sync::{mpsc, Notify};

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

/// Rings the writer once a batch's worth of records is queued, and once at shutdown.
pub(crate) struct Doorbell {
    /// Records queued since the writer last drained.
    queued: AtomicUsize,
    /// A batch: ringing at this many queued records.
    batch: usize,
    pub(crate) ring: Notify,
}

impl Doorbell {
    pub(crate) fn new(batch: usize) -> Self {
        Self {
            queued: AtomicUsize::new(0),
            batch: batch.max(1),
            ring: Notify::new(),
        }
    }

    /// Counts one queued record; the one that completes a batch rings.
    fn queued_one(&self) {
        if self.queued.fetch_add(1, Relaxed) + 1 == self.batch {
            self.ring.notify_one();
        }
    }

    /// The writer took the queue's records: counting starts again.
    pub(crate) fn drained(&self) {
        self.queued.store(0, Relaxed);
    }
}

/// Sees every record as it is queued (SIEM export). It must not block: it runs in the log
/// phase of the request; copy what you need and queue it.
pub type RecordTap = Arc<dyn Fn(&Record) + Send + Sync>;

/// Sends transaction records to the writer.
#[derive(Clone)]
pub struct EventSink {
    tx: mpsc::Sender<Record>,
    doorbell: Arc<Doorbell>,
    pub stats: Arc<EventStats>,
    tap: Option<RecordTap>,
}

impl EventSink {
    /// A sink whose reader drains `tx`'s receiver on its own schedule (nothing rings).
    pub fn new(tx: mpsc::Sender<Record>, stats: Arc<EventStats>) -> Self {
        Self::with_doorbell(tx, Arc::new(Doorbell::new(usize::MAX)), stats)
    }

    pub(crate) fn with_doorbell(
        tx: mpsc::Sender<Record>,
        doorbell: Arc<Doorbell>,
        stats: Arc<EventStats>,
    ) -> Self {
        Self {
            tx,
            doorbell,
            stats,
            tap: None,
        }
    }

    /// Shows every record queued from now on to `tap` too (set before the sink is cloned).
    pub fn set_tap(&mut self, tap: RecordTap) {
        self.tap = Some(tap);
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
        if let Some(tap) = &self.tap {
            tap(&record);
        }
        self.stats.queued.fetch_add(1, Relaxed);
        match self.tx.try_send(record) {
            Ok(()) => self.doorbell.queued_one(),
            Err(mpsc::error::TrySendError::Full(record)) => {
                self.stats.overflowed.fetch_add(1, Relaxed);
                // The queue is full: the writer must drain now, not at its next tick.
                self.doorbell.ring.notify_one();
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
