//! The budget and rate-limit phase (between route and DLP): reserve, then settle.
//!
//! Before a call, [`Governor::admit`] finds the budgets and limits (`[[aigw.budgets]]`,
//! `[[aigw.limits]]`) whose scope the call is in, estimates the most it can cost
//! ([`estimate`]: input bounded by the body's bytes, output by its cap), and reserves that on
//! every counter at once ([`store::CounterStore::reserve`], all or nothing). A call that would
//! pass any is refused with a 429 in the caller's dialect: `budget_exceeded` for a budget,
//! `rate_limit_exceeded` (with `x-ratelimit-*` headers) for a limit, naming the budget or
//! limit, its scope and when it resets, with `retry-after`. After the call, the log phase
//! settles the [`Admission`] to what the provider reported — the one cost `call_log`
//! computes — and the rest of the reservation is released. A call that never reached the
//! provider, or that the provider refused, settles to what it reported (nothing, usually); a
//! call cut or abandoned mid-answer, whose usage is not known, settles to its whole
//! reservation (what the provider may bill). Threshold alerts (50/80/100 % by default) are
//! logged and counted when a settlement crosses them.
//!
//! Never: let concurrent calls together pass a budget (reservations are atomic and bound
//! the cost), settle a reservation twice or not at all (`Admission` settles on drop if no one
//! did), or admit a call a currency budget applies to without a price to bound it.

pub mod estimate;
pub mod rebuild;
pub mod shared;
pub mod store;
pub mod view;
pub mod window;

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use config::{AigwConfig, AigwScope, BudgetWindow};
use serde_json::Value;

use crate::call_log::CallRecord;
use crate::cost::Cost;
use crate::error::CallError;
use crate::prices::PriceTable;
use crate::routes::Route;
use crate::vkeys::Caller;
use store::{Claim, CounterStore, Held, MemoryStore, Refused};
use window::{rfc3339, Window};

/// What a rule counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Measure {
    MicroUsd,
    Tokens,
    Requests,
    InFlight,
}

/// One budget, or one metric of a limit.
#[derive(Debug)]
pub struct Rule {
    /// A budget (else a rate limit).
    pub budget: bool,
    pub name: String,
    /// `usd`, `tokens`, `requests_per_minute` ...
    pub metric: &'static str,
    pub scope: AigwScope,
    pub matches: Option<String>,
    pub measure: Measure,
    pub window: Window,
    pub limit: u64,
    pub alerts: Vec<u8>,
    alerted: Vec<AtomicU64>,
    refused: AtomicU64,
}

impl Rule {
    /// Reserved before the body is read: a request rate or a concurrency cap whose scope
    /// does not depend on the route.
    fn early(&self) -> bool {
        !self.budget
            && matches!(self.measure, Measure::Requests | Measure::InFlight)
            && !matches!(self.scope, AigwScope::Provider | AigwScope::Model)
    }
}

/// The budgets and limits in force and their counters.
pub struct Governor {
    pub rules: Vec<Rule>,
    pub store: Arc<dyn CounterStore>,
    default_max_output: u64,
    /// `aigw.url_document_reserve_tokens`: what a document given by URL or file id reserves.
    reference_doc_tokens: u64,
}

/// Unix seconds now.
pub fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

fn rule(
    budget: bool,
    name: &str,
    metric: &'static str,
    scope: AigwScope,
    matches: &Option<String>,
) -> Rule {
    Rule {
        budget,
        name: name.to_string(),
        metric,
        scope,
        matches: matches.clone(),
        measure: Measure::Requests,
        window: Window::InFlight,
        limit: 0,
        alerts: Vec::new(),
        alerted: Vec::new(),
        refused: AtomicU64::new(0),
    }
}

impl Governor {
    /// The rules of `config` over the embedded store; `None` when there are none.
    /// With `[aigw.shared] redis`, the counters are on Redis (`shared`).
    pub fn new(config: &AigwConfig) -> Result<Option<Arc<Self>>, String> {
        match shared::SharedStore::from_config(config)? {
            Some(store) => Self::with_store(config, Arc::new(store)),
            None => Self::with_store(config, Arc::new(MemoryStore::default())),
        }
    }

