//! One sink's task: batches events from its bounded queue, delivers them, and when the
//! receiver is unreachable keeps them in its own disk spool, replayed oldest first before
//! anything newer is sent (so the receiver sees them in order).
//!
//! What this module must never do: block the caller (events arrive by `try_send`), send a
//! newer event before an older spooled one, or lose a spooled event without counting it.

use std::path::Path;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use config::{SiemFormat, SiemKind, SiemSink};
use spool::{FsyncPolicy, Spool, SpoolOptions, WhenFull};
use tokio::sync::{mpsc, watch};
use tokio::time::Instant;

use crate::event::SiemEvent;
use crate::format;
use crate::stats::{ErrorKind, SinkStats};
use crate::transport::{DeliveryError, Endpoint, HttpLink, SyslogLink};
use crate::Secret;

/// Replayed batches sent in one go before the queue is looked at again.
const REPLAY_BURST: usize = 20;

/// How a batch reaches the receiver.
pub(crate) enum Deliverer {
    Syslog(SyslogLink, SiemFormat),
    Hec(HttpLink),
    Webhook(HttpLink, Secret),
}

impl Deliverer {
    pub(crate) fn new(sink: &SiemSink, secret: Option<Secret>) -> Result<Self, String> {
        let ca = sink.ca_file.as_deref();
        match (sink.kind, secret) {
            (SiemKind::Syslog, _) => {
                let (scheme, rest) = sink.url.split_once("://").ok_or("url has no scheme")?;
                let (host, port) = rest.rsplit_once(':').ok_or("url has no port")?;
                let port: u16 = port.parse().map_err(|_| "url has a bad port")?;
                let endpoint = Endpoint::new(host, port, scheme == "tls", ca)?;
                Ok(Self::Syslog(SyslogLink::new(endpoint), sink.format))
            }
            (SiemKind::Hec, Some(token)) => {
                let auth = format!("Splunk {}", token.expose());
                Ok(Self::Hec(HttpLink::new(&sink.url, ca, Some(&auth))?))
            }
            (SiemKind::Webhook, Some(secret)) => {
                Ok(Self::Webhook(HttpLink::new(&sink.url, ca, None)?, secret))
            }
            _ => Err("needs a secret (secret_file or secret_env)".into()),
        }
    }

    async fn deliver(&mut self, events: &[SiemEvent], hostname: &str) -> Result<(), DeliveryError> {
        match self {
            Self::Syslog(link, format) => {
                let mut frames = Vec::new();
                for event in events {
                    format::syslog_frame(event, hostname, *format, &mut frames);
                }
                link.send(&frames).await
            }
            Self::Hec(link) => link.post(format::hec_body(events, hostname), &[]).await,
            Self::Webhook(link, secret) => {
                let body = format::webhook_body(events);
                let now = SystemTime::now()
                    .duration_since(UNIX_EPOCH)
                    .map_or(0, |d| d.as_secs());
                let signature = format::webhook_signature(secret.expose().as_bytes(), now, &body);
                let headers = [
                    ("x-warden-timestamp", now.to_string()),
                    ("x-warden-signature", signature),
                ];
                link.post(body, &headers).await
            }
        }
    }
}

/// Opens a sink's spool (`<dir>`, private).
pub(crate) fn open_spool(dir: &Path, sink: &SiemSink) -> Result<Spool, String> {
    let options = SpoolOptions {
        max_bytes: sink.spool_max_bytes,
        segment_bytes: (sink.spool_max_bytes / 16).clamp(16 * 1024, 16 * 1024 * 1024),
        fsync: FsyncPolicy::EveryBatch,
        when_full: WhenFull::DropOldest,
        replay_max_records: sink.max_batch,
        replay_max_bytes: 4 * 1024 * 1024,
    };
    Spool::open(dir, options).map_err(|e| format!("spool {}: {e}", dir.display()))
}

