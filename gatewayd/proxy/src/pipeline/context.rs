//! The typed state a connection and each of its requests carry through the phases.

use std::net::SocketAddr;
use std::sync::atomic::AtomicU64;
use std::sync::Arc;
use std::time::Instant;

use dlp::Confidence;
use http::{Method, Request};
use policies::catalog::{FieldPath, HostKind};

use crate::gateway::{Gateway, Snapshot};
use crate::identity::Identity;
use crate::outcome::Outcome;
use crate::respond::{wants_json, Refusal};

/// Where an intercepted or tunnelled connection goes: the host the client asked for (SNI, or
/// the CONNECT target without SNI) and the CONNECT port.
#[derive(Debug, Clone)]
pub struct TunnelTarget {
    pub host: String,
    pub port: u16,
    /// `https` for intercepted TLS, `http` for plain HTTP inside a CONNECT tunnel.
    pub scheme: &'static str,
}

/// What every request on one client connection shares.
pub struct ConnectionContext {
    pub gateway: Arc<Gateway>,
    /// The configuration and policy this connection started with; kept for its lifetime.
    pub snapshot: Arc<Snapshot>,
    pub client: SocketAddr,
    pub identity: Identity,
    /// Set for connections inside a CONNECT tunnel.
    pub tunnel: Option<TunnelTarget>,
    /// Set when the tunnel was blocked at CONNECT time: every request gets this page.
    pub blocked: Option<Refusal>,
    /// Identity, source address and location, as events record them.
    pub who: Arc<events::EventContext>,
}

/// The catalog app a request goes to.
#[derive(Debug, Clone)]
pub struct AppRef {
    pub id: String,
    pub name: String,
    pub category: &'static str,
    /// Which of the app's host lists the host was found in.
    pub host_kind: HostKind,
    /// `prompt` or `upload` when the request hits a catalog endpoint.
    pub endpoint: Option<&'static str>,
    /// The JSON fields that hold the prompt, when the request hits a prompt endpoint: kept
    /// from classification so inspection does not match the catalog a second time.
    pub prompt_fields: Vec<FieldPath>,
}

/// One detector's findings in a scanned body: what a `dlp_findings` row records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DlpHit {
    pub detector: String,
    /// Findings counted, the highest count among the profiles scanned.
    pub count: u32,
    pub max_confidence: Confidence,
    /// The first masked snippet of a finding (never the raw secret); `None` when none was
    /// kept (at most 16 distinct snippets per request are).
    pub snippet: Option<String>,
    /// For an AI API key detector, the first matched key's keyed fingerprint (the key
    /// inventory's), never the key.
    pub key_fingerprint: Option<String>,
}

/// What body inspection found, for the event.
#[derive(Debug, Clone, Default)]
pub struct InspectionRecord {
    /// The detectors that fired, sorted by id.
    pub hits: Vec<DlpHit>,
    /// Profiles whose scan matched.
    pub matched_profiles: Vec<String>,
    /// The body had to be scanned but could not be (too large, unreadable, timed out).
    pub unscanned: Option<String>,
    /// File names of uploaded parts.
    pub file_names: Vec<String>,
    /// The model a JSON prompt names (`"model": "..."`), when it names one.
    pub model: Option<String>,
    /// Characters of prompt text seen.
    pub prompt_length: usize,
    /// Findings were masked and the request forwarded (`dlp` with `on_match = "redact"`).
    pub redacted: bool,
    /// The prompt text an audit rule asked to keep (bounded).
    pub audit_prompt: Option<String>,
}

/// One request's state, from arrival to the log phase.
pub struct RequestContext {
    pub request_id: String,
    pub started: Instant,
    pub method: Method,
    pub scheme: &'static str,
    pub host: String,
    pub path: String,
    /// Whether refusals are rendered as JSON (API client) or HTML (browser).
    pub json: bool,
    /// What the gateway did; text only in the headers, the log line and the event row.
    pub action: Outcome,
    /// The rule or check behind the action.
    pub rule: String,
    /// A human-readable detail for the log (the refusal reason, the upstream error).
    pub detail: Option<String>,
    pub bytes_up: Arc<AtomicU64>,
    pub app: Option<AppRef>,
    pub app_status: Option<&'static str>,
    /// The request carries a file.
    pub upload: bool,
    /// The version of the policy that decided.
    pub policy_version: Arc<str>,
    pub inspection: InspectionRecord,
    /// The gateway answered this request itself.
    pub blocked: bool,
    /// Seconds since the Unix epoch at arrival.
    pub ts: u32,
    /// Set when the host is outside the catalog but the traffic looks like an AI API: the
    /// discovered app's id (`discovered:<host>`).
    pub discovered: Option<String>,
    /// The person's live coaching pass for this app, when they continued past a warning.
    pub coaching_pass: Option<Arc<crate::coaching::Pass>>,
    /// Set by a body hook that found the evidence after classify (see `discover.rs`).
    pub discovered_late: super::discover::LateDiscovery,
    /// Whose account the request uses, on hosts of an app with tenant control configured.
    pub tenant: Option<policies::TenantUse>,
    /// The AI API key the request presented (fingerprint and last four only).
    pub ai_key: Option<crate::inspect::credentials::KeySeen>,
    /// The key on a request to a host discovery may still recognise from the body: it
    /// becomes `ai_key` only if it does (`settle_discovery`), and is dropped otherwise.
    pub ai_key_pending: Option<crate::inspect::credentials::KeySeen>,
}