    /// The rules of `config` over `store`.
    pub fn with_store(
        config: &AigwConfig,
        store: Arc<dyn CounterStore>,
    ) -> Result<Option<Arc<Self>>, String> {
        let mut rules = Vec::new();
        for b in &config.budgets {
            let window = match BudgetWindow::parse(&b.window)? {
                BudgetWindow::Day => Window::Day,
                BudgetWindow::Month => Window::Month,
                BudgetWindow::Rolling(secs) => Window::Rolling(secs),
            };
            let (measure, metric, limit) = match (b.usd, b.tokens) {
                // Validated: finite, positive, at most 1e9 dollars.
                (Some(usd), _) => (Measure::MicroUsd, "usd", (usd * 1e6).round() as u64),
                (None, Some(tokens)) => (Measure::Tokens, "tokens", tokens),
                (None, None) => return Err(format!("aigw.budgets {:?}: no amount", b.name)),
            };
            let mut r = rule(true, &b.name, metric, b.scope, &b.matches);
            r.measure = measure;
            r.window = window;
            r.limit = limit;
            r.alerted = b.alerts.iter().map(|_| AtomicU64::new(0)).collect();
            r.alerts = b.alerts.clone();
            rules.push(r);
        }
        for l in &config.limits {
            for (metric, value) in l.fields() {
                let Some(limit) = value else { continue };
                let (measure, window) = match metric {
                    "requests_per_minute" => (Measure::Requests, Window::Fixed(60)),
                    "requests_per_hour" => (Measure::Requests, Window::Fixed(3600)),
                    "tokens_per_minute" => (Measure::Tokens, Window::Fixed(60)),
                    "tokens_per_hour" => (Measure::Tokens, Window::Fixed(3600)),
                    _ => (Measure::InFlight, Window::InFlight),
                };
                let mut r = rule(false, &l.name, metric, l.scope, &l.matches);
                r.measure = measure;
                r.window = window;
                r.limit = limit;
                rules.push(r);
            }
        }
        if rules.is_empty() {
            return Ok(None);
        }
        Ok(Some(Arc::new(Self {
            rules,
            store,
            default_max_output: config.default_max_output_tokens,
            reference_doc_tokens: config.url_document_reserve_tokens,
        })))
    }

    /// Phase 3½: reserves the call's most on every budget and limit it is in, or refuses it.
    /// `Ok(None)`: nothing applies.
    pub fn admit(
        self: &Arc<Self>,
        caller: &Caller,
        route: &Route,
        body: &mut Value,
        record: &CallRecord,
        prices: &PriceTable,
    ) -> Result<Option<Admission>, CallError> {
        self.admit_route(caller, route, &[], body, record, prices)
    }

    /// [`Governor::admit`] for a call that may fall back to `fallbacks` (a route's other
    /// deployments, `crate::fallback`): its most in dollars is the dearest deployment's, so
    /// no fallback can cost more than was reserved.
    pub fn admit_route(
        self: &Arc<Self>,
        caller: &Caller,
        route: &Route,
        fallbacks: &[Route],
        body: &mut Value,
        record: &CallRecord,
        prices: &PriceTable,
    ) -> Result<Option<Admission>, CallError> {
        self.admit_after(None, caller, route, fallbacks, body, record, prices)
    }

    /// Before the body is read: reserves on the request-rate and concurrency limits whose
    /// scope the caller alone decides (all, key, user, team, tag), so that a caller over
    /// them is refused before its body costs memory. `Ok(None)`: none applies.
    pub fn admit_early(self: &Arc<Self>, caller: &Caller) -> Result<Option<Admission>, CallError> {
        let applies = self.applies(caller, None, |r| r.early());
        self.reserve(applies, 0, 0)
    }

    /// [`Governor::admit_route`] for a call `early` ([`Governor::admit_early`]) already
    /// reserved on: the other rules, merged into one admission.
    #[allow(clippy::too_many_arguments)]
    pub fn admit_after(
        self: &Arc<Self>,
        early: Option<Admission>,
        caller: &Caller,
        route: &Route,
        fallbacks: &[Route],
        body: &mut Value,
        record: &CallRecord,
        prices: &PriceTable,
    ) -> Result<Option<Admission>, CallError> {
        let skip_early = early.is_some();
        let applies = self.applies(caller, Some(route), |r| !(skip_early && r.early()));
        let later = self.admit_sized(applies, route, fallbacks, body, record, prices)?;
        Ok(match (early, later) {
            (Some(mut early), Some(mut later)) => {
                early.rules.append(&mut later.rules);
                early.held.append(&mut later.held);
                later.settled = true;
                Some(early)
            }
            (early, later) => early.or(later),
        })
    }

