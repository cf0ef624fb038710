//! Who uses AI: the users list (requests, apps, devices, bytes, DLP, groups) and the usage of
//! apps that are unapproved or still in review.

use serde_json::json;

use super::fetch as table;
use super::filter::ReportFilter;
use super::source::{AppScope, Source};
use super::sql::quote;
use super::table::Table;
use super::{number, range_json, sort, Report, ReportError, ReportInputs};
use policies::AppStatus;

const USER_COLUMNS: [&str; 11] = [
    "user",
    "groups",
    "requests",
    "apps",
    "devices",
    "bytes_up",
    "bytes_down",
    "uploads",
    "blocked",
    "dlp_findings",
    "last_seen",
];

/// The per-user query and its count: over a long range from `user_daily`, or from
/// `app_user_daily` when an app filter applies (groups looked up in `user_daily`); the raw
/// events for a country filter and for short ranges.
fn users_sql(filter: &ReportFilter, scope: &AppScope) -> Result<(String, String), ReportError> {
    let raw = filter.country.is_some()
        || Source::for_filter(filter) == Source::Raw
        || filter.range.span_secs() <= 2 * 86_400;
    let day_range = Source::UserDaily.time_clause(filter.range);
    let grouped = if raw {
        let source = Source::Raw;
        format!(
            "SELECT user, anyLast(groups) AS last_groups, count() AS requests, uniq(app_id) AS apps, \
             uniqIf(device_id, device_id != '') AS devices, sum(bytes_up) AS bytes_up, \
             sum(bytes_down) AS bytes_down, countIf(upload = 1) AS uploads, \
             countIf(blocked = 1) AS blocked, sum(toUInt64(dlp_finding_count)) AS dlp_findings, \
             toString(max(ts)) AS last_seen FROM http_events WHERE {} GROUP BY user",
            source.where_clause(filter, scope)
        )
    } else if filter.has_app_filter() {
        let mut clauses = vec![day_range.clone(), scope.clause()];
        if let Some(user) = &filter.user {
            clauses.push(format!("user = {}", quote(user)));
        }
        let groups = format!(
            "SELECT user, anyLastMerge(groups) AS last_groups FROM user_daily WHERE {day_range} \
             GROUP BY user"
        );
        if let Some(group) = &filter.group {
            clauses.push(format!(
                "user IN (SELECT user FROM ({groups}) WHERE has(last_groups, {}))",
                quote(group)
            ));
        }
        format!(
            "SELECT user, last_groups, requests, apps, devices, bytes_up, bytes_down, uploads, \
             blocked, dlp_findings, last_seen FROM (SELECT user, sum(requests) AS requests, \
             uniqExact(app_id) AS apps, CAST(NULL AS Nullable(UInt64)) AS devices, \
             sum(bytes_up) AS bytes_up, sum(bytes_down) AS bytes_down, \
             sum(upload_requests) AS uploads, sum(blocked_requests) AS blocked, \
             sum(dlp_findings) AS dlp_findings, toString(max(day)) AS last_seen \
             FROM app_user_daily WHERE {} GROUP BY user) AS usage \
             ANY LEFT JOIN ({groups}) AS user_groups USING user",
            clauses.join(" AND ")
        )
    } else {
        let mut clauses = vec![day_range];
        if let Some(user) = &filter.user {
            clauses.push(format!("user = {}", quote(user)));
        }
        let having = filter
            .group
            .as_ref()
            .map(|g| format!(" HAVING has(last_groups, {})", quote(g)))
            .unwrap_or_default();
        format!(
            "SELECT user, anyLastMerge(groups) AS last_groups, countMerge(requests) AS requests, \
             uniqMerge(apps) AS apps, uniqIfMerge(devices) AS devices, \
             sumMerge(bytes_up) AS bytes_up, sumMerge(bytes_down) AS bytes_down, \
             countIfMerge(upload_requests) AS uploads, countIfMerge(blocked_requests) AS blocked, \
             sumMerge(dlp_findings) AS dlp_findings, toString(maxMerge(last_seen)) AS last_seen \
             FROM user_daily WHERE {} GROUP BY user{having}",
            clauses.join(" AND ")
        )
    };
    // `bytes` (up and down together) is kept from before any column could be chosen.
    let order = if filter.sort.as_deref() == Some("bytes") {
        let dir = if filter.descending == Some(false) {
            "ASC"
        } else {
            "DESC"
        };
        format!("bytes_up + bytes_down {dir}")
    } else {
        sort::key(filter, &USER_COLUMNS, "requests")?.order_by()
    };
    Ok((
        format!(
            "SELECT user, last_groups AS groups, requests, apps, devices, bytes_up, bytes_down, \
             uploads, blocked, dlp_findings, last_seen FROM ({grouped}) \
             ORDER BY {order}, user LIMIT {}, {}",
            filter.page.offset, filter.page.limit
        ),
        format!("SELECT count() AS users FROM ({grouped})"),
    ))
}

/// Users of AI apps, most active first.
pub async fn users(inputs: ReportInputs<'_>, filter: &ReportFilter) -> Result<Report, ReportError> {
    let scope = AppScope::new(filter, inputs.catalog, inputs.statuses);
    let (list_sql, count_sql) = users_sql(filter, &scope)?;
    let (list, count) = tokio::try_join!(table(inputs, &list_sql), table(inputs, &count_sql))?;
    let total = count.rows.first().and_then(|r| r.first()).map_or(0, number);
    let users = list.objects();
    let json = json!({
        "report": "users",
        "range": range_json(filter),
        "total": total,
        "limit": filter.page.limit,
        "offset": filter.page.offset,
        "users": users,
    });
    Ok(Report {
        json,
        table: Table::from_objects(&USER_COLUMNS, &users),
    })
}

/// Usage of unapproved, in-review and unreviewed apps (or the statuses the filter names): the
/// apps and who uses them.
pub async fn unapproved(
    inputs: ReportInputs<'_>,
    filter: &ReportFilter,
) -> Result<Report, ReportError> {
    let mut filter = filter.clone();
    if filter.statuses.is_empty() {
        // Unreviewed apps are the ones nobody has decided about yet: the first to look at.
        filter.statuses = vec![
            AppStatus::Unapproved,
            AppStatus::InReview,
            AppStatus::Unreviewed,
        ];
    }
    // The sort names one of the apps' columns; the users keep their own order.
    let mut people_filter = filter.clone();
    people_filter.sort = None;
    people_filter.descending = None;
    let (apps, people) = tokio::try_join!(
        super::usage::apps(inputs, &filter),
        users(inputs, &people_filter)
    )?;
    let statuses: Vec<&str> = filter.statuses.iter().map(|s| s.as_str()).collect();
    let json = json!({
        "report": "unapproved",
        "range": range_json(&filter),
        "statuses": statuses,
        "total": apps.json["total"],
        "apps": apps.json["apps"],
        "users": people.json["users"],
    });
    Ok(Report {
        json,
        table: apps.table,
    })
}
