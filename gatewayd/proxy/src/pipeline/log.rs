//! The log phase: one record per HTTP transaction, written when the response is complete or
//! abandoned, for allowed, refused and failed requests alike. The record goes to the event
//! writer (ClickHouse, spooled when it is down), the structured log and the metrics.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::Arc;

use schema::{DlpFinding, HttpEvent};

use super::context::RequestContext;
use crate::outcome::Outcome;
use crate::telemetry::events::{BodyBytes, InternalEvent};
use crate::telemetry::Metrics;
use events::{EventContext, EventRecord, EventSink};

/// Everything known about one transaction when its response starts: the request's own
/// context, moved here whole, and what only the connection and the response know. A new
/// event column is a field of [`RequestContext`] and a line in [`TransactionLog::record`].
pub struct TransactionLog {
    pub ctx: RequestContext,
    /// Who and where (identity, source, geo), shared by the connection's requests.
    pub who: Arc<EventContext>,
    pub client: SocketAddr,
    pub status: u16,
    pub events: Option<EventSink>,
    pub metrics: Arc<Metrics>,
    pub bytes_down: Arc<AtomicU64>,
    pub body_error: Option<String>,
    /// The request's span (or the tunnel's): closed when this record is written.
    pub span: tracing::Span,
}

impl TransactionLog {
    /// Emits the record. Called exactly once: at body end, or when the body is dropped.
    pub fn finish(mut self) {
        self.ctx.settle_discovery();
        let ctx = &self.ctx;
        super::trace_span::record_outcome(
            &self.span,
            ctx,
            self.status,
            &self.who.user,
            self.body_error.is_some(),
        );
        let up = ctx.bytes_up.load(Relaxed);
        let down = self.bytes_down.load(Relaxed);
        if let Some(events) = &self.events {
            events.emit(self.record(up, down));
        }
        BodyBytes { up, down }.emit(&self.metrics);
        let detectors = ctx
            .inspection
            .hits
            .iter()
            .map(|hit| format!("{}:{}", hit.detector, hit.count))
            .collect::<Vec<_>>()
            .join(",");
        tracing::info!(
            target: "warden::transaction",
            request_id = %ctx.request_id,
            client = %self.client,
            user = %self.who.user,
            device = %self.who.device_id,
            method = %ctx.method,
            scheme = %ctx.scheme,
            host = %ctx.host,
            path = %ctx.path,
            status = self.status,
            action = %ctx.action,
            rule = %ctx.rule,
            detail = %ctx.detail.as_deref().unwrap_or(""),
            policy_version = %ctx.policy_version,
            app = %ctx.app.as_ref().map(|a| a.id.as_str()).unwrap_or(""),
            category = %ctx.app.as_ref().map(|a| a.category).unwrap_or(""),
            endpoint = %ctx.app.as_ref().and_then(|a| a.endpoint).unwrap_or(""),
            app_status = %ctx.app_status.unwrap_or(""),
            upload = ctx.upload,
            discovered = %ctx.discovered.as_deref().unwrap_or(""),
            dlp_detectors = %detectors,
            unscanned = %ctx.inspection.unscanned.as_deref().unwrap_or(""),
            prompt_length = ctx.inspection.prompt_length,
            audited = ctx.inspection.audit_prompt.is_some(),
            tenant = %ctx.tenant.map_or("", |t| t.as_str()),
            ai_key = %ctx.ai_key.as_ref().map_or("", |k| k.fingerprint.as_str()),
            bytes_up = up,
            bytes_down = down,
            body_error = %self.body_error.as_deref().unwrap_or(""),
            latency_ms = ctx.started.elapsed().as_secs_f64() * 1000.0,
            "transaction"
        );
    }
}

impl TransactionLog {
    /// The rows this transaction becomes.
    fn record(&self, bytes_up: u64, bytes_down: u64) -> EventRecord {
        let who = &self.who;
        let ctx = &self.ctx;
        let inspection = &ctx.inspection;
        let mut http = HttpEvent {
            ts: ctx.ts,
            request_id: ctx.request_id.clone(),
            user: who.user.clone(),
            groups: who.groups.clone(),
            device_id: who.device_id.clone(),
            device_posture: who.device_posture.clone(),
            src_ip: who.src_ip.clone(),
            country: who.country.clone(),
            city: who.city.clone(),
            host: ctx.host.clone(),
            app_id: ctx
                .app
                .as_ref()
                .map(|a| a.id.clone())
                .or_else(|| ctx.discovered.clone())
                .unwrap_or_default(),
            app_name: ctx.app.as_ref().map(|a| a.name.clone()).unwrap_or_default(),
            category: ctx
                .app
                .as_ref()
                .map(|a| a.category.to_string())
                .or_else(|| ctx.discovered.as_ref().map(|_| "api".to_string()))
                .unwrap_or_default(),
            app_status: ctx.app_status.unwrap_or("").to_string(),
            discovered: u8::from(ctx.discovered.is_some()),
            method: ctx.method.to_string(),
            status: self.status,
            action: ctx.action.as_str().to_string(),
            blocked: u8::from(ctx.blocked),
            rule_id: ctx.rule.clone(),
            policy_version: ctx.policy_version.to_string(),
            detail: ctx.detail.clone().unwrap_or_default(),
            upload: u8::from(ctx.upload),
            file_names: inspection.file_names.clone(),
            model: inspection.model.clone().unwrap_or_default(),
            tenant: ctx
                .tenant
                .map(|t| t.as_str().to_string())
                .unwrap_or_default(),
            prompt_length: u32::try_from(inspection.prompt_length).unwrap_or(u32::MAX),
            dlp_detectors: inspection
                .hits
                .iter()
                .map(|hit| hit.detector.clone())
                .collect(),
            dlp_finding_count: inspection.hits.iter().map(|hit| hit.count).sum(),
            bytes_up,
            bytes_down,
            latency_ms: u32::try_from(ctx.started.elapsed().as_millis()).unwrap_or(u32::MAX),
            ..HttpEvent::default()
        };
        if let Some(key) = &ctx.ai_key {
            http.ai_key_fingerprint = key.fingerprint.clone();
            http.ai_key_provider = key.provider.clone();
            http.ai_key_kind = key.kind.to_string();
            http.ai_key_last4 = key.last4.clone();
            http.ai_key_org_managed = u8::from(key.org_managed);
        }
        http.set_path(&ctx.path);
        if let Some(prompt) = &inspection.audit_prompt {
            http.set_audit_prompt(prompt, prompt.len());
        }
        // A finding of a refused request is recorded as blocked whatever rule refused it.
        let finding_action = if ctx.blocked {
            Outcome::Block
        } else {
            ctx.action
        };
        let findings = inspection
            .hits
            .iter()
            .map(|hit| {
                let mut finding = DlpFinding {
                    ts: ctx.ts,
                    request_id: ctx.request_id.clone(),
                    user: who.user.clone(),
                    app_id: http.app_id.clone(),
                    detector: hit.detector.clone(),
                    finding_count: hit.count,
                    confidence: hit.max_confidence.as_str().to_string(),
                    action: finding_action.as_str().to_string(),
                    ..DlpFinding::default()
                };
                finding.set_snippet(hit.snippet.as_deref().unwrap_or(""));
                finding.ai_key_fingerprint = hit.key_fingerprint.clone().unwrap_or_default();
                finding
            })
            .collect();
        EventRecord { http, findings }
    }
}
