//! `gatewayd aigw explain --model NAME [--key ID|NAME] [--json]`: which deployment a route
//! (`[[aigw.routes]]`) would send a caller to, and why — its order or weights, the
//! deployments the virtual key may not use, the retry, attempt and time limits — from the
//! configuration and the keys in the state directory. Circuits are shown closed: their live
//! state is the running gateway's (`GET /api/v1/aigw/explain`).
//!
//! Never: show a key (virtual keys are named by id or name).

use std::process::ExitCode;

use aigw::fallback::Fallbacks;
use aigw::routes::RouteTable;
use aigw::vkeys::VirtualKeys;
use config::Config;
use serde_json::Value;

use super::output::line;
use super::state::existing_state;

/// Prints the explanation; exit 2 for an unknown key or a route table that cannot load.
pub fn explain(
    config: &Config,
    model: &str,
    key: Option<&str>,
    json: bool,
) -> anyhow::Result<ExitCode> {
    let allowed = match key {
        None => Vec::new(),
        Some(key) => {
            let keys = VirtualKeys::load(existing_state(config)?).map_err(anyhow::Error::msg)?;
            match keys
                .list()
                .into_iter()
                .find(|k| k.id == key || k.name == key)
            {
                Some(found) => found.models,
                None => {
                    eprintln!("gatewayd: no virtual key has that id or name (`gatewayd aigw keys list` shows them)");
                    return Ok(ExitCode::from(2));
                }
            }
        }
    };
    let table = RouteTable::new(&config.aigw);
    let fallbacks = match Fallbacks::new(&config.aigw, &table) {
        Ok(f) => f,
        Err(error) => {
            eprintln!("gatewayd: {error}");
            return Ok(ExitCode::from(2));
        }
    };
    let out = aigw::fallback::explain::explain(&table, &fallbacks, model, &allowed);
    if json {
        line(format_args!("{out}"));
        return Ok(ExitCode::SUCCESS);
    }
    let text = |v: &Value| v.as_str().map_or_else(|| v.to_string(), str::to_string);
    line(format_args!("model:  {model}"));
    line(format_args!("route:  {}", text(&out["route"])));
    line(format_args!("serves: {}", text(&out["serves"])));
    let why = match &out["why"] {
        Value::Array(lines) => lines.iter().map(text).collect(),
        other => vec![text(other)],
    };
    for w in why {
        line(format_args!("  - {w}"));
    }
    if let Some(deployments) = out["deployments"].as_array() {
        for d in deployments {
            line(format_args!(
                "  {:>2}. {:<40} allowed={}{}",
                text(&d["position"]),
                text(&d["deployment"]),
                d["allowed"],
                // A route without weights (a fallback order) has none to show.
                match &d["weight"] {
                    Value::Null => String::new(),
                    w => format!(" weight={}", text(w)),
                }
            ));
        }
    }
    if !out["route"].is_null() {
        line(format_args!(
            "retries per deployment: {}, attempts at most: {}, deadline: {} ms; circuits as configured (closed): the running gateway's are at GET /api/v1/aigw/explain",
            out["retries"], out["max_attempts"], out["deadline_ms"]
        ));
    }
    Ok(ExitCode::SUCCESS)
}
