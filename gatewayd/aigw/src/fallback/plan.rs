//! A route's plan: its deployments (resolved once, at start, to the providers and models the
//! gateway calls), how a call orders them (as written, or the first drawn by weight), and the
//! retry, attempt and time limits it runs under.
//!
//! Never: order in a deployment the caller may not use (a key limited to `openai/*` asking
//! for a route is served only by the route's `openai` deployments).

use std::collections::BTreeMap;
use std::time::Duration;

use config::{AigwConfig, RouteStrategy};
use rand::Rng;

use crate::routes::{Route, RouteTable};

/// One route, ready to serve.
#[derive(Debug)]
pub struct RoutePlan {
    pub name: String,
    pub strategy: RouteStrategy,
    /// The deployments as written (nested routes in place), each with its weight.
    pub deployments: Vec<(Route, u32)>,
    pub retries: u32,
    pub backoff: Duration,
    pub deadline: Duration,
    pub max_attempts: u32,
}

impl RoutePlan {
    /// The deployments a call of `allowed` (a key's models; empty: all) tries, in order:
    /// as written, or drawn by weight without replacement (`draw` in `0.0..1.0` per pick).
    pub fn order(
        &self,
        table: &RouteTable,
        allowed: &[String],
        mut draw: impl FnMut() -> f64,
    ) -> Vec<Route> {
        let mut pool: Vec<&(Route, u32)> = self
            .deployments
            .iter()
            .filter(|(d, _)| table.allows(allowed, d))
            .collect();
        if self.strategy == RouteStrategy::Ordered {
            return pool.into_iter().map(|(d, _)| d.clone()).collect();
        }
        let mut out = Vec::with_capacity(pool.len());
        while !pool.is_empty() {
            let total: u64 = pool.iter().map(|(_, w)| u64::from(*w)).sum();
            // A float in [0, 1) scaled to the total weight picks one deployment.
            let mut at = (draw().clamp(0.0, 0.999_999) * total as f64) as u64;
            let mut pick = pool.len() - 1;
            for (i, (_, w)) in pool.iter().enumerate() {
                if at < u64::from(*w) {
                    pick = i;
                    break;
                }
                at -= u64::from(*w);
            }
            out.push(pool.remove(pick).0.clone());
        }
        out
    }

    /// [`RoutePlan::order`] with the thread's random numbers.
    pub fn order_random(&self, table: &RouteTable, allowed: &[String]) -> Vec<Route> {
        let mut rng = rand::rng();
        self.order(table, allowed, || rng.random::<f64>())
    }
}

/// Every configured route's plan, by name.
pub fn plans(
    config: &AigwConfig,
    table: &RouteTable,
) -> Result<BTreeMap<String, RoutePlan>, String> {
    let mut out = BTreeMap::new();
    for r in &config.routes {
        let flat = config::flatten_route(config, r)
            .map_err(|e| format!("aigw.routes {:?}: {e}", r.name))?;
        let mut deployments = Vec::with_capacity(flat.len());
        for (target, weight) in flat {
            let mut route = table.resolve(target).ok_or_else(|| {
                format!(
                    "aigw.routes {:?}: target {target:?} serves no model",
                    r.name
                )
            })?;
            // Callers asked for the route: permissions and logs name it.
            route.asked = r.name.clone();
            deployments.push((route, weight));
        }
        let cap = r.attempt_cap(deployments.len());
        out.insert(
            r.name.clone(),
            RoutePlan {
                name: r.name.clone(),
                strategy: r.strategy,
                deployments,
                retries: r.retries,
                backoff: r.backoff.0,
                deadline: r.deadline.0,
                max_attempts: cap,
            },
        );
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(routes: &str) -> config::Config {
        toml::from_str(&format!(
            r#"
            [[aigw.providers]]
            name = "a"
            kind = "openai"
            base_url = "http://127.0.0.1:1/v1"
            [[aigw.providers]]
            name = "b"
            kind = "anthropic"
            base_url = "http://127.0.0.1:2/v1"
            [[aigw.models]]
            name = "claude"
            provider = "b"
            model = "claude-sonnet-4-5"
            {routes}
            "#
        ))
        .unwrap()
    }

    #[test]
    fn ordered_weighted_nested_and_filtered_by_the_key() {
        let c = config(
            r#"
            [[aigw.routes]]
            name = "smart"
            targets = [{ model = "a/gpt-4o" }, { model = "backup" }]
            [[aigw.routes]]
            name = "backup"
            targets = [{ model = "claude" }, { model = "a/gpt-4o-mini" }]
            [[aigw.routes]]
            name = "split"
            strategy = "weighted"
            targets = [{ model = "a/new", weight = 10 }, { model = "a/old", weight = 90 }]
            "#,
        );
        let table = RouteTable::new(&c.aigw);
        let plans = plans(&c.aigw, &table).unwrap();
        let names = |v: Vec<Route>| v.into_iter().map(|r| r.canonical).collect::<Vec<_>>();
        let smart = &plans["smart"];
        assert_eq!(
            names(smart.order(&table, &[], || 0.5)),
            ["a/gpt-4o", "b/claude-sonnet-4-5", "a/gpt-4o-mini"]
        );
        assert_eq!(smart.max_attempts, 3);
        assert_eq!(smart.deployments[1].0.asked, "smart");
        // A key limited to provider a gets only a's deployments; one allowed the route all.
        assert_eq!(
            names(smart.order(&table, &["a/*".into()], || 0.5)),
            ["a/gpt-4o", "a/gpt-4o-mini"]
        );
        assert_eq!(smart.order(&table, &["smart".into()], || 0.5).len(), 3);
        let split = &plans["split"];
        assert_eq!(names(split.order(&table, &[], || 0.05)), ["a/new", "a/old"]);
        assert_eq!(names(split.order(&table, &[], || 0.5)), ["a/old", "a/new"]);
        // The route's name resolves to its first deployment (other endpoints, /v1/models).
        assert_eq!(table.resolve("smart").unwrap().canonical, "a/gpt-4o");
    }
}
