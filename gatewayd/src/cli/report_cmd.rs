//! `gatewayd report NAME [ID]`: the Shadow AI report on the command line, from the same
//! queries as the API and the dashboard, as text, JSON or CSV.

use std::collections::BTreeMap;

use serde_json::Value;

use config::Config;
use proxy::apps::StatusStore;
use proxy::policy_files::load_policy;
use report::{self, table::plain, ClickHouseHttp, ReportFilter, ReportInputs};

/// Which report and how to narrow it.
#[derive(Debug, clap::Args)]
pub struct ReportArgs {
    /// overview, apps, app, errors (upstream failures), users, dlp, unapproved, anomalies or
    /// ai (the AI gateway's spend).
    #[arg(value_name = "REPORT")]
    pub name: String,
    /// The app id, for `app` (and `errors`, to list one app's failures).
    #[arg(value_name = "ID")]
    pub id: Option<String>,
    /// How far back: 30m, 24h, 7d, 4w (default 7d; 24h for anomalies).
    #[arg(long)]
    pub since: Option<String>,
    /// Start: Unix seconds, YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ.
    #[arg(long)]
    pub from: Option<String>,
    /// End (default now).
    #[arg(long)]
    pub to: Option<String>,
    /// App categories, comma-separated.
    #[arg(long)]
    pub category: Option<String>,
    /// Approval statuses, comma-separated.
    #[arg(long)]
    pub status: Option<String>,
    #[arg(long)]
    pub user: Option<String>,
    #[arg(long)]
    pub group: Option<String>,
    /// ISO country code.
    #[arg(long)]
    pub country: Option<String>,
    /// Rows per page (1 to 1000, default 50).
    #[arg(long)]
    pub limit: Option<String>,
    #[arg(long)]
    pub offset: Option<String>,
    /// Sort key of the list (requests, users, bytes, ...).
    #[arg(long)]
    pub sort: Option<String>,
    /// Print the whole report as JSON.
    #[arg(long, conflicts_with = "csv")]
    pub json: bool,
    /// Print the report's main list as CSV.
    #[arg(long)]
    pub csv: bool,
}

impl ReportArgs {
    fn pairs(&self) -> BTreeMap<String, String> {
        [
            ("since", &self.since),
            ("from", &self.from),
            ("to", &self.to),
            ("category", &self.category),
            ("status", &self.status),
            ("user", &self.user),
            ("group", &self.group),
            ("country", &self.country),
            ("limit", &self.limit),
            ("offset", &self.offset),
            ("sort", &self.sort),
        ]
        .into_iter()
        .filter_map(|(name, value)| value.clone().map(|v| (name.to_string(), v)))
        .collect()
    }
}

/// Runs the report; exit 0, 2 for bad arguments, 1 when ClickHouse fails.
pub fn run_report(config: &Config, args: &ReportArgs) -> anyhow::Result<u8> {
    if !report::NAMES.contains(&args.name.as_str()) {
        eprintln!(
            "gatewayd: no report {:?}; reports: {}",
            args.name,
            report::NAMES.join(", ")
        );
        return Ok(2);
    }
    if args.name == "app" && args.id.is_none() {
        eprintln!("gatewayd: `report app` needs an app id (see `gatewayd report apps`)");
        return Ok(2);
    }
    let now = admin::report_api::now_unix();
    let filter = match ReportFilter::from_pairs(
        &args.pairs(),
        now,
        report::default_since(&args.name),
        &[],
    ) {
        Ok(filter) => filter,
        Err(e) => {
            eprintln!("gatewayd: {e}");
            return Ok(2);
        }
    };
    let loaded = load_policy(config).map_err(anyhow::Error::msg)?;
    let book = match StatusStore::open(&config.state.dir) {
        Ok(store) => store.book(),
        Err(_) => std::sync::Arc::new(policies::StatusBook::new()),
    };
    let clickhouse = ClickHouseHttp::reader(&config.clickhouse);
    let inputs = ReportInputs {
        clickhouse: &clickhouse,
        catalog: &loaded.catalog,
        statuses: &book,
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let done = runtime.block_on(report::run(inputs, &args.name, args.id.as_deref(), &filter));
    let done = match done {
        Ok(done) => done,
        Err(report::ReportError::Filter(e)) => {
            eprintln!("gatewayd: {e}");
            return Ok(2);
        }
        Err(e) => {
            eprintln!("gatewayd: {e}");
            return Ok(1);
        }
    };
    let out = if args.json {
        serde_json::to_string_pretty(&done.json)? + "\n"
    } else if args.csv {
        done.table.to_csv()
    } else {
        text(&args.name, &done.json, &done.table)
    };
    // A reader that stops early (`| head`) is not an error.
    match std::io::Write::write_all(&mut std::io::stdout().lock(), out.as_bytes()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(e.into()),
        _ => Ok(0),
    }
}

/// The report for a terminal: a summary, then the main list.
fn text(name: &str, json: &Value, table: &report::Table) -> String {
    let mut out = String::new();
    let range = &json["range"];
    out.push_str(&format!(
        "{name} report, {} to {} (UTC){}\n\n",
        when(&range["from"]),
        when(&range["to"]),
        json["source"]
            .as_str()
            .map(|s| if s.contains('_') {
                // A table's name (`ai_requests_hourly`), not words.
                format!(", read from table {s}")
            } else {
                format!(", from the {s}")
            })
            .unwrap_or_default()
    ));
    let summary = match name {
        "overview" => Some(&json["totals"]),
        "app" | "ai" | "ai-keys" => Some(&json["totals"]),
        _ => None,
    };
    if let Some(Value::Object(totals)) = summary {
        if name == "app" {
            out.push_str(&format!(
                "{} ({}, {}, status {})\n",
                plain(&json["app"]["name"]),
                plain(&json["app"]["app_id"]),
                plain(&json["app"]["category"]),
                plain(&json["app"]["status"])
            ));
        }
        // The quantile arrays are what the p50/p99 columns are read from (Float32 noise).
        for (key, value) in totals.iter().filter(|(k, _)| !k.ends_with("_q")) {
            out.push_str(&format!("  {key:<34} {}\n", plain(value)));
        }
        out.push('\n');
    }
    if let Some(total) = json["total"].as_u64() {
        let first = json["offset"].as_u64().unwrap_or(0);
        let shown = table.rows.len() as u64;
        if shown == 0 {
            out.push_str(&format!("no rows shown of {total}\n"));
        } else {
            out.push_str(&format!(
                "rows {}–{} of {total}\n",
                first + 1,
                first + shown
            ));
        }
    }
    if table.rows.is_empty() {
        out.push_str("(nothing in this range)\n");
    } else {
        out.push_str(&table.to_text());
    }
    out
}

fn when(unix: &Value) -> String {
    report::filter::format_utc(unix.as_i64().unwrap_or(0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_print_in_utc() {
        assert_eq!(when(&Value::from(1_795_341_600)), "2026-11-22 10:00");
        assert_eq!(when(&Value::from(0)), "1970-01-01 00:00");
    }
}
