//! The "Access requests" page: what employees asked for from block and coaching pages, with
//! their reasons (escaped: a requester's text is never markup here), and for admins the
//! Approve (the app becomes `approved` for everyone) and Deny buttons.

use std::fmt::Write;

use http::StatusCode;
use policies::access::AccessState;

use super::html::{escape, status, user_href};
use super::pages::Page;
use super::session::Session;
use crate::tokens::Role;
use crate::view::ProxyView;
use report::form;

/// The page body.
pub fn page(proxy: &dyn ProxyView, session: &Session) -> Page {
    let requests = crate::access::listed(proxy, None);
    let admin = session.principal.role == Role::Admin;
    let mut body = String::from(
        "<p>Employees ask for an app from its block or warning page. Approving a request \
         sets the app's status to <em>approved</em> for everyone (recorded in the app's status \
         history and the audit trail); denying closes it and changes nothing.</p>",
    );
    if requests.is_empty() {
        body.push_str("<p class=\"empty\" id=\"no-requests\">No access requests yet.</p>");
        return Ok(body);
    }
    body.push_str(
        "<table id=\"access-requests\"><thead><tr><th>Requested</th><th>User</th><th>Device</th>\
         <th>App</th><th>Reason</th><th>Asked</th><th>State</th><th>Decided by</th><th></th>\
         </tr></thead><tbody>",
    );
    for r in &requests {
        let actions = if admin && r.state == AccessState::Open {
            decision_forms(session, &r.id, &r.app_name)
        } else {
            String::new()
        };
        let _ = write!(
            body,
            "<tr id=\"request-{id}\"><td>{at}</td><td><a href=\"{user_link}\">{user}</a></td>\
             <td>{device}</td><td><a href=\"/apps/{app_link}\">{app}</a></td>\
             <td class=\"reason\">{reason}</td><td class=\"num\">{times}</td><td>{state}</td>\
             <td>{by}</td><td>{actions}</td></tr>",
            id = escape(&r.id),
            at = escape(&time_ms(r.requested_at_unix_ms)),
            user_link = user_href(&r.user),
            user = escape(&r.user),
            device = escape(&r.device),
            app_link = form::encode(&r.app_id),
            app = escape(&r.app_name),
            reason = escape(&r.reason),
            times = r.repeats.saturating_add(1),
            state = status(r.state.as_str()),
            by = escape(&r.decided_by),
        );
    }
    body.push_str("</tbody></table>");
    Ok(body)
}

fn decision_forms(session: &Session, id: &str, app: &str) -> String {
    let csrf = escape(&session.csrf);
    let id_path = form::encode(id);
    let id_attr = escape(id);
    let app = escape(app);
    format!(
        "<form method=\"post\" action=\"/access-requests/{id_path}/approve\" class=\"inline\">\
         <input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\
         <button type=\"submit\" id=\"approve-{id_attr}\" title=\"Approve {app} for everyone\">Approve</button></form> \
         <form method=\"post\" action=\"/access-requests/{id_path}/deny\" class=\"inline\">\
         <input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\
         <button type=\"submit\" id=\"deny-{id_attr}\">Deny</button></form>"
    )
}

/// A decision posted from the page (the caller checked the session, CSRF and origin).
pub fn decide(
    proxy: &dyn ProxyView,
    session: &Session,
    id: &str,
    verb: &str,
    actor: &str,
) -> Result<(), (StatusCode, String)> {
    if session.principal.role != Role::Admin {
        return Err((
            StatusCode::FORBIDDEN,
            "Deciding access requests needs the admin role.".into(),
        ));
    }
    let approve = match verb {
        "approve" => true,
        "deny" => false,
        _ => return Err((StatusCode::NOT_FOUND, "There is no such form.".into())),
    };
    crate::access::decide(proxy, id, approve, actor)
        .map(|_| ())
        .map_err(|e| (StatusCode::CONFLICT, e.to_string()))
}

fn time_ms(ms: u64) -> String {
    report::filter::format_utc((ms / 1000) as i64)
}
