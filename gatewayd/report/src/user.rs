//! One person: everything a user did in the range — totals (of their traffic to AI apps, as
//! the Users list counts it, and of all their requests), the apps they used (with each
//! app's status and risk), what was blocked, DLP findings by type, their devices, activity
//! over time and the timeline of their transactions, newest first (paged, sortable).
//!
//! The name reaches SQL only through `sql::quote`. It never reads `audit_prompt`.

use serde_json::{json, Value};

use super::fetch as table;
use super::filter::ReportFilter;
use super::source::Source;
use super::sql::quote;
use super::{app_meta, number, range_json, sort, Report, ReportError, ReportInputs};

/// The longest user name looked up.
const MAX_NAME: usize = 256;
/// How many blocked requests and devices are listed.
const LIST: usize = 100;

/// The timeline's columns, the ones it can be sorted by.
pub const TIMELINE_COLUMNS: [&str; 12] = [
    "time",
    "request_id",
    "app_id",
    "host",
    "method",
    "path",
    "action",
    "status",
    "bytes_up",
    "bytes_down",
    "dlp_findings",
    "device_id",
];

/// Checks a user name from a URL: not empty, bounded, no control characters.
pub fn check_name(name: &str) -> Result<(), ReportError> {
    if name.is_empty() || name.len() > MAX_NAME || name.chars().any(char::is_control) {
        return Err(ReportError::NotFound(
            "no such user: a user name is 1 to 256 characters without control characters".into(),
        ));
    }
    Ok(())
}

