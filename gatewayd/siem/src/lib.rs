//! `siem`: sends security events — blocks, DLP findings (masked snippets only), budget
//! breaches, admin actions (approvals, key operations) — and optionally every transaction to
//! the organisation's SIEM: syslog over TCP or TLS (RFC 5424, octet-counted, JSON or CEF),
//! Splunk's HTTP Event Collector, or a signed HTTPS webhook.
//!
//! ```text
//! events path (EventSink tap) ─┐                  ┌─► sink task ─► receiver
//! admin audit trail (follower) ┴─► Siem::offer ──┤     │ unreachable: disk spool, replayed
//!                                   (try_send)    └─► sink task ─► ...   in order, counted
//! ```
//!
//! What this crate must never do: block or slow traffic (events are offered with `try_send`
//! to each sink's bounded queue; a full queue is counted in `warden_siem_dropped_total`),
//! print a HEC token or webhook secret (read from a file or the environment at start, kept in
//! [`Secret`], never in `Debug`, errors or logs), or export a prompt or unmasked match.
//! It never imports the proxy, the admin plane, the reports or the daemon: the daemon wires
//! the sources.

mod event;
mod format;
mod sink;
mod stats;
mod transport;

use std::path::Path;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use config::{SiemConfig, SiemSink, SiemStream};
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;

pub use event::{Finding, SiemEvent};
pub use format::{cef, hec_body, rfc3339, syslog_frame, webhook_body, webhook_signature};
pub use stats::{ErrorKind, SinkStats};

/// A HEC token or webhook secret. `Debug` never shows it.
#[derive(Clone)]
pub struct Secret(String);

impl Secret {
    pub(crate) fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

/// Why SIEM export could not start. Never carries a secret.
#[derive(Debug, thiserror::Error)]
#[error("siem sink {sink}: {reason}")]
pub struct SetupError {
    pub sink: String,
    pub reason: String,
}

/// The most of a secret file read (a token is a line).
const MAX_SECRET_FILE: u64 = 64 * 1024;

/// Reads a sink's secret from its file (first line, trimmed) or environment variable.
fn read_secret(sink: &SiemSink) -> Result<Option<Secret>, String> {
    let value = if let Some(path) = &sink.secret_file {
        use std::io::Read;
        use std::os::unix::fs::MetadataExt;
        let fail = |e: std::io::Error| format!("secret_file {}: {e}", path.display());
        let file = std::fs::File::open(path).map_err(fail)?;
        let mode = file.metadata().map_err(fail)?.mode();
        if mode & 0o077 != 0 {
            return Err(format!(
                "secret_file {}: readable by others (mode {:o}); chmod 600 it",
                path.display(),
                mode & 0o777
            ));
        }
        let mut text = String::new();
        file.take(MAX_SECRET_FILE)
            .read_to_string(&mut text)
            .map_err(fail)?;
        text.lines().next().unwrap_or("").trim().to_string()
    } else if let Some(var) = &sink.secret_env {
        std::env::var(var).map_err(|_| format!("secret_env {var} is not set"))?
    } else {
        return Ok(None);
    };
    if value.is_empty() {
        return Err("the secret is empty".into());
    }
    Ok(Some(Secret(value)))
}

struct SinkHandle {
    name: String,
    security: bool,
    transactions: bool,
    tx: mpsc::Sender<SiemEvent>,
    stats: Arc<SinkStats>,
}

/// The running export: one task per sink.
pub struct Siem {
    sinks: Vec<SinkHandle>,
    stop: watch::Sender<bool>,
    tasks: Mutex<Vec<JoinHandle<()>>>,
    /// Some sink takes every transaction (else only security records are turned into events).
    any_transactions: bool,
}

impl Siem {
    /// Reads the secrets, opens each sink's spool under `spool_dir/<name>` and starts the sink
    /// tasks; `None` when no sink is configured. Must run inside the runtime.
    pub fn start(config: &SiemConfig, spool_dir: &Path) -> Result<Option<Arc<Self>>, SetupError> {
        if config.sinks.is_empty() {
            return Ok(None);
        }
        let hostname = if config.hostname.is_empty() {
            std::fs::read_to_string("/proc/sys/kernel/hostname")
                .map(|h| h.trim().to_string())
                .unwrap_or_else(|_| "gatewayd".into())
        } else {
            config.hostname.clone()
        };
        let (stop, stop_rx) = watch::channel(false);
        let mut sinks = Vec::new();
        let mut tasks = Vec::new();
        for sink in &config.sinks {
            let fail = |reason: String| SetupError {
                sink: sink.name.clone(),
                reason,
            };
            let secret = read_secret(sink).map_err(fail)?;
            let deliverer = sink::Deliverer::new(sink, secret).map_err(fail)?;
            let spool = sink::open_spool(&spool_dir.join(&sink.name), sink).map_err(fail)?;
            let stats = Arc::new(SinkStats::default());
            let (tx, rx) = mpsc::channel(sink.queue);
            let task = sink::SinkTask {
                name: sink.name.clone(),
                deliverer,
                spool: Arc::new(Mutex::new(spool)),
                stats: stats.clone(),
                hostname: hostname.clone(),
                max_batch: sink.max_batch,
                flush: sink.flush_interval.0,
                timeout: sink.timeout.0,
                retry: sink.retry_interval.0,
            };
            // Joined by `finish`, which the daemon awaits after the last connection closed.
            #[allow(clippy::disallowed_methods)]
            tasks.push(tokio::spawn(task.run(rx, stop_rx.clone())));
            tracing::info!(sink = %sink.name, kind = ?sink.kind, url = %sink.url, "SIEM export on");
            sinks.push(SinkHandle {
                name: sink.name.clone(),
                security: sink.events.contains(&SiemStream::Security),
                transactions: sink.events.contains(&SiemStream::Transactions),
                tx,
                stats,
            });
        }
        let any_transactions = sinks.iter().any(|s| s.transactions);
        Ok(Some(Arc::new(Self {
            any_transactions,
            sinks,
            stop,
            tasks: Mutex::new(tasks),
        })))
    }

