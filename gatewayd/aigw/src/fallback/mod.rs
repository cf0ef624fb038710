//! Routes with fallbacks (`[[aigw.routes]]`): the forward phase of a call whose model is a
//! route tries the route's deployments in order ([`plan`]) — retrying one with backoff
//! (a provider's `retry-after` honoured when it fits), falling back to the next on a 429,
//! a 5xx, a timeout or no connection, skipping those whose circuit is open ([`breaker`])
//! without a connection attempt — within the route's attempt cap and total deadline. Every
//! attempt is recorded on the call (its `ai_requests` row: route, deployment, attempts,
//! fallbacks, each failure) and counted in `/metrics`. [`explain`] says which deployment
//! would serve a caller, and why.
//!
//! Never: retry or fall back once the answer started — a stream is handed on as soon as the
//! provider's headers said 200, so an error after that reaches the caller as the stream's
//! error; retry a caller's own error (a 400 is the same everywhere); try a deployment the
//! caller may not use, or one whose stream response DLP cannot scan; exceed the route's
//! attempts or deadline.

pub mod breaker;
pub mod explain;
pub mod plan;

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use http::{HeaderMap, StatusCode};
use serde_json::Value;

use crate::call_log::CallRecord;
use crate::dialect::Dialect;
use crate::error::CallError;
use crate::pipeline::{self, Reply};
use crate::routes::Route;
use crate::AiGateway;

use breaker::{Breakers, Gate};
use plan::RoutePlan;

/// How one attempt ended, as `/metrics` counts it (a closed set of labels).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Outcome {
    Ok,
    RateLimited,
    ServerError,
    Timeout,
    Unreachable,
    /// The caller's own error (a 4xx): answered as is, never retried.
    CallerError,
    /// Skipped: its circuit was open.
    SkippedOpen,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Ok => "ok",
            Self::RateLimited => "rate_limited",
            Self::ServerError => "server_error",
            Self::Timeout => "timeout",
            Self::Unreachable => "unreachable",
            Self::CallerError => "caller_error",
            Self::SkippedOpen => "skipped_open",
        }
    }

    /// What a failed attempt's error says about the deployment.
    fn of(error: &CallError) -> Self {
        match error {
            CallError::Upstream { status, .. } if *status == StatusCode::TOO_MANY_REQUESTS => {
                Self::RateLimited
            }
            // 529 (Anthropic's overloaded) is a 5xx too.
            CallError::Upstream { status, .. } if status.is_server_error() => Self::ServerError,
            CallError::Timeout(_) => Self::Timeout,
            // No connection, a refused key, an answer that is not one: the deployment's fault.
            CallError::BadGateway(_) | CallError::Unreachable { .. } => Self::Unreachable,
            _ => Self::CallerError,
        }
    }
}

/// The routes, their deployments' breakers, and what they did (for `/metrics`).
pub struct Fallbacks {
    pub plans: BTreeMap<String, RoutePlan>,
    pub breakers: Breakers,
    /// (route, deployment, outcome) → attempts.
    attempts: Mutex<BTreeMap<(String, String, Outcome), u64>>,
    /// route → calls served by a deployment other than the first tried.
    fallbacks: Mutex<BTreeMap<String, u64>>,
}

impl Fallbacks {
    pub fn new(
        config: &config::AigwConfig,
        table: &crate::routes::RouteTable,
    ) -> Result<Self, String> {
        let plans = plan::plans(config, table)?;
        let deployments: Vec<String> = plans
            .values()
            .flat_map(|p| p.deployments.iter().map(|(d, _)| d.canonical.clone()))
            .collect();
        Ok(Self {
            breakers: Breakers::new(&config.breaker, deployments.iter().map(String::as_str))
                .with_shared(crate::budget::shared::breaker::SharedBreakers::from_config(
                    &config.shared,
                    &config.breaker,
                )?),
            plans,
            attempts: Mutex::new(BTreeMap::new()),
            fallbacks: Mutex::new(BTreeMap::new()),
        })
    }