    /// The counters of the rules `which` picks that this call is in.
    fn applies(
        &self,
        caller: &Caller,
        route: Option<&Route>,
        which: impl Fn(&Rule) -> bool,
    ) -> Vec<(usize, String)> {
        let mut applies: Vec<(usize, String)> = Vec::new();
        for (i, r) in self.rules.iter().enumerate() {
            if !which(r) {
                continue;
            }
            for value in scope_values(r.scope, r.matches.as_deref(), caller, route) {
                let key = format!("{} {} {}:{value}", r.name, r.metric, r.scope.as_str());
                if !applies.iter().any(|(_, k)| *k == key) {
                    applies.push((i, key));
                }
            }
        }
        applies
    }

    fn admit_sized(
        self: &Arc<Self>,
        applies: Vec<(usize, String)>,
        route: &Route,
        fallbacks: &[Route],
        body: &mut Value,
        record: &CallRecord,
        prices: &PriceTable,
    ) -> Result<Option<Admission>, CallError> {
        if applies.is_empty() {
            return Ok(None);
        }
        let sized = applies
            .iter()
            .any(|(i, _)| matches!(self.rules[*i].measure, Measure::Tokens | Measure::MicroUsd));
        let (mut tokens, mut micro) = (0, 0);
        if sized {
            let cap = estimate::output_cap(
                body,
                record.ingress,
                record.endpoint,
                self.default_max_output,
            );
            let output = estimate::output_bound(body, record.endpoint, cap);
            let input = estimate::input_bound(body, record.body_bytes, self.reference_doc_tokens);
            tokens = input.saturating_add(output);
            if applies
                .iter()
                .any(|(i, _)| self.rules[*i].measure == Measure::MicroUsd)
            {
                for deployment in std::iter::once(route).chain(fallbacks) {
                    let price = prices
                        .lookup(&deployment.provider, &deployment.upstream_model, None)
                        .ok_or_else(|| {
                            CallError::Forbidden(format!(
                                "Warden: a budget in US dollars applies to this call, but the model {:?} has no price, so its cost cannot be bounded; an operator can add one with [[aigw.prices]]",
                                deployment.canonical
                            ))
                        })?;
                    micro = micro.max(estimate::max_cost_micro_usd(price, input, output));
                }
            }
        }
        self.reserve(applies, tokens, micro)
    }

    /// Reserves `tokens` / `micro` (and one request or call) on every counter in `applies`.
    fn reserve(
        self: &Arc<Self>,
        applies: Vec<(usize, String)>,
        tokens: u64,
        micro: u64,
    ) -> Result<Option<Admission>, CallError> {
        if applies.is_empty() {
            return Ok(None);
        }
        let claims: Vec<Claim> = applies
            .iter()
            .map(|(i, key)| {
                let r = &self.rules[*i];
                let (amount, hold) = match r.measure {
                    Measure::MicroUsd => (micro, true),
                    Measure::Tokens => (tokens, true),
                    Measure::Requests => (1, false),
                    Measure::InFlight => (1, true),
                };
                Claim {
                    key: key.clone(),
                    window: r.window,
                    limit: r.limit,
                    amount,
                    hold,
                }
            })
            .collect();
        let now = now_secs();
        match self.store.reserve(&claims, now) {
            Ok(held) => Ok(Some(Admission {
                governor: self.clone(),
                rules: applies.iter().map(|(i, _)| *i).collect(),
                held,
                settled: false,
            })),
            Err(refused) => {
                let (i, key) = &applies[refused.index];
                Err(self.refusal(*i, key, &claims[refused.index], &refused, now))
            }
        }
    }

