//! `/discovered`: hosts outside the catalog whose traffic looks like AI, for triage — users,
//! requests, bytes, first and last seen, the evidence — and, for admins, what to do with each:
//! add it to the catalog (name, category, status), block it, or mark it not AI. A decision
//! that starts blocking asks first (`confirm.rs`); the decisions taken are listed below.
//!
//! Host names come from traffic, so from anyone: every one is escaped, in text and in
//! attributes alike. The forms are conveniences; the role and the input are checked on post.

use std::collections::BTreeMap;
use std::fmt::Write;

use http::StatusCode;
use policies::catalog::Category;
use policies::discovery::decision::{DecisionKind, DecisionRequest, HostDecision};
use policies::AppStatus;
use report::{form, ReportFilter};

use super::confirm::{ask_page, with_param};
use super::html::{self, bytes, count, escape};
use super::pages::Page;
use super::session::Session;
use crate::discovered::{rows, take, Row};
use crate::report_api::now_unix;
use crate::tokens::Role;
use crate::view::ProxyView;

/// The page.
pub async fn page(
    proxy: &dyn ProxyView,
    session: &Session,
    pairs: &BTreeMap<String, String>,
) -> Page {
    let filter = ReportFilter::from_pairs(pairs, now_unix(), 400 * 86_400, &["decided"])
        .map_err(|e| (StatusCode::BAD_REQUEST, e.to_string()))?;
    let (list, problem) = rows(proxy, filter.range).await;
    let decisions = proxy.decisions();
    let mut body = notice(&decisions, pairs);
    body.push_str(
        "<p>Hosts whose traffic looks like an AI app (API or chat backend paths, key formats, \
         model names in request bodies, streamed completions) but that are not in the catalog. \
         They are unreviewed evidence for triage: nothing is enforced on them until someone \
         decides — add the host to the catalog, block it, or mark it not AI.</p>",
    );
    if let Some(problem) = problem {
        let _ = write!(
            body,
            "<p class=\"error\" id=\"usage-error\">{}</p>",
            escape(&problem)
        );
    }
    if list.is_empty() {
        body.push_str("<p class=\"empty\">No undecided AI traffic outside the catalog.</p>");
    } else {
        body.push_str(&table(session, &list));
    }
    body.push_str(&decided_table(proxy, &decisions));
    Ok(body)
}

fn table(session: &Session, list: &[Row]) -> String {
    let admin = session.principal.role == Role::Admin;
    let mut out = String::from(
        "<div class=\"scroll\"><table id=\"discovered\"><thead><tr><th>Host</th><th>Users</th>\
         <th>Requests</th><th>Sent</th><th>Received</th><th>Confidence</th><th>Evidence</th>\
         <th>First seen</th><th>Last seen</th>",
    );
    if admin {
        out.push_str("<th>Decide</th>");
    }
    out.push_str("</tr></thead><tbody>");
    for row in list {
        let app = &row.app;
        let usage = row.usage.as_ref();
        let dash = || "—".to_string();
        let _ = write!(
            out,
            "<tr data-host=\"{host}\"><td><a href=\"/apps/{href}\">{host}</a></td>\
             <td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td>\
             <td class=\"num\">{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td>",
            usage.map_or_else(dash, |u| count(u.users)),
            count(app.requests),
            usage.map_or_else(dash, |u| bytes(u.bytes_up)),
            usage.map_or_else(dash, |u| bytes(u.bytes_down)),
            escape(&app.confidence),
            escape(&app.evidence.join("; ")),
            escape(&time_ms(app.first_seen_unix_ms)),
            escape(&time_ms(app.last_seen_unix_ms)),
            host = escape(&app.host),
            href = form::encode(&format!("discovered:{}", app.host)),
        );
        if admin {
            let _ = write!(out, "<td>{}</td>", actions(session, &app.host));
        }
        out.push_str("</tr>");
    }
    out.push_str("</tbody></table></div>");
    out
}

/// The three decisions' forms for one host.
fn actions(session: &Session, host: &str) -> String {
    let head = |action: &str| {
        format!(
            "<form method=\"post\" action=\"/discovered/decide\" class=\"inline\">\
             <input type=\"hidden\" name=\"csrf\" value=\"{}\">\
             <input type=\"hidden\" name=\"host\" value=\"{}\">\
             <input type=\"hidden\" name=\"action\" value=\"{action}\">",
            escape(&session.csrf),
            escape(host)
        )
    };
    let mut out = head("catalog");
    let _ = write!(
        out,
        "<input name=\"name\" placeholder=\"name\" aria-label=\"app name for {0}\" \
         maxlength=\"80\" value=\"{0}\"><select name=\"category\" aria-label=\"category\">",
        escape(host)
    );
    for category in Category::ALL {
        let selected = if category == Category::Chat {
            " selected"
        } else {
            ""
        };
        let _ = write!(
            out,
            "<option value=\"{0}\"{selected}>{0}</option>",
            category.as_str()
        );
    }
    out.push_str("</select><select name=\"status\" aria-label=\"status\">");
    for status in AppStatus::ALL {
        let selected = if status == AppStatus::Unreviewed {
            " selected"
        } else {
            ""
        };
        let _ = write!(
            out,
            "<option value=\"{0}\"{selected}>{0}</option>",
            status.as_str()
        );
    }
    out.push_str("</select><button type=\"submit\" class=\"add\">Add to catalog</button></form> ");
    out.push_str(&head("block"));
    out.push_str("<button type=\"submit\" class=\"block danger\">Block</button></form> ");
    out.push_str(&head("not_ai"));
    out.push_str("<button type=\"submit\" class=\"not-ai\">Not AI</button></form>");
    out
}

