//! The AI key inventory: how many AI API keys were active in the range, by provider,
//! personal vs org-managed (one of the AI gateway's own provider keys, seen on its way to a
//! provider outside the gateway: a leak), new this week, and shared (several users or
//! devices: a key passed around) — from the `ai_keys_seen` rollup, one row per key.
//!
//! Only fingerprints and last four characters exist to be shown; the keys themselves were
//! never stored. Keys DLP found pasted into prompts (`dlp_findings` of the AI key detectors)
//! carry the same fingerprint and are listed with whether the inventory knows them.
//! The user, group and country filters narrow the list to the keys those people (or that
//! country) used in the range, read from `http_events`; a key's counts stay the key's own
//! (the rollup keeps counts of users, not their names). `routing` counts the calls a `route`
//! rule sent through the AI gateway and those a dry run says it would have, and
//! `anomalies` are the keys' own (`key_anomalies`). Whose each listed key is — up to
//! `WHO_MAX` user names and device ids — is read from the raw events of the range for the
//! listed page only (so as far back as `retention.raw_days` keeps them).

use serde_json::{json, Value};

use super::fetch as table;
use super::filter::ReportFilter;
use super::source::Source;
use super::sql::{datetime, quote};
use super::{range_json, Report, ReportError, ReportInputs};

/// A key is new when it was first seen at most this long before the range's end.
const NEW_WITHIN_SECS: i64 = 7 * 86_400;

/// The list's columns, the ones it can be sorted by.
pub const KEY_COLUMNS: [&str; 16] = [
    "fingerprint",
    "last4",
    "provider",
    "kind",
    "org_managed",
    "shared",
    "new_this_week",
    "first_seen",
    "last_seen",
    "users",
    "devices",
    "sources",
    "hosts",
    "requests",
    "bytes_up",
    "bytes_down",
];

/// The most user names and device ids listed per key (the counts say how many in all).
pub const WHO_MAX: usize = 10;

/// The list's columns as shown: [`KEY_COLUMNS`], then whose the key is.
pub const WHO_COLUMNS: [&str; 18] = [
    "fingerprint",
    "last4",
    "provider",
    "kind",
    "org_managed",
    "shared",
    "new_this_week",
    "first_seen",
    "last_seen",
    "users",
    "user_names",
    "devices",
    "device_ids",
    "sources",
    "hosts",
    "requests",
    "bytes_up",
    "bytes_down",
];

/// Up to [`WHO_MAX`] user names and device ids per key of `fingerprints`, in the range (the
/// first in order: `groupUniqArray(N)` takes no parameter on the oldest ClickHouse supported).
fn who_sql(filter: &ReportFilter, fingerprints: &[String]) -> String {
    let listed: Vec<String> = fingerprints.iter().map(|f| quote(f)).collect();
    format!(
        "SELECT ai_key_fingerprint AS fingerprint, \
         arraySlice(arraySort(groupUniqArrayIf(user, user != '')), 1, {WHO_MAX}) AS user_names, \
         arraySlice(arraySort(groupUniqArrayIf(device_id, device_id != '')), 1, {WHO_MAX}) \
         AS device_ids \
         FROM http_events WHERE {} AND ai_key_fingerprint IN ({}) GROUP BY fingerprint",
        Source::Raw.time_clause(filter.range),
        listed.join(", ")
    )
}

/// The keys the filter's people (user, group) or country used in the range, as a clause on
/// `fingerprint`; empty when the filter names none.
fn who_clause(filter: &ReportFilter) -> String {
    let who = Source::Raw.who_clause(filter);
    if who.is_empty() {
        return String::new();
    }
    format!(
        " AND fingerprint IN (SELECT ai_key_fingerprint FROM http_events WHERE {} AND {} \
         AND ai_key_fingerprint != '')",
        Source::Raw.time_clause(filter.range),
        who.join(" AND ")
    )
}

/// One row per key active in the range, with its first sighting ever and the derived flags.
fn keys_sql(filter: &ReportFilter) -> String {
    let range = Source::Daily.time_clause(filter.range);
    let who = who_clause(filter);
    let new_since = datetime(filter.range.to - NEW_WITHIN_SECS);
    format!(
        "SELECT fingerprint, last4, provider, kind, org_managed, \
         toUInt8(users > 1 OR devices > 1) AS shared, \
         toUInt8(first >= {new_since}) AS new_this_week, toString(first) AS first_seen, \
         last_seen, users, devices, sources, hosts, requests, bytes_up, bytes_down \
         FROM (SELECT fingerprint, any(last4) AS last4, any(provider) AS provider, \
         any(kind) AS kind, max(org_managed) AS org_managed, \
         toString(maxMerge(last_seen)) AS last_seen, uniqMerge(users) AS users, \
         uniqIfMerge(devices) AS devices, uniqMerge(sources) AS sources, \
         uniqMerge(hosts) AS hosts, countMerge(requests) AS requests, \
         sumMerge(bytes_up) AS bytes_up, sumMerge(bytes_down) AS bytes_down \
         FROM ai_keys_seen WHERE {range}{who} GROUP BY fingerprint) \
         ANY LEFT JOIN (SELECT fingerprint, minMerge(first_seen) AS first \
         FROM ai_keys_seen GROUP BY fingerprint) USING fingerprint"
    )
}

