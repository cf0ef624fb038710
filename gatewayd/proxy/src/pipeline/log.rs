//! The log phase: one record per HTTP transaction, written when the response is complete or
//! abandoned, for allowed, refused and failed requests alike. The record goes to the event
//! writer (ClickHouse, spooled when it is down), the structured log and the metrics.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::Arc;
use std::time::Instant;

use schema::{DlpFinding, HttpEvent};

use super::context::{AppRef, InspectionRecord};
use crate::outcome::Outcome;
use crate::telemetry::events::{BodyBytes, InternalEvent};
use crate::telemetry::Metrics;
use events::{EventContext, EventRecord, EventSink};

/// Everything known about one transaction when its response starts.
pub struct TransactionLog {
    pub request_id: String,
    /// Seconds since the Unix epoch when the request arrived.
    pub ts: u32,
    /// Who and where (identity, source, geo), shared by the connection's requests.
    pub who: Arc<EventContext>,
    /// The gateway answered instead of the upstream.
    pub blocked: bool,
    pub events: Option<EventSink>,
    pub started: Instant,
    pub client: String,
    pub user: String,
    pub method: String,
    pub scheme: &'static str,
    pub host: String,
    pub path: String,
    pub status: u16,
    pub action: Outcome,
    pub rule: String,
    pub detail: Option<String>,
    pub policy_version: String,
    pub app: Option<AppRef>,
    pub app_status: Option<&'static str>,
    pub upload: bool,
    pub inspection: InspectionRecord,
    pub discovered: Option<String>,
    pub bytes_up: Arc<AtomicU64>,
    pub bytes_down: Arc<AtomicU64>,
    pub body_error: Option<String>,
    pub metrics: Arc<Metrics>,
}

impl TransactionLog {
    /// Emits the record. Called exactly once: at body end, or when the body is dropped.
    pub fn finish(self) {
        let up = self.bytes_up.load(Relaxed);
        let down = self.bytes_down.load(Relaxed);
        if let Some(events) = &self.events {
            events.emit(self.record(up, down));
        }
        BodyBytes { up, down }.emit(&self.metrics);
        let detectors = self
            .inspection
            .detectors
            .iter()
            .map(|(d, n)| format!("{d}:{n}"))
            .collect::<Vec<_>>()
            .join(",");
        tracing::info!(
            target: "warden::transaction",
            request_id = %self.request_id,
            client = %self.client,
            user = %self.user,
            device = %self.who.device_id,
            method = %self.method,
            scheme = %self.scheme,
            host = %self.host,
            path = %self.path,
            status = self.status,
            action = %self.action,
            rule = %self.rule,
            detail = %self.detail.as_deref().unwrap_or(""),
            policy_version = %self.policy_version,
            app = %self.app.as_ref().map(|a| a.id.as_str()).unwrap_or(""),
            category = %self.app.as_ref().map(|a| a.category).unwrap_or(""),
            endpoint = %self.app.as_ref().and_then(|a| a.endpoint).unwrap_or(""),
            app_status = %self.app_status.unwrap_or(""),
            upload = self.upload,
            discovered = %self.discovered.as_deref().unwrap_or(""),
            dlp_detectors = %detectors,
            unscanned = %self.inspection.unscanned.as_deref().unwrap_or(""),
            prompt_length = self.inspection.prompt_length,
            audited = self.inspection.audit_prompt.is_some(),
            bytes_up = up,
            bytes_down = down,
            body_error = %self.body_error.as_deref().unwrap_or(""),
            latency_ms = self.started.elapsed().as_secs_f64() * 1000.0,
            "transaction"
        );
    }
}

impl TransactionLog {
    /// The rows this transaction becomes.
    fn record(&self, bytes_up: u64, bytes_down: u64) -> EventRecord {
        let who = &self.who;
        let inspection = &self.inspection;
        let mut http = HttpEvent {
            ts: self.ts,
            request_id: self.request_id.clone(),
            user: who.user.clone(),
            groups: who.groups.clone(),
            device_id: who.device_id.clone(),
            device_posture: who.device_posture.clone(),
            src_ip: who.src_ip.clone(),
            country: who.country.clone(),
            city: who.city.clone(),
            host: self.host.clone(),
            app_id: self
                .app
                .as_ref()
                .map(|a| a.id.clone())
                .or_else(|| self.discovered.clone())
                .unwrap_or_default(),
            app_name: self
                .app
                .as_ref()
                .map(|a| a.name.clone())
                .unwrap_or_default(),
            category: self
                .app
                .as_ref()
                .map(|a| a.category.to_string())
                .or_else(|| self.discovered.as_ref().map(|_| "api".to_string()))
                .unwrap_or_default(),
            app_status: self.app_status.unwrap_or("").to_string(),
            discovered: u8::from(self.discovered.is_some()),
            method: self.method.clone(),
            status: self.status,
            action: self.action.as_str().to_string(),
            blocked: u8::from(self.blocked),
            rule_id: self.rule.clone(),
            policy_version: self.policy_version.clone(),
            detail: self.detail.clone().unwrap_or_default(),
            upload: u8::from(self.upload),
            file_names: inspection.file_names.clone(),
            prompt_length: u32::try_from(inspection.prompt_length).unwrap_or(u32::MAX),
            dlp_detectors: inspection
                .detectors
                .iter()
                .map(|(d, _)| d.clone())
                .collect(),
            dlp_finding_count: inspection.detectors.iter().map(|(_, n)| *n).sum(),
            bytes_up,
            bytes_down,
            latency_ms: u32::try_from(self.started.elapsed().as_millis()).unwrap_or(u32::MAX),
            ..HttpEvent::default()
        };
        http.set_path(&self.path);
        if let Some(prompt) = &inspection.audit_prompt {
            http.set_audit_prompt(prompt, prompt.len());
        }
        let findings = inspection
            .detectors
            .iter()
            .map(|(detector, count)| {
                let mut finding = DlpFinding {
                    ts: self.ts,
                    request_id: self.request_id.clone(),
                    user: who.user.clone(),
                    app_id: http.app_id.clone(),
                    detector: detector.clone(),
                    finding_count: *count,
                    confidence: inspection
                        .confidence
                        .iter()
                        .find(|(d, _)| d == detector)
                        .map(|(_, c)| c.clone())
                        .unwrap_or_default(),
                    action: if self.blocked {
                        Outcome::Block
                    } else {
                        self.action
                    }
                    .as_str()
                    .to_string(),
                    ..DlpFinding::default()
                };
                let snippet = inspection
                    .snippets
                    .iter()
                    .find_map(|s| {
                        s.strip_prefix(detector.as_str())
                            .and_then(|r| r.strip_prefix(": "))
                    })
                    .unwrap_or("");
                finding.set_snippet(snippet);
                finding
            })
            .collect();
        EventRecord { http, findings }
    }
}
