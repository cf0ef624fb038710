//! What is unusual in the range (by default the last day): an app's requests spiking against
//! its trailing week, an app used from a country never seen for it in the previous 30 days,
//! and one user or one source address making far more requests than the typical one; and
//! the AI key inventory's own (`key_anomalies`: a key from a new country, or used by many).

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{json, Value};

use super::fetch as table;
use super::filter::ReportFilter;
use super::source::{AppScope, Source};
use super::sql::datetime;
use super::table::Table;
use super::{number, range_json, Report, ReportError, ReportInputs};

/// The trailing baseline an app's usage is compared with.
const BASELINE_SECS: i64 = 7 * 86_400;
/// How far back a country counts as seen before for an app.
const COUNTRY_HISTORY_SECS: i64 = 30 * 86_400;
/// A spike: at least this many times the baseline rate ...
const SPIKE_RATIO: f64 = 3.0;
/// ... and at least this many requests.
const SPIKE_MIN_REQUESTS: u64 = 20;
/// A heavy user or address: at least this many times the median ...
const HEAVY_RATIO: f64 = 10.0;
/// ... and at least this many requests.
const HEAVY_MIN_REQUESTS: u64 = 50;

/// Finds the anomalies in `filter.range`.
pub async fn anomalies(
    inputs: ReportInputs<'_>,
    filter: &ReportFilter,
) -> Result<Report, ReportError> {
    let scope = AppScope::new(filter, inputs.catalog, inputs.statuses);
    let range = filter.range;
    let apps = scope.clause();
    let spikes_sql = format!(
        "SELECT app_id, hour >= toStartOfHour({from}) AS recent, countMerge(requests) AS requests \
         FROM app_usage_hourly WHERE hour >= toStartOfHour({base}) AND hour < {to} AND {apps} \
         GROUP BY app_id, recent",
        from = datetime(range.from),
        base = datetime(range.from - BASELINE_SECS),
        to = datetime(range.to),
    );
    let countries_sql = format!(
        "SELECT app_id, country, day >= toDate({from}) AS recent, countMerge(requests) AS requests \
         FROM app_country_daily WHERE day >= toDate({hist}) AND day <= toDate({to} - 1) \
         AND country != '' AND {apps} GROUP BY app_id, country, recent",
        from = datetime(range.from),
        hist = datetime(range.from - COUNTRY_HISTORY_SECS),
        to = datetime(range.to),
    );
    let mut who = vec![Source::Raw.time_clause(range), apps.clone()];
    who.extend(Source::Raw.who_clause(filter));
    let who = who.join(" AND ");
    // One pass over the window's raw events gives both the per-user and per-address counts.
    let pairs_sql = format!(
        "SELECT user, src_ip, count() AS requests, any(country) AS country FROM http_events \
         WHERE {who} GROUP BY user, src_ip"
    );
    // How much history there is at all: a spike needs a week before the range, a new
    // country a month, and the page says so while that much is not there yet.
    let first_sql = format!(
        "SELECT toUInt64(toUnixTimestamp(min(hour))) AS first, count() AS hours          FROM app_usage_hourly WHERE hour < {}",
        datetime(range.to)
    );
    let (spikes, countries, pairs, first, keys) = tokio::try_join!(
        table(inputs, &spikes_sql),
        table(inputs, &countries_sql),
        table(inputs, &pairs_sql),
        table(inputs, &first_sql),
        super::key_anomalies::key_anomalies(inputs, filter),
    )?;
    let (users, sources) = per_user_and_source(&pairs);
    let window_days = range.span_secs() as f64 / 86_400.0;
    let mut found = Vec::new();
    found.extend(spike_anomalies(&spikes, window_days));
    found.extend(country_anomalies(&countries));
    found.extend(heavy("user", "user", &users));
    found.extend(heavy("source", "src_ip", &sources));
    found.extend(keys);
    let table = Table::from_objects(
        &[
            "kind",
            "app_id",
            "user",
            "src_ip",
            "country",
            "fingerprint",
            "value",
            "baseline",
            "description",
        ],
        &found,
    );
    let json = json!({
        "report": "anomalies",
        "range": range_json(filter),
        "anomalies": found,
        "baselines": baselines(&first, range.from),
    });
    Ok(Report { json, table })
}

