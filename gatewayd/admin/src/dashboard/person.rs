//! The analyst's drill-downs to one person and one transaction: `/users/NAME` (apps, volume,
//! blocks, DLP findings by type, devices, activity and the timeline) and `/events/ID` (who,
//! device, posture, app, rule, action, findings with masked snippets, and the audited prompt
//! for an investigator, a read the audit trail records).
//!
//! Every value is escaped through `html`; the prompt is never rendered for a role that may
//! not read it (the query does not even select it).

use std::collections::BTreeMap;
use std::fmt::Write;

use super::html::{self, bytes, card, count, escape};
use super::pages::{keep, main_sorting, side_table, Page};
use super::session::Session;
use super::svg;
use crate::report_api::{load_event, run_report};
use crate::view::ProxyView;
use report::table::{plain, Table};
use report::{form, number, ReportError};

fn status_of(e: &ReportError) -> http::StatusCode {
    match e {
        ReportError::Filter(_) => http::StatusCode::BAD_REQUEST,
        ReportError::NotFound(_) => http::StatusCode::NOT_FOUND,
        ReportError::Query(_) => http::StatusCode::BAD_GATEWAY,
    }
}

/// `/users/NAME`: everything one person did in the range.
pub async fn user(proxy: &dyn ProxyView, name: &str, pairs: &BTreeMap<String, String>) -> Page {
    let mut report_pairs = pairs.clone();
    if report_pairs.get("sort").is_some_and(|s| s.contains('.')) {
        report_pairs.remove("sort");
        report_pairs.remove("dir");
    }
    let (done, filter) = run_report(proxy, "user", Some(name), &report_pairs, &["name"])
        .await
        .map_err(|e| (status_of(&e), e.to_string()))?;
    let json = &done.json;
    let totals = &json["totals"];
    // `/user?name=..` (see `html::user_href`) keeps the name in its query, which `keep`
    // carries into every link of the page.
    let href = html::user_href(name);
    let dotted = href.starts_with("/user?");
    let path = if dotted { "/user".to_string() } else { href };
    let since = pairs.get("since").cloned().unwrap_or_else(|| "7d".into());
    let groups = plain(&totals["groups"]);
    let groups = if groups.is_empty() {
        String::new()
    } else {
        format!(" · groups: {}", escape(&groups))
    };
    let mut body = format!(
        "<p id=\"user-name\">Everything <strong>{}</strong> did in the range{groups}</p>",
        escape(name),
    );
    let bar = html::filter_bar(&path, &filter, &since);
    body.push_str(&if dotted {
        bar.replacen(
            "<label>Range",
            &format!(
                "<input type=\"hidden\" name=\"name\" value=\"{}\"><label>Range",
                escape(name)
            ),
            1,
        )
    } else {
        bar
    });
    body.push_str("<div class=\"cards\">");
    // AI-app traffic, as the Users list counts it; the rest of the person's requests are
    // named beside it so the two pages never seem to disagree.
    body.push_str(&card(
        "Requests to AI apps",
        &count(number(&totals["requests"])),
        &format!(
            "{} requests in all, other sites included",
            count(number(&totals["all_requests"]))
        ),
    ));
    body.push_str(&card("AI apps", &count(number(&totals["apps"])), ""));
    body.push_str(&card(
        "Data sent",
        &bytes(number(&totals["bytes_up"])),
        &format!("{} received", bytes(number(&totals["bytes_down"]))),
    ));
    body.push_str(&card(
        "Blocked",
        &count(number(&totals["blocked"])),
        "requests",
    ));
    body.push_str(&card("Uploads", &count(number(&totals["uploads"])), ""));
    body.push_str(&card(
        "DLP findings",
        &count(number(&totals["dlp_findings"])),
        "",
    ));
    body.push_str(&card("Devices", &count(number(&totals["devices"])), ""));
    let ai = &json["ai"];
    let ai_calls = number(&ai["calls"]);
    if ai_calls > 0 {
        body.push_str(&card(
            "AI gateway calls",
            &count(ai_calls),
            &format!(
                "{} spent{}",
                svg::money(number(&ai["spend_micro_usd"]) as f64 / 1e6),
                match number(&ai["unpriced_calls"]) {
                    0 => String::new(),
                    n => format!(", {} without a known cost", count(n)),
                }
            ),
        ));
    }
    body.push_str("</div>");
    if ai_calls > 0 {
        let _ = write!(
            body,
            "<p id=\"user-ai\">Last AI gateway call {} · <a href=\"{}\">their calls, spend and \
             models on the AI gateway page</a></p>",
            escape(&plain(&ai["last_call"])),
            escape(&format!(
                "/ai?user={}&since={}",
                form::encode(name),
                form::encode(&since)
            ))
        );
    }
    let _ = write!(
        body,
        "<p>First seen {} · last seen {}</p><h2>Activity</h2>",
        escape(&plain(&totals["first_seen"])),
        escape(&plain(&totals["last_seen"]))
    );
    let points: Vec<(String, f64)> = json["series"]
        .as_array()
        .map(|rows| {
            rows.iter()
                .map(|r| (plain(&r["bucket"]), number(&r["requests"]) as f64))
                .collect()
        })
        .unwrap_or_default();
    body.push_str(&svg::line_chart("Requests to AI apps over time", &points));
    let section = |title: &str, id: &str, key: &str, columns: &[&str]| -> Page {
        let rows = json[key].as_array().cloned().unwrap_or_default();
        Ok(format!(
            "<h2 id=\"{id}-title\">{title}</h2><div id=\"{id}\">{}</div>",
            side_table(pairs, &path, id, Table::from_objects(columns, &rows))?
        ))
    };
    body.push_str(&section(
        "Apps",
        "apps",
        "apps",
        &[
            "app_id",
            "name",
            "status",
            "risk",
            "requests",
            "bytes_up",
            "bytes_down",
            "uploads",
            "blocked",
            "dlp_findings",
            "last_seen",
        ],
    )?);
    // The list and the timeline are this person's requests to every site (the cards count
    // AI apps): their titles say so, so a block of another site is not a surprise.
    body.push_str(&section(
        "Blocked requests (all sites)",
        "blocks",
        "blocked",
        &[
            "time",
            "request_id",
            "app_id",
            "host",
            "action",
            "rule_id",
            "status",
            "detail",
        ],
    )?);
    body.push_str(&section(
        "DLP findings by type",
        "dlp",
        "dlp",
        &["detector", "requests", "findings", "blocked"],
    )?);
    body.push_str(&section(
        "Devices",
        "devices",
        "devices",
        &["device_id", "posture", "requests", "last_seen"],
    )?);
    body.push_str("<h2 id=\"timeline-title\">Timeline (all sites)</h2><div id=\"timeline\">");
    let query = keep(pairs);
    body.push_str(&html::sorted_table(
        &done.table,
        &query,
        Some(&main_sorting(&path, &query, pairs)),
    ));
    body.push_str("</div>");
    let (limit, offset) = (filter.page.limit, filter.page.offset);
    let sep = if query.is_empty() { "" } else { "&" };
    let mut links = String::from("<p class=\"links\">");
    if offset > 0 {
        let _ = write!(
            links,
            "<a href=\"{}\">Newer</a>",
            escape(&format!(
                "{path}?{query}{sep}offset={}",
                offset.saturating_sub(limit)
            ))
        );
    }
    if done.table.rows.len() == limit {
        let _ = write!(
            links,
            "<a href=\"{}\">Older</a>",
            escape(&format!("{path}?{query}{sep}offset={}", offset + limit))
        );
    }
    if !dotted {
        let _ = write!(
            links,
            "<a href=\"{}\">Export CSV</a>",
            escape(&format!("/export/user/{}?{query}", form::encode(name)))
        );
    }
    links.push_str("</p>");
    body.push_str(&links);
    Ok(body)
}

