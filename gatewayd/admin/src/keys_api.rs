//! `/api/v1/aigw/virtual-keys` and `/api/v1/aigw/provider-keys`: the AI gateway's keys over
//! the API, for the key_admin and admin roles only (any other token is a 403). The same
//! [`AiKeys`] the dashboard's pages and the command line use does the work, so validation
//! and the admin audit trail (actor `token:NAME`) are theirs.
//!
//! - `GET virtual-keys` lists them (never a secret or a hash); `POST virtual-keys`
//!   (`{"name", "user", "team"?, "models"?, "expires"?}`) creates one and answers its secret,
//!   once; `POST virtual-keys/{id}/revoke` revokes it.
//! - `GET provider-keys` lists them (name, provider, fingerprint, dates — never the value);
//!   `POST provider-keys` (`{"name", "provider", "value"}`) adds one; `POST
//!   provider-keys/{name}/rotate` (`{"value", "grace"?}`) replaces its value; `DELETE
//!   provider-keys/{name}` deletes it (a 409 naming them while configured providers use it,
//!   unless `?force=true`).
//!
//! It must never: answer a provider key's value (the rows have none, and no answer echoes
//! the request), or keep a new virtual key's secret past the answer that creates it.

use std::time::Duration;

use http::{Method, Request, Response, StatusCode};
use http_body_util::{BodyExt, Limited};
use hyper::body::Incoming;
use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::json;

use super::ai_keys::{AiKeys, KeyFault, NewVirtualKey};
use super::api::{error, json_response, ok};
use super::tokens::Principal;
use crate::view::ProxyView;
use crate::ProxyBody;

