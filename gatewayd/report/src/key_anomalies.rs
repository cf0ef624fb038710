//! Anomalies of AI API keys (the key inventory's): a key suddenly used from a country not
//! seen for it in the previous 30 days (the client's GeoIP country on `http_events`), and a
//! key used by many people within the range (passed around, or leaked). Shown on the
//! Anomalies page and in the ai-keys report.
//!
//! Only fingerprints, last four characters and providers are read or shown; the keys were
//! never stored. The user, group and country filters narrow the keys looked at to those the
//! filter's people or country used, never a key's own counts.

use std::collections::BTreeSet;

use serde_json::{json, Value};

use super::fetch as table;
use super::filter::ReportFilter;
use super::source::Source;
use super::sql::datetime;
use super::table::Table;
use super::{number, ReportError, ReportInputs};

/// How far back a country counts as seen before for a key.
const COUNTRY_HISTORY_SECS: i64 = 30 * 86_400;
/// A key used by at least this many people within the range is an anomaly (two is merely
/// shared, which the inventory already shows).
pub const KEY_MANY_USERS: u64 = 3;

/// `AND ai_key_fingerprint IN (the keys the filter's people or country used)`, or nothing.
fn filtered_keys(filter: &ReportFilter) -> String {
    let who = Source::Raw.who_clause(filter);
    if who.is_empty() {
        return String::new();
    }
    format!(
        " AND ai_key_fingerprint IN (SELECT ai_key_fingerprint FROM http_events WHERE {} AND {} \
         AND ai_key_fingerprint != '')",
        Source::Raw.time_clause(filter.range),
        who.join(" AND ")
    )
}

fn countries_sql(filter: &ReportFilter) -> String {
    let range = filter.range;
    format!(
        "SELECT ai_key_fingerprint AS fingerprint, country, toUInt8(ts >= {from}) AS recent, \
         count() AS requests, any(ai_key_last4) AS last4, any(ai_key_provider) AS provider \
         FROM http_events WHERE ts >= {hist} AND ts < {to} AND ai_key_fingerprint != '' \
         AND country != ''{keys} GROUP BY fingerprint, country, recent \
         ORDER BY fingerprint, country LIMIT 10000",
        from = datetime(range.from),
        hist = datetime(range.from - COUNTRY_HISTORY_SECS),
        to = datetime(range.to),
        keys = filtered_keys(filter),
    )
}

fn many_users_sql(filter: &ReportFilter) -> String {
    format!(
        "SELECT ai_key_fingerprint AS fingerprint, uniqExact(user) AS users, count() AS requests, \
         any(ai_key_last4) AS last4, any(ai_key_provider) AS provider FROM http_events \
         WHERE {} AND ai_key_fingerprint != '' AND user != ''{} GROUP BY fingerprint \
         HAVING users >= {KEY_MANY_USERS} ORDER BY users DESC, fingerprint LIMIT 100",
        Source::Raw.time_clause(filter.range),
        filtered_keys(filter),
    )
}

/// The keys' anomalies in `filter.range`.
pub async fn key_anomalies(
    inputs: ReportInputs<'_>,
    filter: &ReportFilter,
) -> Result<Vec<Value>, ReportError> {
    let (countries_sql, many_sql) = (countries_sql(filter), many_users_sql(filter));
    let (countries, many) =
        tokio::try_join!(table(inputs, &countries_sql), table(inputs, &many_sql),)?;
    let mut found = new_countries(&countries);
    found.extend(many_users(&many));
    Ok(found)
}

fn text(row: &[Value], i: usize) -> String {
    row.get(i).and_then(Value::as_str).unwrap_or("").to_string()
}