    /// Offers a record of the events path (called in the log phase: never blocks).
    pub fn offer_record(&self, record: &events::Record) {
        if !self.any_transactions && !event::is_security(record) {
            return;
        }
        self.offer(SiemEvent::from_record(record));
    }

    /// Offers an admin audit entry; `at` (its offset in the trail) makes its id stable.
    pub fn offer_audit(&self, ts_ms: u64, at: u64, actor: &str, action: &str, detail: &str) {
        self.offer(SiemEvent::from_audit(ts_ms, at, actor, action, detail));
    }

    /// Queues the event on every sink that wants it; a full queue counts a drop.
    pub fn offer(&self, event: SiemEvent) {
        for sink in &self.sinks {
            let wanted = sink.transactions || (event.security && sink.security);
            if !wanted {
                continue;
            }
            if sink.tx.try_send(event.clone()).is_err() {
                sink.stats.dropped.fetch_add(1, Relaxed);
            }
        }
    }

    /// The sinks' counters as Prometheus text.
    pub fn metrics(&self) -> String {
        let sinks: Vec<(&str, &SinkStats)> = self
            .sinks
            .iter()
            .map(|s| (s.name.as_str(), s.stats.as_ref()))
            .collect();
        stats::render(&sinks)
    }

    /// A sink's counters, by name.
    pub fn stats(&self, name: &str) -> Option<Arc<SinkStats>> {
        self.sinks
            .iter()
            .find(|s| s.name == name)
            .map(|s| s.stats.clone())
    }

    /// Stops the sinks: each sends (or spools) what is queued, within `limit`.
    pub async fn finish(&self, limit: Duration) {
        let _ = self.stop.send(true);
        let tasks = std::mem::take(&mut *self.tasks.lock().unwrap_or_else(PoisonError::into_inner));
        for task in tasks {
            if tokio::time::timeout(limit, task).await.is_err() {
                tracing::warn!("a SIEM sink did not finish in time; its queued events are lost");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sink(extra: &str) -> SiemSink {
        let text = format!("name = \"s\"\nkind = \"hec\"\nurl = \"https://h/x\"\n{extra}");
        toml::from_str(&text).unwrap()
    }

    #[test]
    fn a_secret_file_others_can_read_is_refused_and_errors_never_show_the_secret() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("token");
        std::fs::write(&path, "tok-123456\nignored\n").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        let s = sink(&format!("secret_file = \"{}\"", path.display()));
        let error = read_secret(&s).unwrap_err();
        assert!(
            error.contains("chmod 600") && !error.contains("tok-123456"),
            "{error}"
        );
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        let secret = read_secret(&s).unwrap().unwrap();
        assert_eq!(secret.expose(), "tok-123456");
        assert!(!format!("{secret:?}").contains("tok"));
        let unset = sink("secret_env = \"WARDEN_SIEM_TEST_UNSET_VAR\"");
        assert!(read_secret(&unset).unwrap_err().contains("is not set"));
    }
}
