//! The log phase: every call is accounted exactly once, when the answer's body ended or was
//! dropped (a caller that hangs up mid-stream is logged with status 499 and the tokens the
//! provider had reported by then). Accounting is one path for streamed and whole answers:
//! cost from the reported usage ([`crate::cost::cost`]), the `ai call` log line and the
//! metrics ([`CallFinished`]), and one `ai_requests` row through the events path, which
//! never blocks and never drops (analytics never stops a call).
//!
//! Never: log or store a key (virtual or provider), a prompt or an answer.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Instant, SystemTime};

use schema::{AiRequest, DlpFinding};

use crate::access::{Arrival, IdentitySource};
use crate::cost::{cost, Cost};
use crate::dialect::{Dialect, Usage};
use crate::prices::PriceTable;
use crate::response_dlp::Tally;
use crate::routes::Route;
use crate::telemetry::{AiMetrics, CallFinished};
use crate::vkeys::Caller;
use arc_swap::ArcSwap;

/// Everything the log phase says about a call, filled in phase by phase.
#[derive(Debug)]
pub struct CallRecord {
    pub request_id: String,
    pub received: SystemTime,
    pub started: Instant,
    pub peer: SocketAddr,
    pub ingress: Dialect,
    pub endpoint: &'static str,
    pub caller: Option<Caller>,
    pub provider: Option<String>,
    /// The route the model resolved to (provider and upstream model): what prices it.
    pub route: Option<Route>,
    pub model_asked: Option<String>,
    pub model_served: Option<String>,
    pub stream: bool,
    /// Whether the provider answered at all (a call that never reached it costs nothing).
    pub sent: bool,
    /// The provider answered with an error status (it bills what it reported: nothing,
    /// usually), as opposed to a call cut mid-answer.
    pub provider_refused: bool,
    pub status: u16,
    pub error: Option<String>,
    pub usage: Usage,
    pub first_token: Option<Instant>,
    /// DLP findings in the prompt (detector ids) and what was done.
    pub dlp: Vec<String>,
    pub dlp_action: Option<&'static str>,
    /// How the call reached the gateway (path, and the proxy's identity off the direct path).
    pub arrival: Arrival,
    /// How the caller was identified.
    pub identity_source: IdentitySource,
    /// The request body's size (bounds its input tokens for budgets).
    pub body_bytes: usize,
    /// What budgets and limits reserved for the call; settled when it is logged.
    pub admission: Option<crate::budget::Admission>,
    /// The memory budget its body holds while read and parsed (released once sent on).
    pub body_hold: crate::intake::BodyHold,
    /// The prompt's findings per detector (for `dlp_findings` and the counts).
    pub dlp_findings: Tally,
    /// DLP on the answer (`response_dlp`): what was found and what was done.
    pub response_findings: Tally,
    pub response_dlp_action: Option<&'static str>,
    /// `[[aigw.routes]]`: the route asked for, the deployment that answered, attempts made,
    /// fallbacks taken (deployments passed over), and each failed attempt (`crate::fallback`).
    pub route_name: Option<String>,
    pub deployment: Option<String>,
    pub attempts: u8,
    pub fallbacks: u8,
    pub attempt_log: Vec<String>,
    /// Where its budgets and limits were counted (`crate::budget::Admission::counters`):
    /// `redis`, `local`, `memory`, or empty when none applied.
    pub counters: &'static str,
}

impl CallRecord {
    pub fn new(peer: SocketAddr, ingress: Dialect, endpoint: &'static str) -> Self {
        Self {
            request_id: uuid::Uuid::now_v7().to_string(),
            received: SystemTime::now(),
            started: Instant::now(),
            peer,
            ingress,
            endpoint,
            caller: None,
            provider: None,
            route: None,
            model_asked: None,
            model_served: None,
            stream: false,
            sent: false,
            provider_refused: false,
            status: 200,
            error: None,
            usage: Usage::default(),
            first_token: None,
            dlp: Vec::new(),
            dlp_action: None,
            arrival: Arrival::direct(peer),
            identity_source: IdentitySource::None,
            body_bytes: 0,
            admission: None,
            body_hold: crate::intake::BodyHold::default(),
            dlp_findings: Tally::default(),
            response_findings: Tally::default(),
            response_dlp_action: None,
            route_name: None,
            deployment: None,
            attempts: 0,
            fallbacks: 0,
            attempt_log: Vec::new(),
            counters: "",
        }
    }
}

/// Where finished calls go: the price table, the metrics and the events path.
pub struct Ledger {
    /// Replaced whole by a reload (`AiGateway::reload`); a call is priced by the table in
    /// force when it finishes.
    pub prices: ArcSwap<PriceTable>,
    pub metrics: AiMetrics,
    /// `None` when events are off (`[events] enabled = false`): the log line remains.
    pub sink: Option<events::EventSink>,
}

impl Ledger {
    /// The cost of a finished call: the one place a call is priced.
    pub fn cost(&self, record: &CallRecord) -> Cost {
        // A provider's error answer (a 5xx, a 429) with no usage bills nothing: a known 0,
        // so it is not counted among the calls without a known cost.
        let provider_error =
            record.provider_refused || record.error.as_deref() == Some("upstream_error");
        if record.sent && provider_error && !record.usage.reported {
            return crate::cost::provider_error();
        }
        let prices = self.prices.load();
        let price = record.route.as_ref().and_then(|route| {
            prices.lookup(
                &route.provider,
                &route.upstream_model,
                record.model_served.as_deref(),
            )
        });
        cost(&record.usage, price, record.sent)
    }

