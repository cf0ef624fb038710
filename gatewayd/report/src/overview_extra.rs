//! The overview's second half: what was let through, warned, blocked or failed; who uses AI most;
//! what DLP finds most; and the riskiest apps nobody has sanctioned — in place of three
//! near-identical top-app tables. Built from the same filter as the overview's totals.
//!
//! It never reads `audit_prompt`, and its lists are short (`TOP` rows).

use serde_json::{json, Value};

use super::filter::ReportFilter;
use super::source::{AppScope, Source};
use super::{fetch, number, ReportError, ReportInputs};

/// Rows in each list.
const TOP: usize = 10;

/// Allowed, warned, blocked and failed requests (each request is exactly one of them).
pub(crate) fn outcomes(totals: &Value, warned: u64) -> Value {
    let requests = number(&totals["requests"]);
    let blocked = number(&totals["blocked"]);
    let errors = number(&totals["errors"]);
    json!({
        "allowed": requests
            .saturating_sub(blocked)
            .saturating_sub(errors)
            .saturating_sub(warned),
        "warned": warned,
        "blocked": blocked,
        "errors": errors,
    })
}

/// Warning pages shown (`action = 'warn'`): the user's own outcome, neither allowed nor
/// blocked (what they did next is a `continue`). The rollups keep no outcome but `blocked`,
/// so this counts the raw events over the report's range and filters.
pub(crate) async fn warned(
    inputs: ReportInputs<'_>,
    filter: &ReportFilter,
    scope: &AppScope,
) -> Result<u64, ReportError> {
    let sql = format!(
        "SELECT count() AS warned FROM http_events WHERE {} AND action = 'warn'",
        Source::Raw.where_clause(filter, scope)
    );
    let rows = fetch(inputs, &sql).await?.objects();
    Ok(rows.first().map_or(0, |row| number(&row["warned"])))
}

/// The users with the most requests.
pub(crate) async fn top_users(
    inputs: ReportInputs<'_>,
    filter: &ReportFilter,
) -> Result<Vec<Value>, ReportError> {
    let mut top = filter.clone();
    top.page.limit = TOP;
    top.page.offset = 0;
    top.sort = None;
    top.descending = None;
    let users = super::people::users(inputs, &top).await?;
    Ok(users.json["users"].as_array().cloned().unwrap_or_default())
}

/// The detectors with the most findings.
pub(crate) async fn top_dlp(
    inputs: ReportInputs<'_>,
    filter: &ReportFilter,
    scope: &AppScope,
) -> Result<Vec<Value>, ReportError> {
    let sql = super::dlp::by_detector_sql(filter, &scope.clause());
    let mut rows = fetch(inputs, &sql).await?.objects();
    rows.truncate(TOP);
    Ok(rows)
}

/// Apps in use that are not approved (unapproved, in review, unreviewed or discovered), the
/// riskiest first (unknown risk last), then by requests.
pub(crate) fn riskiest_unsanctioned(apps: &[Value]) -> Vec<Value> {
    let mut unsanctioned: Vec<&Value> = apps
        .iter()
        .filter(|a| a["status"].as_str() != Some("approved"))
        .collect();
    unsanctioned.sort_by(|a, b| {
        let risk = |v: &Value| v["risk"].as_u64().map_or(0, |r| r + 1);
        risk(b)
            .cmp(&risk(a))
            .then_with(|| number(&b["requests"]).cmp(&number(&a["requests"])))
            .then_with(|| a["app_id"].as_str().cmp(&b["app_id"].as_str()))
    });
    unsanctioned.into_iter().take(TOP).cloned().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outcomes_add_up_and_risk_orders_the_unsanctioned() {
        let totals = json!({"requests": 10, "blocked": 3, "errors": 2});
        assert_eq!(
            outcomes(&totals, 1),
            json!({"allowed": 4, "warned": 1, "blocked": 3, "errors": 2})
        );
        let apps = vec![
            json!({"app_id": "a", "status": "approved", "risk": 5, "requests": 9}),
            json!({"app_id": "b", "status": "in_review", "risk": 2, "requests": 9}),
            json!({"app_id": "c", "status": "unapproved", "risk": 4, "requests": 1}),
            json!({"app_id": "d", "status": "in_review", "risk": null, "requests": 50}),
        ];
        let ids: Vec<String> = riskiest_unsanctioned(&apps)
            .iter()
            .map(|a| a["app_id"].as_str().unwrap().to_string())
            .collect();
        assert_eq!(ids, ["c", "b", "d"]);
    }
}