/// The task's state.
pub(crate) struct SinkTask {
    pub name: String,
    pub deliverer: Deliverer,
    pub spool: Arc<Mutex<Spool>>,
    pub stats: Arc<SinkStats>,
    pub hostname: String,
    pub max_batch: usize,
    pub flush: Duration,
    pub timeout: Duration,
    pub retry: Duration,
}

impl SinkTask {
    /// Runs until `stop` turns true, then sends or spools what is queued and returns.
    pub async fn run(mut self, mut rx: mpsc::Receiver<SiemEvent>, mut stop: watch::Receiver<bool>) {
        let mut held: Vec<SiemEvent> = Vec::new();
        let mut retry_at: Option<Instant> = None;
        let mut tick = tokio::time::interval(self.flush);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        self.refresh_pending().await;
        loop {
            let mut flush_due = false;
            let mut stopping = *stop.borrow();
            if !stopping {
                tokio::select! {
                    n = rx.recv_many(&mut held, self.max_batch) => stopping = n == 0,
                    _ = tick.tick() => flush_due = true,
                    _ = stop.changed() => stopping = true,
                }
            }
            if stopping {
                while let Ok(event) = rx.try_recv() {
                    held.push(event);
                }
                flush_due = true;
            }
            let down = retry_at.is_some_and(|at| Instant::now() < at);
            let spooled = self
                .stats
                .spool_pending
                .load(std::sync::atomic::Ordering::Relaxed)
                > 0;
            if down || spooled {
                if flush_due || held.len() >= self.max_batch {
                    // Newer events wait behind the spooled ones, on disk.
                    self.spool_events(&mut held).await;
                    if !down && !stopping {
                        retry_at = self.replay().await;
                    }
                }
            } else if flush_due || held.len() >= self.max_batch {
                retry_at = self.send_held(&mut held).await;
            }
            if stopping {
                self.spool_events(&mut held).await;
                return;
            }
        }
    }

    /// One delivery, bounded by the sink's timeout.
    async fn deliver(&mut self, events: &[SiemEvent]) -> Result<(), DeliveryError> {
        match tokio::time::timeout(self.timeout, self.deliverer.deliver(events, &self.hostname))
            .await
        {
            Ok(result) => result,
            Err(_) => Err(DeliveryError::new(
                ErrorKind::Timeout,
                "delivery took longer than the sink's timeout",
            )),
        }
    }

    fn failed(&self, error: &DeliveryError) -> Option<Instant> {
        self.stats.failed(error.kind);
        tracing::warn!(sink = %self.name, kind = error.kind.as_str(), %error, "SIEM delivery failed; events are spooled and retried");
        Some(Instant::now() + self.retry)
    }

    /// Sends the held events in batches; on failure the rest goes to the spool.
    async fn send_held(&mut self, held: &mut Vec<SiemEvent>) -> Option<Instant> {
        while !held.is_empty() {
            let n = held.len().min(self.max_batch);
            match self.deliver(&held[..n]).await {
                Ok(()) => {
                    self.stats
                        .sent
                        .fetch_add(n as u64, std::sync::atomic::Ordering::Relaxed);
                    held.drain(..n);
                }
                Err(error) => {
                    let retry = self.failed(&error);
                    self.spool_events(held).await;
                    return retry;
                }
            }
        }
        None
    }

