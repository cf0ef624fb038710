//! Usage reports: the overview (totals, trend, top apps), the apps list with statuses, and
//! one app's drill-down (users, groups, devices, countries, DLP, frequency, over time).

use serde_json::{json, Map, Value};

use super::filter::{ReportFilter, TimeRange};
use super::source::{AppScope, Source};
use super::sql::quote;
use super::table::Table;
use super::{app_meta, fetch as table, number, range_json, Report, ReportError, ReportInputs};

/// Ranges up to this long are charted per hour, longer ones per day.
const HOURLY_SERIES_SECS: i64 = super::source::HOURLY_MAX_SPAN_SECS;
/// Top-N lists in the overview.
const TOP: usize = 10;

/// Ranges this short are charted by the minute (from the raw events): an hour's trend is
/// sixty points, not two.
const MINUTE_SERIES_SECS: i64 = 3 * 3600;

/// The time bucket of a series over `source` for `range`.
fn bucket(source: Source, range: TimeRange) -> String {
    let column = source.time_column();
    let hourly = range.span_secs() <= HOURLY_SERIES_SECS;
    match source {
        Source::Raw if range.span_secs() <= MINUTE_SERIES_SECS => {
            "toString(toStartOfMinute(ts))".to_string()
        }
        Source::Hourly if hourly => "toString(hour)".to_string(),
        Source::Raw if hourly => "toString(toStartOfHour(ts))".to_string(),
        Source::Hourly | Source::Raw => format!("toString(toDate({column}))"),
        _ => "toString(day)".to_string(),
    }
}

/// Totals of every metric for `filter` (one row), with `extra` conditions.
async fn totals(
    inputs: ReportInputs<'_>,
    source: Source,
    filter: &ReportFilter,
    scope: &AppScope,
    extra: &str,
) -> Result<Value, ReportError> {
    let sql = format!(
        "SELECT {} FROM {} WHERE {}{extra}",
        source.metrics(),
        source.table(),
        source.where_clause(filter, scope)
    );
    let rows = table(inputs, &sql).await?.objects();
    Ok(rows.into_iter().next().unwrap_or_else(|| json!({})))
}

/// `source`, or the raw events where it lacks metrics a list or card shows (uploads, DLP
/// findings and devices are not kept per group or per country, devices not per user: the
/// per-user rollup's plain counters cannot count distinct devices).
fn complete(source: Source) -> Source {
    match source {
        Source::GroupDaily | Source::CountryDaily | Source::UserDaily => Source::Raw,
        other => other,
    }
}

/// Every metric per time bucket.
async fn series(
    inputs: ReportInputs<'_>,
    source: Source,
    filter: &ReportFilter,
    scope: &AppScope,
    extra: &str,
) -> Result<Vec<Value>, ReportError> {
    let sql = format!(
        "SELECT {} AS bucket, {} FROM {} WHERE {}{extra} GROUP BY bucket ORDER BY bucket",
        bucket(source, filter.range),
        source.metrics(),
        source.table(),
        source.where_clause(filter, scope)
    );
    let rows = table(inputs, &sql).await?.objects();
    let span = filter.range.span_secs();
    let step = match source {
        Source::Raw if span <= MINUTE_SERIES_SECS => 60,
        Source::Hourly | Source::Raw if span <= HOURLY_SERIES_SECS => 3600,
        _ => 86_400,
    };
    Ok(fill_gaps_every(rows, filter.range, step))
}

/// The series with a zero row for every hour or day of the range that had no traffic, so a
/// chart shows quiet periods as quiet instead of drawing a line across them.
pub(crate) fn fill_gaps(rows: Vec<Value>, range: TimeRange, hourly: bool) -> Vec<Value> {
    fill_gaps_every(rows, range, if hourly { 3600 } else { 86_400 })
}

