//! Route explain: which deployment would serve a model name for a caller (a virtual key's
//! allowed models), and why — the route's order or weights, which deployments the key may
//! not use, which circuits are open now. Read-only: it sends nothing and changes no breaker.
//!
//! Never: show a key (virtual keys are named by id and name only).

use serde_json::{json, Value};

use crate::routes::RouteTable;

use super::Fallbacks;

/// The explanation for `model` asked by a caller allowed `allowed` (empty: everything).
pub fn explain(
    table: &RouteTable,
    fallbacks: &Fallbacks,
    model: &str,
    allowed: &[String],
) -> Value {
    let Some(plan) = fallbacks.plans.get(model) else {
        return match table.resolve(model) {
            Some(route) => {
                let ok = table.allows(allowed, &route);
                json!({
                    "model": model,
                    "route": null,
                    "serves": if ok { json!(route.canonical) } else { Value::Null },
                    "why": if ok {
                        format!("{model:?} is not a route: {} serves it alone, without fallbacks or a breaker", route.canonical)
                    } else {
                        format!("this key may not use {model:?}")
                    },
                    "deployments": [{"deployment": route.canonical, "provider": route.provider.name, "allowed": ok, "circuit": "none"}],
                })
            }
            None => {
                json!({"model": model, "route": null, "serves": null, "why": format!("no model or route is named {model:?}"), "deployments": []})
            }
        };
    };
    let views = fallbacks.breakers.views();
    let circuit = |d: &str| {
        views
            .iter()
            .find(|v| v.deployment == d)
            .map_or(json!({"state": "closed"}), |v| json!(v))
    };
    let total: u64 = plan
        .deployments
        .iter()
        .filter(|(d, _)| table.allows(allowed, d))
        .map(|(_, w)| u64::from(*w))
        .sum();
    let mut serves = None;
    let mut why = Vec::new();
    let deployments: Vec<Value> = plan
        .deployments
        .iter()
        .enumerate()
        .map(|(i, (d, w))| {
            let ok = table.allows(allowed, d);
            let c = circuit(&d.canonical);
            let open = c["state"] == "open";
            if !ok {
                why.push(format!("{} is not allowed for this key", d.canonical));
            } else if open {
                why.push(format!("{} is skipped: its circuit is open", d.canonical));
            } else if serves.is_none() {
                serves = Some(d.canonical.clone());
            }
            let mut v = json!({
                "position": i + 1,
                "deployment": d.canonical,
                "provider": d.provider.name,
                "upstream_model": d.upstream_model,
                "allowed": ok,
                "circuit": c,
            });
            if plan.strategy == config::RouteStrategy::Weighted {
                let share = if ok && total > 0 {
                    f64::from(*w) * 100.0 / total as f64
                } else {
                    0.0
                };
                v["weight"] = json!(w);
                v["first_pick_percent"] = json!((share * 10.0).round() / 10.0);
            }
            v
        })
        .collect();
    let head = match (&serves, plan.strategy) {
        (None, _) => format!("no deployment of route {:?} can serve this caller now", plan.name),
        (Some(d), config::RouteStrategy::Ordered) => {
            format!("{d} serves: the first deployment, in route {:?}'s order, that this key may use and whose circuit is not open", plan.name)
        }
        (Some(_), config::RouteStrategy::Weighted) => "the first deployment is drawn by weight (first_pick_percent) among those this key may use; an open circuit is skipped to the next one drawn".to_string(),
    };
    why.insert(0, head);
    json!({
        "model": model,
        "route": plan.name,
        "strategy": match plan.strategy { config::RouteStrategy::Ordered => "ordered", config::RouteStrategy::Weighted => "weighted" },
        "serves": serves,
        "why": why,
        "retries": plan.retries,
        "max_attempts": plan.max_attempts,
        "deadline_ms": u64::try_from(plan.deadline.as_millis()).unwrap_or(u64::MAX),
        "deployments": deployments,
    })
}
