//! What budgets and limits stand at, for people: one row per counter (a budget or limit for
//! one scope value) with its spend, what calls in flight reserve, what remains and when the
//! window resets. The admin API (`GET /api/v1/aigw/budgets`) answers [`rows`]; the daemon
//! writes them every few seconds to `<state>/aigw-budgets.json`, which
//! `gatewayd aigw budgets` reads.
//!
//! Never: show a virtual key (counters name keys by id), or block a call (a snapshot takes
//! the store's lock once, briefly).

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::window::rfc3339;
use super::{now_secs, Governor, Measure};

/// The file the daemon keeps the rows in, under the state directory.
pub const FILE: &str = "aigw-budgets.json";

/// One counter.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct BudgetRow {
    /// The budget's or limit's name.
    pub name: String,
    /// `budget` or `limit`.
    pub kind: String,
    /// `usd`, `tokens`, `requests_per_minute`, `tokens_per_hour`, `concurrent` ...
    pub metric: String,
    /// `SCOPE:VALUE`, e.g. `team:marketing`.
    pub scope: String,
    /// `day`, `month`, `rolling 86400s`, `60s`, `in flight`.
    pub window: String,
    /// The unit of the amounts: `micro_usd`, `tokens`, `requests` or `calls`.
    pub unit: String,
    pub limit: u64,
    pub spent: u64,
    pub reserved: u64,
    pub remaining: u64,
    /// When the oldest spend leaves the window (UTC).
    pub resets_at: String,
}

/// Every counter, and every budget or limit on one named value that has none yet.
pub fn rows(governor: &Governor) -> Vec<BudgetRow> {
    let now = now_secs();
    let counters = governor.store.snapshot(now);
    let mut out = Vec::new();
    for r in &governor.rules {
        let prefix = format!("{} {} ", r.name, r.metric);
        let unit = match r.measure {
            Measure::MicroUsd => "micro_usd",
            Measure::Tokens => "tokens",
            Measure::Requests => "requests",
            Measure::InFlight => "calls",
        };
        let row = |scope: &str, spent: u64, reserved: u64, reset: u64| BudgetRow {
            name: r.name.clone(),
            kind: if r.budget { "budget" } else { "limit" }.into(),
            metric: r.metric.into(),
            scope: scope.to_string(),
            window: r.window.label(),
            unit: unit.into(),
            limit: r.limit,
            spent,
            reserved,
            remaining: r.limit.saturating_sub(spent.saturating_add(reserved)),
            resets_at: rfc3339(reset),
        };
        let mut found = false;
        for c in counters.iter().filter(|c| c.key.starts_with(&prefix)) {
            found = true;
            out.push(row(&c.key[prefix.len()..], c.spent, c.reserved, c.reset_at));
        }
        if !found {
            let scope = match &r.matches {
                Some(m) => format!("{}:{m}", r.scope.as_str()),
                None if r.scope == config::AigwScope::All => "all:*".into(),
                None => continue,
            };
            let reset = r.window.period(now).1.min(now.saturating_add(366 * 86_400));
            out.push(row(&scope, 0, 0, reset));
        }
    }
    out
}

/// Writes [`rows`] to `<dir>/aigw-budgets.json` every `every` until `stop`, and once more at
/// the end.
pub async fn keep_file(
    governor: Arc<Governor>,
    dir: PathBuf,
    every: Duration,
    stop: tokio_util::sync::CancellationToken,
) {
    let path = dir.join(FILE);
    let mut last = String::new();
    loop {
        let text = serde_json::to_string_pretty(&rows(&governor)).unwrap_or_default();
        if text != last {
            if let Err(error) = state_files::write_atomic(&path, text.as_bytes(), true) {
                tracing::warn!(%error, path = %path.display(), "aigw: cannot write the budgets file");
            }
            last = text;
        }
        tokio::select! {
            _ = stop.cancelled() => {
                let text = serde_json::to_string_pretty(&rows(&governor)).unwrap_or_default();
                let _ = state_files::write_atomic(&path, text.as_bytes(), true);
                return;
            }
            _ = tokio::time::sleep(every) => {}
        }
    }
}

/// Reads the rows the daemon last wrote in `dir`.
pub fn read_file(dir: &Path) -> Result<(Vec<BudgetRow>, std::time::SystemTime), String> {
    let path = dir.join(FILE);
    let text = std::fs::read_to_string(&path).map_err(|e| {
        format!(
            "{}: {e} (the AI gateway writes it while it runs with budgets or limits configured)",
            path.display()
        )
    })?;
    let modified = std::fs::metadata(&path)
        .and_then(|m| m.modified())
        .unwrap_or(std::time::UNIX_EPOCH);
    let rows = serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok((rows, modified))
}
