//! `gatewayd aigw budgets [--json]`: the AI gateway's budgets and limits as the running
//! daemon last wrote them to `<state>/aigw-budgets.json` (every 2 s): one line per counter
//! with its spend, what calls in flight reserve, what remains and when it resets. Amounts in
//! dollars are shown as dollars; `--json` gives the rows as the admin API does
//! (`GET /api/v1/aigw/budgets`), amounts in their unit (`micro_usd`, `tokens` ...).
//!
//! Never: show a key (counters name virtual keys by id).

use std::process::ExitCode;

use aigw::budget::view::{read_file, BudgetRow};
use config::Config;

use super::output::line;
use super::state::existing_state;

fn amount(row: &BudgetRow, n: u64) -> String {
    if row.unit == "micro_usd" {
        format!("${:.6}", n as f64 / 1e6)
    } else {
        n.to_string()
    }
}

/// Prints the rows; exit 2 when there is no file to read (the gateway has not run with
/// budgets or limits).
pub fn budgets(config: &Config, json: bool) -> anyhow::Result<ExitCode> {
    let dir = existing_state(config)?;
    let (rows, written) = match read_file(dir) {
        Ok(read) => read,
        Err(error) => {
            eprintln!("gatewayd: {error}");
            return Ok(ExitCode::from(2));
        }
    };
    if json {
        let age = written.elapsed().map_or(0, |d| d.as_secs());
        line(format_args!(
            "{}",
            serde_json::json!({"budgets": rows, "written_seconds_ago": age})
        ));
        return Ok(ExitCode::SUCCESS);
    }
    line(format_args!(
        "{:<20} {:<7} {:<20} {:<24} {:<14} {:>12} {:>12} {:>12} {:>12}  RESETS",
        "NAME", "KIND", "METRIC", "SCOPE", "WINDOW", "LIMIT", "SPENT", "RESERVED", "REMAINING"
    ));
    for r in &rows {
        line(format_args!(
            "{:<20} {:<7} {:<20} {:<24} {:<14} {:>12} {:>12} {:>12} {:>12}  {}",
            r.name,
            r.kind,
            r.metric,
            r.scope,
            r.window,
            amount(r, r.limit),
            amount(r, r.spent),
            amount(r, r.reserved),
            amount(r, r.remaining),
            r.resets_at
        ));
    }
    Ok(ExitCode::SUCCESS)
}
