//! `/ai`: the AI gateway page — spend, calls and tokens over the range, spend by model as a
//! chart, the spend and latency by virtual key, team, user, model and provider, and the
//! latest calls, from the `ai` report (`ai_requests` and its rollups). Costs are in US dollars from the price table; calls with no
//! known cost are counted beside the spend, never shown as free.

use std::collections::BTreeMap;
use std::fmt::Write;

use super::html::{self, card, count, escape};
use super::pages::{export_link, run, side_table, since_of, Page};
use super::session::Session;
use super::svg;
use crate::view::ProxyView;
use report::number;
use report::table::{plain, Table};

/// The spend columns each grouping shows.
const SPEND: [&str; 10] = [
    "name",
    "calls",
    "input_tokens",
    "output_tokens",
    "cached_tokens",
    "spend_usd",
    "unpriced_calls",
    "errors",
    "latency_p50_ms",
    "latency_p99_ms",
];

/// Dollars as the cards show them (micro-dollar precision below a cent).
fn dollars(micro: u64) -> String {
    if micro < 10_000 && micro > 0 {
        format!("${:.6}", micro as f64 / 1e6)
    } else {
        format!("${:.2}", micro as f64 / 1e6)
    }
}

pub async fn page(
    proxy: &dyn ProxyView,
    session: &Session,
    pairs: &BTreeMap<String, String>,
) -> Page {
    let (done, filter) = run(proxy, "ai", None, pairs).await?;
    let json = &done.json;
    let totals = &json["totals"];
    let mut body = String::new();
    if session.principal.role.manages_keys() && proxy.ai_keys().is_some() {
        body.push_str(
            "<p id=\"key-links\"><a href=\"/ai/keys\">Virtual keys</a> · \
             <a href=\"/ai/provider-keys\">Provider keys</a></p>",
        );
    }
    body.push_str(&html::who_filter_bar(
        "/ai",
        &filter,
        &since_of(pairs, "ai"),
    ));
    let unpriced = number(&totals["unpriced_calls"]);
    body.push_str("<div class=\"cards\">");
    body.push_str(&card(
        "Spend",
        &dollars(number(&totals["spend_micro_usd"])),
        &if unpriced > 0 {
            match unpriced {
                1 => "1 call without a known cost is not included".to_string(),
                n => format!("{} calls without a known cost are not included", count(n)),
            }
        } else {
            "every call priced".to_string()
        },
    ));
    body.push_str(&card("Calls", &count(number(&totals["calls"])), &{
        let suspect = number(&totals["suspect_calls"]);
        let mut line = format!("{} errors", count(number(&totals["errors"])));
        if suspect > 0 {
            line.push_str(&format!(
                ", {} with impossible usage from the provider",
                count(suspect)
            ));
        }
        line
    }));
    body.push_str(&card(
        "Tokens in / out",
        &format!(
            "{} / {}",
            count(number(&totals["input_tokens"])),
            count(number(&totals["output_tokens"]))
        ),
        &format!("{} cached", count(number(&totals["cached_tokens"]))),
    ));
    body.push_str(&card(
        "Users",
        &count(number(&totals["users"])),
        "distinct identified callers (keys, proxy or device users)",
    ));
    body.push_str("</div>");
    let by_model = json["by_model"].as_array().cloned().unwrap_or_default();
    body.push_str("<h2>Spend by model (US dollars)</h2>");
    body.push_str(&svg::money_bar_chart(
        "Spend by model",
        &by_model
            .iter()
            .map(|m| {
                (
                    plain(&m["name"]),
                    number(&m["spend_micro_usd"]) as f64 / 1e6,
                )
            })
            .collect::<Vec<_>>(),
    ));
    for (key, title) in [
        ("by_key", "By virtual key"),
        ("by_team", "By team"),
        ("by_user", "By user"),
        ("by_model", "By model"),
        ("by_provider", "By provider"),
    ] {
        let rows = json[key].as_array().cloned().unwrap_or_default();
        let _ = write!(body, "<h2>{}</h2>", escape(title));
        body.push_str(&side_table(
            pairs,
            "/ai",
            key,
            Table::from_objects(&SPEND, &rows),
        )?);
    }
    // Costs in dollars like every other column of the page (the report keeps micro-dollars,
    // exact, for the API and CSV), streams as words.
    let calls: Vec<serde_json::Value> = json["calls"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .into_iter()
        .map(|mut call| {
            let usd = match &call["cost_micro_usd"] {
                serde_json::Value::Null => serde_json::Value::Null,
                micro => serde_json::json!(number(micro) as f64 / 1e6),
            };
            call["cost_usd"] = usd;
            let streamed = number(&call["stream"]) == 1;
            call["stream"] = serde_json::json!(if streamed { "yes" } else { "no" });
            call
        })
        .collect();
    let columns = report::ai::CALL_COLUMNS.map(|c| match c {
        "cost_micro_usd" => "cost_usd",
        other => other,
    });
    body.push_str("<h2>Latest calls</h2>");
    // The shared table links request ids to the proxy's events; an AI gateway call has its
    // own page.
    let table = side_table(pairs, "/ai", "calls", Table::from_objects(&columns, &calls))?;
    body.push_str(&ai_links(&table));
    body.push_str(&export_link("ai", None, pairs));
    Ok(body)
}

/// The latest calls' request ids linked to their AI call pages (the shared table links
/// request ids to the proxy's events, and renders no other `/events/` link).
fn ai_links(table: &str) -> String {
    table.replace("href=\"/events/", "href=\"/ai/calls/")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_costs_keep_their_digits() {
        assert_eq!(dollars(0), "$0.00");
        assert_eq!(dollars(8), "$0.000008");
        assert_eq!(dollars(1_234_567), "$1.23");
    }
}
