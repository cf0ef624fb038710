//! The Shadow AI report: which AI apps are used, by whom, from where, with how much data, what
//! DLP caught and what is unusual — computed in ClickHouse from the events the gateway writes.
//!
//! One set of queries serves the API (`/api/v1/report/...`), the dashboard and
//! `gatewayd report`; `ai` is the AI gateway's spend (from `ai_requests`). Each report reads
//! the rollups the materialized views keep when they can answer it ([`source::Source`]) and
//! the raw events when a filter needs a dimension they do not keep. User input reaches SQL
//! only through [`sql::quote`].

pub mod ai;
pub mod ai_call;
pub mod ai_keys;
pub mod ai_source;
pub mod anomalies;
pub mod clickhouse_http;
pub mod compact_stream;
pub mod discovered;
pub mod dlp;
pub mod errors;
pub mod event;
pub mod explorer;
pub mod filter;
pub mod form;
pub mod key_anomalies;
mod overview_extra;
pub mod people;
pub mod sort;
pub mod source;
pub mod sql;
pub mod table;
pub mod usage;
pub mod user;

use policies::{AppStatus, Catalog, StatusBook};
use serde_json::{json, Value};

pub use clickhouse_http::{ClickHouseHttp, QueryError};
pub use filter::{FilterError, ReportFilter};
pub use table::Table;

/// What every report reads: the events database, the catalog and the current statuses.
#[derive(Clone, Copy)]
pub struct ReportInputs<'a> {
    pub clickhouse: &'a ClickHouseHttp,
    pub catalog: &'a Catalog,
    pub statuses: &'a StatusBook,
}

/// A finished report: the whole answer as JSON and its main list as a table (for CSV, the
/// CLI and the dashboard).
#[derive(Debug, Clone)]
pub struct Report {
    pub json: Value,
    pub table: Table,
}

/// Why a report could not be made.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error(transparent)]
    Filter(#[from] FilterError),
    #[error(transparent)]
    Query(#[from] QueryError),
    #[error("{0}")]
    NotFound(String),
}

/// Runs report SQL (read-only, stopped by the server after 30 s) and returns its rows.
pub async fn fetch(inputs: ReportInputs<'_>, sql: &str) -> Result<Table, ReportError> {
    let settings = [
        ("max_execution_time", "30".to_string()),
        ("readonly", "1".to_string()),
    ];
    Ok(Table::from_answer(
        inputs.clickhouse.query(sql, &settings).await?,
    ))
}

/// The reports by name, as `gatewayd report NAME` and `/api/v1/report/NAME` call them.
pub const NAMES: [&str; 11] = [
    "overview",
    "apps",
    "app",
    "errors",
    "users",
    "user",
    "dlp",
    "unapproved",
    "anomalies",
    "ai",
    "ai-keys",
];

/// Runs report `name` (`app` needs the app's id in `id`, `user` the user's name; `errors`
/// takes an app id to narrow its list to one app).
pub async fn run(
    inputs: ReportInputs<'_>,
    name: &str,
    id: Option<&str>,
    filter: &ReportFilter,
) -> Result<Report, ReportError> {
    match (name, id) {
        ("overview", _) => usage::overview(inputs, filter).await,
        ("apps", _) => usage::apps(inputs, filter).await,
        ("app", Some(id)) => usage::app(inputs, filter, id).await,
        ("app", None) => Err(ReportError::NotFound(
            "the app report needs an app id".into(),
        )),
        ("errors", id) => errors::errors(inputs, filter, id).await,
        ("users", _) => people::users(inputs, filter).await,
        ("user", Some(name)) => user::user(inputs, filter, name).await,
        ("user", None) => Err(ReportError::NotFound(
            "the user report needs a user name".into(),
        )),
        ("dlp", _) => dlp::dlp(inputs, filter).await,
        ("unapproved", _) => people::unapproved(inputs, filter).await,
        ("anomalies", _) => anomalies::anomalies(inputs, filter).await,
        ("ai", _) => ai::ai(inputs, filter).await,
        ("ai-keys", _) => ai_keys::ai_keys(inputs, filter).await,
        // The dashboard's page of one call (`/ai/calls/ID`); not a listed report.
        ("ai-call", Some(id)) => ai_call::ai_call(inputs, id).await,
        (other, _) => Err(ReportError::NotFound(format!(
            "no report {other:?}; reports: {}",
            NAMES.join(", ")
        ))),
    }
}

/// The default range of report `name` when none is given: a day for anomalies, a week else.
pub fn default_since(name: &str) -> i64 {
    if name == "anomalies" {
        86_400
    } else {
        7 * 86_400
    }
}

/// Name, vendor, category, status and risk of an app id, catalogued or not.
pub fn app_meta(inputs: ReportInputs<'_>, id: &str) -> Value {
    match inputs.catalog.app(id) {
        Some(app) => json!({
            "app_id": id,
            "name": app.name,
            "vendor": app.vendor,
            "category": app.category.as_str(),
            "status": inputs.statuses.status(id).as_str(),
            "risk": app.risk,
            "risk_reasons": app.risk_reasons,
            "catalogued": true,
        }),
        None => json!({
            "app_id": id,
            "name": id,
            "vendor": "",
            "category": "api",
            "status": AppStatus::InReview.as_str(),
            "risk": null,
            "risk_reasons": [],
            "catalogued": false,
        }),
    }
}

/// The range a report covered, for its JSON.
pub fn range_json(filter: &ReportFilter) -> Value {
    json!({
        "from": filter.range.from,
        "to": filter.range.to,
    })
}

/// A numeric cell as u64 (0 for null or non-numbers).
pub fn number(value: &Value) -> u64 {
    value
        .as_u64()
        .or_else(|| value.as_f64().map(|f| f.max(0.0) as u64))
        .or_else(|| value.as_str().and_then(|s| s.parse().ok()))
        .unwrap_or(0)
}