/// [`fill_gaps`] with buckets of `step` seconds: 60, 3,600 or 86,400.
pub(crate) fn fill_gaps_every(rows: Vec<Value>, range: TimeRange, step: i64) -> Vec<Value> {
    let first = range.from - range.from.rem_euclid(step);
    let buckets = ((range.to - 1 - first) / step + 1).clamp(0, 24 * 400);
    let mut by_label: std::collections::HashMap<String, Value> = rows
        .into_iter()
        .map(|r| (super::table::plain(&r["bucket"]), r))
        .collect();
    (0..buckets)
        .map(|i| {
            let at = first + i * step;
            let (y, m, d) = super::filter::civil_from_days(at.div_euclid(86_400));
            let label = if step < 86_400 {
                let second_of_day = at.rem_euclid(86_400);
                format!(
                    "{y:04}-{m:02}-{d:02} {:02}:{:02}:00",
                    second_of_day / 3600,
                    second_of_day % 3600 / 60
                )
            } else {
                format!("{y:04}-{m:02}-{d:02}")
            };
            by_label.remove(&label).unwrap_or_else(|| {
                let mut zero = Map::new();
                zero.insert("bucket".into(), json!(label));
                for metric in super::source::METRICS {
                    zero.insert(metric.into(), json!(0));
                }
                Value::Object(zero)
            })
        })
        .collect()
}

/// Every metric per app, with catalog metadata and upstream failures (`errors`, apart from
/// `blocked`), most requests first. The per-group and per-country rollups keep no uploads,
/// DLP or device counts: under such a filter the list is read from the raw events, so its
/// columns are not blank and agree with the app page under the same filter.
async fn per_app(
    inputs: ReportInputs<'_>,
    source: Source,
    filter: &ReportFilter,
    scope: &AppScope,
) -> Result<Vec<Value>, ReportError> {
    let source = complete(source);
    let sql = format!(
        "SELECT app_id, {}, {} AS last_seen FROM {} WHERE {} GROUP BY app_id",
        source.metrics(),
        match source {
            Source::Daily => "toString(maxMerge(last_seen))".to_string(),
            other => format!("toString(max({}))", other.time_column()),
        },
        source.table(),
        source.where_clause(filter, scope)
    );
    let (rows, errors) = tokio::try_join!(
        table(inputs, &sql),
        super::errors::by_app(inputs, source, filter, scope)
    )?;
    let mut apps: Vec<Value> = rows
        .objects()
        .into_iter()
        .map(|row| {
            let id = row["app_id"].as_str().unwrap_or("");
            let mut merged = app_meta(inputs, id);
            let failed = errors.get(id).copied().unwrap_or(0);
            if let (Value::Object(meta), Value::Object(metrics)) = (&mut merged, row) {
                meta.extend(metrics);
                meta.insert("errors".into(), json!(failed));
            }
            merged
        })
        .collect();
    apps.sort_by(|a, b| {
        number(&b["requests"])
            .cmp(&number(&a["requests"]))
            .then_with(|| a["app_id"].as_str().cmp(&b["app_id"].as_str()))
    });
    Ok(apps)
}

fn bytes(app: &Value) -> u64 {
    number(&app["bytes_up"]) + number(&app["bytes_down"])
}

/// Sorts apps by any of [`APP_COLUMNS`] (and `bytes`, up and down together), descending
/// unless `dir=asc`; `name` alone defaults to ascending.
fn sort_apps(apps: &mut [Value], filter: &ReportFilter) -> Result<(), ReportError> {
    let wanted = filter.sort.as_deref().unwrap_or("requests");
    if wanted == "bytes" {
        let descending = filter.descending.unwrap_or(true);
        apps.sort_by(|a, b| {
            let order = bytes(a).cmp(&bytes(b));
            if descending {
                order.reverse()
            } else {
                order
            }
        });
        return Ok(());
    }
    if wanted == "requests" && filter.descending != Some(false) {
        return Ok(()); // `per_app` already orders by requests, then id
    }
    let key = super::sort::key(filter, &APP_COLUMNS, "requests")?;
    let descending = filter.descending.unwrap_or(!matches!(
        key.column,
        "name" | "app_id" | "vendor" | "category"
    ));
    super::sort::sort_objects(apps, key.column, descending);
    Ok(())
}

