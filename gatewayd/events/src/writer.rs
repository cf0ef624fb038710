//! The writer task: batches records by size and time, inserts them into ClickHouse, spools
//! a batch whose insert fails, and replays the spool in order once inserts succeed again.
//! On shutdown it drains the queue: everything is inserted or spooled before it returns.
//! It takes the queue's records on its flush tick or when a batch is waiting (the
//! [`Doorbell`]), never one record at a time: a wake per record was most of what the events
//! path cost a request.

use std::sync::atomic::Ordering::Relaxed;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use schema::clickhouse::{Client, RowOwned, RowWrite};
use schema::{AiRequest, DlpFinding, HttpEvent};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use super::insert_error::InsertError;
use super::replay_dedup::Rows;
use super::sink::Doorbell;
use super::spooler::{Spooler, SpoolerError};
use super::{EventSink, EventStats, Record};
use crate::EventsOptions;

/// The running writer: its sink for the log phase and its task for shutdown.
pub struct WriterHandle {
    pub sink: EventSink,
    task: JoinHandle<()>,
    closing: Arc<tokio::sync::Notify>,
}

impl WriterHandle {
    /// Closes the queue and waits until every queued record is inserted or spooled.
    pub async fn finish(self) {
        let WriterHandle {
            sink,
            task,
            closing,
        } = self;
        drop(sink);
        closing.notify_one();
        let _ = task.await;
    }
}

/// Starts the writer. `client` is `None` when events are configured off ClickHouse entirely
/// (then records go straight to the spool, still never lost).
pub fn start_writer(
    config: &EventsOptions,
    client: Client,
    spool: Spooler,
    stats: Arc<EventStats>,
) -> WriterHandle {
    let (tx, rx) = mpsc::channel(config.queue_size.max(1));
    let doorbell = Arc::new(Doorbell::new(config.batch_size));
    let closing = Arc::new(tokio::sync::Notify::new());
    let sink = EventSink::with_doorbell(tx, doorbell.clone(), stats.clone());
    let writer = Writer {
        rx,
        doorbell,
        closing: closing.clone(),
        client,
        spool: Arc::new(Mutex::new(spool)),
        stats,
        batch_size: config.batch_size.max(1),
        flush_interval: config.flush_interval,
        insert_timeout: config.insert_timeout,
        healthy: true,
    };
    // Owned by its handle, not the tracked spawner: `WriterHandle::finish` joins it after the
    // drain, once every connection (and so every event) is done.
    #[allow(clippy::disallowed_methods)]
    let task = tokio::spawn(writer.run());
    WriterHandle {
        sink,
        task,
        closing,
    }
}

/// How long the queue must stay empty at shutdown before it is closed.
const SHUTDOWN_QUIET: Duration = Duration::from_secs(1);

struct Writer {
    rx: mpsc::Receiver<Record>,
    doorbell: Arc<Doorbell>,
    closing: Arc<tokio::sync::Notify>,
    client: Client,
    spool: Arc<Mutex<Spooler>>,
    stats: Arc<EventStats>,
    batch_size: usize,
    flush_interval: Duration,
    insert_timeout: Duration,
    healthy: bool,
}

impl Writer {
    async fn run(mut self) {
        let mut batch = Vec::with_capacity(self.batch_size.min(65_536));
        let mut tick = tokio::time::interval(self.flush_interval);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let closing = self.closing.clone();
        loop {
            let due = tokio::select! {
                _ = tick.tick() => true,
                _ = self.doorbell.ring.notified() => false,
                _ = closing.notified() => break,
            };
            let open = self.drain(&mut batch).await;
            if due || !open {
                self.flush(&mut batch).await;
                self.replay().await;
            }
            if !open {
                break;
            }
        }
        // Shutdown: the last connections' records and any record still waiting in its own task
        // for room are read until the queue has been quiet for `SHUTDOWN_QUIET`; then it is
        // closed (a sender still held somewhere must not keep the daemon from stopping: a send
        // after this point is counted as dropped and logged) and what it holds is read.
        while let Ok(Some(record)) = tokio::time::timeout(SHUTDOWN_QUIET, self.rx.recv()).await {
            batch.push(record);
            if batch.len() >= self.batch_size {
                self.flush(&mut batch).await;
            }
        }
        self.rx.close();
        while let Some(record) = self.rx.recv().await {
            batch.push(record);
            if batch.len() >= self.batch_size {
                self.flush(&mut batch).await;
            }
        }
        self.flush(&mut batch).await;
        self.replay().await;
        tracing::info!(
            inserted = self.stats.inserted.load(Relaxed),
            spooled = self.stats.spooled.load(Relaxed),
            "event writer stopped"
        );
    }

    /// Takes every record queued now, flushing each full batch. False once the queue is
    /// closed and empty.
    async fn drain(&mut self, batch: &mut Vec<Record>) -> bool {
        self.doorbell.drained();
        loop {
            match self.rx.try_recv() {
                Ok(record) => {
                    batch.push(record);
                    if batch.len() >= self.batch_size {
                        self.flush(batch).await;
                    }
                }
                Err(mpsc::error::TryRecvError::Empty) => return true,
                Err(mpsc::error::TryRecvError::Disconnected) => return false,
            }
        }
    }