    fn refusal(
        &self,
        i: usize,
        key: &str,
        claim: &Claim,
        refused: &Refused,
        now: u64,
    ) -> CallError {
        let r = &self.rules[i];
        r.refused.fetch_add(1, Relaxed);
        // Keys are `NAME METRIC SCOPE:VALUE`; names and metrics have no spaces.
        let scope = key.splitn(3, ' ').nth(2).unwrap_or(key);
        // Held by calls in flight only: worth a retry once they settle (seconds); spent: not
        // before the window resets.
        let retry_after = if refused.held_only {
            1
        } else {
            refused.reset_at.saturating_sub(now).max(1)
        };
        let amount = |n: u64| match r.measure {
            Measure::MicroUsd => format!("${:.6}", n as f64 / 1e6),
            Measure::Tokens => format!("{n} tokens"),
            Measure::Requests => format!("{n} requests"),
            Measure::InFlight => format!("{n} calls"),
        };
        tracing::info!(target: "aigw::budget", rule = %r.name, metric = r.metric, scope, spent = refused.spent, reserved = refused.reserved, limit = refused.limit, asked = claim.amount, "call refused by a budget or limit");
        if refused.unavailable {
            return CallError::Overloaded(format!(
                "Warden: the shared counters of {} {:?} ({scope}) cannot be reached, and it refuses calls meanwhile (on_redis_down) or its local allowance is spent; try again shortly",
                if r.budget { "budget" } else { "rate limit" },
                r.name
            ));
        }
        if refused.full {
            return CallError::Internal(
                "Warden: the gateway holds too many budget counters to take a new one".into(),
            );
        }
        let when = match r.window {
            Window::InFlight => "when a call in flight ends".to_string(),
            _ if refused.held_only => format!(
                "at {}, or sooner if the calls in flight cost less than they reserved",
                rfc3339(refused.reset_at)
            ),
            _ => format!("at {}", rfc3339(refused.reset_at)),
        };
        if r.budget {
            let message = if refused.never {
                format!(
                    "Warden: budget {:?} ({scope}, {} per {}): this call alone could cost up to {}, more than the whole budget; lower its max_tokens",
                    r.name, amount(refused.limit), r.window.label(), amount(claim.amount)
                )
            } else {
                format!(
                    "Warden: budget {:?} ({scope}, {} per {}) would be exceeded: {} spent, {} reserved by calls in flight, this call could cost up to {}; it resets {when}",
                    r.name, amount(refused.limit), r.window.label(), amount(refused.spent), amount(refused.reserved), amount(claim.amount)
                )
            };
            return CallError::BudgetExceeded {
                message,
                retry_after,
                never: refused.never,
            };
        }
        let unit = match r.measure {
            Measure::Tokens => "tokens",
            Measure::InFlight => "concurrent",
            _ => "requests",
        };
        let used = refused.spent.saturating_add(refused.reserved);
        let headers = vec![
            (
                format!("x-ratelimit-limit-{unit}"),
                refused.limit.to_string(),
            ),
            (
                format!("x-ratelimit-remaining-{unit}"),
                refused.limit.saturating_sub(used).to_string(),
            ),
            (
                format!("x-ratelimit-reset-{unit}"),
                format!("{retry_after}s"),
            ),
        ];
        CallError::RateLimited {
            message: format!(
                "Warden: rate limit {:?} ({scope}, {} {}) reached; try again {when}",
                r.name,
                refused.limit,
                r.metric.replace('_', " ")
            ),
            retry_after,
            headers,
        }
    }

    /// The metric families of budgets and limits: alerts by budget and threshold, refusals
    /// by budget or limit (labels from the configuration only).
    pub fn families(&self) -> Vec<crate::telemetry::Family> {
        let mut alerts = Vec::new();
        let mut refused = Vec::new();
        for r in &self.rules {
            for (pct, n) in r.alerts.iter().zip(&r.alerted) {
                alerts.push((
                    vec![("budget", r.name.clone()), ("threshold", pct.to_string())],
                    n.load(Relaxed),
                ));
            }
            refused.push((
                vec![
                    ("name", r.name.clone()),
                    (
                        "kind",
                        if r.budget { "budget" } else { "limit" }.to_string(),
                    ),
                    ("metric", r.metric.to_string()),
                ],
                r.refused.load(Relaxed),
            ));
        }
        let mut families = vec![
            crate::telemetry::Family {
                name: "warden_aigw_budget_alerts_total",
                help: "Budget thresholds crossed (aigw.budgets alerts), by budget and percentage; each is also logged as a warning.",
                samples: alerts,
            },
            crate::telemetry::Family {
                name: "warden_aigw_limit_refusals_total",
                help: "Calls refused with 429 by a budget (budget_exceeded) or a rate limit (rate_limit_exceeded), by name and metric.",
                samples: refused,
            },
        ];
        if let Some(h) = self.store.shared_health() {
            families.extend(shared_families(h));
        }
        families
    }

