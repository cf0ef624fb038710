//! One call to the AI gateway by its request id (`x-warden-request-id`), from `ai_requests`:
//! who called with which key, the model asked and the one that answered, the route with its
//! attempts, fallbacks and each failed attempt, the status, tokens, cost and latency, and
//! what DLP found (detector ids only). The `/ai` page's request ids link here.
//!
//! Never: select a prompt or an answer (the table holds none); the id reaches SQL only
//! through `sql::quote` (in `event::where_id`).

use serde_json::json;

use super::event::{check_id, where_id};
use super::fetch as table;
use super::table::Table;
use super::{Report, ReportError, ReportInputs};

/// The call's columns, in the order the page shows them.
const COLUMNS: &str = "toString(ts) AS time, request_id, user, team, \
    if(virtual_key_name = '', virtual_key_id, virtual_key_name) AS key, virtual_key_id, \
    ingress, endpoint, provider, model_asked, model_served, route, deployment, attempts, \
    fallbacks, attempt_errors, stream, status, error, input_tokens, output_tokens, \
    cached_tokens, reasoning_tokens, usage_reported, usage_flags, cost_micro_usd, cost_status, \
    latency_ms, ttft_ms, dlp_action, dlp_detectors";

/// AI gateway call `id`.
pub async fn ai_call(inputs: ReportInputs<'_>, id: &str) -> Result<Report, ReportError> {
    check_id(id)?;
    let sql = format!(
        "SELECT {COLUMNS} FROM ai_requests WHERE {} ORDER BY ts LIMIT 1",
        where_id(id)
    );
    let found = table(inputs, &sql).await?;
    let Some(call) = found.objects().into_iter().next() else {
        return Err(ReportError::NotFound(format!(
            "no AI gateway call with request id {:?} (calls are kept for retention.raw_days)",
            id.chars().take(64).collect::<String>()
        )));
    };
    let table = Table::from_objects(
        &["request_id", "user", "status"],
        std::slice::from_ref(&call),
    );
    Ok(Report {
        json: json!({"report": "ai-call", "call": call}),
        table,
    })
}
