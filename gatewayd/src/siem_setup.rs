//! Starts SIEM export (crate `siem`) with the daemon and wires its sources: a tap on the
//! events path's sink (blocks, DLP findings, budget refusals, and every transaction for sinks
//! that ask) and, started by the daemon with its services, the admin audit trail's follower
//! (`siem_audit.rs`: admin actions, approvals, key operations).
//!
//! What this module must never do: let a sink's failure stop traffic (the taps only offer
//! events to bounded queues), or print a sink's secret (the crate never shows it).

use std::path::Path;
use std::sync::{Arc, OnceLock};

use config::Config;
use siem::Siem;

/// The running export, for `/metrics`.
static RUNNING: OnceLock<Arc<Siem>> = OnceLock::new();

/// Starts the sinks (none configured: `None`); a bad secret or spool stops the start.
pub fn start(
    config: &Config,
    state_dir: &Path,
    sink: Option<&mut events::EventSink>,
) -> anyhow::Result<Option<Arc<Siem>>> {
    let Some(siem) = Siem::start(&config.siem, &state_dir.join("siem-spool"))? else {
        return Ok(None);
    };
    match sink {
        Some(sink) => {
            let tap = siem.clone();
            sink.set_tap(Arc::new(move |record| tap.offer_record(record)));
        }
        None => tracing::warn!(
            "events.enabled = false: SIEM export sends admin actions only, no transactions or blocks"
        ),
    }
    let _ = RUNNING.set(siem.clone());
    Ok(Some(siem))
}

/// The sinks' counters (empty when export is off).
pub fn metrics() -> String {
    RUNNING.get().map(|s| s.metrics()).unwrap_or_default()
}
