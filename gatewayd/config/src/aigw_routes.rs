//! `[[aigw.routes]]` and `[aigw.breaker]`: a model name callers ask for that is served by an
//! ordered (or weighted) list of deployments — a provider and a model — with fallbacks to the
//! next one on errors, retries with backoff, a hard cap on attempts and a total deadline; and
//! the circuit breaker every deployment of a route runs behind.
//!
//! A target names a deployment the way callers do: a `[[aigw.models]]` name or alias,
//! `PROVIDER/MODEL`, or another route (whose targets are put in its place, in order).
//!
//! What this module must never do: load a route that cannot serve as written — a target
//! with an unknown provider or model, a loop of routes, a name that hides a model, or limits
//! that make a call unbounded in attempts or time.

use std::collections::BTreeSet;

use serde::Deserialize;

use crate::{AigwConfig, ConfigDuration};

/// The most deployments one route may try (after nested routes are put in place).
pub const MAX_ROUTE_TARGETS: usize = 16;
/// The hard cap on attempts of one call, whatever a route says.
pub const MAX_ROUTE_ATTEMPTS: u32 = 10;

/// How a route orders its targets for a call.
#[derive(Debug, Clone, Copy, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum RouteStrategy {
    /// As written: the first target serves, the next ones are fallbacks.
    #[default]
    Ordered,
    /// The first target is drawn by weight (10 % to a new model ...), the rest follow as
    /// fallbacks in weighted order.
    Weighted,
}

/// One deployment of a route.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct AigwRouteTarget {
    /// A `[[aigw.models]]` name or alias, `PROVIDER/MODEL`, or another route's name.
    pub model: String,
    /// `strategy = "weighted"` only: its share, 1-1000.
    pub weight: Option<u32>,
}

/// A model name served by a list of deployments, with fallbacks and retries.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct AigwRoute {
    /// The name callers ask for (`model` in their request); never a `[[aigw.models]]` name.
    pub name: String,
    #[serde(default)]
    pub strategy: RouteStrategy,
    pub targets: Vec<AigwRouteTarget>,
    /// Further tries of the same deployment after a failure worth retrying (429, 5xx, a
    /// timeout, no connection), before falling back to the next one; 0-5.
    #[serde(default)]
    pub retries: u32,
    /// The pause before the first retry; it doubles with each retry, and a provider's
    /// `retry-after` replaces it when it fits the deadline.
    #[serde(default = "default_backoff")]
    pub backoff: ConfigDuration,
    /// All attempts of one call together, fallbacks included.
    #[serde(default = "default_deadline")]
    pub deadline: ConfigDuration,
    /// The most attempts of one call; default: every target once plus its retries, at most
    /// `MAX_ROUTE_ATTEMPTS` (10).
    pub max_attempts: Option<u32>,
}

fn default_backoff() -> ConfigDuration {
    ConfigDuration(std::time::Duration::from_millis(250))
}

fn default_deadline() -> ConfigDuration {
    ConfigDuration::secs(60)
}

/// The circuit breaker of every deployment a route uses: `failures` within `window` open it;
/// an open deployment is skipped without a connection attempt for `cooldown`, then one call
/// probes it (half-open): success closes it, failure opens it again.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, default)]
pub struct AigwBreaker {
    pub failures: u32,
    pub window: ConfigDuration,
    pub cooldown: ConfigDuration,
}

impl Default for AigwBreaker {
    fn default() -> Self {
        Self {
            failures: 5,
            window: ConfigDuration::secs(60),
            cooldown: ConfigDuration::secs(30),
        }
    }
}

impl AigwRoute {
    /// The attempt cap a call of this route runs under.
    pub fn attempt_cap(&self, deployments: usize) -> u32 {
        self.max_attempts.unwrap_or_else(|| {
            let per = self.retries.saturating_add(1);
            u32::try_from(deployments)
                .unwrap_or(u32::MAX)
                .saturating_mul(per)
                .min(MAX_ROUTE_ATTEMPTS)
        })
    }
}

/// What one target of a route stands for, as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TargetRef<'a> {
    /// Another route: its targets take this one's place.
    Route(&'a AigwRoute),
    /// A deployment: the model name as a caller would ask for it.
    Model(&'a str),
}

/// What `target` names in `config`, or why it names nothing.
pub fn target_ref<'a>(config: &'a AigwConfig, target: &'a str) -> Result<TargetRef<'a>, String> {
    if let Some(route) = config.routes.iter().find(|r| r.name == target) {
        return Ok(TargetRef::Route(route));
    }
    if config
        .models
        .iter()
        .any(|m| m.name == target || m.aliases.iter().any(|a| a == target))
    {
        return Ok(TargetRef::Model(target));
    }
    match target.split_once('/') {
        Some((provider, model)) if !model.is_empty() => {
            if config.providers.iter().any(|p| p.name == provider) {
                Ok(TargetRef::Model(target))
            } else {
                Err(format!(
                    "target {target:?} names provider {provider:?}, which is not in aigw.providers"
                ))
            }
        }
        _ => Err(format!(
            "target {target:?} is neither a route, an aigw.models name or alias, nor PROVIDER/MODEL"
        )),
    }
}

/// The deployments `route` tries, in written order, nested routes put in place (weights of
/// a nested route's targets are its own target's weight); or the loop that makes it endless.
pub fn flatten<'a>(
    config: &'a AigwConfig,
    route: &'a AigwRoute,
) -> Result<Vec<(&'a str, u32)>, String> {
    let mut out = Vec::new();
    let mut path = vec![route.name.as_str()];
    walk(config, route, 1, &mut path, &mut out)?;
    Ok(out)
}

