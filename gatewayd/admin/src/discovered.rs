//! Discovered hosts for triage, and the decisions about them, over the API (the dashboard's
//! page reads the same rows): `GET /api/v1/discovered` (each undecided host with its
//! evidence, first and last seen, and from the events its users and bytes),
//! `GET /api/v1/discovered/decisions`, and `POST /api/v1/discovered/decisions` (admin only:
//! make a host a catalog app, block it, or mark it not AI).
//!
//! Hosts marked "not AI" or made catalog apps are no longer listed as discovered. Usage comes
//! from ClickHouse and is best effort: when it cannot be read the list still answers, with the
//! reason, because triage must not depend on the events database being up.

use std::collections::{BTreeMap, HashSet};

use http::{Request, Response, StatusCode};
use http_body_util::{BodyExt, Limited};
use hyper::body::Incoming;
use policies::discovery::decision::{DecisionFault, DecisionRequest};
use policies::discovery::DiscoveredApp;
use report::discovered::HostUsage;
use report::filter::TimeRange;
use report::{form, ClickHouseHttp, ReportFilter, ReportInputs};
use serde_json::{json, Value};

use super::api::{error, ok};
use super::report_api::{csv, now_unix};
use super::tokens::{Principal, Role};
use crate::view::ProxyView;
use crate::ProxyBody;

/// The largest decision body read.
const MAX_DECISION_BODY: usize = 4 * 1024;

/// One discovered host as listed: the daemon's record and, when the events could be read,
/// its usage in the range.
pub struct Row {
    pub app: DiscoveredApp,
    pub usage: Option<HostUsage>,
}

/// Undecided hosts seen in `range`, most requests first, and why usage is missing (if it is).
pub async fn rows(proxy: &dyn ProxyView, range: TimeRange) -> (Vec<Row>, Option<String>) {
    let decided: HashSet<String> = proxy.decisions().into_iter().map(|d| d.host).collect();
    let (from_ms, to_ms) = (
        u64::try_from(range.from).unwrap_or(0) * 1000,
        u64::try_from(range.to).unwrap_or(0) * 1000,
    );
    let mut seen: Vec<DiscoveredApp> = proxy
        .discovered()
        .into_iter()
        .filter(|d| !decided.contains(&d.host))
        .filter(|d| d.last_seen_unix_ms >= from_ms && d.first_seen_unix_ms < to_ms)
        .collect();
    seen.sort_by(|a, b| {
        b.requests
            .cmp(&a.requests)
            .then_with(|| a.host.cmp(&b.host))
    });
    let (usage, problem) = if seen.is_empty() {
        (BTreeMap::new(), None)
    } else {
        let catalog = proxy.catalog();
        let book = proxy.status_book();
        let clickhouse = ClickHouseHttp::reader(&proxy.settings().clickhouse);
        let inputs = ReportInputs {
            clickhouse: &clickhouse,
            catalog: &catalog,
            statuses: &book,
        };
        match report::discovered::usage(inputs, range).await {
            Ok(usage) => (usage, None),
            Err(e) => {
                tracing::warn!(error = %e, "discovered hosts' usage unavailable");
                (
                    BTreeMap::new(),
                    Some(format!("users and bytes unavailable: {e}")),
                )
            }
        }
    };
    let known = problem.is_none();
    let rows = seen
        .into_iter()
        .map(|app| {
            let usage = known.then(|| usage.get(&app.host).cloned().unwrap_or_default());
            Row { app, usage }
        })
        .collect();
    (rows, problem)
}

fn row_json(row: &Row) -> Value {
    let mut value = serde_json::to_value(&row.app).unwrap_or_default();
    if let Value::Object(map) = &mut value {
        let usage = row.usage.as_ref();
        map.insert("users".into(), json!(usage.map(|u| u.users)));
        map.insert("bytes_up".into(), json!(usage.map(|u| u.bytes_up)));
        map.insert("bytes_down".into(), json!(usage.map(|u| u.bytes_down)));
    }
    value
}