    /// Logs and counts the thresholds a settlement crossed.
    fn alerts(&self, i: usize, key: &str, level: store::Level) {
        let r = &self.rules[i];
        for (t, pct) in r.alerts.iter().enumerate() {
            let mark = u128::from(*pct) * u128::from(level.limit);
            if u128::from(level.before) * 100 < mark && u128::from(level.after) * 100 >= mark {
                if let Some(n) = r.alerted.get(t) {
                    n.fetch_add(1, Relaxed);
                }
                tracing::warn!(target: "aigw::budget", budget = %r.name, counter = key, percent = pct, spent = level.after, limit = level.limit, "AI budget threshold reached");
            }
        }
    }
}

/// The metric families of the shared counters (`[aigw.shared] redis`).
fn shared_families(h: shared::Health) -> Vec<crate::telemetry::Family> {
    let one = |name, help, value| crate::telemetry::Family {
        name,
        help,
        samples: vec![(Vec::new(), value)],
    };
    vec![
        one("warden_aigw_shared_up", "1 while the shared Redis of budgets and limits answers, 0 while it cannot be reached (each budget's on_redis_down applies).", u64::from(h.up)),
        one("warden_aigw_shared_refusals_total", "Calls refused (503) because the shared Redis could not be reached and a budget or limit says on_redis_down = \"refuse\".", h.refused),
        one("warden_aigw_shared_local_reservations_total", "Reservations granted within the local allowance while the shared Redis could not be reached (on_redis_down = \"local\"); a call reserves once or twice (rate limits before its body is read, the rest after).", h.local),
        one("warden_aigw_shared_errors_total", "Operations on the shared Redis that failed (unreachable, timed out, or an error answered).", h.errors),
        one("warden_aigw_shared_unsettled_total", "Settlements that could not reach the shared Redis: their reservations hold until their lease expires.", h.unsettled),
    ]
}

/// The values of `scope` a call is counted under: `matches` if the call has it, else each
/// of the call's values (none when it has none, e.g. a key without a team).
fn scope_values(
    scope: AigwScope,
    matches: Option<&str>,
    caller: &Caller,
    route: Option<&Route>,
) -> Vec<String> {
    let values: Vec<&str> = match (scope, route) {
        (AigwScope::All, _) => return vec!["*".into()],
        (AigwScope::Key, _) => vec![caller.key_id.as_str(), caller.key_name.as_str()],
        (AigwScope::User, _) => vec![caller.user.as_str()],
        (AigwScope::Team, _) => caller.team.as_deref().into_iter().collect(),
        (AigwScope::Tag, _) => caller.tags.iter().map(String::as_str).collect(),
        // Before routing (the early phase) no provider or model is known.
        (AigwScope::Provider | AigwScope::Model, None) => return Vec::new(),
        (AigwScope::Provider, Some(route)) => vec![route.provider.name.as_str()],
        (AigwScope::Model, Some(route)) => vec![
            route.canonical.as_str(),
            route.asked.as_str(),
            route.upstream_model.as_str(),
        ],
    };
    match matches {
        Some(m) => {
            if values.contains(&m) {
                vec![m.to_string()]
            } else {
                Vec::new()
            }
        }
        // Each value separately: one counter per key (by id) or model (by canonical name).
        None => match scope {
            AigwScope::Key | AigwScope::Model => {
                values.first().map(|v| v.to_string()).into_iter().collect()
            }
            _ => {
                let mut v: Vec<String> = values.iter().map(|v| v.to_string()).collect();
                v.sort();
                v.dedup();
                v
            }
        },
    }
}