    fn count(&self, route: &str, deployment: &str, outcome: Outcome) {
        let mut map = self.attempts.lock().unwrap_or_else(|p| p.into_inner());
        *map.entry((route.to_string(), deployment.to_string(), outcome))
            .or_default() += 1;
    }

    /// The metric families of routes: attempts by outcome, fallbacks, breaker openings.
    pub fn families(&self) -> Vec<crate::telemetry::Family> {
        let attempts = self.attempts.lock().unwrap_or_else(|p| p.into_inner());
        let attempts = attempts
            .iter()
            .map(|((r, d, o), n)| {
                (
                    vec![
                        ("route", r.clone()),
                        ("deployment", d.clone()),
                        ("outcome", o.as_str().to_string()),
                    ],
                    *n,
                )
            })
            .collect();
        let fallbacks = self.fallbacks.lock().unwrap_or_else(|p| p.into_inner());
        let fallbacks = self
            .plans
            .keys()
            .map(|r| {
                (
                    vec![("route", r.clone())],
                    fallbacks.get(r).copied().unwrap_or(0),
                )
            })
            .collect();
        let opened = self
            .breakers
            .views()
            .into_iter()
            .map(|v| (vec![("deployment", v.deployment)], v.opened))
            .collect();
        vec![
            crate::telemetry::Family {
                name: "warden_aigw_route_attempts_total",
                help: "Attempts of routed calls ([[aigw.routes]]), by route, deployment and outcome (ok, rate_limited, server_error, timeout, unreachable, caller_error, skipped_open).",
                samples: attempts,
            },
            crate::telemetry::Family {
                name: "warden_aigw_route_fallbacks_total",
                help: "Routed calls answered by a deployment other than the first one tried, by route.",
                samples: fallbacks,
            },
            crate::telemetry::Family {
                name: "warden_aigw_breaker_opened_total",
                help: "Times a deployment's circuit breaker opened ([aigw.breaker]), by deployment.",
                samples: opened,
            },
        ]
    }
}

