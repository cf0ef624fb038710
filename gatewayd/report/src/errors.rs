//! Upstream failures, apart from blocks: the transactions the gateway could not serve
//! (`action = 'error'`: DNS errors, refused or reset connections, timeouts), counted per app
//! for the overview's Errors card and the apps list's Errors column, and listed one by one for
//! the page those link to (`errors` report).
//!
//! A failure is never a block: it is counted here and nowhere in `blocked`. Counts come from
//! the `app_errors_hourly` rollup (failures only, so it keeps every who-dimension), or from
//! the raw events when the report itself reads them (short, unaligned ranges), so the count
//! covers the same time as the report's other numbers. User input reaches SQL only through
//! `sql::quote`.

use std::collections::HashMap;

use serde_json::{json, Value};

use super::filter::{ReportFilter, TimeRange};
use super::source::{AppScope, Source};
use super::sql::{datetime, quote};
use super::{app_meta, fetch, number, range_json, sort, Report, ReportError, ReportInputs};

/// The failing events' list: its columns, the ones it can be sorted by.
pub const LIST_COLUMNS: [&str; 10] = [
    "time",
    "request_id",
    "user",
    "app_id",
    "host",
    "method",
    "path",
    "status",
    "detail",
    "device_id",
];

/// The rollup's time condition covering what `source` covers for `range`: whole hours for
/// the hourly rollup, whole days for the daily ones, the exact range for the raw events.
/// `hour` is the column (or, over the raw events, the expression) holding the hour.
fn rollup_time(source: Source, range: TimeRange, hour: &str) -> String {
    let (from, to) = (datetime(range.from), datetime(range.to));
    match source {
        Source::Hourly => format!("{hour} >= toStartOfHour({from}) AND {hour} < {to}"),
        _ => format!(
            "{hour} >= toStartOfDay({from}) AND {hour} < toStartOfDay({to} - 1) + INTERVAL 1 DAY"
        ),
    }
}

/// The who-filters over the rollup's columns (the raw events' names and meaning).
fn who(filter: &ReportFilter) -> Vec<String> {
    let mut clauses = Vec::new();
    if let Some(user) = &filter.user {
        clauses.push(format!("user = {}", quote(user)));
    }
    if let Some(country) = &filter.country {
        clauses.push(format!("country = {}", quote(country)));
    }
    if let Some(group) = &filter.group {
        clauses.push(format!("has(groups, {})", quote(group)));
    }
    clauses
}

/// The SQL counting failures per app for a report read from `source`.
pub(crate) fn by_app_sql(source: Source, filter: &ReportFilter, scope: &AppScope) -> String {
    if source == Source::Raw {
        return format!(
            "SELECT app_id, count() AS errors FROM http_events WHERE {} AND action = 'error' \
             GROUP BY app_id",
            Source::Raw.where_clause(filter, scope)
        );
    }
    let mut clauses = vec![rollup_time(source, filter.range, "hour"), scope.clause()];
    clauses.extend(who(filter));
    // The rollup counts failures written since migration 0015 made it; older ones (an
    // upgraded install) are read from the raw events, over the same whole hours or days, so
    // the card, the column and the `/errors` list give one number whatever the range.
    let mut before = vec![
        rollup_time(source, filter.range, "toStartOfHour(ts)"),
        scope.clause(),
        "action = 'error'".to_string(),
        format!("ts < ({ROLLUP_START})"),
    ];
    before.extend(who(filter));
    format!(
        "SELECT app_id, sum(errors) AS errors FROM (\
         SELECT app_id, countMerge(errors) AS errors FROM app_errors_hourly WHERE {} \
         GROUP BY app_id \
         UNION ALL \
         SELECT app_id, count() AS errors FROM http_events WHERE {} GROUP BY app_id\
         ) GROUP BY app_id",
        clauses.join(" AND "),
        before.join(" AND ")
    )
}

/// When the errors rollup started counting: migration 0015's record (the epoch when there is
/// none, so nothing is read twice).
const ROLLUP_START: &str =
    "SELECT toDateTime(min(applied_at), 'UTC') FROM schema_migrations WHERE version = 15";