/// How old the history before `from` is, against what each kind of anomaly compares with:
/// `{history_days, spike_days, country_days, young}`; `history_days` is null without any.
fn baselines(first: &Table, from: i64) -> Value {
    let row = first.rows.first();
    let hours = row.and_then(|r| r.get(1)).map_or(0, number);
    let first = row.and_then(|r| r.first()).map_or(0, number);
    let history_days = (hours > 0).then(|| {
        let secs = (from - i64::try_from(first).unwrap_or(from)).max(0);
        (secs as f64 / 86_400.0 * 10.0).floor() / 10.0
    });
    let country_days = COUNTRY_HISTORY_SECS / 86_400;
    json!({
        "history_days": history_days,
        "spike_days": BASELINE_SECS / 86_400,
        "country_days": country_days,
        "young": history_days.is_none_or(|d| d < country_days as f64),
    })
}

fn spike_anomalies(rows: &Table, window_days: f64) -> Vec<Value> {
    let mut recent: BTreeMap<String, u64> = BTreeMap::new();
    let mut before: BTreeMap<String, u64> = BTreeMap::new();
    for row in &rows.rows {
        let app = row[0].as_str().unwrap_or("").to_string();
        let count = number(&row[2]);
        if number(&row[1]) == 1 {
            recent.insert(app, count);
        } else {
            before.insert(app, count);
        }
    }
    let baseline_days = BASELINE_SECS as f64 / 86_400.0;
    recent
        .into_iter()
        .filter_map(|(app, now)| {
            let expected =
                before.get(&app).copied().unwrap_or(0) as f64 / baseline_days * window_days;
            let ratio = if expected > 0.0 {
                now as f64 / expected
            } else {
                f64::INFINITY
            };
            (now >= SPIKE_MIN_REQUESTS && ratio >= SPIKE_RATIO && expected > 0.0).then(|| {
                json!({
                    "kind": "usage_spike",
                    "app_id": app,
                    "value": now,
                    "baseline": (expected * 10.0).round() / 10.0,
                    "ratio": (ratio * 10.0).round() / 10.0,
                    "description": format!(
                        "{app}: {now} requests, {:.1}x its rate over the previous 7 days",
                        ratio
                    ),
                })
            })
        })
        .collect()
}

fn country_anomalies(rows: &Table) -> Vec<Value> {
    let mut seen_before: BTreeSet<(String, String)> = BTreeSet::new();
    let mut apps_with_history: BTreeSet<String> = BTreeSet::new();
    let mut recent = Vec::new();
    for row in &rows.rows {
        let app = row[0].as_str().unwrap_or("").to_string();
        let country = row[1].as_str().unwrap_or("").to_string();
        if number(&row[2]) == 1 {
            recent.push((app, country, number(&row[3])));
        } else {
            apps_with_history.insert(app.clone());
            seen_before.insert((app, country));
        }
    }
    recent
        .into_iter()
        .filter(|(app, country, _)| {
            apps_with_history.contains(app) && !seen_before.contains(&(app.clone(), country.clone()))
        })
        .map(|(app, country, requests)| {
            json!({
                "kind": "new_country",
                "app_id": app,
                "country": country,
                "value": requests,
                "description": format!(
                    "{app} used from {country} ({requests} requests), not seen for it in the previous 30 days"
                ),
            })
        })
        .collect()
}

/// Requests per user and per source address from (user, src_ip, requests, country) rows;
/// an address's rows carry its country as a third column.
fn per_user_and_source(pairs: &Table) -> (Table, Table) {
    let mut users: BTreeMap<String, u64> = BTreeMap::new();
    let mut sources: BTreeMap<String, (u64, String)> = BTreeMap::new();
    for row in &pairs.rows {
        let count = number(&row[2]);
        *users
            .entry(row[0].as_str().unwrap_or("").to_string())
            .or_default() += count;
        let source = sources
            .entry(row[1].as_str().unwrap_or("").to_string())
            .or_default();
        source.0 += count;
        if source.1.is_empty() {
            source.1 = row.get(3).and_then(Value::as_str).unwrap_or("").to_string();
        }
    }
    let users = Table {
        columns: Vec::new(),
        rows: users
            .into_iter()
            .map(|(k, v)| vec![json!(k), json!(v)])
            .collect(),
    };
    let sources = Table {
        columns: Vec::new(),
        rows: sources
            .into_iter()
            .map(|(k, (v, country))| vec![json!(k), json!(v), json!(country)])
            .collect(),
    };
    (users, sources)
}