/// `/events/ID`: one transaction; the prompt only for a role that reads prompts.
pub async fn event(proxy: &dyn ProxyView, session: &Session, id: &str) -> Page {
    let actor = format!("dashboard:{}", session.principal.name);
    let view = load_event(proxy, &session.principal, &actor, id)
        .await
        .map_err(|e| (status_of(&e), e.to_string()))?;
    let event = &view.json["event"];
    let app = &view.json["app"];
    let mut body = String::from("<dl class=\"facts\" id=\"event\">");
    let user = plain(&event["user"]);
    let mut fact = |label: &str, value: String| {
        let _ = write!(body, "<dt>{}</dt><dd>{value}</dd>", escape(label));
    };
    fact("Time (UTC)", escape(&plain(&event["time"])));
    fact("Request id", escape(&plain(&event["request_id"])));
    let groups = plain(&event["groups"]);
    fact(
        "User",
        format!(
            "<a id=\"event-user\" href=\"{}\">{}</a>{}",
            escape(&html::user_href(&user)),
            escape(&user),
            if groups.is_empty() {
                String::new()
            } else {
                format!(" · groups {}", escape(&groups))
            }
        ),
    );
    fact(
        "Source",
        escape(&format!(
            "{} {} {}",
            plain(&event["src_ip"]),
            plain(&event["country"]),
            plain(&event["city"])
        )),
    );
    fact("Device", escape(&plain(&event["device_id"])));
    fact("Posture", escape(&plain(&event["device_posture"])));
    let app_id = plain(&event["app_id"]);
    fact(
        "App",
        if app_id.is_empty() {
            "— (not an AI app)".to_string()
        } else {
            format!(
                "<a href=\"/apps/{}\">{}</a> · {} · risk {} · status {}",
                form::encode(&app_id),
                escape(&plain(&app["name"])),
                escape(&plain(&event["category"])),
                html::risk(&app["risk"], &app["risk_reasons"]),
                html::status(&plain(&event["app_status"]))
            )
        },
    );
    fact(
        "Request",
        escape(&format!(
            "{} {}{}",
            plain(&event["method"]),
            plain(&event["host"]),
            plain(&event["path"])
        )),
    );
    fact("Model", escape(&plain(&event["model"])));
    fact("Account", escape(&plain(&event["tenant"])));
    fact(
        "Decision",
        format!(
            "<span id=\"event-action\">{}</span> by rule {} (policy {}) · HTTP {}{}",
            escape(&plain(&event["action"])),
            escape(&plain(&event["rule_id"])),
            escape(&plain(&event["policy_version"])),
            escape(&plain(&event["status"])),
            if number(&event["blocked"]) == 1 {
                " · <strong class=\"status-unapproved\">blocked</strong>"
            } else {
                ""
            }
        ),
    );
    fact("Detail", escape(&plain(&event["detail"])));
    fact(
        "Volume",
        format!(
            "{} sent · {} received · {} ms",
            bytes(number(&event["bytes_up"])),
            bytes(number(&event["bytes_down"])),
            count(number(&event["latency_ms"]))
        ),
    );
    let files: Vec<String> = event["file_names"]
        .as_array()
        .map(|names| names.iter().map(|n| escape(&plain(n))).collect())
        .unwrap_or_default();
    fact(
        "Uploads",
        format!("<span id=\"event-uploads\">{}</span>", files.join(", ")),
    );
    body.push_str("</dl><h2>DLP findings (snippets are masked)</h2><div id=\"findings\">");
    let findings = view.json["findings"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    body.push_str(&html::table(
        &Table::from_objects(
            &[
                "detector",
                "finding_count",
                "confidence",
                "action",
                "snippet",
            ],
            &findings,
        ),
        "",
    ));
    body.push_str("</div><h2>Audited prompt</h2>");
    match (&view.prompt, view.has_prompt) {
        (Some(text), _) => {
            let _ = write!(
                body,
                "<p class=\"note\">Your reading of this prompt is recorded in the admin audit \
                 trail.</p><pre class=\"prompt\" id=\"prompt\">{}</pre>",
                escape(text)
            );
        }
        (None, true) => body.push_str(
            "<p class=\"empty\" id=\"prompt-withheld\">An audit rule kept this request's \
             prompt; only the investigator role can read it.</p>",
        ),
        (None, false) => body.push_str(
            "<p class=\"empty\" id=\"no-prompt\">No prompt was kept for this request.</p>",
        ),
    }
    Ok(body)
}
