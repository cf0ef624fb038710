//! The SQL log explorer: an analyst's own `SELECT` over the `warden` database. Three walls
//! stand between that text and anything else on the server:
//!
//! 1. the text check ([`check`], over a ClickHouse-faithful `lexer`) refuses other
//!    databases, table functions that read outside, several statements, FORMAT and SETTINGS;
//! 2. the query runs as `clickhouse.reader_user`, a user the server itself lets read only the
//!    `warden` database;
//! 3. it runs with `readonly=1` (sent last, or pinned by the reader's profile), a time limit,
//!    and an answer read as it streams, cut at `admin.query_max_rows` rows and
//!    `admin.query_max_bytes` bytes, with at most `admin.query_concurrency` queries at once
//!    ([`slots`]).
//!
//! Audited prompts are for investigators only: for anyone else `private.rs` refuses a query
//! that could read them, and an answer with such a column is withheld.
//!
//! It must never send text the check refused, nor hold a whole answer in memory.

mod check;
pub mod columns;
mod lexer;
mod private;
pub mod slots;

use std::time::Duration;

use serde_json::{json, Value};

use super::clickhouse_http::{ClickHouseHttp, QueryError};
use super::compact_stream::Limits;
use super::table::Table;

pub use check::{check, MAX_SQL_BYTES};
pub use slots::{ExplorerSlot, ExplorerSlots};

/// Ready-made queries the dashboard offers: title and SQL.
pub const PRESETS: [(&str, &str); 5] = [
    (
        "Trace a user's activity (last 24 hours)",
        "SELECT ts, user, src_ip, country, host, app_id, method, path, status, action, rule_id, \
         bytes_up, bytes_down\nFROM http_events\nWHERE user = 'alice' AND ts >= now() - INTERVAL 1 DAY\n\
         ORDER BY ts DESC\nLIMIT 200",
    ),
    (
        "DLP matches by app (last 7 days)",
        "SELECT app_id, detector, count() AS requests, sum(finding_count) AS findings,\n       \
         countIf(action = 'block') AS blocked, uniq(user) AS users\nFROM dlp_findings\n\
         WHERE ts >= now() - INTERVAL 7 DAY\nGROUP BY app_id, detector\nORDER BY findings DESC\nLIMIT 100",
    ),
    (
        "Unapproved and in-review usage by day (last 30 days)",
        "SELECT toDate(ts) AS day, app_id, app_status, count() AS requests, uniq(user) AS users,\n       \
         sum(bytes_up) AS bytes_up\nFROM http_events\n\
         WHERE ts >= now() - INTERVAL 30 DAY AND app_status IN ('unapproved', 'in_review')\n\
         GROUP BY day, app_id, app_status\nORDER BY day DESC, requests DESC\nLIMIT 500",
    ),
    (
        "Requests from unexpected countries (last 7 days)",
        "SELECT country, app_id, count() AS requests, uniq(user) AS users, any(src_ip) AS example_ip\n\
         FROM http_events\nWHERE ts >= now() - INTERVAL 7 DAY AND app_id != ''\n  \
         AND country NOT IN ('', 'US', 'GB', 'DE')\nGROUP BY country, app_id\nORDER BY requests DESC\nLIMIT 100",
    ),
    (
        "Uploads to AI apps with file names (last 7 days)",
        "SELECT ts, user, app_id, file_names, bytes_up, action\nFROM http_events\n\
         WHERE upload = 1 AND ts >= now() - INTERVAL 7 DAY\nORDER BY ts DESC\nLIMIT 200",
    ),
];

/// Why an explorer query was not run or failed.
#[derive(Debug, thiserror::Error)]
pub enum ExplorerError {
    #[error("{0}")]
    Refused(String),
    #[error(
        "{0} log explorer queries are already running (admin.query_concurrency); \
         try again when one has finished"
    )]
    Busy(usize),
    #[error(transparent)]
    Query(#[from] QueryError),
}