const APP_COLUMNS: [&str; 16] = [
    "app_id",
    "name",
    "category",
    "status",
    "risk",
    "requests",
    "users",
    "devices",
    "bytes_up",
    "bytes_down",
    "uploads",
    "blocked",
    "errors",
    "dlp_findings",
    "last_seen",
    "vendor",
];

fn top(apps: &[Value], key: impl Fn(&Value) -> u64) -> Vec<Value> {
    let mut sorted: Vec<&Value> = apps.iter().collect();
    sorted.sort_by_key(|a| std::cmp::Reverse(key(a)));
    sorted.into_iter().take(TOP).cloned().collect()
}

/// Totals (with upstream failures as `errors`, apart from `blocked`) against the previous
/// period, the trend, allowed vs blocked vs failed, the top apps by requests, users and bytes,
/// the top users, the top DLP detectors and the riskiest unsanctioned apps.
pub async fn overview(
    inputs: ReportInputs<'_>,
    filter: &ReportFilter,
) -> Result<Report, ReportError> {
    let source = Source::for_filter(filter);
    let scope = AppScope::new(filter, inputs.catalog, inputs.statuses);
    let mut previous_filter = filter.clone();
    previous_filter.range = filter.range.previous();
    let previous_source = Source::for_filter(&previous_filter);
    let (mut current, mut previous, trend, apps, previous_errors, top_users, top_dlp, warned) = tokio::try_join!(
        totals(inputs, complete(source), filter, &scope, ""),
        totals(
            inputs,
            complete(previous_source),
            &previous_filter,
            &scope,
            ""
        ),
        series(inputs, source, filter, &scope, ""),
        per_app(inputs, source, filter, &scope),
        super::errors::by_app(inputs, previous_source, &previous_filter, &scope),
        super::overview_extra::top_users(inputs, filter),
        super::overview_extra::top_dlp(inputs, filter, &scope),
        super::overview_extra::warned(inputs, filter, &scope),
    )?;
    let errors: u64 = apps.iter().map(|a| number(&a["errors"])).sum();
    if let Value::Object(map) = &mut previous {
        map.insert(
            "errors".into(),
            json!(previous_errors.values().sum::<u64>()),
        );
    }
    let unapproved: u64 = apps
        .iter()
        .filter(|a| matches!(a["status"].as_str(), Some("unapproved" | "in_review")))
        .map(|a| number(&a["requests"]))
        .sum();
    if let Value::Object(map) = &mut current {
        map.insert("apps".into(), json!(apps.len()));
        map.insert("unapproved_or_in_review_requests".into(), json!(unapproved));
        map.insert("errors".into(), json!(errors));
    }
    let by_requests = top(&apps, |a| number(&a["requests"]));
    let table = Table::from_objects(&APP_COLUMNS, &by_requests);
    let json = json!({
        "report": "overview",
        "range": range_json(filter),
        "source": source.name(),
        "totals": current,
        "previous": previous,
        "series": trend,
        "outcomes": super::overview_extra::outcomes(&current, warned),
        "top_apps": {
            "by_requests": by_requests,
            "by_users": top(&apps, |a| number(&a["users"])),
            "by_bytes": top(&apps, bytes),
        },
        "top_users": top_users,
        "top_dlp": top_dlp,
        "riskiest_unsanctioned": super::overview_extra::riskiest_unsanctioned(&apps),
    });
    Ok(Report { json, table })
}

/// Every AI app used in the range with its usage, status, category and risk.
pub async fn apps(inputs: ReportInputs<'_>, filter: &ReportFilter) -> Result<Report, ReportError> {
    let source = Source::for_filter(filter);
    let scope = AppScope::new(filter, inputs.catalog, inputs.statuses);
    let mut apps = per_app(inputs, source, filter, &scope).await?;
    sort_apps(&mut apps, filter)?;
    let total = apps.len();
    let page: Vec<Value> = apps
        .into_iter()
        .skip(filter.page.offset)
        .take(filter.page.limit)
        .collect();
    let table = Table::from_objects(&APP_COLUMNS, &page);
    let json = json!({
        "report": "apps",
        "range": range_json(filter),
        "source": source.name(),
        "total": total,
        "limit": filter.page.limit,
        "offset": filter.page.offset,
        "apps": page,
    });
    Ok(Report { json, table })
}

