//! `/api/v1`: the JSON API behind the dashboard and scripts (described in `openapi.yaml`).
//! Every call needs `Authorization: Bearer <token>`; any role may read, audited prompts only
//! the investigator, changing anything needs admin, and every change (and every prompt read)
//! is recorded with the token's name.

use bytes::Bytes;
use http::{header, Method, Request, Response, StatusCode};
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use policies::AppStatus;
use serde::Deserialize;
use serde_json::{json, Value};

use super::state::AdminState;
use super::tokens::{Principal, Role};
use crate::view::ProxyView;
use crate::ProxyBody;

const MAX_BODY: usize = 64 * 1024;

/// Answers an `/api/v1/...` request.
pub async fn handle(
    proxy: &dyn ProxyView,
    state: &AdminState,
    request: Request<Incoming>,
) -> Response<ProxyBody> {
    let principal = match super::api_auth::authenticate(proxy, state, &request) {
        Ok(p) => p,
        Err(response) => return *response,
    };
    let path = request.uri().path().trim_end_matches('/').to_string();
    let segments: Vec<&str> = path.split('/').skip(3).collect(); // "", "api", "v1"
    match (request.method().clone(), segments.as_slice()) {
        (Method::GET, ["report", "app", id]) => {
            let id = id.to_string();
            super::report_api::report(proxy, &request, "app", Some(&id)).await
        }
        (Method::GET, ["report", "errors", id]) => {
            let id = report::form::decode_path(id);
            super::report_api::report(proxy, &request, "errors", Some(&id)).await
        }
        (Method::GET, ["report", "user", name]) => {
            let name = report::form::decode_path(name);
            super::report_api::report(proxy, &request, "user", Some(&name)).await
        }
        (Method::GET, ["events", id]) => {
            let id = report::form::decode_path(id);
            super::report_api::event(proxy, &principal, &id).await
        }
        (Method::GET, ["report", name]) => {
            let name = name.to_string();
            super::report_api::report(proxy, &request, &name, None).await
        }
        (Method::POST, ["query"]) => {
            super::report_api::query(proxy, state, &principal, request).await
        }
        (Method::GET, ["query", "presets"]) => super::report_api::presets(),
        (Method::GET, ["audit"]) => {
            super::report_api::audit(proxy, &principal, request.uri().query().unwrap_or(""))
        }
        (method, ["access-requests", rest @ ..]) => {
            let query = request.uri().query().unwrap_or("");
            super::access_api::handle(proxy, &principal, &method, rest, query)
                .unwrap_or_else(|| error(StatusCode::NOT_FOUND, "no such API endpoint"))
        }
        (Method::GET, ["apps"]) => list_apps(proxy),
        (_, ["aigw", "virtual-keys" | "provider-keys", ..]) => {
            let rest: Vec<String> = segments[1..].iter().map(|s| s.to_string()).collect();
            super::keys_api::handle(proxy, &principal, request, &rest)
                .await
                .unwrap_or_else(|| error(StatusCode::NOT_FOUND, "no such API endpoint"))
        }
        (Method::GET, ["aigw", "budgets"]) => match proxy.ai_budgets() {
            Some(budgets) => ok(json!({ "budgets": budgets })),
            None => error(
                StatusCode::NOT_FOUND,
                "the AI gateway runs no budgets or limits ([[aigw.budgets]], [[aigw.limits]])",
            ),
        },
        (Method::GET, ["aigw", "explain"]) => {
            let query = report::form::parse(request.uri().query().unwrap_or(""));
            let Some(model) = query.get("model").filter(|m| !m.is_empty()) else {
                return error(
                    StatusCode::BAD_REQUEST,
                    "model is required: ?model=NAME[&key=ID]",
                );
            };
            match proxy.ai_explain(model, query.get("key").map(String::as_str)) {
                Some(Ok(explained)) => ok(explained),
                Some(Err(why)) => error(StatusCode::NOT_FOUND, &why),
                None => error(
                    StatusCode::NOT_FOUND,
                    "the AI gateway is off ([aigw] listen)",
                ),
            }
        }
        (Method::GET, ["discovered"]) => super::discovered::list(proxy, &request).await,
        (Method::GET, ["discovered", "decisions"]) => super::discovered::decisions(proxy),
        (Method::POST, ["discovered", "decisions"]) => {
            super::discovered::decide(proxy, &principal, request).await
        }
        (Method::GET, ["apps", id]) => app_detail(proxy, id),
        (Method::GET, ["apps", id, "status-history"]) => status_history(proxy, id),
        (Method::PUT, ["apps", id, "status"]) => {
            let id = id.to_string();
            if principal.role != Role::Admin {
                return error(
                    StatusCode::FORBIDDEN,
                    "changing an app's status needs the admin role",
                );
            }
            set_status(proxy, &principal, &id, request).await
        }
        _ => error(StatusCode::NOT_FOUND, "no such API endpoint"),
    }
}