/// The report of user `name` over `filter.range` (who-filters other than the range are not
/// used: the user is the filter).
pub async fn user(
    inputs: ReportInputs<'_>,
    filter: &ReportFilter,
    name: &str,
) -> Result<Report, ReportError> {
    check_name(name)?;
    let order = sort::key(filter, &TIMELINE_COLUMNS, "time")?;
    let who = format!(
        "{} AND user = {}",
        Source::Raw.time_clause(filter.range),
        quote(name)
    );
    // The figures count traffic to AI apps, as the Users list and the overview do (the same
    // number for the same person and range); `all_requests` adds every other site, which the
    // timeline and the blocked list also show.
    let totals_sql = format!(
        "SELECT countIf(app_id != '') AS requests, count() AS all_requests, \
         countIf(blocked = 1 AND app_id != '') AS blocked, \
         countIf(upload = 1 AND app_id != '') AS uploads, \
         sumIf(bytes_up, app_id != '') AS bytes_up, \
         sumIf(bytes_down, app_id != '') AS bytes_down, \
         sumIf(toUInt64(dlp_finding_count), app_id != '') AS dlp_findings, \
         uniqExactIf(app_id, app_id != '') AS apps, \
         uniqExactIf(device_id, device_id != '') AS devices, \
         toString(min(ts)) AS first_seen, toString(max(ts)) AS last_seen, \
         argMax(groups, ts) AS groups FROM http_events WHERE {who}"
    );
    let apps_sql = format!(
        "SELECT app_id, count() AS requests, countIf(blocked = 1) AS blocked, \
         countIf(upload = 1) AS uploads, sum(bytes_up) AS bytes_up, sum(bytes_down) AS bytes_down, \
         sum(toUInt64(dlp_finding_count)) AS dlp_findings, toString(max(ts)) AS last_seen \
         FROM http_events WHERE {who} AND app_id != '' GROUP BY app_id \
         ORDER BY requests DESC, app_id"
    );
    let blocks_sql = format!(
        "SELECT toString(ts) AS time, request_id, app_id, host, action, rule_id, status, detail \
         FROM http_events WHERE {who} AND blocked = 1 ORDER BY ts DESC, request_id LIMIT {LIST}"
    );
    let dlp_sql = format!(
        "SELECT detector, count() AS requests, sum(toUInt64(finding_count)) AS findings, \
         countIf(action = 'block') AS blocked FROM dlp_findings WHERE {who} \
         GROUP BY detector ORDER BY findings DESC, detector"
    );
    let devices_sql = format!(
        "SELECT device_id, argMax(device_posture, ts) AS posture, count() AS requests, \
         toString(max(ts)) AS last_seen FROM http_events WHERE {who} AND device_id != '' \
         GROUP BY device_id ORDER BY requests DESC, device_id LIMIT {LIST}"
    );
    let hourly = filter.range.span_secs() <= super::source::HOURLY_MAX_SPAN_SECS;
    let bucket = if hourly {
        "toString(toStartOfHour(ts))"
    } else {
        "toString(toDate(ts))"
    };
    let series_sql = format!(
        "SELECT {bucket} AS bucket, count() AS requests FROM http_events WHERE {who} \
         AND app_id != '' GROUP BY bucket ORDER BY bucket"
    );
    let timeline_sql = format!(
        "SELECT toString(ts) AS time, request_id, app_id, host, method, path, action, status, \
         bytes_up, bytes_down, dlp_finding_count AS dlp_findings, device_id \
         FROM http_events WHERE {who} ORDER BY {}, ts DESC, request_id LIMIT {}, {}",
        order.order_by(),
        filter.page.offset,
        filter.page.limit
    );
    // The person's calls to the AI gateway (a virtual key's user or an identified caller):
    // someone who only used the AI gateway has a page too.
    let ai_sql = format!(
        "SELECT count() AS calls, ifNull(sum(cost_micro_usd), 0) AS spend_micro_usd, \
         countIf(isNull(cost_micro_usd)) AS unpriced_calls, countIf(error != '') AS errors, \
         sum(input_tokens) AS input_tokens, sum(output_tokens) AS output_tokens, \
         toString(max(ts)) AS last_call FROM ai_requests WHERE {who}"
    );
    let (totals, apps, blocks, dlp, devices, series, timeline, ai) = tokio::try_join!(
        table(inputs, &totals_sql),
        table(inputs, &apps_sql),
        table(inputs, &blocks_sql),
        table(inputs, &dlp_sql),
        table(inputs, &devices_sql),
        table(inputs, &series_sql),
        table(inputs, &timeline_sql),
        table(inputs, &ai_sql),
    )?;
    let ai = ai.objects().into_iter().next().unwrap_or_else(|| json!({}));
    let totals = totals
        .objects()
        .into_iter()
        .next()
        .unwrap_or_else(|| json!({}));
    if number(&totals["all_requests"]) == 0 && number(&ai["calls"]) == 0 {
        return Err(ReportError::NotFound(format!(
            "no activity of user {:?} in the range",
            name.chars().take(64).collect::<String>()
        )));
    }
    let apps: Vec<Value> = apps
        .objects()
        .into_iter()
        .map(|row| {
            let mut merged = app_meta(inputs, row["app_id"].as_str().unwrap_or(""));
            if let (Value::Object(meta), Value::Object(metrics)) = (&mut merged, row) {
                meta.extend(metrics);
            }
            merged
        })
        .collect();
    let series = super::usage::fill_gaps(series.objects(), filter.range, hourly);
    let json = json!({
        "report": "user",
        "user": name,
        "range": range_json(filter),
        "totals": totals,
        "apps": apps,
        "blocked": blocks.objects(),
        "dlp": dlp.objects(),
        "devices": devices.objects(),
        "series": series,
        "limit": filter.page.limit,
        "offset": filter.page.offset,
        "timeline": timeline.objects(),
        "ai": ai,
    });
    Ok(Report {
        json,
        table: timeline,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_bounded_and_printable() {
        assert!(check_name("alice").is_ok());
        assert!(check_name("o'brien \"<b>\" ../../etc").is_ok());
        assert!(check_name("").is_err());
        assert!(check_name("a\nb").is_err());
        assert!(check_name(&"x".repeat(300)).is_err());
    }
}
