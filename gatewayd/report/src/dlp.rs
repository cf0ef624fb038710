//! What DLP caught: findings by detector and by app, from the hourly rollup or, when a
//! who-filter is set, from the raw findings of the matching requests; and the latest
//! findings themselves, with their masked snippets (never a raw secret: the detector masks
//! before a finding is stored).

use serde_json::json;

use super::fetch as table;
use super::filter::ReportFilter;
use super::source::{AppScope, Source};
use super::sql::quote;
use super::{range_json, Report, ReportError, ReportInputs};

/// `request_id IN (...)` for the who-filters, which `dlp_findings` does not keep (apart
/// from the user).
fn who_requests(filter: &ReportFilter) -> Option<String> {
    if filter.group.is_none() && filter.country.is_none() {
        return None;
    }
    let mut clauses = vec![Source::Raw.time_clause(filter.range)];
    clauses.extend(Source::Raw.who_clause(filter));
    Some(format!(
        "request_id IN (SELECT request_id FROM http_events WHERE {})",
        clauses.join(" AND ")
    ))
}

/// Conditions on raw `dlp_findings` for `filter` and `apps`.
fn raw_where(filter: &ReportFilter, apps: &str) -> String {
    let mut clauses = vec![Source::Raw.time_clause(filter.range), apps.to_string()];
    if let Some(user) = &filter.user {
        clauses.push(format!("user = {}", quote(user)));
    }
    clauses.extend(who_requests(filter));
    clauses.join(" AND ")
}

/// Findings grouped by `keys` (e.g. `detector` or `app_id, detector`) under `apps`; with
/// `users`, also how many distinct users (the costly part over a long range).
fn grouped_sql(filter: &ReportFilter, apps: &str, keys: &str, users: bool) -> String {
    if filter.has_who() {
        let users = if users { ", uniq(user) AS users" } else { "" };
        format!(
            "SELECT {keys}, count() AS requests, sum(toUInt64(finding_count)) AS findings, \
             countIf(action = 'block') AS blocked{users} FROM dlp_findings \
             WHERE {} GROUP BY {keys} ORDER BY findings DESC, {keys}",
            raw_where(filter, apps)
        )
    } else {
        let users = if users {
            ", uniqMerge(users) AS users"
        } else {
            ""
        };
        format!(
            "SELECT {keys}, countMerge(requests) AS requests, sumMerge(findings) AS findings, \
             countIfMerge(blocked_requests) AS blocked{users} \
             FROM dlp_findings_hourly WHERE {} AND {apps} GROUP BY {keys} \
             ORDER BY findings DESC, {keys}",
            Source::Hourly.time_clause(filter.range)
        )
    }
}

/// Findings per detector for the apps `apps` selects.
pub fn by_detector_sql(filter: &ReportFilter, apps: &str) -> String {
    grouped_sql(filter, apps, "detector", true)
}

/// The latest findings' columns, the ones they can be sorted by.
pub const LATEST_COLUMNS: [&str; 9] = [
    "time",
    "request_id",
    "user",
    "app_id",
    "detector",
    "finding_count",
    "confidence",
    "action",
    "snippet",
];

/// Findings by detector and by app, and the latest findings (paged, sorted by any column).
pub async fn dlp(inputs: ReportInputs<'_>, filter: &ReportFilter) -> Result<Report, ReportError> {
    let scope = AppScope::new(filter, inputs.catalog, inputs.statuses);
    let apps = scope.clause();
    let order = super::sort::key(filter, &LATEST_COLUMNS, "time")?;
    let latest_sql = format!(
        "SELECT toString(ts) AS time, request_id, user, app_id, detector, finding_count, \
         confidence, action, snippet FROM dlp_findings WHERE {} \
         ORDER BY {}, ts DESC, request_id, detector LIMIT {}, {}",
        raw_where(filter, &apps),
        order.order_by(),
        filter.page.offset,
        filter.page.limit
    );
    let count_sql = format!(
        "SELECT count() AS findings FROM dlp_findings WHERE {}",
        raw_where(filter, &apps)
    );
    let detector_sql = by_detector_sql(filter, &apps);
    let app_sql = grouped_sql(filter, &apps, "app_id, detector", true);
    let (detectors, by_app, latest, count) = tokio::try_join!(
        table(inputs, &detector_sql),
        table(inputs, &app_sql),
        table(inputs, &latest_sql),
        table(inputs, &count_sql),
    )?;
    let total = count
        .rows
        .first()
        .and_then(|r| r.first())
        .map_or(0, super::number);
    let json = json!({
        "report": "dlp",
        "range": range_json(filter),
        "by_detector": detectors.objects(),
        "by_app": by_app.objects(),
        "total": total,
        "limit": filter.page.limit,
        "offset": filter.page.offset,
        "findings": latest.objects(),
    });
    Ok(Report {
        json,
        table: latest,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn who_filters_select_the_matching_requests() {
        let mut f = ReportFilter::last(86_400, 1_000_000);
        assert!(!by_detector_sql(&f, "app_id != ''").contains("http_events"));
        f.group = Some("eng".into());
        let sql = by_detector_sql(&f, "app_id != ''");
        assert!(sql.contains("request_id IN (SELECT request_id FROM http_events"));
        assert!(sql.contains("has(groups, 'eng')"));
    }
}
