//! `/ai/keys`: the AI gateway's virtual keys — the list (never a secret or a hash), a form
//! that creates one and shows its secret once, in the answer to that form only, and a
//! Revoke button per key. Only the key_admin and admin roles see or post these pages; the
//! session, its CSRF token and the same-origin check come first (`dashboard::post`). Every
//! change runs the command line's code and is in the admin audit trail.
//!
//! It must never: put a secret anywhere but the one answer that creates it (not in a
//! redirect, a link, a log line or the list).

use std::collections::BTreeMap;
use std::fmt::Write;
use std::time::Duration;

use http::StatusCode;

use super::html::escape;
use super::pages::Page;
use super::session::Session;
use crate::ai_keys::{AiKeys, KeyFault, NewVirtualKey};
use crate::view::ProxyView;
use report::form;

/// What a key page's form post led to.
pub enum Posted {
    /// A page to show (title, body).
    Page(&'static str, String),
    /// Where to go next.
    Redirect(String),
}

/// The key manager, for a session whose role may use it.
pub fn manager<'a>(
    proxy: &'a dyn ProxyView,
    session: &Session,
) -> Result<&'a dyn AiKeys, (StatusCode, String)> {
    if !session.principal.role.manages_keys() {
        return Err((
            StatusCode::FORBIDDEN,
            "Managing the AI gateway's keys needs the key_admin or admin role.".into(),
        ));
    }
    proxy.ai_keys().ok_or_else(|| {
        (
            StatusCode::NOT_FOUND,
            "This gateway does not manage AI gateway keys.".into(),
        )
    })
}

/// The status a fault is answered with.
pub fn status_of(fault: &KeyFault) -> StatusCode {
    match fault {
        KeyFault::Input(_) => StatusCode::BAD_REQUEST,
        KeyFault::NotFound(_) => StatusCode::NOT_FOUND,
        KeyFault::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

pub fn failed(fault: KeyFault) -> (StatusCode, String) {
    (status_of(&fault), fault.to_string())
}

/// Unix milliseconds as the pages show them.
pub fn time_ms(ms: u64) -> String {
    report::filter::format_utc(i64::try_from(ms / 1000).unwrap_or(i64::MAX))
}

/// The page body.
pub fn page(proxy: &dyn ProxyView, session: &Session) -> Page {
    let keys = manager(proxy, session)?;
    let listed = keys.virtual_keys().map_err(failed)?;
    let csrf = escape(&session.csrf);
    let mut body = String::from(
        "<p>Virtual keys are what callers present to the AI gateway (<code>Authorization: \
         Bearer wvk_…</code>). A key is shown once, when it is created; only its hash is \
         kept. A revoked key is refused from the gateway's next call. \
         <a href=\"/ai/provider-keys\">Provider keys</a> · <a href=\"/ai\">Spend</a></p>",
    );
    let _ = write!(
        body,
        "<h2>Create a virtual key</h2>\
         <form method=\"post\" action=\"/ai/keys/create\" id=\"create-key\" class=\"filters\">\
         <input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\
         <label>Name <input name=\"name\" id=\"key-name\" required size=\"14\"></label>\
         <label>User <input name=\"user\" id=\"key-user\" required size=\"12\"></label>\
         <label>Team <input name=\"team\" id=\"key-team\" size=\"10\"></label>\
         <label>Models <input name=\"models\" id=\"key-models\" placeholder=\"all\" size=\"18\"></label>\
         <label>Expires after <input name=\"expires\" id=\"key-expires\" placeholder=\"never\" size=\"6\"></label>\
         <button type=\"submit\" id=\"create\">Create</button></form>"
    );
    body.push_str("<h2>Keys</h2>");
    if listed.is_empty() {
        body.push_str("<p class=\"empty\" id=\"no-keys\">No virtual keys yet.</p>");
        return Ok(body);
    }
    body.push_str(
        "<table id=\"virtual-keys\"><thead><tr><th>Id</th><th>Name</th><th>User</th>\
         <th>Team</th><th>Models</th><th>Created</th><th>Expires</th><th></th></tr></thead><tbody>",
    );
    for k in &listed {
        let expires = match k.expires_unix_ms {
            None => "never".to_string(),
            Some(_) if k.expired => "expired".to_string(),
            Some(at) => time_ms(at),
        };
        let models = if k.models.is_empty() {
            "all".to_string()
        } else {
            k.models.join(", ")
        };
        let _ = write!(
            body,
            "<tr id=\"vkey-{id}\"><td><code>{id}</code></td><td>{name}</td><td>{user}</td>\
             <td>{team}</td><td>{models}</td><td>{created}</td><td>{expires}</td><td>\
             <form method=\"post\" action=\"/ai/keys/{id_path}/revoke\" class=\"inline\">\
             <input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\
             <button type=\"submit\" id=\"revoke-{id}\">Revoke</button></form></td></tr>",
            id = escape(&k.id),
            id_path = form::encode(&k.id),
            name = escape(&k.name),
            user = escape(&k.user),
            team = escape(k.team.as_deref().unwrap_or("—")),
            models = escape(&models),
            created = escape(&time_ms(k.created_unix_ms)),
            expires = escape(&expires),
        );
    }
    body.push_str("</tbody></table>");
    Ok(body)
}

/// A form posted to `/ai/keys/...` (`rest` is the path after `/ai/keys`).
pub fn post(
    proxy: &dyn ProxyView,
    session: &Session,
    rest: &[&str],
    fields: &BTreeMap<String, String>,
    actor: &str,
) -> Result<Posted, (StatusCode, String)> {
    let keys = manager(proxy, session)?;
    match rest {
        ["create"] => create(keys, fields, actor),
        [id, "revoke"] => {
            let id = form::decode_path(id);
            keys.revoke_virtual_key(&id, actor).map_err(failed)?;
            Ok(Posted::Redirect("/ai/keys".into()))
        }
        _ => Err((StatusCode::NOT_FOUND, "There is no such form.".into())),
    }
}

fn create(
    keys: &dyn AiKeys,
    fields: &BTreeMap<String, String>,
    actor: &str,
) -> Result<Posted, (StatusCode, String)> {
    let text = |name: &str| fields.get(name).map_or("", |v| v.trim()).to_string();
    let ttl = match text("expires").as_str() {
        "" | "never" => None,
        span => Some(Duration::from_secs(
            report::filter::parse_span(span)
                .map_err(|e| (StatusCode::BAD_REQUEST, format!("Expires after: {e}")))?
                .unsigned_abs(),
        )),
    };
    let team = Some(text("team")).filter(|t| !t.is_empty());
    let new = NewVirtualKey {
        name: text("name"),
        user: text("user"),
        team,
        models: text("models")
            .split(',')
            .map(str::trim)
            .filter(|m| !m.is_empty())
            .map(str::to_string)
            .collect(),
        ttl,
    };
    let created = keys.create_virtual_key(&new, actor).map_err(failed)?;
    let body = format!(
        "<p class=\"notice\" id=\"created\">Virtual key <strong>{name}</strong> (id \
         <code>{id}</code>) created for {user}.</p>\
         <p>Copy it now: it is shown only this once, and nobody can show it again.</p>\
         <pre id=\"new-key\">{secret}</pre>\
         <p><a href=\"/ai/keys\" id=\"back\">Back to the virtual keys</a></p>",
        name = escape(&new.name),
        id = escape(&created.id),
        user = escape(&new.user),
        secret = escape(&created.secret),
    );
    Ok(Posted::Page("Virtual key created", body))
}