impl RequestContext {
    pub fn begin<B>(conn: &ConnectionContext, request: &Request<B>) -> Self {
        let host = conn
            .tunnel
            .as_ref()
            .map(|t| t.host.clone())
            .or_else(|| request.uri().host().map(str::to_owned))
            .unwrap_or_default();
        let mut ctx = Self::new(
            uuid::Uuid::now_v7().to_string(),
            request.method().clone(),
            conn.tunnel.as_ref().map(|t| t.scheme).unwrap_or("http"),
            String::new(),
            request.uri().path().chars().take(2048).collect(),
            Arc::from(conn.snapshot.policy.version()),
        );
        ctx.json = wants_json(request.headers(), &host);
        ctx.host = host;
        ctx
    }

    /// A context that nothing has decided yet: allowed by the `default` rule, no app, no
    /// inspection, arriving now.
    pub fn new(
        request_id: String,
        method: Method,
        scheme: &'static str,
        host: String,
        path: String,
        policy_version: Arc<str>,
    ) -> Self {
        Self {
            request_id,
            started: Instant::now(),
            method,
            scheme,
            json: false,
            host,
            path,
            action: Outcome::Allow,
            rule: "default".into(),
            detail: None,
            bytes_up: Arc::default(),
            app: None,
            app_status: None,
            upload: false,
            policy_version,
            inspection: InspectionRecord::default(),
            blocked: false,
            ts: std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_secs() as u32)
                .unwrap_or(0),
            discovered: None,
            coaching_pass: None,
            discovered_late: None,
            tenant: None,
            ai_key: None,
            ai_key_pending: None,
        }
    }

    /// Makes evidence a body hook found count for this request's record, as if the headers
    /// had shown it: the app id `discovered:<host>`, unreviewed.
    pub fn settle_discovery(&mut self) {
        let late = self
            .discovered_late
            .as_ref()
            .is_some_and(|seen| seen.load(std::sync::atomic::Ordering::Relaxed));
        if late && self.app.is_none() && self.discovered.is_none() {
            self.discovered = Some(format!("discovered:{}", self.host));
            self.app_status = Some(policies::AppStatus::Unreviewed.as_str());
            // A key on a host known as AI only from its body is in the inventory too.
            if self.ai_key.is_none() {
                self.ai_key = self.ai_key_pending.take();
            }
        }
        self.ai_key_pending = None;
    }

    /// Records that the gateway answered this request itself. Only a refusal is a block: a
    /// site that could not be reached (`Outcome::Error`) was not blocked, and a warning page
    /// (`Outcome::Warn`) is the user being warned, its own outcome that the user may
    /// continue past; the reports must count neither as blocked.
    pub fn refused(&mut self, refusal: &Refusal) {
        use crate::outcome::Outcome;
        self.blocked = !matches!(refusal.action, Outcome::Error | Outcome::Warn);
        self.action = refusal.action;
        self.rule = refusal.rule.clone();
        self.detail = Some(refusal.reason.clone());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inspect::credentials::KeySeen;

    fn pending() -> KeySeen {
        KeySeen {
            fingerprint: "f".repeat(32),
            provider: "chat.test".into(),
            kind: "unknown",
            last4: "WXYZ".into(),
            org_managed: false,
        }
    }

    /// A key on a host discovery has not recognised counts only if the body shows an AI API.
    #[test]
    fn a_pending_key_counts_only_when_the_body_discovers_the_host() {
        let new = || {
            RequestContext::new(
                "r".into(),
                Method::POST,
                "https",
                "chat.test".into(),
                "/api/send".into(),
                "v".into(),
            )
        };
        let mut found = new();
        found.ai_key_pending = Some(pending());
        found.discovered_late = Some(Arc::new(std::sync::atomic::AtomicBool::new(true)));
        found.settle_discovery();
        assert_eq!(found.discovered.as_deref(), Some("discovered:chat.test"));
        assert_eq!(found.ai_key, Some(pending()));
        assert!(found.ai_key_pending.is_none());
        let mut not_ai = new();
        not_ai.ai_key_pending = Some(pending());
        not_ai.discovered_late = Some(Arc::new(std::sync::atomic::AtomicBool::new(false)));
        not_ai.settle_discovery();
        assert!(not_ai.ai_key.is_none() && not_ai.ai_key_pending.is_none());
    }
}