    async fn flush(&mut self, batch: &mut Vec<Record>) {
        if batch.is_empty() {
            return;
        }
        let records = std::mem::take(batch);
        match self.insert(&records).await {
            Ok(()) => {
                self.healthy = true;
                self.stats.inserted.fetch_add(records.len() as u64, Relaxed);
            }
            Err(error) => {
                self.stats.insert_failures.fetch_add(1, Relaxed);
                if self.healthy {
                    tracing::error!(%error, records = records.len(), "ClickHouse insert failed; spooling events to disk");
                }
                self.healthy = false;
                self.spool_records(records).await;
            }
        }
    }

    async fn insert(&self, records: &[Record]) -> Result<(), InsertError> {
        self.insert_rows(&Rows::of(records)).await
    }

    /// Inserts a replayed batch, leaving out what ClickHouse already stored.
    async fn insert_replayed(&self, records: &[Record]) -> Result<(), InsertError> {
        let looked_up = tokio::time::timeout(
            self.insert_timeout,
            super::replay_dedup::unstored(&self.client, records),
        )
        .await
        .map_err(|_| InsertError::Timeout {
            what: "looking up stored events",
            after: self.insert_timeout,
        })?;
        let rows = looked_up?;
        let already = records.len() - rows.http.len() - rows.ai.len();
        if already > 0 {
            tracing::warn!(already, "spooled events were already in ClickHouse (stored while the answer was lost); not inserted again");
        }
        self.insert_rows(&rows).await
    }

    async fn insert_rows(&self, rows: &Rows<'_>) -> Result<(), InsertError> {
        let work = async {
            insert_table(&self.client, HttpEvent::TABLE, &rows.http).await?;
            insert_table(&self.client, DlpFinding::TABLE, &rows.findings).await?;
            insert_table(&self.client, AiRequest::TABLE, &rows.ai).await
        };
        tokio::time::timeout(self.insert_timeout, work)
            .await
            .map_err(|_| InsertError::Timeout {
                what: "insert",
                after: self.insert_timeout,
            })?
    }

    async fn spool_records(&self, records: Vec<Record>) {
        let count = records.len() as u64;
        let spool = self.spool.clone();
        let stats = self.stats.clone();
        let outcome = tokio::task::spawn_blocking(move || {
            let mut spool = spool.lock().unwrap_or_else(PoisonError::into_inner);
            let result = spool.append(&records);
            stats.spool_bytes.store(spool.bytes(), Relaxed);
            stats.spool_pending.store(spool.pending(), Relaxed);
            result
        })
        .await
        .map_err(SpoolerError::from)
        .and_then(|r| r);
        match outcome {
            Ok(dropped) => {
                self.stats.spooled.fetch_add(count, Relaxed);
                if dropped > 0 {
                    self.stats.dropped.fetch_add(dropped, Relaxed);
                    tracing::error!(dropped, "EVENT SPOOL FULL: oldest spooled events were dropped (events.spool_when_full = \"drop_oldest\")");
                }
            }
            Err(error) => {
                self.stats.dropped.fetch_add(count, Relaxed);
                tracing::error!(%error, count, "EVENTS LOST: could not write them to the spool");
            }
        }
    }

    /// Replays spooled records while inserts succeed.
    async fn replay(&mut self) {
        loop {
            let spool = self.spool.clone();
            let batch_size = self.batch_size;
            let next = tokio::task::spawn_blocking(move || {
                spool
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .next_batch(batch_size)
            })
            .await
            .map_err(SpoolerError::from)
            .and_then(|r| r);
            let records = match next {
                Ok(Some(records)) => records,
                Ok(None) => return,
                Err(error) => {
                    tracing::error!(%error, "reading the event spool failed");
                    return;
                }
            };
            let count = records.len() as u64;
            if let Err(error) = self.insert_replayed(&records).await {
                if self.healthy {
                    tracing::warn!(%error, "ClickHouse still unavailable; spool kept for later");
                }
                self.healthy = false;
                return;
            }
            self.healthy = true;
            let spool = self.spool.clone();
            let stats = self.stats.clone();
            let acked = tokio::task::spawn_blocking(move || {
                let mut spool = spool.lock().unwrap_or_else(PoisonError::into_inner);
                let result = spool.ack();
                stats.spool_bytes.store(spool.bytes(), Relaxed);
                stats.spool_pending.store(spool.pending(), Relaxed);
                result
            })
            .await
            .map_err(SpoolerError::from)
            .and_then(|r| r);
            self.stats.replayed.fetch_add(count, Relaxed);
            self.stats.inserted.fetch_add(count, Relaxed);
            if let Err(error) = acked {
                tracing::error!(%error, "could not mark replayed events as done; they may be replayed again");
                return;
            }
            tracing::info!(count, "replayed spooled events into ClickHouse");
        }
    }
}

/// One INSERT of `rows` into `table` (none when there are no rows).
async fn insert_table<T: RowOwned + RowWrite>(
    client: &Client,
    table: &'static str,
    rows: &[&T],
) -> Result<(), InsertError> {
    if rows.is_empty() {
        return Ok(());
    }
    let failed = |source| InsertError::Insert { table, source };
    let mut insert = client.insert::<T>(table).await.map_err(failed)?;
    for row in rows {
        insert.write(*row).await.map_err(failed)?;
    }
    insert.end().await.map_err(failed)
}

#[cfg(test)]
#[path = "writer_tests.rs"]
mod tests;