fn decided_table(proxy: &dyn ProxyView, decisions: &[HostDecision]) -> String {
    if decisions.is_empty() {
        return String::new();
    }
    let book = proxy.status_book();
    let mut out = String::from(
        "<h2>Decided</h2><div class=\"scroll\"><table id=\"decisions\"><thead><tr><th>Host</th>\
         <th>Decision</th><th>App</th><th>Status</th><th>By</th><th>When</th></tr></thead><tbody>",
    );
    for d in decisions.iter().rev() {
        let (decision, app, status) = match (&d.kind, &d.app_id) {
            (DecisionKind::Catalog, Some(id)) => (
                "catalog app",
                format!(
                    "<a href=\"/apps/{}\">{}</a>",
                    form::encode(id),
                    escape(d.name.as_deref().unwrap_or(id))
                ),
                html::status(book.status(id).as_str()),
            ),
            _ => ("not AI", String::new(), String::new()),
        };
        let _ = write!(
            out,
            "<tr><td>{}</td><td>{decision}</td><td>{app}</td><td>{status}</td><td>{}</td>\
             <td>{}</td></tr>",
            escape(&d.host),
            escape(&d.decided_by),
            escape(&time_ms(d.decided_at_unix_ms)),
        );
    }
    out.push_str("</tbody></table></div>");
    out
}

/// For `?decided=HOST`: what the decisions file now says about it (never the URL's text).
fn notice(decisions: &[HostDecision], pairs: &BTreeMap<String, String>) -> String {
    let Some(host) = pairs.get("decided") else {
        return String::new();
    };
    let Some(d) = decisions.iter().find(|d| &d.host == host) else {
        return String::new();
    };
    let what = match (&d.kind, &d.app_id) {
        (DecisionKind::Catalog, Some(id)) => format!("is the catalog app {}", escape(id)),
        _ => "is marked not AI: discovery ignores it from now on".to_string(),
    };
    format!(
        "<p class=\"ok\" id=\"notice\">Saved: <strong>{}</strong> {what} (recorded in the audit \
         trail).</p>",
        escape(&d.host)
    )
}

/// What a decision post comes to.
pub enum Posted {
    /// Ask first: the page to show.
    Ask(String),
    /// Decided: where to go to see it.
    Done(String),
}

/// `POST /discovered/decide`: checks the role, asks before a blocking decision, then decides.
pub fn decide(
    proxy: &dyn ProxyView,
    session: &Session,
    fields: &BTreeMap<String, String>,
) -> Result<Posted, (StatusCode, String)> {
    if session.principal.role != Role::Admin {
        return Err((
            StatusCode::FORBIDDEN,
            "Deciding about a discovered host needs the admin role.".into(),
        ));
    }
    let field = |name: &str| fields.get(name).cloned().filter(|v| !v.is_empty());
    let wanted = DecisionRequest {
        host: field("host").unwrap_or_default(),
        action: field("action").unwrap_or_default(),
        name: field("name"),
        category: field("category"),
        status: field("status"),
        app_id: field("app_id"),
    };
    let blocking = match wanted.action.as_str() {
        "block" => true,
        "catalog" => wanted
            .status
            .as_deref()
            .and_then(|s| s.parse::<AppStatus>().ok())
            .is_some_and(|s| proxy.status_blocks("", s)),
        _ => false,
    };
    let confirmed = fields.get("confirm").map(String::as_str) == Some("yes");
    if blocking && !confirmed {
        let mut hidden = BTreeMap::new();
        for (name, value) in [("host", &wanted.host), ("action", &wanted.action)] {
            hidden.insert(name, value.clone());
        }
        for (name, value) in [
            ("name", &wanted.name),
            ("category", &wanted.category),
            ("status", &wanted.status),
            ("app_id", &wanted.app_id),
        ] {
            if let Some(value) = value {
                hidden.insert(name, value.clone());
            }
        }
        let question = format!(
            "This blocks every request to <strong>{}</strong> for everyone, from the next \
             request (it becomes a catalog app with the status {}).",
            escape(&wanted.host),
            html::status(AppStatus::Unapproved.as_str())
        );
        return Ok(Posted::Ask(ask_page(
            session,
            "/discovered/decide",
            &question,
            &format!("Block {}", wanted.host),
            &hidden,
            "/discovered",
        )));
    }
    let actor = format!("dashboard:{}", session.principal.name);
    take(proxy, &actor, &wanted)?;
    let host = policies::discovery::decision::checked_host(&wanted.host).unwrap_or_default();
    Ok(Posted::Done(with_param("/discovered", "decided", &host)))
}

fn time_ms(ms: u64) -> String {
    report::filter::format_utc((ms / 1000) as i64)
}