/// One breakdown of an app's traffic: from its rollup when no who-filter is set, else from
/// the raw events (`raw_key` grouped, `raw_extra` extra columns).
struct Breakdown {
    rollup: &'static str,
    rollup_key: &'static str,
    rollup_metrics: &'static str,
    raw_key: &'static str,
    raw_metrics: &'static str,
    raw_from: &'static str,
}

const BY_USER: Breakdown = Breakdown {
    rollup: "app_user_daily",
    rollup_key: "user",
    rollup_metrics: "sum(requests) AS requests, sum(blocked_requests) AS blocked, \
        sum(upload_requests) AS uploads, sum(bytes_up) AS bytes_up, \
        sum(bytes_down) AS bytes_down, sum(dlp_findings) AS dlp_findings",
    raw_key: "user",
    raw_metrics: "count() AS requests, countIf(blocked = 1) AS blocked, \
        countIf(upload = 1) AS uploads, sum(bytes_up) AS bytes_up, \
        sum(bytes_down) AS bytes_down, sum(toUInt64(dlp_finding_count)) AS dlp_findings",
    raw_from: "http_events",
};

const BY_GROUP: Breakdown = Breakdown {
    rollup: "app_group_daily",
    rollup_key: "group_name",
    rollup_metrics: "countMerge(requests) AS requests, uniqMerge(users) AS users, \
        sumMerge(bytes_up) AS bytes_up, sumMerge(bytes_down) AS bytes_down",
    raw_key: "group_name",
    raw_metrics: "count() AS requests, uniq(user) AS users, sum(bytes_up) AS bytes_up, \
        sum(bytes_down) AS bytes_down",
    raw_from: "http_events ARRAY JOIN groups AS group_name",
};

const BY_DEVICE: Breakdown = Breakdown {
    rollup: "app_device_daily",
    rollup_key: "device_id",
    rollup_metrics: "countMerge(requests) AS requests, sumMerge(bytes_up) AS bytes_up, \
        sumMerge(bytes_down) AS bytes_down, anyLastMerge(user) AS user, \
        anyLastMerge(device_posture) AS posture, toString(maxMerge(last_seen)) AS last_seen",
    raw_key: "device_id",
    raw_metrics: "count() AS requests, sum(bytes_up) AS bytes_up, sum(bytes_down) AS bytes_down, \
        anyLast(user) AS user, anyLast(device_posture) AS posture, \
        toString(max(ts)) AS last_seen",
    raw_from: "http_events",
};

const BY_COUNTRY: Breakdown = Breakdown {
    rollup: "app_country_daily",
    rollup_key: "country",
    rollup_metrics: "countMerge(requests) AS requests, uniqMerge(users) AS users, \
        sumMerge(bytes_up) AS bytes_up, sumMerge(bytes_down) AS bytes_down, \
        countIfMerge(blocked_requests) AS blocked",
    raw_key: "country",
    raw_metrics: "count() AS requests, uniq(user) AS users, sum(bytes_up) AS bytes_up, \
        sum(bytes_down) AS bytes_down, countIf(blocked = 1) AS blocked",
    raw_from: "http_events",
};

/// What a row without a country (a private address, no GeoIP database, no match) is called
/// in every report, so no table shows an empty country cell or row.
pub const UNKNOWN_COUNTRY: &str = "unknown";

/// `country` of `row` labelled: empty becomes [`UNKNOWN_COUNTRY`].
pub(crate) fn label_country(mut row: Value) -> Value {
    if row["country"].as_str().is_some_and(str::is_empty) {
        row["country"] = json!(UNKNOWN_COUNTRY);
    }
    row
}

