//! What the AI gateway tells operators in numbers, the proxy's way (typed internal events):
//! [`CallFinished`] writes the call's log line and updates [`AiMetrics`] together, so the
//! two cannot drift apart.
//!
//! Label values come from the configuration, never from a request: a series is one
//! configured provider and one of its configured models (`[[aigw.models]]`), `other` for any
//! model a caller named as `provider/model`, and `none` for calls that never resolved a
//! route. The set is fixed at start. [`AiMetrics::families`] hands the numbers out as plain
//! data; the daemon writes them with the proxy's one Prometheus writer.
//!
//! Never: log or label a key (virtual or provider), a prompt or an answer.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

use crate::call_log::CallRecord;
use crate::cost::{Cost, CostStatus};

/// How a call ended, as the `outcome` label says it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Ok,
    /// Refused by the gateway: key, permission, bad request, DLP, limits.
    Refused,
    /// The provider answered with an error, or a stream was cut on its side.
    ProviderError,
    /// The gateway could not reach the provider, or failed itself.
    GatewayError,
    /// The caller hung up before the answer ended.
    ClientClosed,
}

impl Outcome {
    pub const ALL: [Self; 5] = [
        Self::Ok,
        Self::Refused,
        Self::ProviderError,
        Self::GatewayError,
        Self::ClientClosed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Ok => "ok",
            Self::Refused => "refused",
            Self::ProviderError => "provider_error",
            Self::GatewayError => "gateway_error",
            Self::ClientClosed => "client_closed",
        }
    }

    /// The outcome of a finished call, from its status and error kind.
    pub fn of(record: &CallRecord) -> Self {
        match (record.status, record.error.as_deref()) {
            (499, _) => Self::ClientClosed,
            (_, None) => Self::Ok,
            (_, Some("upstream_error" | "stream_cut")) => Self::ProviderError,
            (_, Some("bad_gateway" | "timeout" | "internal")) => Self::GatewayError,
            (_, Some(kind)) if kind.starts_with("unreachable") => Self::GatewayError,
            (_, Some("overloaded")) => Self::Refused,
            (status, Some(_)) if status >= 500 => Self::ProviderError,
            _ => Self::Refused,
        }
    }
}

/// Token kinds, as the `kind` label says them.
const TOKEN_KINDS: [&str; 5] = ["input", "output", "cached", "cache_write", "reasoning"];

/// The counters of one (provider, model) series.
#[derive(Default)]
struct Series {
    requests: [AtomicU64; 5],
    tokens: [AtomicU64; 5],
    cost_micro_usd: AtomicU64,
    unpriced: AtomicU64,
    usage_suspect: AtomicU64,
    latency_ms: AtomicU64,
    ttft_ms: AtomicU64,
    first_tokens: AtomicU64,
}