    /// Sends spooled batches oldest first; returns when to try again after a failure.
    async fn replay(&mut self) -> Option<Instant> {
        for _ in 0..REPLAY_BURST {
            let spool = self.spool.clone();
            let read = tokio::task::spawn_blocking(move || {
                let mut spool = spool.lock().unwrap_or_else(PoisonError::into_inner);
                spool.replay()
            })
            .await;
            let replay = match read {
                Ok(Ok(replay)) => replay,
                Ok(Err(error)) => {
                    self.stats.failed(ErrorKind::Spool);
                    tracing::error!(sink = %self.name, %error, "SIEM spool cannot be read");
                    return Some(Instant::now() + self.retry);
                }
                Err(_) => return Some(Instant::now() + self.retry),
            };
            if replay.is_empty() {
                break;
            }
            let events: Vec<SiemEvent> = replay
                .records
                .iter()
                .filter_map(|bytes| match serde_json::from_slice(bytes) {
                    Ok(event) => Some(event),
                    Err(error) => {
                        self.stats.dropped.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        tracing::error!(sink = %self.name, %error, "spooled SIEM event does not decode; skipped");
                        None
                    }
                })
                .collect();
            if !events.is_empty() {
                if let Err(error) = self.deliver(&events).await {
                    return self.failed(&error);
                }
            }
            let n = events.len() as u64;
            let spool = self.spool.clone();
            let cursor = replay.cursor;
            let relaxed = std::sync::atomic::Ordering::Relaxed;
            let acked = tokio::task::spawn_blocking(move || {
                let mut spool = spool.lock().unwrap_or_else(PoisonError::into_inner);
                let acked = spool.ack(cursor);
                (acked, spool.stats().records_pending)
            })
            .await
            .map(|(acked, pending)| {
                // The backlog gauge before the counters: a reader never sees both counted.
                self.stats.spool_pending.store(pending, relaxed);
                acked
            });
            self.stats.sent.fetch_add(n, relaxed);
            self.stats.replayed.fetch_add(n, relaxed);
            if !matches!(acked, Ok(Ok(()))) {
                // The batch was delivered; it may be sent again (receivers de-duplicate by id).
                self.stats.failed(ErrorKind::Spool);
                tracing::error!(sink = %self.name, "SIEM spool acknowledgement failed");
                self.refresh_pending().await;
                return Some(Instant::now() + self.retry);
            }
            if self.stats.spool_pending.load(relaxed) == 0 {
                tracing::info!(sink = %self.name, "SIEM receiver reachable again; spool delivered");
                break;
            }
        }
        None
    }

    /// Moves `held` into the spool, counting what it drops or cannot keep.
    async fn spool_events(&mut self, held: &mut Vec<SiemEvent>) {
        if held.is_empty() {
            return;
        }
        let events = std::mem::take(held);
        let n = events.len() as u64;
        let spool = self.spool.clone();
        let written = tokio::task::spawn_blocking(move || {
            let encoded: Vec<Vec<u8>> = events
                .iter()
                .filter_map(|e| serde_json::to_vec(e).ok())
                .collect();
            let mut spool = spool.lock().unwrap_or_else(PoisonError::into_inner);
            let written = spool.append_batch(&encoded);
            (written, spool.stats().records_pending)
        })
        .await;
        let relaxed = std::sync::atomic::Ordering::Relaxed;
        // The backlog gauge first: whoever sees the events counted as spooled sees them pending.
        let written = written.map(|(written, pending)| {
            self.stats.spool_pending.store(pending, relaxed);
            written
        });
        match written {
            Ok(Ok(outcome)) => {
                self.stats.spooled.fetch_add(n, relaxed);
                self.stats
                    .dropped
                    .fetch_add(outcome.dropped_records, relaxed);
            }
            Ok(Err(error)) => {
                self.stats.dropped.fetch_add(n, relaxed);
                self.stats.failed(ErrorKind::Spool);
                tracing::error!(sink = %self.name, %error, lost = n, "SIEM events could not be spooled");
            }
            Err(_) => {
                self.stats.dropped.fetch_add(n, relaxed);
            }
        }
    }

    async fn refresh_pending(&self) {
        let spool = self.spool.clone();
        if let Ok(pending) = tokio::task::spawn_blocking(move || {
            spool
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .stats()
                .records_pending
        })
        .await
        {
            self.stats
                .spool_pending
                .store(pending, std::sync::atomic::Ordering::Relaxed);
        }
    }
}