/// From (fingerprint, country, recent, requests, last4, provider) rows: a country in the
/// range that the key, used before, was never used from in the 30 days before it.
fn new_countries(rows: &Table) -> Vec<Value> {
    let mut seen_before: BTreeSet<(String, String)> = BTreeSet::new();
    let mut with_history: BTreeSet<String> = BTreeSet::new();
    for row in rows.rows.iter().filter(|r| r.get(2).map_or(0, number) == 0) {
        with_history.insert(text(row, 0));
        seen_before.insert((text(row, 0), text(row, 1)));
    }
    rows.rows
        .iter()
        .filter(|r| r.get(2).map_or(0, number) == 1)
        .filter(|r| {
            let key = text(r, 0);
            with_history.contains(&key) && !seen_before.contains(&(key, text(r, 1)))
        })
        .map(|r| {
            let (country, last4, provider) = (text(r, 1), text(r, 4), text(r, 5));
            let requests = r.get(3).map_or(0, number);
            json!({
                "kind": "key_new_country",
                "fingerprint": text(r, 0),
                "last4": last4,
                "provider": provider,
                "country": country,
                "value": requests,
                "description": format!(
                    "{provider} key …{last4} used from {country} ({requests} requests), not \
                     seen for it in the previous 30 days"
                ),
            })
        })
        .collect()
}

/// From (fingerprint, users, requests, last4, provider) rows, already past the threshold.
fn many_users(rows: &Table) -> Vec<Value> {
    rows.rows
        .iter()
        .map(|r| {
            let (users, requests) = (r.get(1).map_or(0, number), r.get(2).map_or(0, number));
            let (last4, provider) = (text(r, 3), text(r, 4));
            json!({
                "kind": "key_many_users",
                "fingerprint": text(r, 0),
                "last4": last4,
                "provider": provider,
                "value": users,
                "baseline": KEY_MANY_USERS,
                "description": format!(
                    "{provider} key …{last4} used by {users} people ({requests} requests): \
                     a key passed around or leaked"
                ),
            })
        })
        .collect()
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
    fn a_country_is_new_only_for_a_key_used_before() {
        let rows = t(vec![
            vec![
                json!("k1"),
                json!("US"),
                json!(0),
                json!(9),
                json!("AbCd"),
                json!("openai"),
            ],
            vec![
                json!("k1"),
                json!("US"),
                json!(1),
                json!(4),
                json!("AbCd"),
                json!("openai"),
            ],
            vec![
                json!("k1"),
                json!("KP"),
                json!(1),
                json!(2),
                json!("AbCd"),
                json!("openai"),
            ],
            // A brand-new key has no history: every country would look new.
            vec![
                json!("k2"),
                json!("DE"),
                json!(1),
                json!(3),
                json!("WxYz"),
                json!("anthropic"),
            ],
        ]);
        let found = new_countries(&rows);
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0]["fingerprint"], "k1");
        assert_eq!(found[0]["country"], "KP");
        assert_eq!(found[0]["value"], 2);
        assert!(found[0]["description"].as_str().unwrap().contains("…AbCd"));
    }

    #[test]
    fn many_users_is_a_threshold_and_the_filter_narrows_keys_not_counts() {
        let mut f = ReportFilter::last(86_400, 1_000_000);
        let sql = many_users_sql(&f);
        assert!(
            sql.contains(&format!("HAVING users >= {KEY_MANY_USERS}")),
            "{sql}"
        );
        assert!(!sql.contains("IN (SELECT"), "{sql}");
        f.user = Some("alice".into());
        let sql = many_users_sql(&f);
        // The count is of everyone who used alice's keys, not of alice alone.
        assert!(sql.contains("ai_key_fingerprint IN (SELECT"), "{sql}");
        assert!(!sql.contains("WHERE user = 'alice'"), "{sql}");
        let found = many_users(&t(vec![vec![
            json!("k1"),
            json!(4),
            json!(30),
            json!("AbCd"),
            json!("openai"),
        ]]));
        assert_eq!(found[0]["kind"], "key_many_users");
        assert_eq!(found[0]["value"], 4);
    }
}