    fn settle(&self, record: &CallRecord) -> Cost {
        let cost = self.cost(record);
        let ms = |at: Instant| {
            u64::try_from(at.duration_since(record.started).as_millis()).unwrap_or(u64::MAX)
        };
        let latency_ms = ms(Instant::now());
        let ttft_ms = record.first_token.map(ms);
        CallFinished {
            record,
            cost: &cost,
            latency_ms,
            ttft_ms,
        }
        .emit(&self.metrics);
        if let Some(sink) = &self.sink {
            let row = row(record, &cost, latency_ms, ttft_ms);
            let findings = findings(record, &row);
            sink.emit_ai(row, findings);
        }
        cost
    }
}

/// The `ai_requests` row of a finished call.
pub fn row(record: &CallRecord, cost: &Cost, latency_ms: u64, ttft_ms: Option<u64>) -> AiRequest {
    let text = |t: Option<&str>| AiRequest::bounded(t.unwrap_or(""));
    let caller = record.caller.as_ref();
    let u = &record.usage;
    let millis = |ms: u64| u32::try_from(ms).unwrap_or(u32::MAX);
    AiRequest {
        ts: schema::rows::unix_seconds(record.received),
        request_id: record.request_id.clone(),
        virtual_key_id: text(caller.map(|c| c.key_id.as_str())),
        virtual_key_name: text(caller.map(|c| c.key_name.as_str())),
        user: text(caller.map(|c| c.user.as_str())),
        team: text(caller.and_then(|c| c.team.as_deref())),
        tags: caller.map_or_else(Vec::new, |c| {
            c.tags.iter().map(|t| AiRequest::bounded(t)).collect()
        }),
        ingress: record.ingress.as_str().to_string(),
        endpoint: record.endpoint.to_string(),
        provider: text(record.provider.as_deref()),
        model_asked: text(record.model_asked.as_deref()),
        // The model that served, as the provider named it; for a routed call it did not name
        // one for (a failure, a stream cut early), the model the route sends to — never the
        // alias asked for.
        model_served: text(
            record
                .model_served
                .as_deref()
                .or(record.route.as_ref().map(|r| r.upstream_model.as_str())),
        ),
        stream: u8::from(record.stream),
        status: record.status,
        error: text(record.error.as_deref()),
        input_tokens: u.input,
        output_tokens: u.output,
        cached_tokens: u.cached,
        cache_write_tokens: u.cache_write,
        reasoning_tokens: u.reasoning,
        usage_reported: u8::from(u.reported),
        usage_flags: u.flags.names().into_iter().map(str::to_string).collect(),
        cost_micro_usd: cost.micro_usd,
        cost_status: cost.status.as_str().to_string(),
        price_checked: cost.checked.clone(),
        latency_ms: millis(latency_ms),
        ttft_ms: ttft_ms.map(millis),
        dlp_action: record.dlp_action.unwrap_or("").to_string(),
        dlp_detectors: record.dlp.clone(),
        ingress_path: record.arrival.path.as_str().to_string(),
        identity_source: record.identity_source.as_str().to_string(),
        device_id: text(
            record
                .arrival
                .identity
                .as_ref()
                .and_then(|i| i.device_id.as_deref()),
        ),
        dlp_finding_count: record.dlp_findings.total(),
        response_dlp_action: record.response_dlp_action.unwrap_or("").to_string(),
        response_dlp_detectors: record.response_findings.detectors(),
        response_dlp_finding_count: record.response_findings.total(),
        route: text(record.route_name.as_deref()),
        deployment: text(record.deployment.as_deref()),
        attempts: record.attempts,
        fallbacks: record.fallbacks,
        attempt_errors: record
            .attempt_log
            .iter()
            .map(|a| AiRequest::bounded(a))
            .collect(),
    }
}

/// The `dlp_findings` rows of a call, as the proxy writes them for a request: one per
/// detector, prompt's then answer's, with the engine's masked snippet (never the data).
/// `app_id` says which side: `aigw` for the prompt, `aigw-response` for the answer.
pub fn findings(record: &CallRecord, row: &AiRequest) -> Vec<DlpFinding> {
    let sides = [
        (
            "aigw",
            &record.dlp_findings,
            record.dlp_action.unwrap_or("log"),
        ),
        (
            "aigw-response",
            &record.response_findings,
            record.response_dlp_action.unwrap_or("log"),
        ),
    ];
    let mut rows = Vec::new();
    for (app, tally, action) in sides {
        for (detector, seen) in &tally.0 {
            let mut finding = DlpFinding {
                ts: row.ts,
                request_id: row.request_id.clone(),
                user: row.user.clone(),
                app_id: app.to_string(),
                detector: detector.clone(),
                finding_count: seen.count,
                confidence: seen.confidence.as_str().to_string(),
                action: action.to_string(),
                ..DlpFinding::default()
            };
            finding.set_snippet(&seen.snippet);
            rows.push(finding);
        }
    }
    rows
}

/// Accounts for the record when dropped: the one way a call is logged.
pub struct CallLog {
    record: CallRecord,
    ledger: Arc<Ledger>,
}

impl CallLog {
    pub fn new(record: CallRecord, ledger: Arc<Ledger>) -> Self {
        Self { record, ledger }
    }

    pub fn record_mut(&mut self) -> &mut CallRecord {
        &mut self.record
    }
}

impl Drop for CallLog {
    fn drop(&mut self) {
        let admission = self.record.admission.take();
        if let Some(a) = &admission {
            self.record.counters = a.counters();
        }
        let cost = self.ledger.settle(&self.record);
        // Budgets settle to the same cost the row says, once.
        if let Some(admission) = admission {
            admission.settle(&self.record, &cost);
        }
    }
}