/// Active keys in the range: totals, by provider, and the keys (paged, sorted by any
/// column; most requests first by default).
pub async fn ai_keys(
    inputs: ReportInputs<'_>,
    filter: &ReportFilter,
) -> Result<Report, ReportError> {
    let order = super::sort::key(filter, &KEY_COLUMNS, "requests")?;
    let keys = keys_sql(filter);
    let totals_sql = format!(
        "SELECT count() AS active_keys, countIf(org_managed = 0) AS personal_keys, \
         countIf(org_managed = 1) AS org_managed_keys, sum(new_this_week) AS new_this_week, \
         sum(shared) AS shared_keys FROM ({keys})"
    );
    let provider_sql = format!(
        "SELECT provider, count() AS keys, countIf(org_managed = 0) AS personal_keys, \
         countIf(org_managed = 1) AS org_managed_keys, sum(shared) AS shared_keys, \
         sum(requests) AS total_requests FROM ({keys}) GROUP BY provider \
         ORDER BY keys DESC, provider LIMIT 100"
    );
    let list_sql = format!(
        "SELECT * FROM ({keys}) ORDER BY {}, fingerprint LIMIT {}, {}",
        order.order_by(),
        filter.page.offset,
        filter.page.limit
    );
    let prompts_sql = format!(
        "SELECT ai_key_fingerprint AS fingerprint, any(detector) AS detector, \
         sum(finding_count) AS findings, uniqExact(user) AS users, \
         toString(max(ts)) AS last_found, \
         toUInt8(ai_key_fingerprint IN (SELECT fingerprint FROM ai_keys_seen)) AS in_inventory \
         FROM dlp_findings WHERE {} AND ai_key_fingerprint != '' \
         GROUP BY ai_key_fingerprint ORDER BY findings DESC, fingerprint LIMIT 100",
        Source::Raw.time_clause(filter.range)
    );
    let mut routed_where = vec![
        Source::Raw.time_clause(filter.range),
        "action IN ('route', 'would_route')".to_string(),
    ];
    routed_where.extend(Source::Raw.who_clause(filter));
    let routing_sql = format!(
        "SELECT countIf(action = 'route') AS routed, countIf(action = 'would_route') AS would_route, \
         uniqExactIf(ai_key_fingerprint, action = 'route' AND ai_key_fingerprint != '') \
         AS keys_routed, \
         uniqExactIf(ai_key_fingerprint, action = 'would_route' AND ai_key_fingerprint != '') \
         AS keys_would_route FROM http_events WHERE {}",
        routed_where.join(" AND ")
    );
    let (totals, by_provider, list, prompts, routing, anomalies) = tokio::try_join!(
        table(inputs, &totals_sql),
        table(inputs, &provider_sql),
        table(inputs, &list_sql),
        table(inputs, &prompts_sql),
        table(inputs, &routing_sql),
        super::key_anomalies::key_anomalies(inputs, filter),
    )?;
    let routing = routing.objects().into_iter().next().unwrap_or(Value::Null);
    let totals = totals.objects().into_iter().next().unwrap_or(Value::Null);
    let mut keys = list.objects();
    let fingerprints: Vec<String> = keys
        .iter()
        .filter_map(|k| k["fingerprint"].as_str().map(str::to_string))
        .collect();
    if !fingerprints.is_empty() {
        let who = table(inputs, &who_sql(filter, &fingerprints))
            .await?
            .objects();
        for key in &mut keys {
            let found = who.iter().find(|w| w["fingerprint"] == key["fingerprint"]);
            for field in ["user_names", "device_ids"] {
                key[field] = found.map_or_else(|| json!([]), |w| w[field].clone());
            }
        }
    }
    let table = super::table::Table::from_objects(&WHO_COLUMNS, &keys);
    let json = json!({
        "report": "ai-keys",
        "range": range_json(filter),
        "source": "ai_keys_seen",
        "totals": totals,
        "by_provider": by_provider.objects(),
        "limit": filter.page.limit,
        "offset": filter.page.offset,
        "keys": keys,
        "found_in_prompts": prompts.objects(),
        "routing": routing,
        "anomalies": anomalies,
    });
    Ok(Report { json, table })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_range_reads_whole_days_and_new_is_a_week_before_its_end() {
        let f = ReportFilter::last(86_400, 1_000_000);
        let sql = keys_sql(&f);
        assert!(sql.contains("day >= toDate("), "{sql}");
        assert!(
            sql.contains(&datetime(1_000_000 - NEW_WITHIN_SECS)),
            "{sql}"
        );
        assert!(!sql.contains("ai_key_"), "reads the rollup only: {sql}");
    }

    #[test]
    fn a_user_or_group_narrows_the_list_to_the_keys_they_used() {
        let mut f = ReportFilter::last(86_400, 1_000_000);
        f.user = Some("alice".into());
        f.group = Some("eng'); DROP TABLE x; --".into());
        let sql = keys_sql(&f);
        assert!(
            sql.contains("fingerprint IN (SELECT ai_key_fingerprint FROM http_events WHERE"),
            "{sql}"
        );
        assert!(sql.contains("user = 'alice'"), "{sql}");
        // Quoted as a string, never SQL.
        assert!(!sql.contains("'eng');"), "{sql}");
    }

    #[test]
    fn whose_a_key_is_is_bounded_and_quoted() {
        let f = ReportFilter::last(86_400, 1_000_000);
        let sql = who_sql(&f, &["ab12".into(), "x' OR 1=1 --".into()]);
        assert!(
            sql.contains(&format!("user != '')), 1, {WHO_MAX})")),
            "{sql}"
        );
        assert!(sql.contains("IN ('ab12', 'x\\' OR 1=1 --')"), "{sql}");
    }
}