const MAX_BODY: usize = 64 * 1024;
/// How long a rotated provider key's old value stays usable unless `grace` says otherwise.
const DEFAULT_GRACE: Duration = Duration::from_secs(24 * 3600);

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CreateVirtualKey {
    name: String,
    user: String,
    #[serde(default)]
    team: Option<String>,
    /// Empty or absent: every configured model.
    #[serde(default)]
    models: Vec<String>,
    /// A span (`30d`, `12h`); absent: valid until revoked.
    #[serde(default)]
    expires: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AddProviderKey {
    name: String,
    provider: String,
    value: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RotateProviderKey {
    value: String,
    /// A span (`24h`, `0s`); absent: 24 hours.
    #[serde(default)]
    grace: Option<String>,
}

/// Answers `segments` (after `/api/v1/aigw`) naming keys, or `None` when they name nothing
/// here.
pub async fn handle(
    proxy: &dyn ProxyView,
    principal: &Principal,
    request: Request<Incoming>,
    segments: &[String],
) -> Option<Response<ProxyBody>> {
    let segments: Vec<&str> = segments.iter().map(String::as_str).collect();
    if !matches!(
        segments.first(),
        Some(&"virtual-keys") | Some(&"provider-keys")
    ) {
        return None;
    }
    if !principal.role.manages_keys() {
        return Some(error(
            StatusCode::FORBIDDEN,
            "managing the AI gateway's keys needs the key_admin or admin role",
        ));
    }
    let Some(keys) = proxy.ai_keys() else {
        return Some(error(
            StatusCode::NOT_FOUND,
            "this gateway does not manage AI gateway keys",
        ));
    };
    let actor = format!("token:{}", principal.name);
    let method = request.method().clone();
    let answer = match (&method, segments.as_slice()) {
        (&Method::GET, ["virtual-keys"]) => keys
            .virtual_keys()
            .map(|rows| ok(json!({ "virtual_keys": rows }))),
        (&Method::POST, ["virtual-keys"]) => match body::<CreateVirtualKey>(request).await {
            Ok(new) => create(keys, new, &actor),
            Err((status, why)) => return Some(error(status, &why)),
        },
        (&Method::POST, ["virtual-keys", id, "revoke"]) => {
            let id = report::form::decode_path(id);
            keys.revoke_virtual_key(&id, &actor)
                .map(|name| ok(json!({ "revoked": { "id": id, "name": name } })))
        }
        (&Method::GET, ["provider-keys"]) => keys
            .provider_keys()
            .map(|rows| ok(json!({ "provider_keys": rows }))),
        (&Method::POST, ["provider-keys"]) => match body::<AddProviderKey>(request).await {
            Ok(add) => keys
                .add_provider_key(&add.name, &add.provider, add.value.trim(), &actor)
                .map(|row| json_response(StatusCode::CREATED, json!({ "provider_key": row }))),
            Err((status, why)) => return Some(error(status, &why)),
        },
        (&Method::POST, ["provider-keys", name, "rotate"]) => {
            let name = report::form::decode_path(name);
            let rotate = match body::<RotateProviderKey>(request).await {
                Ok(rotate) => rotate,
                Err((status, why)) => return Some(error(status, &why)),
            };
            let grace = match rotate.grace.as_deref().map(str::trim) {
                None | Some("") => Ok(DEFAULT_GRACE),
                Some("0" | "0s") => Ok(Duration::ZERO),
                Some(span) => span_of(span, "grace"),
            };
            grace.and_then(|grace| {
                keys.rotate_provider_key(&name, rotate.value.trim(), grace, &actor)
                    .map(|row| ok(json!({ "provider_key": row })))
            })
        }
        (&Method::DELETE, ["provider-keys", name]) => {
            let name = report::form::decode_path(name);
            // A key configured providers call with: deleting it is an outage that cannot
            // be undone, so it takes `?force=true` (as `gatewayd keys delete --force`).
            let users = keys.providers_using_key(&name);
            let forced = request
                .uri()
                .query()
                .is_some_and(|q| q.split('&').any(|p| p == "force=true"));
            if !users.is_empty() && !forced {
                return Some(error(
                    StatusCode::CONFLICT,
                    &format!(
                        "provider key {name:?} is used by the AI gateway's providers {}: \
                         deleting it stops their calls at once; add ?force=true to delete it \
                         anyway",
                        users.join(", ")
                    ),
                ));
            }
            keys.delete_provider_key(&name, &actor)
                .map(|()| ok(json!({ "deleted": name })))
        }
        _ => return Some(error(StatusCode::NOT_FOUND, "no such API endpoint")),
    };
    Some(answer.unwrap_or_else(|fault| error(status_of(&fault), &fault.to_string())))
}

fn create(
    keys: &dyn AiKeys,
    new: CreateVirtualKey,
    actor: &str,
) -> Result<Response<ProxyBody>, KeyFault> {
    let ttl = match new.expires.as_deref().map(str::trim) {
        None | Some("" | "never") => None,
        Some(span) => Some(
            report::filter::parse_span(span)
                .map_err(|e| KeyFault::Input(format!("expires: {e}")))?
                .unsigned_abs(),
        ),
    };
    let new = NewVirtualKey {
        name: new.name.trim().to_string(),
        user: new.user.trim().to_string(),
        team: new
            .team
            .map(|t| t.trim().to_string())
            .filter(|t| !t.is_empty()),
        models: new
            .models
            .into_iter()
            .map(|m| m.trim().to_string())
            .filter(|m| !m.is_empty())
            .collect(),
        ttl: ttl.map(Duration::from_secs),
    };
    let created = keys.create_virtual_key(&new, actor)?;
    Ok(json_response(
        StatusCode::CREATED,
        json!({
            "id": created.id,
            "name": new.name,
            "user": new.user,
            // Shown this once: only its hash is kept.
            "secret": created.secret,
        }),
    ))
}

fn status_of(fault: &KeyFault) -> StatusCode {
    match fault {
        KeyFault::Input(_) => StatusCode::BAD_REQUEST,
        KeyFault::NotFound(_) => StatusCode::NOT_FOUND,
        KeyFault::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

fn span_of(span: &str, field: &str) -> Result<Duration, KeyFault> {
    report::filter::parse_span(span)
        .map(|s| Duration::from_secs(s.unsigned_abs()))
        .map_err(|e| KeyFault::Input(format!("{field}: {e}")))
}

/// The request's JSON body as `T`, or the 4xx that says why not. Its text is never echoed:
/// it may hold a key's value.
async fn body<T: DeserializeOwned>(request: Request<Incoming>) -> Result<T, (StatusCode, String)> {
    let json = request
        .headers()
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim_start().starts_with("application/json"));
    if !json {
        return Err((
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "the body must be application/json".into(),
        ));
    }
    let bytes = match Limited::new(request.into_body(), MAX_BODY).collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(_) => {
            return Err((
                StatusCode::PAYLOAD_TOO_LARGE,
                "request body too large or unreadable".into(),
            ))
        }
    };
    serde_json::from_slice(&bytes).map_err(|e| {
        // serde names a missing or unknown field by name; its other messages can quote a
        // value (a key pasted in the wrong field), so they are not passed on.
        let text = e.to_string();
        let text = text.split(" at line").next().unwrap_or("");
        let why = if text.starts_with("missing field") || text.starts_with("unknown field") {
            text.to_string()
        } else {
            format!(
                "invalid JSON or a field of the wrong type (line {}, column {})",
                e.line(),
                e.column()
            )
        };
        (
            StatusCode::BAD_REQUEST,
            format!("the body is not what this endpoint takes: {why}"),
        )
    })
}