fn heavy(kind: &str, column: &str, rows: &Table) -> Vec<Value> {
    let mut counts: Vec<u64> = rows.rows.iter().map(|r| number(&r[1])).collect();
    if counts.len() < 3 {
        return Vec::new();
    }
    counts.sort_unstable();
    let median = counts[counts.len() / 2].max(1);
    let threshold = ((median as f64) * HEAVY_RATIO).max(HEAVY_MIN_REQUESTS as f64);
    let mut found: Vec<Value> = rows
        .rows
        .iter()
        .filter(|r| number(&r[1]) as f64 >= threshold)
        .map(|r| {
            let who = r[0].as_str().unwrap_or("").to_string();
            let requests = number(&r[1]);
            let country = r
                .get(2)
                .and_then(Value::as_str)
                .filter(|c| !c.is_empty())
                .unwrap_or(super::usage::UNKNOWN_COUNTRY);
            json!({
                "country": country,
                "kind": format!("heavy_{kind}"),
                column: who,
                "value": requests,
                "baseline": median,
                "ratio": ((requests as f64 / median as f64) * 10.0).round() / 10.0,
                "description": format!(
                    "{kind} {who}: {requests} requests, {:.0}x the median of {median}",
                    requests as f64 / median as f64
                ),
            })
        })
        .collect();
    found.sort_by_key(|v| std::cmp::Reverse(number(&v["value"])));
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(rows: Vec<Vec<Value>>) -> Table {
        Table {
            columns: Vec::new(),
            rows,
        }
    }

    #[test]
    fn a_spike_is_measured_against_the_trailing_rate() {
        let rows = t(vec![
            vec![json!("chatgpt"), json!(1), json!(300)],
            vec![json!("chatgpt"), json!(0), json!(7 * 30)],
            vec![json!("claude"), json!(1), json!(40)],
            vec![json!("claude"), json!(0), json!(7 * 30)],
            vec![json!("new-app"), json!(1), json!(500)],
        ]);
        let found = spike_anomalies(&rows, 1.0);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0]["app_id"], "chatgpt");
        assert_eq!(found[0]["ratio"], 10.0);
    }

    #[test]
    fn a_country_is_new_only_for_an_app_with_history() {
        let rows = t(vec![
            vec![json!("chatgpt"), json!("US"), json!(0), json!(10)],
            vec![json!("chatgpt"), json!("US"), json!(1), json!(10)],
            vec![json!("chatgpt"), json!("KP"), json!(1), json!(3)],
            vec![json!("fresh"), json!("DE"), json!(1), json!(3)],
        ]);
        let found = country_anomalies(&rows);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0]["country"], "KP");
    }

    #[test]
    fn baselines_say_how_much_history_there_is() {
        let day = 86_400;
        let none = baselines(&t(vec![vec![json!(0), json!(0)]]), 10 * day);
        assert_eq!(none["history_days"], Value::Null);
        assert_eq!(none["young"], true);
        let two = baselines(&t(vec![vec![json!(8 * day), json!(48)]]), 10 * day);
        assert_eq!(two["history_days"], 2.0);
        assert_eq!(two["young"], true);
        let old = baselines(&t(vec![vec![json!(0), json!(999)]]), 40 * day);
        assert_eq!(old["young"], false);
    }

    #[test]
    fn heavy_users_stand_far_above_the_median() {
        let rows = t(vec![
            vec![json!("a"), json!(5)],
            vec![json!("b"), json!(6)],
            vec![json!("c"), json!(4)],
            vec![json!("d"), json!(400)],
        ]);
        let found = heavy("user", "user", &rows);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0]["user"], "d");
        assert_eq!(found[0]["country"], "unknown", "never a blank country");
    }
}
