//! `/api/v1/access-requests`: employees' requests for apps, for any role to read and the
//! admin role to approve (the app becomes `approved`) or deny (see [`crate::access`]).

use http::{Method, Response, StatusCode};
use policies::access::AccessState;
use serde_json::json;

use super::api::{error, ok};
use super::tokens::{Principal, Role};
use crate::view::ProxyView;
use crate::ProxyBody;

/// Answers `segments` (after `/api/v1/access-requests`), or `None` when they name nothing here.
pub fn handle(
    proxy: &dyn ProxyView,
    principal: &Principal,
    method: &Method,
    segments: &[&str],
    query: &str,
) -> Option<Response<ProxyBody>> {
    match (method, segments) {
        (&Method::GET, []) => Some(list(proxy, query)),
        (&Method::POST, [id, verb @ ("approve" | "deny")]) => {
            if principal.role != Role::Admin {
                return Some(error(
                    StatusCode::FORBIDDEN,
                    "deciding access requests needs the admin role",
                ));
            }
            let actor = format!("token:{}", principal.name);
            Some(
                match crate::access::decide(proxy, id, *verb == "approve", &actor) {
                    Ok(done) => ok(json!({ "request": done.request, "change": done.change })),
                    Err(e) => {
                        let text = e.to_string();
                        let status = if text.starts_with("no access request") {
                            StatusCode::NOT_FOUND
                        } else {
                            StatusCode::CONFLICT
                        };
                        error(status, &text)
                    }
                },
            )
        }
        _ => None,
    }
}

fn list(proxy: &dyn ProxyView, query: &str) -> Response<ProxyBody> {
    let state = match report::form::parse(query).get("state").map(String::as_str) {
        None | Some("") | Some("all") => None,
        Some("open") => Some(AccessState::Open),
        Some("approved") => Some(AccessState::Approved),
        Some("denied") => Some(AccessState::Denied),
        Some(_) => {
            return error(
                StatusCode::BAD_REQUEST,
                "state must be open, approved, denied or all",
            )
        }
    };
    ok(json!({ "requests": crate::access::listed(proxy, state) }))
}
