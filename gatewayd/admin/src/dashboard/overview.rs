//! The overview's panels below its cards, across the page's width: the trend; allowed,
//! blocked and failed requests; the top apps; the top users; the top DLP types; and the
//! riskiest apps nobody has sanctioned (with the catalog's reasons). One table of top apps
//! replaces the three near-identical ones (by requests, users, bytes) it had.
//!
//! Every value is escaped through `html`; it runs no query itself.

use std::collections::BTreeMap;
use std::fmt::Write;

use serde_json::Value;

use super::html::{self, count, escape};
use super::pages::{keep, series_points, side_table};
use super::svg;
use report::form;
use report::number;
use report::table::{plain, Table};

type Panels = Result<String, (http::StatusCode, String)>;

fn panel(id: &str, title: &str, inner: &str) -> String {
    format!(
        "<section class=\"panel\" id=\"{id}\"><h2>{}</h2>{inner}</section>",
        escape(title)
    )
}

fn list<'a>(json: &'a Value, key: &str) -> &'a [Value] {
    json[key].as_array().map(Vec::as_slice).unwrap_or_default()
}

/// The panels of the overview report `json`.
pub(super) fn panels(json: &Value, pairs: &BTreeMap<String, String>) -> Panels {
    let mut out = String::from("<div class=\"panels\">");
    out.push_str(&panel(
        "trend",
        "Requests over time",
        &svg::line_chart(
            "Requests over time",
            &series_points(&json["series"], "requests"),
        ),
    ));
    out.push_str(&panel(
        "outcomes",
        "Blocked vs allowed",
        &outcomes(json, pairs),
    ));
    let apps = json["top_apps"]["by_requests"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let bars: Vec<(String, f64)> = apps
        .iter()
        .map(|a| (plain(&a["name"]), number(&a["requests"]) as f64))
        .collect();
    let table = Table::from_objects(
        &[
            "app_id", "name", "status", "requests", "users", "bytes_up", "blocked", "errors",
        ],
        &apps,
    );
    out.push_str(&panel(
        "top-apps",
        "Top apps",
        &(svg::bar_chart("Top apps by requests", &bars) + &side_table(pairs, "/", "apps", table)?),
    ));
    let users = Table::from_objects(
        &[
            "user",
            "groups",
            "requests",
            "apps",
            "blocked",
            "dlp_findings",
        ],
        list(json, "top_users"),
    );
    out.push_str(&panel(
        "top-users",
        "Top users",
        &side_table(pairs, "/", "users", users)?,
    ));
    let dlp = Table::from_objects(
        &["detector", "findings", "requests", "blocked", "users"],
        list(json, "top_dlp"),
    );
    out.push_str(&panel(
        "top-dlp",
        "Top DLP types",
        &side_table(pairs, "/", "dlp", dlp)?,
    ));
    out.push_str(&panel(
        "riskiest",
        "Riskiest unsanctioned apps",
        &riskiest(list(json, "riskiest_unsanctioned"), pairs),
    ));
    out.push_str("</div>");
    Ok(out)
}

/// Allowed, warned, blocked and failed requests: bars, and a table linking the failures.
fn outcomes(json: &Value, pairs: &BTreeMap<String, String>) -> String {
    let o = &json["outcomes"];
    let rows = [
        ("Allowed", number(&o["allowed"])),
        ("Warned (may continue)", number(&o["warned"])),
        ("Blocked", number(&o["blocked"])),
        ("Errors (not blocks)", number(&o["errors"])),
    ];
    let total: u64 = rows.iter().map(|(_, n)| n).sum();
    let bars: Vec<(String, f64)> = rows
        .iter()
        .map(|(l, n)| (l.to_string(), *n as f64))
        .collect();
    let mut out = svg::bar_chart("Blocked vs allowed", &bars);
    out.push_str(
        "<table><thead><tr><th>Outcome</th><th>Requests</th><th>Share</th></tr></thead><tbody>",
    );
    for (label, n) in rows {
        let share = if total == 0 {
            "—".to_string()
        } else {
            format!("{:.1}%", n as f64 * 100.0 / total as f64)
        };
        let cell = if label.starts_with("Errors") && n > 0 {
            format!(
                "<a href=\"{}\">{}</a>",
                escape(&super::errors::href(None, pairs)),
                count(n)
            )
        } else {
            count(n)
        };
        let _ = write!(
            out,
            "<tr><td>{label}</td><td class=\"num\">{cell}</td><td class=\"num\">{share}</td></tr>"
        );
    }
    out.push_str("</tbody></table>");
    out
}

/// Unsanctioned apps, riskiest first: status, risk with its reasons, use.
fn riskiest(apps: &[Value], pairs: &BTreeMap<String, String>) -> String {
    if apps.is_empty() {
        return "<p class=\"empty\">Every app in use is approved.</p>".into();
    }
    let query = keep(pairs);
    let mut out = String::from(
        "<div class=\"scroll\"><table><thead><tr><th>App</th><th>Status</th><th>Risk</th>\
         <th>Requests</th><th>Users</th><th>Last seen</th></tr></thead><tbody>",
    );
    for app in apps {
        let id = plain(&app["app_id"]);
        let _ = write!(
            out,
            "<tr data-app=\"{}\"><td><a href=\"/apps/{}?{}\">{}</a></td><td>{}</td><td>{}</td>\
             <td class=\"num\">{}</td><td class=\"num\">{}</td><td>{}</td></tr>",
            escape(&id),
            form::encode(&id),
            escape(&query),
            escape(&plain(&app["name"])),
            html::status(&plain(&app["status"])),
            html::risk(&app["risk"], &app["risk_reasons"]),
            html::cell("requests", &app["requests"]),
            html::cell("users", &app["users"]),
            escape(&plain(&app["last_seen"])),
        );
    }
    out.push_str("</tbody></table></div>");
    out
}
