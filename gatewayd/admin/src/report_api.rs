//! `/api/v1/report/...`, `/api/v1/events/ID`, `/api/v1/query` and `/api/v1/audit`: the
//! Shadow AI report, one transaction, the SQL log explorer and the admin audit trail over the
//! JSON API. Reports and queries answer CSV with `format=csv` (or `Accept: text/csv` for
//! reports). An audited prompt is read only for the investigator role, and each read is
//! recorded in the audit trail.

use std::collections::BTreeMap;
use std::time::{SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use http::{header, HeaderValue, Request, Response, StatusCode};
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use serde::Deserialize;
use serde_json::json;

use super::api::{error, ok};
use super::state::AdminState;
use super::tokens::{Principal, Role};
use crate::view::ProxyView;
use crate::ProxyBody;
use report::event::EventView;
use report::explorer::{self, ExplorerError};
use report::{self, form, ClickHouseHttp, Report, ReportError, ReportFilter, ReportInputs};

/// Seconds since the epoch.
pub fn now_unix() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// `GET /api/v1/report/NAME[/ID]?filters`.
pub async fn report(
    proxy: &dyn ProxyView,
    request: &Request<Incoming>,
    name: &str,
    app_id: Option<&str>,
) -> Response<ProxyBody> {
    let pairs = form::parse(request.uri().query().unwrap_or(""));
    let wants_csv = pairs.get("format").map(String::as_str) == Some("csv")
        || request
            .headers()
            .get(header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.contains("text/csv"));
    if let Some(format) = pairs.get("format") {
        if format != "csv" && format != "json" {
            return error(StatusCode::BAD_REQUEST, "format must be json or csv");
        }
    }
    match run_report(proxy, name, app_id, &pairs, &["format"]).await {
        Ok((done, _)) if wants_csv => csv(&done.table.to_csv(), name),
        Ok((done, _)) => ok(done.json),
        Err(e) => report_error(&e),
    }
}

/// Parses the filter in `pairs` (names in `ignore` belong to the caller) and runs report
/// `name` against the live catalog, statuses and ClickHouse; the API, the dashboard pages and
/// their CSV exports all come through here.
pub async fn run_report(
    proxy: &dyn ProxyView,
    name: &str,
    app_id: Option<&str>,
    pairs: &BTreeMap<String, String>,
    ignore: &[&str],
) -> Result<(Report, ReportFilter), ReportError> {
    let filter = ReportFilter::from_pairs(pairs, now_unix(), report::default_since(name), ignore)?;
    let catalog = proxy.catalog();
    let book = proxy.status_book();
    let clickhouse = ClickHouseHttp::reader(&proxy.settings().clickhouse);
    let inputs = ReportInputs {
        clickhouse: &clickhouse,
        catalog: &catalog,
        statuses: &book,
    };
    let done = report::run(inputs, name, app_id, &filter).await?;
    Ok((done, filter))
}

/// Transaction `id` for `principal`: with its audited prompt only for a role that reads
/// prompts, and every prompt so read recorded in the audit trail as `actor`.
pub async fn load_event(
    proxy: &dyn ProxyView,
    principal: &Principal,
    actor: &str,
    id: &str,
) -> Result<EventView, ReportError> {
    let catalog = proxy.catalog();
    let book = proxy.status_book();
    let settings = proxy.settings();
    let clickhouse = ClickHouseHttp::reader(&settings.clickhouse);
    let inputs = ReportInputs {
        clickhouse: &clickhouse,
        catalog: &catalog,
        statuses: &book,
    };
    let view = report::event::event(inputs, id, principal.role.reads_prompts()).await?;
    if view.prompt.is_some() {
        super::audit::record(
            &settings.state_dir,
            actor,
            "read_audit_prompt",
            &format!("request {id}"),
        );
    }
    Ok(view)
}

/// `GET /api/v1/events/ID`.
pub async fn event(proxy: &dyn ProxyView, principal: &Principal, id: &str) -> Response<ProxyBody> {
    let actor = format!("token:{}", principal.name);
    match load_event(proxy, principal, &actor, id).await {
        Ok(view) => ok(view.json),
        Err(e) => report_error(&e),
    }
}

/// The HTTP status and message for a report failure.
pub fn report_error(e: &ReportError) -> Response<ProxyBody> {
    match e {
        ReportError::Filter(e) => error(StatusCode::BAD_REQUEST, &e.to_string()),
        ReportError::NotFound(m) => error(StatusCode::NOT_FOUND, m),
        ReportError::Query(e) => {
            tracing::warn!(error = %e, "report query failed");
            error(StatusCode::BAD_GATEWAY, &e.to_string())
        }
    }
}

/// A CSV download named `warden-NAME.csv`.
pub fn csv(text: &str, name: &str) -> Response<ProxyBody> {
    let mut response = Response::new(
        Full::new(Bytes::from(text.to_string()))
            .map_err(|e| match e {})
            .boxed(),
    );
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/csv; charset=utf-8"),
    );
    if let Ok(value) = HeaderValue::from_str(&format!("attachment; filename=\"warden-{name}.csv\""))
    {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    response
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct QueryBody {
    sql: String,
}

/// `POST /api/v1/query[?format=csv] {"sql": "SELECT ..."}`: the log explorer.
pub async fn query(
    proxy: &dyn ProxyView,
    state: &AdminState,
    principal: &Principal,
    request: Request<Incoming>,
) -> Response<ProxyBody> {
    let wants_csv = match form::parse(request.uri().query().unwrap_or("")).get("format") {
        None => false,
        Some(f) if f == "csv" => true,
        Some(f) if f == "json" => false,
        Some(_) => return error(StatusCode::BAD_REQUEST, "format must be json or csv"),
    };
    let limit = explorer::MAX_SQL_BYTES + 1024;
    let bytes = match Limited::new(request.into_body(), limit).collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(_) => {
            return error(
                StatusCode::PAYLOAD_TOO_LARGE,
                "request body too large or unreadable",
            )
        }
    };
    let body: QueryBody = match serde_json::from_slice(&bytes) {
        Ok(body) => body,
        Err(e) => {
            return error(
                StatusCode::BAD_REQUEST,
                &format!("expected {{\"sql\": \"SELECT ...\"}}: {e}"),
            )
        }
    };
    let actor = format!("token:{}", principal.name);
    match run_query(proxy, state, &actor, principal.role, &body.sql).await {
        Ok(answer) if wants_csv => query_csv(&answer),
        Ok(answer) => ok(answer.json()),
        Err(e) => explorer_error(&e),
    }
}

/// An explorer answer as a CSV download; `X-Warden-Truncated: true` when the row or size
/// limit cut it (the same limits as on screen).
pub fn query_csv(answer: &explorer::ExplorerAnswer) -> Response<ProxyBody> {
    let mut response = csv(&answer.table.to_csv(), "query");
    if answer.truncated {
        response
            .headers_mut()
            .insert("x-warden-truncated", HeaderValue::from_static("true"));
    }
    response
}

/// The HTTP status and message for an explorer failure: 429 (with `Retry-After`) when too
/// many run, 400 for a refused or failed query.
pub fn explorer_error(e: &ExplorerError) -> Response<ProxyBody> {
    match e {
        ExplorerError::Busy(_) => {
            let mut response = error(StatusCode::TOO_MANY_REQUESTS, &e.to_string());
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
            response
        }
        ExplorerError::Refused(m) => error(StatusCode::BAD_REQUEST, m),
        ExplorerError::Query(e) => error(StatusCode::BAD_REQUEST, &e.to_string()),
    }
}

/// Runs an explorer query for `actor` (whose `role` says whether it may read audited
/// prompts) with the configured limits, and records it.
pub async fn run_query(
    proxy: &dyn ProxyView,
    state: &AdminState,
    actor: &str,
    role: Role,
    sql: &str,
) -> Result<explorer::ExplorerAnswer, ExplorerError> {
    let config = proxy.settings();
    let result = match state.explorer_slots.acquire(config.query_concurrency) {
        Ok(_slot) => {
            let limits = explorer::ExplorerLimits {
                timeout: config.query_timeout,
                max_rows: config.query_max_rows,
                max_bytes: config.query_max_bytes,
            };
            let reader = ClickHouseHttp::reader(&config.clickhouse);
            let writer = ClickHouseHttp::writer(&config.clickhouse);
            explorer::run(&reader, &writer, sql, limits, role.reads_prompts()).await
        }
        Err(busy) => Err(busy),
    };
    let outcome = match &result {
        Ok(answer) if answer.truncated => format!("{} rows (truncated)", answer.table.rows.len()),
        Ok(answer) => format!("{} rows", answer.table.rows.len()),
        Err(e) => format!("refused: {e}"),
    };
    super::audit::record(
        &config.state_dir,
        actor,
        "log_explorer_query",
        &format!("{outcome}: {sql}"),
    );
    result
}

/// `GET /api/v1/query/presets`.
pub fn presets() -> Response<ProxyBody> {
    let presets: Vec<_> = explorer::PRESETS
        .iter()
        .map(|(title, sql)| json!({ "title": title, "sql": sql }))
        .collect();
    ok(json!({ "presets": presets }))
}

/// `GET /api/v1/audit?limit=N` (admin only).
pub fn audit(proxy: &dyn ProxyView, principal: &Principal, query: &str) -> Response<ProxyBody> {
    if principal.role != Role::Admin {
        return error(
            StatusCode::FORBIDDEN,
            "the audit trail needs the admin role",
        );
    }
    let limit = form::parse(query)
        .get("limit")
        .and_then(|l| l.parse().ok())
        .unwrap_or(200usize)
        .min(10_000);
    match super::audit::recent(&proxy.settings().state_dir, limit) {
        Ok(entries) => ok(json!({ "entries": entries })),
        Err(e) => error(StatusCode::INTERNAL_SERVER_ERROR, &e.to_string()),
    }
}
