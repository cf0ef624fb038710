//! Upstream failures on the dashboard, apart from blocks: the overview's Errors card, the
//! apps list's Errors cell (each a link), and `/errors[/APP]`, the failing transactions
//! themselves (each linked to its event page), with how many each app had.
//!
//! A failure is what the gateway could not serve (DNS, connection, timeout): nothing was
//! blocked, and nothing here says so. Every value is escaped through `html`.

use std::collections::BTreeMap;
use std::fmt::Write;

use serde_json::Value;

use super::html::{self, count, escape};
use super::pages::{keep, main_sorting, run, side_table, since_of, Page};
use crate::view::ProxyView;
use report::table::Table;
use report::{form, number};

/// Where the failing events of `app` (all apps when `None`) are listed, keeping the filter.
pub(super) fn href(app: Option<&str>, pairs: &BTreeMap<String, String>) -> String {
    let path = match app {
        Some(id) => format!("/errors/{}", form::encode(id)),
        None => "/errors".to_string(),
    };
    let query = keep(pairs);
    if query.is_empty() {
        path
    } else {
        format!("{path}?{query}")
    }
}

/// The overview's card: failures in the range, linked to their list.
pub(super) fn card(errors: u64, before: u64, pairs: &BTreeMap<String, String>) -> String {
    let note = if before == 0 {
        "upstream failures, not blocks".to_string()
    } else {
        format!("upstream failures, not blocks ({} before)", count(before))
    };
    format!(
        "<div class=\"card\" id=\"errors-card\"><div class=\"label\">Errors</div>\
         <div class=\"value\"><a href=\"{}\">{}</a></div><div class=\"note\">{}</div></div>",
        escape(&href(None, pairs)),
        count(errors),
        escape(&note)
    )
}

/// The apps list's cell: the app's failures, linked to them when there are any.
pub(super) fn cell(app_id: &str, errors: &Value, pairs: &BTreeMap<String, String>) -> String {
    let n = number(errors);
    if n == 0 {
        return format!("<td class=\"num\">{}</td>", html::cell("errors", errors));
    }
    format!(
        "<td class=\"num\"><a class=\"errors\" href=\"{}\">{}</a></td>",
        escape(&href(Some(app_id), pairs)),
        count(n)
    )
}

/// `/errors` and `/errors/APP`: the failing transactions, newest first.
pub async fn page(
    proxy: &dyn ProxyView,
    app: Option<&str>,
    pairs: &BTreeMap<String, String>,
) -> Page {
    let (done, filter) = run(proxy, "errors", app, pairs).await?;
    let path = match app {
        Some(id) => format!("/errors/{}", form::encode(id)),
        None => "/errors".to_string(),
    };
    let mut body = html::filter_bar(&path, &filter, &since_of(pairs, "errors"));
    let json = &done.json;
    let _ = write!(
        body,
        "<p id=\"errors-summary\">{} transactions the gateway could not serve{} (the \
         upstream failed or did not answer). Nothing was blocked: these are not counted as \
         blocks.</p>",
        count(number(&json["total"])),
        match app {
            Some(id) => format!(" for {}", escape(id)),
            None => String::new(),
        }
    );
    let apps = json["apps"].as_array().cloned().unwrap_or_default();
    body.push_str("<h2>By app</h2><div id=\"errors-by-app\">");
    body.push_str(&side_table(
        pairs,
        &path,
        "apps",
        Table::from_objects(&["app_id", "name", "errors", "last_seen"], &apps),
    )?);
    body.push_str("</div><h2>Failing requests</h2><div id=\"errors\">");
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
    links.push_str("</p>");
    body.push_str(&links);
    if app.is_some() {
        let _ = write!(
            body,
            "<p class=\"links\"><a href=\"{}\">All apps' errors</a></p>",
            escape(&href(None, pairs))
        );
    }
    Ok(body)
}