/// One metric family as plain data: name, help, and samples as (labels, value).
pub struct Family {
    pub name: &'static str,
    pub help: &'static str,
    /// Every family here is a counter.
    pub samples: Vec<(Vec<(&'static str, String)>, u64)>,
}

/// The AI gateway's metrics, one `Series` per configured (provider, model).
pub struct AiMetrics {
    labels: Vec<(String, String)>,
    index: BTreeMap<(String, String), usize>,
    series: Vec<Series>,
}

const NONE: &str = "none";
const OTHER: &str = "other";

impl AiMetrics {
    /// The series of `config`: each configured model, `other` per provider, and `none`.
    pub fn new(config: &config::AigwConfig) -> Self {
        let mut labels = vec![(NONE.to_string(), NONE.to_string())];
        for m in &config.models {
            labels.push((m.provider.clone(), m.upstream().to_string()));
        }
        for p in &config.providers {
            labels.push((p.name.clone(), OTHER.to_string()));
        }
        labels.sort();
        labels.dedup();
        let index = labels
            .iter()
            .enumerate()
            .map(|(i, l)| (l.clone(), i))
            .collect();
        let series = labels.iter().map(|_| Series::default()).collect();
        Self {
            labels,
            index,
            series,
        }
    }

    fn series(&self, record: &CallRecord) -> &Series {
        let at = match &record.route {
            Some(route) => {
                let provider = route.provider.name.clone();
                self.index
                    .get(&(provider.clone(), route.upstream_model.clone()))
                    .or_else(|| self.index.get(&(provider, OTHER.to_string())))
            }
            None => None,
        };
        // Index 0 is ("none", "none") only when no configured label sorts before it; look it
        // up by name rather than trust the position.
        let at = at
            .or_else(|| self.index.get(&(NONE.to_string(), NONE.to_string())))
            .copied()
            .unwrap_or(0);
        &self.series[at]
    }

    /// Every family, every series (zeros included, so no series appears out of nowhere).
    pub fn families(&self) -> Vec<Family> {
        let who = |i: usize| {
            let (provider, model) = &self.labels[i];
            vec![("provider", provider.clone()), ("model", model.clone())]
        };
        let each = |name, help, value: &dyn Fn(&Series) -> u64| Family {
            name,
            help,
            samples: self
                .series
                .iter()
                .enumerate()
                .map(|(i, s)| (who(i), value(s)))
                .collect(),
        };
        let mut requests = Vec::new();
        let mut tokens = Vec::new();
        for (i, s) in self.series.iter().enumerate() {
            for (o, outcome) in Outcome::ALL.iter().enumerate() {
                let mut labels = who(i);
                labels.push(("outcome", outcome.as_str().to_string()));
                requests.push((labels, s.requests[o].load(Relaxed)));
            }
            for (k, kind) in TOKEN_KINDS.iter().enumerate() {
                let mut labels = who(i);
                labels.push(("kind", (*kind).to_string()));
                tokens.push((labels, s.tokens[k].load(Relaxed)));
            }
        }
        vec![
            Family {
                name: "warden_aigw_requests_total",
                help: "AI gateway calls, by provider, model and outcome.",
                samples: requests,
            },
            Family {
                name: "warden_aigw_tokens_total",
                help: "Tokens the providers reported (input includes cached and cache_write; output includes reasoning).",
                samples: tokens,
            },
            each(
                "warden_aigw_cost_micro_usd_total",
                "Cost of AI gateway calls by the price table, in millionths of a US dollar (calls without a known cost add nothing; see warden_aigw_unpriced_requests_total).",
                &|s| s.cost_micro_usd.load(Relaxed),
            ),
            each(
                "warden_aigw_unpriced_requests_total",
                "Calls that reached a provider but have no known cost (model not in the price table, or no usage reported).",
                &|s| s.unpriced.load(Relaxed),
            ),
            each(
                "warden_aigw_usage_suspect_total",
                "Calls whose provider reported impossible usage (negative, fractional, absurdly large or inconsistent), bounded before pricing.",
                &|s| s.usage_suspect.load(Relaxed),
            ),
            each(
                "warden_aigw_latency_milliseconds_total",
                "Total time of AI gateway calls, from request to the answer's end (divide by requests for the mean).",
                &|s| s.latency_ms.load(Relaxed),
            ),
            each(
                "warden_aigw_time_to_first_token_milliseconds_total",
                "Total time to the first streamed token (divide by warden_aigw_first_tokens_total).",
                &|s| s.ttft_ms.load(Relaxed),
            ),
            each(
                "warden_aigw_first_tokens_total",
                "Streamed calls that got a first token.",
                &|s| s.first_tokens.load(Relaxed),
            ),
        ]
    }
}

/// A call ended (answered, refused, failed or abandoned): its log line and its numbers.
pub struct CallFinished<'a> {
    pub record: &'a CallRecord,
    pub cost: &'a Cost,
    pub latency_ms: u64,
    pub ttft_ms: Option<u64>,
}

impl CallFinished<'_> {
    pub fn emit(self, metrics: &AiMetrics) {
        let r = self.record;
        let caller = r.caller.as_ref();
        let usage = &r.usage;
        let flags = usage.flags.names().join(",");
        tracing::info!(
            target: "aigw::call",
            request_id = %r.request_id,
            peer = %r.peer,
            via = r.arrival.path.as_str(),
            identity = r.identity_source.as_str(),
            endpoint = r.endpoint,
            ingress = r.ingress.as_str(),
            user = caller.map_or("", |c| c.user.as_str()),
            team = caller.and_then(|c| c.team.as_deref()).unwrap_or(""),
            virtual_key_id = caller.map_or("", |c| c.key_id.as_str()),
            provider = r.provider.as_deref().unwrap_or(""),
            model_asked = r.model_asked.as_deref().unwrap_or(""),
            model_served = r.model_served.as_deref().unwrap_or(""),
            status = r.status,
            error = r.error.as_deref().unwrap_or(""),
            stream = r.stream,
            input_tokens = usage.input,
            output_tokens = usage.output,
            cached_tokens = usage.cached,
            cache_write_tokens = usage.cache_write,
            reasoning_tokens = usage.reasoning,
            usage_reported = usage.reported,
            usage_flags = %flags,
            cost_micro_usd = self.cost.micro_usd,
            cost_status = self.cost.status.as_str(),
            latency_ms = self.latency_ms,
            ttft_ms = self.ttft_ms,
            dlp_findings = %r.dlp.join(","),
            dlp_action = r.dlp_action.unwrap_or(""),
            response_dlp_findings = %r.response_findings.detectors().join(","),
            response_dlp_action = r.response_dlp_action.unwrap_or(""),
            counters = r.counters,
            "ai call"
        );
        // Output the gateway counted (a caller hung up) is flagged, not a provider's fault.
        if usage.flags.names().iter().any(|n| *n != "counted") {
            tracing::warn!(
                request_id = %r.request_id,
                provider = r.provider.as_deref().unwrap_or(""),
                usage_flags = %flags,
                "a provider reported impossible token usage; it was bounded and the call is flagged"
            );
        }
        let series = metrics.series(r);
        let outcome = Outcome::ALL
            .iter()
            .position(|o| *o == Outcome::of(r))
            .unwrap_or(0);
        series.requests[outcome].fetch_add(1, Relaxed);
        let counts = [
            usage.input,
            usage.output,
            usage.cached,
            usage.cache_write,
            usage.reasoning,
        ];
        for (slot, n) in series.tokens.iter().zip(counts) {
            slot.fetch_add(n, Relaxed);
        }
        match self.cost.micro_usd {
            Some(micro) => {
                series.cost_micro_usd.fetch_add(micro, Relaxed);
            }
            None => {
                series.unpriced.fetch_add(1, Relaxed);
            }
        }
        if self.cost.status == CostStatus::UsageSuspect {
            series.usage_suspect.fetch_add(1, Relaxed);
        }
        series.latency_ms.fetch_add(self.latency_ms, Relaxed);
        if let Some(ttft) = self.ttft_ms {
            series.ttft_ms.fetch_add(ttft, Relaxed);
            series.first_tokens.fetch_add(1, Relaxed);
        }
    }
}
