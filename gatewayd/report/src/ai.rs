//! The AI gateway's spend: calls, tokens, cost and latency over a range, in all and by
//! virtual key, team, user, model and provider — from the hourly or daily rollups of
//! `ai_requests`, or the calls themselves for short ranges ([`AiSource`]) — and the latest
//! calls, from `ai_requests`, one row per call.
//!
//! Costs are summed from the calls that have one; calls without a known cost (a model with
//! no price, a provider that reported no usage) are counted beside the sum as
//! `unpriced_calls`, never added as 0 silently, and calls whose usage the provider reported
//! wrongly are counted as `suspect_calls`. The `user` filter narrows to one user and the
//! `group` filter to one team (the AI gateway's groups).

use serde_json::{json, Value};

use super::ai_source::AiSource;
use super::fetch as table;
use super::filter::ReportFilter;
use super::sql::quote;
use super::table::Table;
use super::{range_json, Report, ReportError, ReportInputs};

/// The groupings: JSON key, the `by` value in the main table, and the SQL of its name (the
/// model's depends on the source).
/// Calls refused before they had a key, a user or a route (a bad key, `GET /v1/models`, an
/// unknown model) are named as such, never an empty name.
const GROUPS: [(&str, &str, &str); 5] = [
    (
        "by_key",
        "key",
        "multiIf(virtual_key_name != '', virtual_key_name, virtual_key_id != '', virtual_key_id,          user != '', '(no key: proxy or device identity)', '(unidentified)')",
    ),
    ("by_team", "team", "if(team = '', '(no team)', team)"),
    ("by_user", "user", "if(user = '', '(unidentified)', user)"),
    ("by_model", "model", ""),
    (
        "by_provider",
        "provider",
        "if(provider = '', '(not routed: models list, unknown model or refused)', provider)",
    ),
];

/// The latest calls' columns, the ones they can be sorted by.
pub const CALL_COLUMNS: [&str; 17] = [
    "time",
    "request_id",
    "user",
    "key",
    "provider",
    "model_asked",
    "model_served",
    "stream",
    "status",
    "error",
    "input_tokens",
    "output_tokens",
    "cached_tokens",
    "cost_micro_usd",
    "cost_status",
    "latency_ms",
    "ttft_ms",
];

/// The conditions of `filter` on `source` (the rollups keep the user and the team).
fn where_clause(source: AiSource, filter: &ReportFilter) -> String {
    let mut clauses = vec![source.time_clause(filter.range)];
    if let Some(user) = &filter.user {
        clauses.push(format!("user = {}", quote(user)));
    }
    if let Some(team) = &filter.group {
        clauses.push(format!("team = {}", quote(team)));
    }
    clauses.join(" AND ")
}

/// Spend in all, by key, team, user, model and provider, and the latest calls (paged,
/// sorted by any of their columns). The main table is the spend by each grouping, one after
/// another.
pub async fn ai(inputs: ReportInputs<'_>, filter: &ReportFilter) -> Result<Report, ReportError> {
    let order = super::sort::key(filter, &CALL_COLUMNS, "time")?;
    let source = AiSource::for_range(filter.range);
    let (table_name, sums) = (source.table(), source.sums());
    let in_source = where_clause(source, filter);
    let filtered = where_clause(AiSource::Raw, filter);
    let totals_sql = format!(
        "SELECT {sums}, uniqExactIf(user, user != '') AS users FROM {table_name} WHERE {in_source}"
    );
    let group_sql = |name: &str| {
        let name = if name.is_empty() {
            source.model()
        } else {
            name
        };
        format!(
            "SELECT {name} AS name, {sums} FROM {table_name} WHERE {in_source} \
             GROUP BY name ORDER BY spend_micro_usd DESC, calls DESC, name LIMIT 100"
        )
    };
    let calls_sql = format!(
        "SELECT toString(ts) AS time, request_id, user, \
         if(virtual_key_name = '', virtual_key_id, virtual_key_name) AS key, provider, \
         model_asked, model_served, stream, status, error, input_tokens, output_tokens, \
         cached_tokens, cost_micro_usd, cost_status, latency_ms, ttft_ms \
         FROM ai_requests WHERE {filtered} ORDER BY {}, ts DESC, request_id LIMIT {}, {}",
        order.order_by(),
        filter.page.offset,
        filter.page.limit
    );
    let [key_sql, team_sql, user_sql, model_sql, provider_sql] =
        GROUPS.map(|(_, _, name)| group_sql(name));
    let (totals, by_key, by_team, by_user, by_model, by_provider, calls) = tokio::try_join!(
        table(inputs, &totals_sql),
        table(inputs, &key_sql),
        table(inputs, &team_sql),
        table(inputs, &user_sql),
        table(inputs, &model_sql),
        table(inputs, &provider_sql),
        table(inputs, &calls_sql),
    )?;
    let totals = totals.objects().into_iter().next().unwrap_or(Value::Null);
    let groups = [&by_key, &by_team, &by_user, &by_model, &by_provider];
    let spend = spend_table(&groups);
    let mut json = json!({
        "report": "ai",
        "range": range_json(filter),
        "source": table_name,
        "currency": "USD",
        "totals": totals,
        "limit": filter.page.limit,
        "offset": filter.page.offset,
        "calls": calls.objects(),
    });
    for ((key, _, _), group) in GROUPS.iter().zip(groups) {
        json[*key] = Value::Array(group.objects());
    }
    Ok(Report { json, table: spend })
}

/// The groupings one after another, each row led by what it groups by.
fn spend_table(groups: &[&Table; 5]) -> Table {
    let mut out = Table {
        columns: vec!["by".to_string()],
        rows: Vec::new(),
    };
    for ((_, by, _), group) in GROUPS.iter().zip(groups) {
        if out.columns.len() == 1 {
            out.columns.extend(group.columns.iter().cloned());
        }
        for row in &group.rows {
            let mut cells = vec![Value::from(*by)];
            cells.extend(row.iter().cloned());
            out.rows.push(cells);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_reach_sql_quoted_and_the_team_is_the_group() {
        let mut f = ReportFilter::last(86_400, 1_000_000);
        f.user = Some("o'brien".into());
        f.group = Some("data".into());
        let sql = where_clause(AiSource::Raw, &f);
        assert!(sql.starts_with("ts >= "), "{sql}");
        assert!(sql.contains("user = 'o\\'brien'"), "{sql}");
        assert!(sql.contains("team = 'data'"), "{sql}");
        let rolled = where_clause(AiSource::Daily, &f);
        assert!(rolled.starts_with("day >= "), "{rolled}");
        assert!(
            rolled.contains("user = 'o\\'brien' AND team = 'data'"),
            "{rolled}"
        );
    }

    #[test]
    fn the_spend_table_leads_each_row_with_its_grouping() {
        let group = |name: &str| Table {
            columns: vec!["name".into(), "calls".into()],
            rows: vec![vec![Value::from(name), Value::from(1)]],
        };
        let (a, t, b, c, d) = (group("k"), group("t"), group("u"), group("m"), group("p"));
        let t = spend_table(&[&a, &t, &b, &c, &d]);
        assert_eq!(t.columns, ["by", "name", "calls"]);
        let firsts: Vec<&str> = t.rows.iter().map(|r| r[0].as_str().unwrap()).collect();
        assert_eq!(firsts, ["key", "team", "user", "model", "provider"]);
    }
}