impl Breakdown {
    fn sql(&self, filter: &ReportFilter, app: &str, limit: usize, offset: usize) -> String {
        let app = format!("app_id = {}", quote(app));
        let device = if self.raw_key == "device_id" {
            " AND device_id != ''"
        } else {
            ""
        };
        if filter.has_who() {
            let source = Source::Raw;
            let mut clauses = vec![source.time_clause(filter.range), app];
            clauses.extend(source.who_clause(filter));
            format!(
                "SELECT {key}, {metrics} FROM {from} WHERE {where_}{device} GROUP BY {key} \
                 ORDER BY requests DESC, {key} LIMIT {offset}, {limit}",
                key = self.raw_key,
                metrics = self.raw_metrics,
                from = self.raw_from,
                where_ = clauses.join(" AND "),
            )
        } else {
            format!(
                "SELECT {key}, {metrics} FROM {table} WHERE {time} AND {app} GROUP BY {key} \
                 ORDER BY requests DESC, {key} LIMIT {offset}, {limit}",
                key = self.rollup_key,
                metrics = self.rollup_metrics,
                table = self.rollup,
                time = Source::UserDaily.time_clause(filter.range),
            )
        }
    }
}

/// The groups of `users` as last seen in the range.
async fn groups_of(
    inputs: ReportInputs<'_>,
    filter: &ReportFilter,
    users: &[Value],
) -> Result<Map<String, Value>, ReportError> {
    let names: Vec<&str> = users.iter().filter_map(|u| u["user"].as_str()).collect();
    if names.is_empty() {
        return Ok(Map::new());
    }
    let sql = format!(
        "SELECT user, anyLastMerge(groups) AS last_groups FROM user_daily WHERE {} AND user IN {} \
         GROUP BY user",
        Source::UserDaily.time_clause(filter.range),
        super::sql::quote_list(names)
    );
    Ok(table(inputs, &sql)
        .await?
        .rows
        .into_iter()
        .filter_map(|row| {
            let mut row = row.into_iter();
            let user = row.next()?.as_str()?.to_string();
            Some((user, row.next().unwrap_or(Value::Null)))
        })
        .collect())
}