fn list_apps(proxy: &dyn ProxyView) -> Response<ProxyBody> {
    let catalog = proxy.catalog();
    let book = proxy.status_book();
    let apps: Vec<Value> = catalog
        .apps()
        .iter()
        .map(|app| {
            json!({
                "id": app.id,
                "name": app.name,
                "vendor": app.vendor,
                "category": app.category.as_str(),
                "risk": app.risk,
                "status": book.status(&app.id).as_str(),
            })
        })
        .collect();
    ok(json!({ "apps": apps }))
}

fn app_detail(proxy: &dyn ProxyView, id: &str) -> Response<ProxyBody> {
    let catalog = proxy.catalog();
    let Some(app) = catalog.app(id) else {
        return error(StatusCode::NOT_FOUND, "no such app in the catalog");
    };
    let book = proxy.status_book();
    let mut value = serde_json::to_value(app).unwrap_or(Value::Null);
    if let Value::Object(map) = &mut value {
        map.insert("status".into(), json!(book.status(id).as_str()));
        if let Some(entry) = book.entry(id) {
            map.insert("status_changed_by".into(), json!(entry.changed_by));
            map.insert(
                "status_changed_at_unix_ms".into(),
                json!(entry.changed_at_unix_ms),
            );
        }
    }
    ok(value)
}

fn status_history(proxy: &dyn ProxyView, id: &str) -> Response<ProxyBody> {
    match proxy.status_changes() {
        Ok(changes) => {
            let changes: Vec<_> = changes.into_iter().filter(|c| c.app_id == id).collect();
            ok(json!({ "changes": changes }))
        }
        Err(e) => error(StatusCode::INTERNAL_SERVER_ERROR, &e.to_string()),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct StatusBody {
    status: String,
}

async fn set_status(
    proxy: &dyn ProxyView,
    principal: &Principal,
    id: &str,
    request: Request<Incoming>,
) -> Response<ProxyBody> {
    if proxy.catalog().app(id).is_none() {
        return error(StatusCode::NOT_FOUND, "no such app in the catalog");
    }
    let bytes = match Limited::new(request.into_body(), MAX_BODY).collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(_) => {
            return error(
                StatusCode::PAYLOAD_TOO_LARGE,
                "request body too large or unreadable",
            )
        }
    };
    let body: StatusBody = match serde_json::from_slice(&bytes) {
        Ok(body) => body,
        Err(e) => {
            return error(
                StatusCode::BAD_REQUEST,
                &format!("expected {{\"status\": \"...\"}}: {e}"),
            )
        }
    };
    let status: AppStatus = match body.status.parse() {
        Ok(status) => status,
        Err(e) => return error(StatusCode::BAD_REQUEST, &format!("{e}")),
    };
    let actor = format!("token:{}", principal.name);
    match proxy.set_status(id, status, &actor) {
        Ok(change) => {
            super::audit::record(
                &proxy.settings().state_dir,
                &actor,
                "set_app_status",
                &format!("{id}: {} -> {}", change.old, change.new),
            );
            ok(json!({ "change": change }))
        }
        Err(e) => error(StatusCode::INTERNAL_SERVER_ERROR, &e.to_string()),
    }
}

pub(super) fn ok(value: Value) -> Response<ProxyBody> {
    json_response(StatusCode::OK, value)
}

pub(super) fn error(status: StatusCode, message: &str) -> Response<ProxyBody> {
    json_response(
        status,
        json!({ "error": { "status": status.as_u16(), "message": message } }),
    )
}

/// A JSON body with this status.
pub(crate) fn json_response(status: StatusCode, value: Value) -> Response<ProxyBody> {
    let mut response = Response::new(
        Full::new(Bytes::from(value.to_string()))
            .map_err(|e| match e {})
            .boxed(),
    );
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static("application/json"),
    );
    response
}

/// The token of an `Authorization: Bearer TOKEN` header value.
pub(super) fn bearer_token(header: &str) -> Option<&str> {
    let (scheme, token) = header.trim().split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}