/// `GET /api/v1/discovered?since=...&limit=...&offset=...[&format=csv]`.
pub async fn list(proxy: &dyn ProxyView, request: &Request<Incoming>) -> Response<ProxyBody> {
    let pairs = form::parse(request.uri().query().unwrap_or(""));
    let filter = match ReportFilter::from_pairs(&pairs, now_unix(), 400 * 86_400, &["format"]) {
        Ok(filter) => filter,
        Err(e) => return error(StatusCode::BAD_REQUEST, &e.to_string()),
    };
    if filter.has_who() || filter.has_app_filter() {
        return error(
            StatusCode::BAD_REQUEST,
            "discovered apps filter by time range only (they have no catalog category or status)",
        );
    }
    let (all, problem) = rows(proxy, filter.range).await;
    let total = all.len();
    let shown: Vec<Value> = all
        .iter()
        .skip(filter.page.offset)
        .take(filter.page.limit)
        .map(row_json)
        .collect();
    if pairs.get("format").map(String::as_str) == Some("csv") {
        let table = report::Table::from_objects(
            &[
                "host",
                "requests",
                "users",
                "bytes_up",
                "bytes_down",
                "confidence",
                "evidence",
                "first_seen_unix_ms",
                "last_seen_unix_ms",
                "status",
            ],
            &shown,
        );
        return csv(&table.to_csv(), "discovered");
    }
    ok(json!({
        "total": total,
        "limit": filter.page.limit,
        "offset": filter.page.offset,
        "discovered": shown,
        "usage_error": problem,
    }))
}

/// `GET /api/v1/discovered/decisions`.
pub fn decisions(proxy: &dyn ProxyView) -> Response<ProxyBody> {
    ok(json!({ "decisions": proxy.decisions() }))
}

/// `POST /api/v1/discovered/decisions`: `{"host", "action": "catalog"|"block"|"not_ai",
/// "name"?, "category"?, "status"?, "app_id"?}`, admin only.
pub async fn decide(
    proxy: &dyn ProxyView,
    principal: &Principal,
    request: Request<Incoming>,
) -> Response<ProxyBody> {
    if principal.role != Role::Admin {
        return error(
            StatusCode::FORBIDDEN,
            "deciding about a discovered host needs the admin role",
        );
    }
    let bytes = match Limited::new(request.into_body(), MAX_DECISION_BODY)
        .collect()
        .await
    {
        Ok(collected) => collected.to_bytes(),
        Err(_) => {
            return error(
                StatusCode::PAYLOAD_TOO_LARGE,
                "a decision is at most 4 KiB of JSON",
            )
        }
    };
    let wanted: DecisionRequest = match serde_json::from_slice(&bytes) {
        Ok(wanted) => wanted,
        Err(e) => {
            return error(
                StatusCode::BAD_REQUEST,
                &format!(
                    "expected {{\"host\": \"...\", \"action\": \"catalog|block|not_ai\", \
                     \"name\"?, \"category\"?, \"status\"?, \"app_id\"?}}: {e}"
                ),
            )
        }
    };
    let actor = format!("token:{}", principal.name);
    answer(proxy, &actor, &wanted)
}

/// Takes the decision for `actor` and records it in the audit trail; the answer the API
/// gives (the dashboard renders the same outcome as a page).
pub fn answer(proxy: &dyn ProxyView, actor: &str, wanted: &DecisionRequest) -> Response<ProxyBody> {
    match take(proxy, actor, wanted) {
        Ok(value) => ok(value),
        Err((status, message)) => error(status, &message),
    }
}

/// The decision taken (as JSON), or the HTTP status and message of why not.
pub fn take(
    proxy: &dyn ProxyView,
    actor: &str,
    wanted: &DecisionRequest,
) -> Result<Value, (StatusCode, String)> {
    match proxy.decide_discovered(wanted, actor) {
        Ok(decided) => {
            let d = &decided.decision;
            let detail = match (&d.app_id, &decided.status_change) {
                (Some(id), Some(change)) => format!(
                    "{}: {} as app {id} ({} -> {})",
                    d.host, wanted.action, change.old, change.new
                ),
                _ => format!("{}: {}", d.host, wanted.action),
            };
            super::audit::record(
                &proxy.settings().state_dir,
                actor,
                "decide_discovered",
                &detail,
            );
            Ok(json!({ "decision": decided.decision, "status_change": decided.status_change }))
        }
        Err((fault, message)) => {
            let status = match fault {
                DecisionFault::Invalid => StatusCode::BAD_REQUEST,
                DecisionFault::Conflict => StatusCode::CONFLICT,
                DecisionFault::Internal => StatusCode::INTERNAL_SERVER_ERROR,
            };
            Err((status, message))
        }
    }
}
