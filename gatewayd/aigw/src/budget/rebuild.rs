//! Counters that survive a restart: at start, the daemon runs one aggregated query per
//! budget over ClickHouse's `ai_requests` (the spend of each scope value in the current
//! window, by period or rolling bucket) and seeds the store with the answer. This module
//! writes the queries and reads the answers; the daemon owns the ClickHouse client (this
//! crate never depends on the reports).
//!
//! Rate limits are not rebuilt (their windows are a minute or an hour), nor budgets on each
//! model separately (`ai_requests` keeps the model asked and served, not the route's
//! canonical name). Calls whose cost is unknown count as 0 here, where a running gateway
//! counted their whole reservation.
//!
//! Never: put a value in SQL unquoted (scope values come from the configuration, quoted
//! with [`quote`]), or scan per request.

use config::AigwScope;
use serde_json::Value;

use super::window::Window;
use super::{Governor, Measure};

/// A string literal for ClickHouse.
pub fn quote(text: &str) -> String {
    format!("'{}'", text.replace('\\', "\\\\").replace('\'', "\\'"))
}

/// One query per budget that can be rebuilt: (the rule's index, SQL without FORMAT). Each
/// answers rows of (scope value, period start in unix seconds, spend).
pub fn queries(governor: &Governor, now: u64) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    for (i, r) in governor.rules.iter().enumerate() {
        if !r.budget {
            continue;
        }
        let m = r.matches.as_deref().map(quote);
        let (value, filter) = match (r.scope, &m) {
            (AigwScope::All, _) => ("'*'".to_string(), "1".to_string()),
            (AigwScope::Key, Some(m)) => (m.clone(), format!("(virtual_key_id = {m} OR virtual_key_name = {m})")),
            (AigwScope::Key, None) => ("virtual_key_id".into(), "virtual_key_id != ''".into()),
            (AigwScope::User, Some(m)) => (m.clone(), format!("user = {m}")),
            (AigwScope::User, None) => ("user".into(), "user != ''".into()),
            (AigwScope::Team, Some(m)) => (m.clone(), format!("team = {m}")),
            (AigwScope::Team, None) => ("team".into(), "team != ''".into()),
            (AigwScope::Tag, Some(m)) => (m.clone(), format!("has(tags, {m})")),
            (AigwScope::Tag, None) => ("arrayJoin(tags)".into(), "notEmpty(tags)".into()),
            (AigwScope::Provider, Some(m)) => (m.clone(), format!("provider = {m}")),
            (AigwScope::Provider, None) => ("provider".into(), "provider != ''".into()),
            (AigwScope::Model, Some(m)) => (
                m.clone(),
                format!("(model_asked = {m} OR concat(provider, '/', model_asked) = {m} OR model_served = {m})"),
            ),
            (AigwScope::Model, None) => continue,
        };
        let (from, period) = match r.window {
            Window::Rolling(len) => {
                let bucket = Window::bucket_len(len);
                let from = now.saturating_sub(len + bucket);
                (
                    from - from % bucket,
                    format!("intDiv(toUInt64(toUnixTimestamp(ts)), {bucket}) * {bucket}"),
                )
            }
            w => {
                let (start, _) = w.period(now);
                (start, format!("toUInt64({start})"))
            }
        };
        let amount = match r.measure {
            Measure::MicroUsd => "sum(ifNull(cost_micro_usd, 0))",
            _ => "sum(input_tokens + output_tokens)",
        };
        out.push((
            i,
            format!(
                "SELECT toString({value}) AS v, {period} AS p, toUInt64({amount}) AS spent \
                 FROM ai_requests WHERE ts >= toDateTime({from}, 'UTC') AND {filter} GROUP BY v, p"
            ),
        ));
    }
    out
}

fn number(v: &Value) -> Option<u64> {
    v.as_u64()
        .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
}

/// Seeds rule `rule`'s counters with the rows its query answered; returns how many.
pub fn seed(governor: &Governor, rule: usize, rows: &[Vec<Value>], now: u64) -> usize {
    let Some(r) = governor.rules.get(rule) else {
        return 0;
    };
    let mut n = 0;
    for row in rows {
        let (Some(value), Some(period), Some(spent)) = (
            row.first().and_then(Value::as_str),
            row.get(1).and_then(number),
            row.get(2).and_then(number),
        ) else {
            continue;
        };
        let key = format!("{} {} {}:{value}", r.name, r.metric, r.scope.as_str());
        governor
            .store
            .seed(&key, r.window, r.limit, period, spent, now);
        n += 1;
    }
    n
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_aggregated_query_per_budget_rebuilds_its_counters() {
        let config: config::AigwConfig = toml::from_str(
            "[[budgets]]\nname = \"mkt\"\nscope = \"team\"\nmatch = \"it's\"\nusd = 10.0\nwindow = \"month\"\n\
             [[budgets]]\nname = \"per-user\"\nscope = \"user\"\ntokens = 100\nwindow = \"1h\"\n\
             [[limits]]\nname = \"rpm\"\nscope = \"all\"\nrequests_per_minute = 5\n",
        )
        .unwrap();
        let g = Governor::new(&config).unwrap().unwrap();
        let now = 1_764_000_000; // 2025-11-24
        let q = queries(&g, now);
        assert_eq!(q.len(), 2, "rate limits are not rebuilt");
        assert!(q[0].1.contains("team = 'it\\'s'"), "{}", q[0].1);
        assert!(
            q[0].1.contains("toDateTime(1761955200, 'UTC')"),
            "the month's start: {}",
            q[0].1
        );
        assert!(q[1].1.contains("intDiv"), "{}", q[1].1);
        let rows = vec![vec![
            Value::from("it's"),
            Value::from(1_761_955_200u64),
            Value::from(9_500_000u64),
        ]];
        assert_eq!(seed(&g, q[0].0, &rows, now), 1);
        let view = g.store.snapshot(now);
        assert_eq!(view[0].spent, 9_500_000);
        assert_eq!(view[0].key, "mkt usd team:it's");
    }
}
