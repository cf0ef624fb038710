//! The exporter task: takes closed spans off the bounded queue, sends them in batches of
//! `max_batch` (or what has come in `flush_interval`), one request at a time, each within
//! `export_timeout`. A failed batch is dropped and counted, never retried: spans are
//! diagnostics, the transaction record is the events path's job.
//!
//! What it must never do: hold more than the queue and one batch, or let the proxy wait on it.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

use config::OtlpConfig;

pub use crate::client::SetupError as StartError;
use crate::client::{Collector, ExportError};
use crate::encode::{encode, Resource};
use crate::events::{ExportFailed, ExportStats, QueueFullReport, SpansExported};
use crate::layer::OtlpLayer;
use crate::record::SpanRecord;

/// The running exporter: its counters, and the way to flush it at shutdown.
pub struct ExportHandle {
    pub stats: Arc<ExportStats>,
    stop: oneshot::Sender<()>,
    task: JoinHandle<()>,
    timeout: Duration,
}

impl ExportHandle {
    /// Sends what is queued (one more try, within the export timeout) and stops.
    pub async fn finish(self) {
        let _ = self.stop.send(());
        let _ = tokio::time::timeout(self.timeout + Duration::from_secs(1), self.task).await;
    }
}

/// Starts the exporter on the current Tokio runtime and returns the layer that feeds it.
pub fn start(config: &OtlpConfig) -> Result<(OtlpLayer, ExportHandle), StartError> {
    let collector = Collector::new(config)?;
    let (queue, spans) = mpsc::channel(config.max_queue);
    let stats = Arc::new(ExportStats::default());
    let (stop, stopped) = oneshot::channel();
    let exporter = Exporter {
        collector,
        resource: Resource {
            service_name: config.service_name.clone(),
        },
        stats: stats.clone(),
        max_batch: config.max_batch,
        timeout: config.export_timeout.0,
    };
    // Owned by the returned handle, whose `finish` stops and awaits it at shutdown.
    #[allow(clippy::disallowed_methods)]
    let task = tokio::spawn(exporter.run(spans, stopped, config.flush_interval.0));
    let layer = OtlpLayer {
        queue,
        stats: stats.clone(),
        sample_ratio: config.sample_ratio,
        export_user: config.export_user,
    };
    let handle = ExportHandle {
        stats,
        stop,
        task,
        timeout: config.export_timeout.0,
    };
    Ok((layer, handle))
}

struct Exporter {
    collector: Collector,
    resource: Resource,
    stats: Arc<ExportStats>,
    max_batch: usize,
    timeout: Duration,
}

impl Exporter {
    async fn run(
        mut self,
        mut spans: mpsc::Receiver<SpanRecord>,
        mut stopped: oneshot::Receiver<()>,
        flush_interval: Duration,
    ) {
        let mut batch = Vec::with_capacity(self.max_batch);
        let mut tick = tokio::time::interval(flush_interval);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                biased;
                _ = &mut stopped => break,
                received = spans.recv_many(&mut batch, self.max_batch) => {
                    if received == 0 {
                        break;
                    }
                    if batch.len() >= self.max_batch {
                        self.send(&mut batch).await;
                    }
                }
                _ = tick.tick() => {
                    QueueFullReport.emit(&self.stats);
                    if !batch.is_empty() {
                        self.send(&mut batch).await;
                    }
                }
            }
        }
        // Shutdown: what is queued now gets one try; later spans are dropped and counted.
        spans.close();
        while spans.recv_many(&mut batch, self.max_batch).await > 0 {
            self.send(&mut batch).await;
        }
        if !batch.is_empty() {
            self.send(&mut batch).await;
        }
        QueueFullReport.emit(&self.stats);
    }

    /// Sends `batch` (emptied either way).
    async fn send(&mut self, batch: &mut Vec<SpanRecord>) {
        let count = batch.len() as u64;
        let result = match encode(&self.resource, batch) {
            Ok(body) => tokio::time::timeout(self.timeout, self.collector.post(body))
                .await
                .unwrap_or(Err(ExportError::Timeout)),
            // Serializing plain strings and numbers does not fail; count it if it ever does.
            Err(error) => {
                tracing::debug!(%error, "OTLP batch could not be encoded");
                Err(ExportError::Status(http::StatusCode::INTERNAL_SERVER_ERROR))
            }
        };
        batch.clear();
        match result {
            Ok(rejected) => SpansExported { count, rejected }.emit(&self.stats),
            Err(error) => ExportFailed {
                spans: count,
                error: &error,
            }
            .emit(&self.stats),
        }
    }
}
