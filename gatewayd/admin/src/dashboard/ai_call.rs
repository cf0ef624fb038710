//! `/ai/calls/ID`: one call to the AI gateway — who called with which key, the model asked
//! and the deployment that answered, the route's attempts, fallbacks and failed attempts, the
//! status and error, tokens, cost and latency, and the DLP detectors it matched. The `/ai`
//! page's request ids link here (a call is in `ai_requests`, not among the proxy's events).
//!
//! Every value is escaped through `html`; nothing here reads a prompt or an answer.

use std::collections::BTreeMap;
use std::fmt::Write;

use super::html::{self, escape};
use super::pages::Page;
use crate::report_api::run_report;
use crate::view::ProxyView;
use report::table::plain;
use report::{number, ReportError};

/// Where call `id`'s page is.
pub fn href(id: &str) -> String {
    format!("/ai/calls/{}", report::form::encode(id))
}

/// The page body.
pub async fn page(proxy: &dyn ProxyView, id: &str) -> Page {
    let (done, _) = run_report(proxy, "ai-call", Some(id), &BTreeMap::new(), &[])
        .await
        .map_err(|e| {
            let status = match e {
                ReportError::Filter(_) => http::StatusCode::BAD_REQUEST,
                ReportError::NotFound(_) => http::StatusCode::NOT_FOUND,
                ReportError::Query(_) => http::StatusCode::BAD_GATEWAY,
            };
            (status, e.to_string())
        })?;
    let call = &done.json["call"];
    let text = |name: &str| plain(&call[name]);
    let or_dash = |value: String| {
        if value.is_empty() {
            "—".into()
        } else {
            value
        }
    };
    let mut body = String::from("<dl class=\"facts\" id=\"ai-call\">");
    let mut fact = |id: &str, label: &str, value: String| {
        let _ = write!(
            body,
            "<dt>{}</dt><dd id=\"call-{id}\">{value}</dd>",
            escape(label)
        );
    };
    fact("time", "Time (UTC)", escape(&text("time")));
    fact("request", "Request id", escape(&text("request_id")));
    let user = text("user");
    fact(
        "user",
        "User",
        if user.is_empty() {
            "— (unidentified)".into()
        } else {
            format!(
                "<a href=\"{}\">{}</a>{}",
                escape(&html::user_href(&user)),
                escape(&user),
                match text("team") {
                    team if team.is_empty() => String::new(),
                    team => format!(" · team {}", escape(&team)),
                }
            )
        },
    );
    fact("key", "Virtual key", escape(&or_dash(text("key"))));
    fact(
        "endpoint",
        "Endpoint",
        escape(&format!(
            "{} ({} dialect)",
            text("endpoint"),
            text("ingress")
        )),
    );
    let served = match text("model_served") {
        m if m.is_empty() => "—".to_string(),
        m => m,
    };
    fact(
        "model",
        "Model",
        escape(&format!(
            "asked {}, answered by {} / {}",
            or_dash(text("model_asked")),
            or_dash(text("provider")),
            served
        )),
    );
    let route = text("route");
    fact(
        "route",
        "Route",
        if route.is_empty() {
            "— (a model, not a route)".into()
        } else {
            escape(&format!(
                "{route}: deployment {}, {} attempts, {} fallbacks",
                or_dash(text("deployment")),
                number(&call["attempts"]),
                number(&call["fallbacks"])
            ))
        },
    );
    let failed: Vec<String> = call["attempt_errors"]
        .as_array()
        .map(|a| a.iter().map(plain).collect())
        .unwrap_or_default();
    fact(
        "attempt-errors",
        "Failed attempts",
        if failed.is_empty() {
            "none".into()
        } else {
            escape(&failed.join("; "))
        },
    );
    fact(
        "status",
        "Status",
        escape(&format!(
            "HTTP {}{}{}",
            text("status"),
            match text("error") {
                e if e.is_empty() => String::new(),
                e => format!(" · {e}"),
            },
            if number(&call["stream"]) == 1 {
                " · streamed"
            } else {
                ""
            }
        )),
    );
    let flags: Vec<String> = call["usage_flags"]
        .as_array()
        .map(|a| a.iter().map(plain).collect())
        .unwrap_or_default();
    fact(
        "tokens",
        "Tokens",
        escape(&format!(
            "{} in ({} cached) / {} out{}{}",
            html::count(number(&call["input_tokens"])),
            html::count(number(&call["cached_tokens"])),
            html::count(number(&call["output_tokens"])),
            if number(&call["usage_reported"]) == 1 {
                ", as the provider reported"
            } else {
                ", not reported by the provider"
            },
            if flags.is_empty() {
                String::new()
            } else {
                format!(" · flags: {}", flags.join(", "))
            }
        )),
    );
    fact(
        "cost",
        "Cost",
        escape(&match &call["cost_micro_usd"] {
            serde_json::Value::Null => format!("unknown ({})", text("cost_status")),
            micro => format!(
                "{} ({})",
                super::svg::money(number(micro) as f64 / 1e6),
                text("cost_status")
            ),
        }),
    );
    fact(
        "latency",
        "Latency",
        escape(&format!(
            "{} ms{}",
            text("latency_ms"),
            match &call["ttft_ms"] {
                serde_json::Value::Null => String::new(),
                t => format!(", first token after {} ms", plain(t)),
            }
        )),
    );
    let detectors: Vec<String> = call["dlp_detectors"]
        .as_array()
        .map(|a| a.iter().map(plain).collect())
        .unwrap_or_default();
    fact(
        "dlp",
        "DLP",
        if detectors.is_empty() {
            "nothing found".into()
        } else {
            escape(&format!("{}: {}", text("dlp_action"), detectors.join(", ")))
        },
    );
    body.push_str("</dl><p><a href=\"/ai\">Back to the AI gateway</a></p>");
    Ok(body)
}
