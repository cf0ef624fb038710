//! Approval changes from the dashboard: a change that starts blocking an app asks first (a
//! page that says what will be blocked, with Confirm and Cancel), and every change made is
//! confirmed afterwards by a notice built from the recorded change itself.
//!
//! The question is UX, never the control: whether a change starts blocking is worked out here
//! from the policy in force and the current status, not from anything the form says, and a
//! confirmation made for another starting status is asked again. Who may change a status is
//! checked before any of this (admin role, CSRF, same origin).

use std::collections::BTreeMap;
use std::fmt::Write;

use http::StatusCode;
use policies::AppStatus;
use report::form;

use super::html::{self, escape};
use super::session::Session;
use crate::view::ProxyView;

/// What to do with a status form post.
pub enum StatusStep {
    /// Ask first: the page to show.
    Ask(String),
    /// Nothing to change (the app already has that status).
    Unchanged,
    /// Go ahead.
    Apply,
}

/// Whether `new` starts blocking `app_id`, which has `old` now, under the policy in force.
pub fn starts_blocking(
    proxy: &dyn ProxyView,
    app_id: &str,
    old: AppStatus,
    new: AppStatus,
) -> bool {
    proxy.status_blocks(app_id, new) && !proxy.status_blocks(app_id, old)
}

/// Decides the step for a status post. `fields` are the form's; a confirmation counts only
/// when it was given for the status the app has now.
pub fn status_step(
    proxy: &dyn ProxyView,
    session: &Session,
    app_id: &str,
    new: AppStatus,
    fields: &BTreeMap<String, String>,
    back: &str,
) -> StatusStep {
    let old = proxy.status_book().status(app_id);
    if old == new {
        return StatusStep::Unchanged;
    }
    let confirmed = fields.get("confirm").map(String::as_str) == Some("yes")
        && fields.get("from").map(String::as_str) == Some(old.as_str());
    if confirmed || !starts_blocking(proxy, app_id, old, new) {
        return StatusStep::Apply;
    }
    let name = proxy
        .catalog()
        .app(app_id)
        .map_or_else(|| app_id.to_string(), |a| a.name.clone());
    let mut hidden = BTreeMap::new();
    hidden.insert("status", new.as_str().to_string());
    hidden.insert("from", old.as_str().to_string());
    hidden.insert("return", back.to_string());
    let question = format!(
        "Changing <strong>{}</strong> from {} to {} blocks every request to it under the policy \
         in force, for everyone, from the next request.",
        escape(&name),
        html::status(old.as_str()),
        html::status(new.as_str()),
    );
    StatusStep::Ask(ask_page(
        session,
        &format!("/apps/{}/status", form::encode(app_id)),
        &question,
        &format!("Block {name}"),
        &hidden,
        back,
    ))
}

/// A page that asks before a blocking change: the question, a form that repeats the post
/// with `confirm=yes`, and a way back that changes nothing.
pub fn ask_page(
    session: &Session,
    action: &str,
    question: &str,
    confirm_label: &str,
    hidden: &BTreeMap<&str, String>,
    back: &str,
) -> String {
    let mut out = format!(
        "<div class=\"confirm\" id=\"confirm\"><p>{question}</p>\
         <form method=\"post\" action=\"{}\" class=\"inline\">\
         <input type=\"hidden\" name=\"csrf\" value=\"{}\">\
         <input type=\"hidden\" name=\"confirm\" value=\"yes\">",
        escape(action),
        escape(&session.csrf),
    );
    for (name, value) in hidden {
        let _ = write!(
            out,
            "<input type=\"hidden\" name=\"{}\" value=\"{}\">",
            escape(name),
            escape(value)
        );
    }
    let _ = write!(
        out,
        "<button type=\"submit\" id=\"confirm-yes\" class=\"danger\">{}</button></form> \
         <a href=\"{}\" id=\"confirm-no\">Cancel</a></div>",
        escape(confirm_label),
        escape(safe_back(back, "/")),
    );
    out
}

/// A local path to go back to; anything else (another site, `//host`) is replaced.
pub fn safe_back<'a>(back: &'a str, fallback: &'a str) -> &'a str {
    if back.starts_with('/') && !back.starts_with("//") && !back.contains('\\') {
        back
    } else {
        fallback
    }
}

/// `back` with `name=value` added to its query.
pub fn with_param(back: &str, name: &str, value: &str) -> String {
    let sep = if back.contains('?') { '&' } else { '?' };
    format!("{back}{sep}{name}={}", form::encode(value))
}

/// The notice after a change: for `?changed=APP`, the app's last recorded change, read from
/// the status history (never from the URL's text, so a crafted link cannot put words on the
/// page).
pub fn notice(proxy: &dyn ProxyView, pairs: &BTreeMap<String, String>) -> String {
    let Some(app_id) = pairs.get("changed") else {
        return String::new();
    };
    let Ok(changes) = proxy.status_changes() else {
        return String::new();
    };
    let Some(change) = changes.iter().rev().find(|c| &c.app_id == app_id) else {
        return String::new();
    };
    let name = proxy
        .catalog()
        .app(app_id)
        .map_or_else(|| app_id.clone(), |a| a.name.clone());
    format!(
        "<p class=\"ok\" id=\"notice\">Saved: <strong>{}</strong> changed from {} to {} by {} \
         (recorded in the audit trail).</p>",
        escape(&name),
        html::status(change.old.as_str()),
        html::status(change.new.as_str()),
        escape(&change.actor),
    )
}

/// The status that stands for "could not read the form".
pub const BAD_STATUS: (StatusCode, &str) = (
    StatusCode::BAD_REQUEST,
    "Choose approved, unapproved, in_review or unreviewed.",
);