/// An explorer answer.
#[derive(Debug, Clone)]
pub struct ExplorerAnswer {
    pub table: Table,
    pub types: Vec<String>,
    /// More rows (or bytes) existed than the limits allowed.
    pub truncated: bool,
    pub rows_read: u64,
    pub elapsed_ms: f64,
}

impl ExplorerAnswer {
    pub fn json(&self) -> Value {
        json!({
            "columns": self.table.columns,
            "types": self.types,
            "rows": self.table.rows,
            "row_count": self.table.rows.len(),
            "truncated": self.truncated,
            "rows_read": self.rows_read,
            "elapsed_ms": (self.elapsed_ms * 10.0).round() / 10.0,
            "note": self.truncated.then_some(TRUNCATED_NOTE),
        })
    }
}

/// What a truncated answer says about itself.
pub const TRUNCATED_NOTE: &str = "the answer was cut off at the row or size limit \
    (admin.query_max_rows, admin.query_max_bytes): add a LIMIT, select fewer columns, or \
    aggregate";

/// How long and how much one explorer query may take.
#[derive(Debug, Clone, Copy)]
pub struct ExplorerLimits {
    pub timeout: Duration,
    pub max_rows: usize,
    pub max_bytes: usize,
}

/// Runs `sql` as the `reader` in the configured database, within `limits`. The `writer` only
/// lists the server's databases, so the check knows every name it must refuse, including
/// those the reader is not even shown. Without `reads_prompts` (the investigator role) a
/// query that could read audited prompts is refused.
pub async fn run(
    reader: &ClickHouseHttp,
    writer: &ClickHouseHttp,
    sql: &str,
    limits: ExplorerLimits,
    reads_prompts: bool,
) -> Result<ExplorerAnswer, ExplorerError> {
    let list = "SELECT name FROM system.databases";
    let databases = match writer.query(list, &[]).await {
        Ok(answer) => answer,
        Err(_) => reader.query(list, &[]).await?,
    };
    let databases: Vec<String> = databases
        .rows
        .iter()
        .filter_map(|r| r.first().and_then(Value::as_str).map(str::to_string))
        .collect();
    let statement = check(sql, reader.database(), &databases)?;
    // After the database check, so a query that leaves `warden` is told that first.
    if !reads_prompts {
        private::check(statement)?;
    }
    let secs = limits.timeout.as_secs().max(1);
    let settings = [
        ("max_execution_time", secs.to_string()),
        ("max_result_rows", (limits.max_rows + 1).to_string()),
        ("max_result_bytes", limits.max_bytes.to_string()),
        ("result_overflow_mode", "break".to_string()),
        ("max_memory_usage", (2u64 << 30).to_string()),
        // Last: once readonly, the query itself can change nothing, settings included.
        ("readonly", "1".to_string()),
    ];
    let read = Limits {
        max_rows: limits.max_rows,
        max_bytes: limits.max_bytes,
        truncate: true,
    };
    // The server stops the query at its own limit; this one covers a reader whose profile
    // pins the settings, and a server that does not answer.
    let wait = Duration::from_secs(secs + 2);
    let answer = reader
        .query_limited(statement, &settings, read, wait)
        .await?;
    if !reads_prompts
        && private::answer_names_prompt(answer.columns.iter().map(|(n, _)| n.as_str()))
    {
        return Err(ExplorerError::Refused(format!(
            "the answer holds {}: audited prompts can be read only with the investigator role",
            columns::PROMPT_COLUMN
        )));
    }
    let types = answer.columns.iter().map(|(_, t)| t.clone()).collect();
    let (rows_read, elapsed_ms, truncated) =
        (answer.rows_read, answer.elapsed_ms, answer.truncated);
    let table = Table::from_answer(answer);
    Ok(ExplorerAnswer {
        table,
        types,
        truncated,
        rows_read,
        elapsed_ms,
    })
}
