//! The dashboard's pages, each a report rendered to HTML: overview, apps (with the inline
//! approval form for admins), one app, users, DLP, unapproved usage, anomalies; discovered
//! apps are `discovered.rs`, the log explorer `explorer.rs`, users and events `person.rs`.

use std::collections::BTreeMap;
use std::fmt::Write;

use serde_json::Value;

use super::html::{self, bytes, card, count, escape};
use super::session::Session;
use super::svg;
use crate::report_api::run_report;
use crate::tokens::Role;
use crate::view::ProxyView;
use report::table::{plain, Table};
use report::{self, form, number, Report, ReportFilter};

/// A rendered page body, or the problem to show instead (with its HTTP status).
pub type Page = Result<String, (http::StatusCode, String)>;

/// Runs report `name` for a page; a problem comes back as the status and message to show.
pub(super) async fn run(
    proxy: &dyn ProxyView,
    name: &str,
    id: Option<&str>,
    pairs: &BTreeMap<String, String>,
) -> Result<(Report, ReportFilter), (http::StatusCode, String)> {
    // `sort=TABLE.COLUMN` sorts one of the page's other tables, here; the report sorts its
    // main list.
    let mut pairs = pairs.clone();
    if pairs.get("sort").is_some_and(|s| s.contains('.')) {
        pairs.remove("sort");
        pairs.remove("dir");
    }
    run_report(proxy, name, id, &pairs, &["preset", "name"])
        .await
        .map_err(|e| {
            let status = match e {
                report::ReportError::Filter(_) => http::StatusCode::BAD_REQUEST,
                report::ReportError::NotFound(_) => http::StatusCode::NOT_FOUND,
                report::ReportError::Query(_) => http::StatusCode::BAD_GATEWAY,
            };
            (status, e.to_string())
        })
}

pub(super) fn since_of(pairs: &BTreeMap<String, String>, name: &str) -> String {
    pairs.get("since").cloned().unwrap_or_else(|| {
        if name == "anomalies" {
            "24h".into()
        } else {
            "7d".into()
        }
    })
}