/// The forward phase ([`pipeline::forward`]) of a call: through the route's deployments
/// when the model asked is a route, else straight to `route`.
pub async fn forward(
    gw: &AiGateway,
    ingress: Dialect,
    route: &Route,
    headers: &HeaderMap,
    body: Value,
    record: &mut CallRecord,
) -> Result<Reply, CallError> {
    let plan = record
        .model_asked
        .as_deref()
        .and_then(|m| gw.fallbacks.plans.get(m));
    let Some(plan) = plan else {
        return pipeline::forward(gw, ingress, route, headers, body, record).await;
    };
    record.route_name = Some(plan.name.clone());
    let allowed = record
        .caller
        .as_ref()
        .map(|c| c.models.clone())
        .unwrap_or_default();
    let order = plan.order_random(&gw.routes, &allowed);
    let deadline = Instant::now() + plan.deadline;
    let fb = &gw.fallbacks;
    let mut last: Option<CallError> = None;
    let mut soonest_open: Option<Duration> = None;
    let mut tried = 0u32;
    'deployments: for (i, dep) in order.iter().enumerate() {
        let mut pause = plan.backoff;
        for retry in 0..=plan.retries {
            if tried >= plan.max_attempts {
                break 'deployments;
            }
            let gate = fb.breakers.check(&dep.canonical);
            if let Gate::Open { retry_in } = gate {
                fb.count(&plan.name, &dep.canonical, Outcome::SkippedOpen);
                record
                    .attempt_log
                    .push(format!("{} circuit_open", dep.canonical));
                soonest_open = Some(soonest_open.map_or(retry_in, |s| s.min(retry_in)));
                continue 'deployments;
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                break 'deployments;
            }
            tried += 1;
            record.attempts = record.attempts.saturating_add(1);
            record.provider = Some(dep.provider.name.clone());
            record.route = Some(dep.clone());
            let sent = tokio::time::timeout(
                left,
                pipeline::forward(gw, ingress, dep, headers, body.clone(), record),
            )
            .await
            .unwrap_or_else(|_| {
                Err(CallError::Timeout(format!(
                    "provider {} did not answer within route {:?}'s deadline",
                    dep.provider.name, plan.name
                )))
            });
            let error = match sent {
                Ok(reply) => {
                    fb.breakers.success(&dep.canonical);
                    fb.count(&plan.name, &dep.canonical, Outcome::Ok);
                    record.deployment = Some(dep.canonical.clone());
                    if i > 0 {
                        tracing::info!(request_id = %record.request_id, route = %plan.name, deployment = %dep.canonical, attempts = record.attempts, failed = %record.attempt_log.join(","), "aigw: a route fell back");
                        record.fallbacks = u8::try_from(i).unwrap_or(u8::MAX);
                        let mut map = fb.fallbacks.lock().unwrap_or_else(|p| p.into_inner());
                        *map.entry(plan.name.clone()).or_default() += 1;
                    }
                    return Ok(reply);
                }
                Err(error) => error,
            };
            let outcome = Outcome::of(&error);
            fb.count(&plan.name, &dep.canonical, outcome);
            record
                .attempt_log
                .push(format!("{} {}", dep.canonical, outcome.as_str()));
            if outcome == Outcome::CallerError {
                // The deployment answered: it is up. The caller's error is the same anywhere.
                fb.breakers.success(&dep.canonical);
                record.deployment = Some(dep.canonical.clone());
                return Err(error);
            }
            if fb.breakers.failure(&dep.canonical, gate) {
                tracing::warn!(route = %plan.name, deployment = %dep.canonical, "aigw: circuit breaker opened");
            }
            let retry_after = match &error {
                CallError::Upstream { retry_after, .. } => retry_after
                    .as_deref()
                    .and_then(|s| s.trim().parse::<f64>().ok())
                    .filter(|s| s.is_finite() && *s >= 0.0)
                    .map(Duration::from_secs_f64),
                _ => None,
            };
            // A provider that says its quota is gone will say so again: no retry (a
            // fallback to another deployment may still serve).
            let exhausted = error.to_string().to_ascii_lowercase().contains("quota");
            last = Some(error);
            if retry == plan.retries || exhausted {
                break;
            }
            let wait = retry_after.unwrap_or(pause);
            if wait >= deadline.saturating_duration_since(Instant::now()) {
                break;
            }
            tokio::time::sleep(wait).await;
            pause = pause.saturating_mul(2);
        }
    }
    Err(all_failed(plan, order.len(), last, soonest_open, record))
}

/// The answer when no deployment served: the last provider error's status where every
/// attempt was rate limited, else 503, naming each attempt (never a key or a prompt).
fn all_failed(
    plan: &RoutePlan,
    deployments: usize,
    last: Option<CallError>,
    soonest_open: Option<Duration>,
    record: &CallRecord,
) -> CallError {
    if deployments == 0 {
        return CallError::Forbidden(format!(
            "this virtual key may use none of route {:?}'s deployments",
            plan.name
        ));
    }
    let tried = if record.attempt_log.is_empty() {
        "no attempt".to_string()
    } else {
        record.attempt_log.join(", ")
    };
    let message = format!(
        "Warden: no deployment of route {:?} could answer ({tried}); {}",
        plan.name,
        match &last {
            Some(e) => format!("the last said: {e}"),
            None => "every circuit is open".into(),
        }
    );
    let rate_limited = record
        .attempt_log
        .iter()
        .all(|a| a.ends_with(Outcome::RateLimited.as_str()));
    let retry_after = match &last {
        Some(CallError::Upstream { retry_after, .. }) if rate_limited => retry_after.clone(),
        _ => soonest_open.map(|d| d.as_secs().max(1).to_string()),
    };
    CallError::Upstream {
        status: if rate_limited && last.is_some() {
            StatusCode::TOO_MANY_REQUESTS
        } else {
            StatusCode::SERVICE_UNAVAILABLE
        },
        message,
        retry_after,
    }
}