/// One app: totals, trend, users (with groups), groups, devices, countries, DLP findings by
/// detector, and how often it is used (hour of day, active days).
pub async fn app(
    inputs: ReportInputs<'_>,
    filter: &ReportFilter,
    id: &str,
) -> Result<Report, ReportError> {
    if id.is_empty() || id.len() > 256 {
        return Err(ReportError::NotFound("no such app".into()));
    }
    let source = Source::for_filter(filter);
    let scope = AppScope::new(&ReportFilter::last(0, 0), inputs.catalog, inputs.statuses);
    let only_app = format!(" AND app_id = {}", quote(id));
    let page = filter.page;
    let dlp_sql = super::dlp::by_detector_sql(filter, &format!("app_id = {}", quote(id)));
    let hours_source = if source == Source::Daily {
        Source::Hourly
    } else {
        source
    };
    let hours_sql = match hours_source {
        Source::Hourly | Source::Raw => Some(format!(
            "SELECT toHour({col}) AS hour_of_day, {requests} FROM {table} WHERE {where_}{only_app} \
             GROUP BY hour_of_day ORDER BY hour_of_day",
            col = hours_source.time_column(),
            requests = hours_source.metric("requests"),
            table = hours_source.table(),
            where_ = hours_source.where_clause(filter, &scope),
        )),
        _ => None,
    };
    let days_sql = format!(
        "SELECT uniqExact(toDate({col})) AS active_days FROM {table} WHERE {where_}{only_app}",
        col = source.time_column(),
        table = source.table(),
        where_ = source.where_clause(filter, &scope),
    );
    let users_sql = BY_USER.sql(filter, id, page.limit, page.offset);
    let groups_sql = BY_GROUP.sql(filter, id, 50, 0);
    let devices_sql = BY_DEVICE.sql(filter, id, 50, 0);
    let countries_sql = BY_COUNTRY.sql(filter, id, 250, 0);
    // The per-group and per-country rollups keep no uploads, DLP or device counts: one app's
    // totals under such a filter come from its raw events, so those cards are not blank.
    let totals_source = match source {
        Source::GroupDaily | Source::CountryDaily => Source::Raw,
        other => other,
    };
    let (mut app_totals, trend, users, groups, devices, countries, dlp, days, errors) = tokio::try_join!(
        totals(inputs, totals_source, filter, &scope, &only_app),
        series(inputs, source, filter, &scope, &only_app),
        table(inputs, &users_sql),
        table(inputs, &groups_sql),
        table(inputs, &devices_sql),
        table(inputs, &countries_sql),
        table(inputs, &dlp_sql),
        table(inputs, &days_sql),
        super::errors::by_app(inputs, totals_source, filter, &scope),
    )?;
    if let Value::Object(map) = &mut app_totals {
        map.insert("errors".into(), json!(errors.get(id).copied().unwrap_or(0)));
    }
    let hours = match hours_sql {
        Some(sql) => table(inputs, &sql).await?.objects(),
        None => Vec::new(),
    };
    if number(&app_totals["requests"]) == 0 && inputs.catalog.app(id).is_none() {
        return Err(ReportError::NotFound(format!(
            "no app {id:?} in the catalog and no traffic to it in the range"
        )));
    }
    let mut users = users.objects();
    let groups_by_user = groups_of(inputs, filter, &users).await?;
    for user in &mut users {
        let groups = user["user"]
            .as_str()
            .and_then(|u| groups_by_user.get(u))
            .cloned()
            .unwrap_or_else(|| json!([]));
        if let Value::Object(map) = user {
            map.insert("groups".into(), groups);
        }
    }
    let active_days = days.rows.first().and_then(|r| r.first()).map_or(0, number);
    let requests = number(&app_totals["requests"]);
    let table = Table::from_objects(
        &[
            "user",
            "groups",
            "requests",
            "bytes_up",
            "bytes_down",
            "uploads",
            "blocked",
            "dlp_findings",
        ],
        &users,
    );
    let json = json!({
        "report": "app",
        "range": range_json(filter),
        "source": source.name(),
        "app": app_meta(inputs, id),
        "totals": app_totals,
        "series": trend,
        "users": users,
        "groups": groups.objects(),
        "devices": devices.objects(),
        "countries": countries.objects().into_iter().map(label_country).collect::<Vec<_>>(),
        "dlp": dlp.objects(),
        "frequency": {
            "active_days": active_days,
            "requests_per_active_day": if active_days == 0 { 0.0 } else { requests as f64 / active_days as f64 },
            "by_hour_of_day": hours,
        },
    });
    Ok(Report { json, table })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quiet_buckets_are_filled_with_zeros() {
        let range = TimeRange {
            from: 86_400 * 10 + 1800,
            to: 86_400 * 10 + 4 * 3600,
        };
        let rows = vec![json!({"bucket": "1970-01-11 02:00:00", "requests": 5})];
        let filled = fill_gaps(rows, range, true);
        let labels: Vec<String> = filled.iter().map(|r| r["bucket"].to_string()).collect();
        assert_eq!(filled.len(), 4, "{labels:?}");
        assert_eq!(filled[0]["bucket"], "1970-01-11 00:00:00");
        assert_eq!(filled[0]["requests"], 0);
        assert_eq!(filled[2]["requests"], 5);
        let days = fill_gaps(
            Vec::new(),
            TimeRange {
                from: 0,
                to: 7 * 86_400,
            },
            false,
        );
        assert_eq!(days.len(), 7);
        assert_eq!(days[6]["bucket"], "1970-01-07");
        // An hour's trend by the minute: sixty points.
        let minutes = fill_gaps_every(
            vec![json!({"bucket": "1970-01-11 00:45:00", "requests": 2})],
            TimeRange {
                from: 86_400 * 10 + 1800,
                to: 86_400 * 10 + 5400,
            },
            60,
        );
        assert_eq!(minutes.len(), 60);
        assert_eq!(minutes[0]["bucket"], "1970-01-11 00:30:00");
        assert_eq!(minutes[15]["requests"], 2);
    }
}