/// A call's reservations: settled once, by the log phase, or on drop at their full amount.
pub struct Admission {
    governor: Arc<Governor>,
    rules: Vec<usize>,
    held: Vec<Held>,
    settled: bool,
}

impl std::fmt::Debug for Admission {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Admission")
            .field("held", &self.held)
            .finish()
    }
}

/// What a finished call used, as far as it is known: `None` where the reservation stands.
fn used(record: &CallRecord, cost: &Cost) -> (Option<u64>, Option<u64>) {
    if !record.sent {
        return (Some(0), Some(0));
    }
    let usage = &record.usage;
    let tokens = usage.input.saturating_add(usage.output);
    let complete = record.error.is_none() && record.status < 400;
    // The provider answered with an error (a 4xx the caller sees, or a 401/5xx the gateway
    // turns into 502): it bills what it reported, nothing otherwise.
    let refused = record.provider_refused || record.error.as_deref() == Some("upstream_error");
    match (usage.reported, complete || refused) {
        (true, true) => (Some(tokens), cost.micro_usd),
        (false, true) if refused => (Some(0), Some(0)),
        _ => (None, None),
    }
}

impl Admission {
    /// The `x-ratelimit-*` headers of a call a rate limit admitted: per unit (`requests`,
    /// `tokens`), the limit with the least left — what OpenAI's own headers say, so that
    /// clients that pace themselves by them keep working through the gateway.
    pub fn ratelimit_headers(&self, now: u64) -> Vec<(String, String)> {
        let mut tightest: Vec<(&'static str, &Held)> = Vec::new();
        for (i, h) in self.rules.iter().zip(&self.held) {
            let r = &self.governor.rules[*i];
            let unit = match r.measure {
                _ if r.budget => continue,
                Measure::Requests => "requests",
                Measure::Tokens => "tokens",
                Measure::MicroUsd | Measure::InFlight => continue,
            };
            match tightest.iter_mut().find(|(u, _)| *u == unit) {
                Some(slot) if h.remaining < slot.1.remaining => slot.1 = h,
                Some(_) => {}
                None => tightest.push((unit, h)),
            }
        }
        let mut out = Vec::new();
        for (unit, h) in tightest {
            out.push((format!("x-ratelimit-limit-{unit}"), h.limit.to_string()));
            out.push((
                format!("x-ratelimit-remaining-{unit}"),
                h.remaining.to_string(),
            ));
            out.push((
                format!("x-ratelimit-reset-{unit}"),
                format!("{}s", h.reset_at.saturating_sub(now).max(1)),
            ));
        }
        out
    }

    /// Where its counters are: `redis` (`[aigw.shared]`), `local` (this replica's allowance
    /// while Redis was unreachable) or `memory` (embedded), for the call's log line.
    pub fn counters(&self) -> &'static str {
        if self.governor.store.shared_health().is_none() {
            "memory"
        } else if self.held.iter().any(|h| h.local) {
            "local"
        } else {
            "redis"
        }
    }

    /// Settles to what the call used (from its record and the cost the log phase computed).
    pub fn settle(mut self, record: &CallRecord, cost: &Cost) {
        let (tokens, micro) = used(record, cost);
        self.finish(tokens, micro);
    }

    fn finish(&mut self, tokens: Option<u64>, micro: Option<u64>) {
        if self.settled {
            return;
        }
        self.settled = true;
        let g = &self.governor;
        let actual: Vec<u64> = self
            .rules
            .iter()
            .zip(&self.held)
            .map(|(i, h)| match g.rules[*i].measure {
                // Cut or abandoned, usage unknown: the whole reservation stands.
                Measure::MicroUsd => micro.unwrap_or(h.amount),
                Measure::Tokens => tokens.unwrap_or(h.amount),
                Measure::Requests => h.amount,
                Measure::InFlight => 0,
            })
            .collect();
        let levels = g.store.settle(&self.held, &actual, now_secs());
        for ((i, h), level) in self.rules.iter().zip(&self.held).zip(levels) {
            if g.rules[*i].budget {
                g.alerts(*i, &h.key, level);
            }
        }
    }
}

impl Drop for Admission {
    fn drop(&mut self) {
        self.finish(None, None);
    }
}

#[cfg(test)]
mod tests;