/// Failures per app id, for a report read from `source`.
pub(crate) async fn by_app(
    inputs: ReportInputs<'_>,
    source: Source,
    filter: &ReportFilter,
    scope: &AppScope,
) -> Result<HashMap<String, u64>, ReportError> {
    let rows = fetch(inputs, &by_app_sql(source, filter, scope)).await?;
    Ok(rows
        .objects()
        .into_iter()
        .map(|row| {
            (
                row["app_id"].as_str().unwrap_or_default().to_string(),
                number(&row["errors"]),
            )
        })
        .collect())
}

/// The failing transactions of the range, newest first (paged, sortable), with how many
/// there are per app; `app` narrows them to one app.
pub async fn errors(
    inputs: ReportInputs<'_>,
    filter: &ReportFilter,
    app: Option<&str>,
) -> Result<Report, ReportError> {
    if app.is_some_and(|id| id.is_empty() || id.len() > 256) {
        return Err(ReportError::NotFound("no such app".into()));
    }
    let order = sort::key(filter, &LIST_COLUMNS, "time")?;
    let scope = AppScope::new(filter, inputs.catalog, inputs.statuses);
    let mut clauses = vec![
        Source::Raw.where_clause(filter, &scope),
        "action = 'error'".into(),
    ];
    if let Some(id) = app {
        clauses.push(format!("app_id = {}", quote(id)));
    }
    let where_ = clauses.join(" AND ");
    let list_sql = format!(
        "SELECT toString(ts) AS time, request_id, user, app_id, host, method, path, status, \
         detail, device_id FROM http_events WHERE {where_} ORDER BY {}, ts DESC, request_id \
         LIMIT {}, {}",
        order.order_by(),
        filter.page.offset,
        filter.page.limit
    );
    let apps_sql = format!(
        "SELECT app_id, count() AS errors, toString(max(ts)) AS last_seen FROM http_events \
         WHERE {where_} GROUP BY app_id ORDER BY errors DESC, app_id"
    );
    let (list, apps) = tokio::try_join!(fetch(inputs, &list_sql), fetch(inputs, &apps_sql))?;
    let apps: Vec<Value> = apps
        .objects()
        .into_iter()
        .map(|row| {
            let mut merged = app_meta(inputs, row["app_id"].as_str().unwrap_or(""));
            if let (Value::Object(meta), Value::Object(counts)) = (&mut merged, row) {
                meta.extend(counts);
            }
            merged
        })
        .collect();
    let total: u64 = apps.iter().map(|a| number(&a["errors"])).sum();
    let json = json!({
        "report": "errors",
        "range": range_json(filter),
        "app_id": app,
        "total": total,
        "limit": filter.page.limit,
        "offset": filter.page.offset,
        "apps": apps,
        "events": list.objects(),
    });
    Ok(Report { json, table: list })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_filter_reaches_the_rollup_quoted() {
        let mut f = ReportFilter::last(7 * 86_400, 100 * 86_400);
        f.country = Some("D'E".into());
        f.group = Some("eng".into());
        let scope = AppScope::new(
            &f,
            &policies::Catalog::default(),
            &policies::StatusBook::new(),
        );
        let sql = by_app_sql(Source::CountryDaily, &f, &scope);
        assert!(sql.contains("FROM app_errors_hourly"), "{sql}");
        assert!(sql.contains("country = 'D\\'E'"), "{sql}");
        assert!(sql.contains("has(groups, 'eng')"), "{sql}");
        assert!(
            sql.contains("toStartOfDay"),
            "whole days, as the daily rollups: {sql}"
        );
        assert!(
            sql.contains("FROM http_events") && sql.contains("version = 15"),
            "failures from before the rollup existed come from the raw events: {sql}"
        );
        let raw = by_app_sql(Source::Raw, &f, &scope);
        assert!(raw.contains("FROM http_events") && raw.contains("action = 'error'"));
    }
}