fn walk<'a>(
    config: &'a AigwConfig,
    route: &'a AigwRoute,
    weight: u32,
    path: &mut Vec<&'a str>,
    out: &mut Vec<(&'a str, u32)>,
) -> Result<(), String> {
    for target in &route.targets {
        let w = target.weight.unwrap_or(1).max(1).saturating_mul(weight);
        match target_ref(config, &target.model)? {
            TargetRef::Model(model) => out.push((model, w)),
            TargetRef::Route(next) => {
                if path.contains(&next.name.as_str()) {
                    path.push(&next.name);
                    return Err(format!("route loop: {}", path.join(" → ")));
                }
                path.push(&next.name);
                walk(config, next, w, path, out)?;
                path.pop();
            }
        }
        if out.len() > MAX_ROUTE_TARGETS {
            return Err(format!(
                "route {:?} has more than {MAX_ROUTE_TARGETS} deployments (nested routes counted)",
                path[0]
            ));
        }
    }
    Ok(())
}

/// Checks `[[aigw.routes]]` and `[aigw.breaker]`: the index of the route (`None` for the
/// breaker), the key to point at, and the message.
pub(crate) fn validate_routes(
    config: &AigwConfig,
) -> Result<(), (Option<usize>, &'static str, String)> {
    let b = &config.breaker;
    if !(1..=1000).contains(&b.failures) {
        return Err((
            None,
            "failures",
            "aigw.breaker.failures must be from 1 to 1000".into(),
        ));
    }
    for (key, d) in [("window", b.window.0), ("cooldown", b.cooldown.0)] {
        if d.is_zero() || d.as_secs() > 86_400 {
            return Err((
                None,
                key,
                format!("aigw.breaker.{key} must be from 1ms to 1d"),
            ));
        }
    }
    let models: BTreeSet<&str> = config
        .models
        .iter()
        .flat_map(|m| std::iter::once(&m.name).chain(&m.aliases))
        .map(String::as_str)
        .collect();
    let mut names = BTreeSet::new();
    for (i, r) in config.routes.iter().enumerate() {
        let at = |key, message: String| {
            Err((Some(i), key, format!("aigw.routes {:?}: {message}", r.name)))
        };
        let name_ok = !r.name.is_empty()
            && r.name.len() <= 200
            && r.name.bytes().all(|b| b.is_ascii_graphic());
        if !name_ok {
            return at(
                "name",
                "the name must be printable ASCII without spaces".into(),
            );
        }
        if models.contains(r.name.as_str()) {
            return at(
                "name",
                "the name is already an aigw.models name or alias; a route must not hide a model"
                    .into(),
            );
        }
        if r.name
            .split_once('/')
            .is_some_and(|(p, _)| config.providers.iter().any(|x| x.name == p))
        {
            return at("name", "the name looks like PROVIDER/MODEL of a configured provider; a route must not hide a model".into());
        }
        if !names.insert(r.name.as_str()) {
            return at("name", "the name is used twice".into());
        }
        if r.targets.is_empty() {
            return at("targets", "a route needs at least one target".into());
        }
        for t in &r.targets {
            match (r.strategy, t.weight) {
                (RouteStrategy::Weighted, None) => {
                    return at(
                        "targets",
                        format!(
                            "strategy = \"weighted\": target {:?} needs a weight (1-1000)",
                            t.model
                        ),
                    )
                }
                (RouteStrategy::Weighted, Some(w)) if !(1..=1000).contains(&w) => {
                    return at(
                        "targets",
                        format!("target {:?}: weight {w} must be from 1 to 1000", t.model),
                    )
                }
                (RouteStrategy::Ordered, Some(_)) => {
                    return at(
                        "targets",
                        format!(
                            "target {:?}: weight is for strategy = \"weighted\" only",
                            t.model
                        ),
                    )
                }
                _ => {}
            }
        }
        if let Err(e) = flatten(config, r) {
            return at("targets", e);
        }
        if r.retries > 5 {
            return at("retries", "retries must be from 0 to 5".into());
        }
        if r.backoff.0.as_secs() > 60 {
            return at("backoff", "backoff must be at most 60s".into());
        }
        if r.deadline.0.is_zero() || r.deadline.0.as_secs() > 600 {
            return at("deadline", "deadline must be from 1ms to 10m".into());
        }
        if let Some(cap) = r.max_attempts {
            if !(1..=MAX_ROUTE_ATTEMPTS).contains(&cap) {
                return at(
                    "max_attempts",
                    format!("max_attempts must be from 1 to {MAX_ROUTE_ATTEMPTS}"),
                );
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const BASE: &str = "[[aigw.providers]]\nname = \"a\"\nkind = \"openai\"\nbase_url = \"http://127.0.0.1:1/v1\"\n\
                        [[aigw.models]]\nname = \"fast\"\nprovider = \"a\"\n";

    fn check(routes: &str) -> Result<crate::Config, String> {
        let text = format!("{BASE}{routes}");
        let config: crate::Config = toml::from_str(&text).map_err(|e| e.to_string())?;
        validate_routes(&config.aigw).map_err(|(_, _, m)| m)?;
        Ok(config)
    }

    #[test]
    fn a_good_route_loads_with_its_defaults() {
        let c = check(
            "[[aigw.routes]]\nname = \"smart\"\ntargets = [{ model = \"a/gpt-4o\" }, { model = \"fast\" }]\nretries = 1\n",
        )
        .unwrap();
        let r = &c.aigw.routes[0];
        assert_eq!(r.attempt_cap(2), 4);
        assert_eq!(r.deadline, ConfigDuration::secs(60));
        assert_eq!(c.aigw.breaker.failures, 5);
    }

    #[test]
    fn loops_unknown_providers_and_unbounded_routes_are_refused_with_the_reason() {
        let err = |routes: &str| check(routes).unwrap_err();
        let e = err("[[aigw.routes]]\nname = \"x\"\ntargets = [{ model = \"y\" }]\n\
                     [[aigw.routes]]\nname = \"y\"\ntargets = [{ model = \"fast\" }, { model = \"x\" }]\n");
        assert!(e.contains("route loop: x → y → x"), "{e}");
        let e = err("[[aigw.routes]]\nname = \"x\"\ntargets = [{ model = \"x\" }]\n");
        assert!(e.contains("route loop: x → x"), "{e}");
        let e = err("[[aigw.routes]]\nname = \"x\"\ntargets = [{ model = \"nobody/gpt-4o\" }]\n");
        assert!(
            e.contains("provider \"nobody\", which is not in aigw.providers"),
            "{e}"
        );
        let e = err("[[aigw.routes]]\nname = \"x\"\ntargets = [{ model = \"gpt-4o\" }]\n");
        assert!(e.contains("neither a route"), "{e}");
        let e = err("[[aigw.routes]]\nname = \"fast\"\ntargets = [{ model = \"a/m\" }]\n");
        assert!(e.contains("must not hide a model"), "{e}");
        let e = err("[[aigw.routes]]\nname = \"a/m\"\ntargets = [{ model = \"a/n\" }]\n");
        assert!(e.contains("must not hide a model"), "{e}");
        let e = err("[[aigw.routes]]\nname = \"x\"\ntargets = []\n");
        assert!(e.contains("at least one target"), "{e}");
        let e = err("[[aigw.routes]]\nname = \"x\"\nstrategy = \"weighted\"\ntargets = [{ model = \"fast\" }]\n");
        assert!(e.contains("needs a weight"), "{e}");
        let e =
            err("[[aigw.routes]]\nname = \"x\"\ntargets = [{ model = \"fast\", weight = 3 }]\n");
        assert!(e.contains("weighted\" only"), "{e}");
        let e = err(
            "[[aigw.routes]]\nname = \"x\"\ntargets = [{ model = \"fast\" }]\nmax_attempts = 50\n",
        );
        assert!(e.contains("max_attempts must be from 1 to 10"), "{e}");
        let e = err(
            "[[aigw.routes]]\nname = \"x\"\ntargets = [{ model = \"fast\" }]\ndeadline = \"1h\"\n",
        );
        assert!(e.contains("deadline"), "{e}");
        let e =
            err("[[aigw.routes]]\nname = \"x\"\ntargets = [{ model = \"fast\" }]\nretries = 9\n");
        assert!(e.contains("retries"), "{e}");
        let e = err("[aigw.breaker]\nfailures = 0\n");
        assert!(e.contains("aigw.breaker.failures"), "{e}");
        let many: String = (0..17)
            .map(|i| format!("{{ model = \"a/m{i}\" }},"))
            .collect();
        let e = err(&format!(
            "[[aigw.routes]]\nname = \"x\"\ntargets = [{many}]\n"
        ));
        assert!(e.contains("more than 16"), "{e}");
        assert!(
            err("[[aigw.routes]]\nname = \"x\"\ntargets = [{ model = \"fast\" }]\nfoo = 1\n")
                .contains("unknown field")
        );
    }
}
