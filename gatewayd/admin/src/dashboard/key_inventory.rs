//! `/ai-keys`: the AI key inventory — how many AI API keys were active in the range, by
//! provider, personal vs org-managed, new this week, shared by several users or devices, and
//! the organisation's own keys seen outside the AI gateway — from the `ai-keys` report
//! (`ai_keys_seen`), the keys' anomalies (new country, many users) and the calls a `route`
//! rule sent through the AI gateway (or, in a dry run, would have). The filter bar's user and
//! group narrow the lists to the keys those people used. Keys appear as fingerprints and last
//! four characters only.

use std::collections::BTreeMap;
use std::fmt::Write;

use serde_json::Value;

use super::html::{self, card, count, escape};
use super::pages::{export_link, run, side_table, since_of, Page};
use crate::view::ProxyView;
use report::number;
use report::table::Table;

/// What the by-provider table shows.
const PROVIDER_COLUMNS: [&str; 6] = [
    "provider",
    "keys",
    "personal_keys",
    "org_managed_keys",
    "shared_keys",
    "total_requests",
];

/// What the keys-found-in-prompts table shows.
const PROMPT_COLUMNS: [&str; 6] = [
    "fingerprint",
    "detector",
    "findings",
    "users",
    "last_found",
    "in_inventory",
];

/// The focused lists: table id, title, the flag a key must have, and what it means.
const FOCUS: [(&str, &str, &str, &str); 3] = [
    (
        "org_outside",
        "Org-managed keys used outside the AI gateway",
        "org_managed",
        "One of the AI gateway's own provider keys was sent to a provider directly: it has \
         left the gateway. Rotate it (gatewayd keys rotate).",
    ),
    (
        "shared",
        "Shared keys",
        "shared",
        "Used by several users or devices: a key passed around.",
    ),
    (
        "new",
        "New this week",
        "new_this_week",
        "First seen in the seven days before the range's end.",
    ),
];

pub async fn page(proxy: &dyn ProxyView, pairs: &BTreeMap<String, String>) -> Page {
    let (done, filter) = run(proxy, "ai-keys", None, pairs).await?;
    let json = &done.json;
    let totals = &json["totals"];
    let mut body = html::filter_bar("/ai-keys", &filter, &since_of(pairs, "ai-keys"));
    body.push_str("<div class=\"cards\">");
    body.push_str(&card(
        "Active AI keys",
        &count(number(&totals["active_keys"])),
        &format!(
            "{} personal, {} org-managed",
            count(number(&totals["personal_keys"])),
            count(number(&totals["org_managed_keys"]))
        ),
    ));
    body.push_str(&card(
        "New this week",
        &count(number(&totals["new_this_week"])),
        "first seen in the last 7 days",
    ));
    body.push_str(&card(
        "Shared keys",
        &count(number(&totals["shared_keys"])),
        "several users or devices",
    ));
    body.push_str(&card(
        "Org keys outside the gateway",
        &count(number(&totals["org_managed_keys"])),
        "the AI gateway's keys sent directly",
    ));
    let routing = &json["routing"];
    body.push_str(&card(
        "Routed to the AI gateway",
        &count(number(&routing["routed"])),
        &format!(
            "{} more would be (dry run)",
            count(number(&routing["would_route"]))
        ),
    ));
    body.push_str("</div>");
    let anomalies = json["anomalies"].as_array().cloned().unwrap_or_default();
    if !anomalies.is_empty() {
        body.push_str("<h2>Key anomalies</h2><ul class=\"anomalies\" id=\"key-anomalies\">");
        for anomaly in &anomalies {
            let kind = anomaly["kind"].as_str().unwrap_or("").replace('_', " ");
            let text = anomaly["description"].as_str().unwrap_or("");
            let _ = write!(body, "<li><b>{}</b> {}</li>", escape(&kind), escape(text));
        }
        body.push_str("</ul>");
    }
    body.push_str("<h2>By provider</h2>");
    let providers = json["by_provider"].as_array().cloned().unwrap_or_default();
    body.push_str(&side_table(
        pairs,
        "/ai-keys",
        "by_provider",
        Table::from_objects(&PROVIDER_COLUMNS, &providers),
    )?);
    let keys = json["keys"].as_array().cloned().unwrap_or_default();
    for (id, title, flag, note) in FOCUS {
        let rows: Vec<Value> = keys
            .iter()
            .filter(|k| number(&k[flag]) == 1)
            .cloned()
            .collect();
        let _ = write!(
            body,
            "<h2>{}</h2><p class=\"note\">{}</p>",
            escape(title),
            escape(note)
        );
        body.push_str(&side_table(
            pairs,
            "/ai-keys",
            id,
            Table::from_objects(&report::ai_keys::WHO_COLUMNS, &rows),
        )?);
    }
    let prompts = json["found_in_prompts"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    body.push_str(
        "<h2>Keys found in prompts</h2><p class=\"note\">AI keys DLP found pasted into \
         prompts, by the same fingerprint: in_inventory = 1 when the key was also used \
         against an AI API.</p>",
    );
    body.push_str(&side_table(
        pairs,
        "/ai-keys",
        "prompts",
        Table::from_objects(&PROMPT_COLUMNS, &prompts),
    )?);
    body.push_str("<h2>All keys</h2>");
    body.push_str(&side_table(
        pairs,
        "/ai-keys",
        "keys",
        Table::from_objects(&report::ai_keys::WHO_COLUMNS, &keys),
    )?);
    body.push_str(&export_link("ai-keys", None, pairs));
    Ok(body)
}