/// Links that keep the filter (for drill-downs and exports).
pub(super) fn keep(pairs: &BTreeMap<String, String>) -> String {
    pairs
        .iter()
        .filter(|(k, _)| {
            !matches!(
                k.as_str(),
                "limit" | "offset" | "sort" | "dir" | "preset" | "changed" | "decided"
            )
        })
        .map(|(k, v)| format!("{}={}", form::encode(k), form::encode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

/// The page's main list sorting, as the request asked for it.
pub(super) fn main_sorting<'a>(
    path: &'a str,
    query: &'a str,
    pairs: &'a BTreeMap<String, String>,
) -> html::Sorting<'a> {
    let current = pairs.get("sort").filter(|s| !s.contains('.')).map(|s| {
        (
            s.as_str(),
            pairs.get("dir").map(String::as_str) != Some("asc"),
        )
    });
    html::Sorting {
        path,
        query,
        prefix: "",
        current,
    }
}

/// One of the page's other tables, `id`, sorted here when `sort=ID.COLUMN` names it (the
/// column checked against the table's own), with header links that sort it.
pub(super) fn side_table(
    pairs: &BTreeMap<String, String>,
    path: &str,
    id: &str,
    mut table: Table,
) -> Result<String, (http::StatusCode, String)> {
    let query = keep(pairs);
    let prefix = format!("{id}.");
    let wanted = pairs.get("sort").and_then(|s| s.strip_prefix(&prefix));
    let descending = pairs.get("dir").map(String::as_str) != Some("asc");
    if let Some(column) = wanted {
        let Some(index) = table.columns.iter().position(|c| c == column) else {
            let columns: Vec<&str> = table.columns.iter().map(String::as_str).collect();
            return Err((
                http::StatusCode::BAD_REQUEST,
                report::sort::unknown(column, &columns).to_string(),
            ));
        };
        table
            .rows
            .sort_by(|a, b| report::sort::compare(&a[index], &b[index], descending));
    }
    let sorting = html::Sorting {
        path,
        query: &query,
        prefix: &prefix,
        current: wanted.map(|c| (c, descending)),
    };
    Ok(html::sorted_table(&table, &query, Some(&sorting)))
}

pub(super) fn export_link(
    name: &str,
    id: Option<&str>,
    pairs: &BTreeMap<String, String>,
) -> String {
    let path = match id {
        Some(id) => format!("/export/app/{}", form::encode(id)),
        None => format!("/export/{name}"),
    };
    format!(
        "<p class=\"links\"><a href=\"{}?{}\">Export CSV</a></p>",
        escape(&path),
        escape(&keep(pairs))
    )
}

pub(super) fn series_points(series: &Value, metric: &str) -> Vec<(String, f64)> {
    series
        .as_array()
        .map(|rows| {
            rows.iter()
                .map(|r| (plain(&r["bucket"]), number(&r[metric]) as f64))
                .collect()
        })
        .unwrap_or_default()
}

fn change(now: u64, before: u64) -> String {
    if before == 0 {
        "no traffic in the previous period".to_string()
    } else {
        let pct = (now as f64 - before as f64) / before as f64 * 100.0;
        format!("{pct:+.0}% vs previous period")
    }
}

/// The foot of a paged list (`/apps`, `/users`, `/dlp`): the count, Previous and Next, and the
/// CSV export of the same filter.
fn list_footer(
    pairs: &BTreeMap<String, String>,
    name: &str,
    total: u64,
    filter: &ReportFilter,
) -> String {
    let path = format!("/{name}");
    let (limit, offset) = (filter.page.limit as u64, filter.page.offset as u64);
    let mut out = format!("<p class=\"links\">{} in all. ", count(total));
    let base = keep(pairs);
    if offset > 0 {
        let _ = write!(
            out,
            "<a href=\"{path}?{}&amp;offset={}\">Previous</a>",
            escape(&base),
            offset.saturating_sub(limit)
        );
    }
    if offset + limit < total {
        let _ = write!(
            out,
            "<a href=\"{path}?{}&amp;offset={}\">Next</a>",
            escape(&base),
            offset + limit
        );
    }
    out.push_str("</p>");
    out.push_str(&export_link(name, None, pairs));
    out
}

/// `/`: the cards, then the panels (`overview.rs`).
pub async fn overview(proxy: &dyn ProxyView, pairs: &BTreeMap<String, String>) -> Page {
    let (done, filter) = run(proxy, "overview", None, pairs).await?;
    let json = &done.json;
    let totals = &json["totals"];
    let previous = &json["previous"];
    let mut body = html::filter_bar("/", &filter, &since_of(pairs, "overview"));
    body.push_str("<div class=\"cards\">");
    body.push_str(&card(
        "Requests",
        &count(number(&totals["requests"])),
        &change(number(&totals["requests"]), number(&previous["requests"])),
    ));
    body.push_str(&card(
        "Users",
        &count(number(&totals["users"])),
        &change(number(&totals["users"]), number(&previous["users"])),
    ));
    body.push_str(&card("AI apps in use", &count(number(&totals["apps"])), ""));
    body.push_str(&card(
        "Data sent",
        &bytes(number(&totals["bytes_up"])),
        &format!("{} received", bytes(number(&totals["bytes_down"]))),
    ));
    body.push_str(&card(
        "Unapproved / in review",
        &count(number(&totals["unapproved_or_in_review_requests"])),
        "requests",
    ));
    body.push_str(&card(
        "Blocked",
        &count(number(&totals["blocked"])),
        "requests",
    ));
    body.push_str(&card(
        "DLP findings",
        &count(number(&totals["dlp_findings"])),
        "",
    ));
    body.push_str(&super::errors::card(
        number(&totals["errors"]),
        number(&previous["errors"]),
        pairs,
    ));
    body.push_str("</div>");
    body.push_str(&super::overview::panels(json, pairs)?);
    body.push_str(&export_link("overview", None, pairs));
    Ok(body)
}

fn status_form(session: &Session, id: &str, status: &str, back: &str) -> String {
    if session.principal.role != Role::Admin {
        return html::status(status);
    }
    let mut out = format!(
        "<form method=\"post\" action=\"/apps/{}/status\" class=\"inline\">\
         <input type=\"hidden\" name=\"csrf\" value=\"{}\">\
         <input type=\"hidden\" name=\"return\" value=\"{}\">\
         <select name=\"status\" class=\"status-{}\" aria-label=\"status of {}\">",
        form::encode(id),
        escape(&session.csrf),
        escape(back),
        escape(status),
        escape(id)
    );
    for option in ["approved", "unapproved", "in_review", "unreviewed"] {
        let selected = if option == status { " selected" } else { "" };
        let _ = write!(
            out,
            "<option value=\"{option}\"{selected}>{option}</option>"
        );
    }
    out.push_str("</select><button type=\"submit\">Save</button></form>");
    out
}

/// The apps table's columns (as the report sorts them) and their headings.
const APP_HEADINGS: [(&str, &str); 14] = [
    ("name", "App"),
    ("category", "Category"),
    ("status", "Status"),
    ("risk", "Risk"),
    ("requests", "Requests"),
    ("users", "Users"),
    ("devices", "Devices"),
    ("bytes_up", "Sent"),
    ("bytes_down", "Received"),
    ("uploads", "Uploads"),
    ("blocked", "Blocked"),
    ("errors", "Errors"),
    ("dlp_findings", "DLP"),
    ("last_seen", "Last seen"),
];

fn apps_table(
    session: &Session,
    pairs: &BTreeMap<String, String>,
    apps: &[Value],
    query: &str,
    back: &str,
    sorting: &html::Sorting<'_>,
) -> String {
    if apps.is_empty() {
        return "<p class=\"empty\">No AI app traffic in this range.</p>".into();
    }
    let mut out = String::from("<div class=\"scroll\"><table id=\"apps\"><thead><tr>");
    for (column, label) in APP_HEADINGS {
        out.push_str(&sorting.header_labeled(column, label));
    }
    out.push_str("</tr></thead><tbody>");
    for app in apps {
        let id = plain(&app["app_id"]);
        let catalogued = app["catalogued"].as_bool().unwrap_or(false);
        let status = plain(&app["status"]);
        let status_cell = if catalogued {
            status_form(session, &id, &status, back)
        } else {
            format!("{} (discovered)", html::status(&status))
        };
        let _ = write!(
            out,
            "<tr data-app=\"{}\"><td><a href=\"/apps/{}?{}\">{}</a></td><td>{}</td><td>{status_cell}</td>\
             <td class=\"num\">{}</td>",
            escape(&id),
            form::encode(&id),
            escape(query),
            escape(&plain(&app["name"])),
            escape(&plain(&app["category"])),
            html::risk(&app["risk"], &app["risk_reasons"]),
        );
        for metric in [
            "requests",
            "users",
            "devices",
            "bytes_up",
            "bytes_down",
            "uploads",
            "blocked",
            "errors",
            "dlp_findings",
        ] {
            if metric == "errors" {
                out.push_str(&super::errors::cell(&id, &app[metric], pairs));
                continue;
            }
            let _ = write!(
                out,
                "<td class=\"num\">{}</td>",
                html::cell(metric, &app[metric])
            );
        }
        let _ = write!(out, "<td>{}</td></tr>", escape(&plain(&app["last_seen"])));
    }
    out.push_str("</tbody></table></div>");
    out
}

fn back_link(path: &str, pairs: &BTreeMap<String, String>) -> String {
    let query = keep(pairs);
    if query.is_empty() {
        path.to_string()
    } else {
        format!("{path}?{query}")
    }
}

/// `/apps`: every app in use, with the inline status form for admins.
pub async fn apps(
    proxy: &dyn ProxyView,
    session: &Session,
    pairs: &BTreeMap<String, String>,
) -> Page {
    let (done, filter) = run(proxy, "apps", None, pairs).await?;
    let mut body = html::filter_bar("/apps", &filter, &since_of(pairs, "apps"));
    let apps = done.json["apps"].as_array().cloned().unwrap_or_default();
    let query = keep(pairs);
    body.push_str(&apps_table(
        session,
        pairs,
        &apps,
        &query,
        &back_link("/apps", pairs),
        &main_sorting("/apps", &query, pairs),
    ));
    body.push_str(&list_footer(
        pairs,
        "apps",
        number(&done.json["total"]),
        &filter,
    ));
    Ok(body)
}

/// `/apps/ID`: one app's drill-down.
pub async fn app(
    proxy: &dyn ProxyView,
    session: &Session,
    id: &str,
    pairs: &BTreeMap<String, String>,
) -> Page {
    let (done, filter) = run(proxy, "app", Some(id), pairs).await?;
    let json = &done.json;
    let meta = &json["app"];
    let totals = &json["totals"];
    let path = format!("/apps/{}", form::encode(id));
    let mut body = format!(
        "<p><strong>{}</strong> · {} · category {} · risk {} · status {}</p>",
        escape(&plain(&meta["name"])),
        escape(&plain(&meta["vendor"])),
        escape(&plain(&meta["category"])),
        html::risk(&meta["risk"], &meta["risk_reasons"]),
        if meta["catalogued"].as_bool().unwrap_or(false) {
            status_form(
                session,
                id,
                &plain(&meta["status"]),
                &back_link(&path, pairs),
            )
        } else {
            "in_review (discovered)".to_string()
        }
    );
    body.push_str(&html::filter_bar(&path, &filter, &since_of(pairs, "app")));
    body.push_str("<div class=\"cards\">");
    body.push_str(&card("Requests", &count(number(&totals["requests"])), ""));
    body.push_str(&card("Users", &count(number(&totals["users"])), ""));
    body.push_str(&card("Data sent", &bytes(number(&totals["bytes_up"])), ""));
    body.push_str(&card(
        "Data received",
        &bytes(number(&totals["bytes_down"])),
        "",
    ));
    body.push_str(&card(
        "Active days",
        &count(number(&json["frequency"]["active_days"])),
        &format!(
            "{:.1} requests per active day",
            json["frequency"]["requests_per_active_day"]
                .as_f64()
                .unwrap_or(0.0)
        ),
    ));
    body.push_str(&card(
        "DLP findings",
        &html::cell("dlp_findings", &totals["dlp_findings"]),
        "",
    ));
    body.push_str(&card(
        "Uploads",
        &html::cell("uploads", &totals["uploads"]),
        "",
    ));
    body.push_str(&card(
        "Devices",
        &html::cell("devices", &totals["devices"]),
        "",
    ));
    body.push_str(&card(
        "Blocked",
        &html::cell("blocked", &totals["blocked"]),
        "requests",
    ));
    body.push_str(&card(
        "Errors",
        &html::cell("errors", &totals["errors"]),
        "upstream failures, not blocks",
    ));
    body.push_str("</div><h2>Requests over time</h2>");
    body.push_str(&svg::line_chart(
        "Requests over time",
        &series_points(&json["series"], "requests"),
    ));
    let section = |title: &str, key: &str, columns: &[&str]| -> Page {
        let rows = json[key].as_array().cloned().unwrap_or_default();
        Ok(format!(
            "<h2>{title}</h2>{}",
            side_table(pairs, &path, key, Table::from_objects(columns, &rows))?
        ))
    };
    body.push_str(&section(
        "Users",
        "users",
        &[
            "user",
            "groups",
            "requests",
            "bytes_up",
            "bytes_down",
            "uploads",
            "blocked",
            "dlp_findings",
        ],
    )?);
    body.push_str(&section(
        "Groups",
        "groups",
        &["group_name", "requests", "users", "bytes_up", "bytes_down"],
    )?);
    body.push_str(&section(
        "Devices",
        "devices",
        &[
            "device_id",
            "user",
            "posture",
            "requests",
            "bytes_up",
            "bytes_down",
            "last_seen",
        ],
    )?);
    body.push_str(&section(
        "Countries",
        "countries",
        &[
            "country",
            "requests",
            "users",
            "bytes_up",
            "bytes_down",
            "blocked",
        ],
    )?);
    body.push_str(&section(
        "DLP findings",
        "dlp",
        &["detector", "requests", "findings", "blocked", "users"],
    )?);
    let hours: Vec<(String, f64)> = json["frequency"]["by_hour_of_day"]
        .as_array()
        .map(|rows| {
            rows.iter()
                .map(|r| {
                    (
                        format!("{:02}:00", number(&r["hour_of_day"])),
                        number(&r["requests"]) as f64,
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    if !hours.is_empty() {
        body.push_str("<h2>Requests by hour of day (UTC)</h2>");
        body.push_str(&svg::bar_chart("Requests by hour of day", &hours));
    }
    body.push_str(&export_link("app", Some(id), pairs));
    Ok(body)
}

/// `/users`.
pub async fn users(proxy: &dyn ProxyView, pairs: &BTreeMap<String, String>) -> Page {
    let (done, filter) = run(proxy, "users", None, pairs).await?;
    let mut body = html::filter_bar("/users", &filter, &since_of(pairs, "users"));
    let query = keep(pairs);
    body.push_str(&html::sorted_table(
        &done.table,
        &query,
        Some(&main_sorting("/users", &query, pairs)),
    ));
    body.push_str(&list_footer(
        pairs,
        "users",
        number(&done.json["total"]),
        &filter,
    ));
    Ok(body)
}

/// `/dlp`.
pub async fn dlp(proxy: &dyn ProxyView, pairs: &BTreeMap<String, String>) -> Page {
    let (done, filter) = run(proxy, "dlp", None, pairs).await?;
    let json = &done.json;
    let query = keep(pairs);
    let mut body = html::filter_bar("/dlp", &filter, &since_of(pairs, "dlp"));
    let detectors = json["by_detector"].as_array().cloned().unwrap_or_default();
    body.push_str("<h2>Findings by detector</h2>");
    body.push_str(&svg::bar_chart(
        "Findings by detector",
        &detectors
            .iter()
            .map(|d| (plain(&d["detector"]), number(&d["findings"]) as f64))
            .collect::<Vec<_>>(),
    ));
    body.push_str(&side_table(
        pairs,
        "/dlp",
        "detectors",
        Table::from_objects(
            &["detector", "requests", "findings", "blocked", "users"],
            &detectors,
        ),
    )?);
    let by_app = json["by_app"].as_array().cloned().unwrap_or_default();
    body.push_str("<h2>By app</h2>");
    body.push_str(&side_table(
        pairs,
        "/dlp",
        "by_app",
        Table::from_objects(
            &[
                "app_id", "detector", "requests", "findings", "blocked", "users",
            ],
            &by_app,
        ),
    )?);
    body.push_str("<h2>Latest findings (snippets are masked)</h2>");
    body.push_str(&html::sorted_table(
        &done.table,
        &query,
        Some(&main_sorting("/dlp", &query, pairs)),
    ));
    body.push_str(&list_footer(pairs, "dlp", number(&json["total"]), &filter));
    Ok(body)
}

/// `/unapproved`: usage of unapproved and in-review apps.
pub async fn unapproved(
    proxy: &dyn ProxyView,
    session: &Session,
    pairs: &BTreeMap<String, String>,
) -> Page {
    let (done, filter) = run(proxy, "unapproved", None, pairs).await?;
    let mut body = html::filter_bar("/unapproved", &filter, &since_of(pairs, "unapproved"));
    let apps = done.json["apps"].as_array().cloned().unwrap_or_default();
    let query = keep(pairs);
    body.push_str("<h2>Apps</h2>");
    body.push_str(&apps_table(
        session,
        pairs,
        &apps,
        &query,
        &back_link("/unapproved", pairs),
        &main_sorting("/unapproved", &query, pairs),
    ));
    let users = done.json["users"].as_array().cloned().unwrap_or_default();
    body.push_str("<h2>Who uses them</h2>");
    body.push_str(&side_table(
        pairs,
        "/unapproved",
        "who",
        Table::from_objects(
            &[
                "user",
                "groups",
                "requests",
                "apps",
                "bytes_up",
                "blocked",
                "dlp_findings",
                "last_seen",
            ],
            &users,
        ),
    )?);
    body.push_str(&export_link("unapproved", None, pairs));
    Ok(body)
}

/// Why the page may show little: the history before the range is shorter than what spikes
/// (a week) and new countries (a month) compare with.
fn baseline_note(baselines: &Value) -> String {
    if baselines["young"].as_bool() != Some(true) {
        return String::new();
    }
    let spike = number(&baselines["spike_days"]);
    let country = number(&baselines["country_days"]);
    let have = match baselines["history_days"].as_f64() {
        Some(days) => format!("Warden has {days:.1} days of history before this range"),
        None => "Warden has no history before this range yet".to_string(),
    };
    format!(
        "<p class=\"note\" id=\"baseline-note\">Baselines are still young: {have}. Usage \
         spikes compare each app with its previous {spike} days, and a country counts as new \
         against the previous {country} days; until that much history exists, spikes are \
         only found for apps with some history, new countries only for apps seen before, and \
         both may be missed or over-reported. Heavy users and sources compare with the \
         median of this range and need no history.</p>"
    )
}

/// Links from one anomaly to the app's and the user's pages.
fn anomaly_links(anomaly: &Value, query: &str) -> String {
    let mut links = String::new();
    let app = plain(&anomaly["app_id"]);
    if !app.is_empty() {
        let sep = if query.is_empty() { "" } else { "?" };
        let _ = write!(
            links,
            " · <a href=\"/apps/{}{sep}{}\">app {}</a>",
            form::encode(&app),
            escape(query),
            escape(&app)
        );
    }
    if !plain(&anomaly["fingerprint"]).is_empty() {
        let _ = write!(links, " · <a href=\"/ai-keys\">AI keys</a>");
    }
    let user = plain(&anomaly["user"]);
    if anomaly["kind"] == "heavy_user" {
        let _ = write!(
            links,
            " · <a href=\"{}\">user {}</a>",
            escape(&html::user_href(&user)),
            escape(&user)
        );
    }
    links
}

/// `/anomalies`.
pub async fn anomalies(proxy: &dyn ProxyView, pairs: &BTreeMap<String, String>) -> Page {
    let (done, filter) = run(proxy, "anomalies", None, pairs).await?;
    let mut body = html::filter_bar("/anomalies", &filter, &since_of(pairs, "anomalies"));
    body.push_str(
        "<p>Usage spikes against each app's previous 7 days, countries never seen for an app in \
         the previous 30 days, and users or source addresses with at least 10x the median \
         requests.</p>",
    );
    body.push_str(&baseline_note(&done.json["baselines"]));
    let found = done.json["anomalies"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    if found.is_empty() {
        body.push_str("<p class=\"ok\">Nothing unusual in this range.</p>");
    } else {
        let query = keep(pairs);
        body.push_str("<ul class=\"anomalies\" id=\"anomaly-list\">");
        for anomaly in &found {
            let _ = write!(
                body,
                "<li><strong>{}</strong>: {}{}</li>",
                escape(&plain(&anomaly["kind"]).replace('_', " ")),
                escape(&plain(&anomaly["description"])),
                anomaly_links(anomaly, &query),
            );
        }
        body.push_str("</ul>");
        body.push_str(&side_table(
            pairs,
            "/anomalies",
            "anomalies",
            done.table.clone(),
        )?);
    }
    body.push_str(&export_link("anomalies", None, pairs));
    Ok(body)
}
