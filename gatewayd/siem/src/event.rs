//! What a SIEM receives: one flat, self-describing event per block, DLP finding set, budget
//! breach, admin action or (when asked for) transaction, built from the events path's records
//! and the admin audit trail.
//!
//! What this module must never do: copy a prompt (`audit_prompt`), a request body or any
//! unmasked match into an event. Findings carry the detectors' masked snippets only, and free
//! text (a refusal's detail, an audit line's detail) is bounded.

use events::Record;
use schema::{AiRequest, DlpFinding, HttpEvent};
use serde::{Deserialize, Serialize};

/// Free text kept per field at most (a refusal reason, an audit detail).
const MAX_TEXT: usize = 512;

/// One exported event. Serialised as is for JSON payloads and into the sinks' spools.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, Default)]
pub struct SiemEvent {
    /// The transaction's request id, or `audit-<ms>-<offset in the trail>` for an admin
    /// action: receivers
    /// de-duplicate on it (a crash between delivery and acknowledgement sends a batch again).
    pub id: String,
    /// Milliseconds since the Unix epoch (UTC).
    pub ts_ms: u64,
    /// A security event (the `security` stream); transactions are not.
    pub security: bool,
    /// `block`, `dlp`, `budget`, `approval`, `key`, `admin`, `transaction` or `ai_call`.
    pub kind: String,
    /// 0 (informational) to 10 (very high), as CEF counts.
    pub severity: u8,
    /// What the gateway did: `block`, `allow`, `redact`, `warn`, ... or the admin action.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub action: String,
    /// The user (or for admin actions, the actor: `token:NAME`, `dashboard:NAME`).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub user: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub src_ip: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub device_id: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub host: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub app_id: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub method: String,
    /// The stored path (detector matches already masked by the proxy).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub path: String,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub status: u16,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub rule_id: String,
    /// AI calls: the model served (or asked for), provider, virtual key name.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub model: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub provider: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub virtual_key: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub detail: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub findings: Vec<Finding>,
}

/// One detector's findings in a transaction.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, Default)]
pub struct Finding {
    pub detector: String,
    pub count: u32,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub confidence: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub action: String,
    /// Masked by the detector (`4111********1111`); never the match.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub snippet: String,
}

fn is_zero(n: &u16) -> bool {
    *n == 0
}

fn bounded(text: &str) -> String {
    if text.len() <= MAX_TEXT {
        return text.to_string();
    }
    let mut end = MAX_TEXT;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &text[..end])
}

fn findings(rows: &[DlpFinding]) -> Vec<Finding> {
    rows.iter()
        .map(|f| Finding {
            detector: f.detector.clone(),
            count: f.finding_count,
            confidence: f.confidence.clone(),
            action: f.action.clone(),
            snippet: f.snippet.clone(),
        })
        .collect()
}

/// Whether a record is a security event, without building the event (the log phase asks
/// this of every transaction when no sink wants them all).
pub fn is_security(record: &Record) -> bool {
    match record {
        Record::Http(r) => {
            r.http.blocked != 0 || !r.findings.is_empty() || r.http.dlp_finding_count > 0
        }
        Record::Ai(c) => {
            let a = &c.ai;
            a.error.contains("budget")
                || a.dlp_action == "block"
                || a.response_dlp_action == "block"
                || !c.findings.is_empty()
                || a.dlp_finding_count > 0
                || a.response_dlp_finding_count > 0
        }
    }
}

impl SiemEvent {
    /// The event of a queued record (security or not; the sinks choose).
    pub fn from_record(record: &Record) -> Self {
        match record {
            Record::Http(r) => Self::from_http(&r.http, &r.findings),
            Record::Ai(c) => Self::from_ai(&c.ai, &c.findings),
        }
    }

    fn from_http(h: &HttpEvent, rows: &[DlpFinding]) -> Self {
        let (kind, severity, security) = if h.blocked != 0 {
            ("block", 7, true)
        } else if !rows.is_empty() || h.dlp_finding_count > 0 {
            ("dlp", 5, true)
        } else {
            ("transaction", 1, false)
        };
        Self {
            id: h.request_id.clone(),
            ts_ms: u64::from(h.ts) * 1000,
            security,
            kind: kind.into(),
            severity,
            action: h.action.clone(),
            user: h.user.clone(),
            src_ip: h.src_ip.clone(),
            device_id: h.device_id.clone(),
            host: h.host.clone(),
            app_id: h.app_id.clone(),
            method: h.method.clone(),
            path: bounded(&h.path),
            status: h.status,
            rule_id: h.rule_id.clone(),
            model: h.model.clone(),
            detail: bounded(&h.detail),
            findings: findings(rows),
            ..Self::default()
        }
    }

    fn from_ai(a: &AiRequest, rows: &[DlpFinding]) -> Self {
        let blocked = a.dlp_action == "block" || a.response_dlp_action == "block";
        let (kind, severity, security) = if a.error.contains("budget") {
            ("budget", 6, true)
        } else if blocked {
            ("block", 7, true)
        } else if !rows.is_empty() || a.dlp_finding_count > 0 || a.response_dlp_finding_count > 0 {
            ("dlp", 5, true)
        } else {
            ("ai_call", 1, false)
        };
        let action = if blocked {
            "block".to_string()
        } else if !a.dlp_action.is_empty() {
            a.dlp_action.clone()
        } else {
            a.response_dlp_action.clone()
        };
        let model = if a.model_served.is_empty() {
            &a.model_asked
        } else {
            &a.model_served
        };
        Self {
            id: a.request_id.clone(),
            ts_ms: u64::from(a.ts) * 1000,
            security,
            kind: kind.into(),
            severity,
            action,
            user: a.user.clone(),
            device_id: a.device_id.clone(),
            path: bounded(&a.endpoint),
            status: a.status,
            model: model.clone(),
            provider: a.provider.clone(),
            virtual_key: a.virtual_key_name.clone(),
            detail: bounded(&a.error),
            findings: findings(rows),
            ..Self::default()
        }
    }

    /// The event of an admin audit entry (`at`, its offset in the trail, keeps its id stable).
    pub fn from_audit(ts_ms: u64, at: u64, actor: &str, action: &str, detail: &str) -> Self {
        let kind = if action.contains("key") {
            "key"
        } else if action.contains("status") || action.contains("access") {
            "approval"
        } else {
            "admin"
        };
        let severity = if action.contains("fail") || action.contains("refus") {
            6
        } else {
            3
        };
        Self {
            id: format!("audit-{ts_ms}-{at}"),
            ts_ms,
            security: true,
            kind: kind.into(),
            severity,
            action: bounded(action),
            user: bounded(actor),
            detail: bounded(detail),
            ..Self::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use events::EventRecord;

    #[test]
    fn a_dlp_block_keeps_the_masked_snippet_and_never_the_prompt() {
        let record = Record::Http(EventRecord {
            http: HttpEvent {
                request_id: "r1".into(),
                ts: 1_700_000_000,
                blocked: 1,
                action: "block".into(),
                audit_prompt: "card 4111111111111111".into(),
                ..HttpEvent::default()
            },
            findings: vec![DlpFinding {
                detector: "credit_card".into(),
                finding_count: 1,
                snippet: "4111********1111".into(),
                ..DlpFinding::default()
            }],
        });
        let event = SiemEvent::from_record(&record);
        assert!(event.security && is_security(&record));
        assert_eq!(event.kind, "block");
        assert_eq!(event.ts_ms, 1_700_000_000_000);
        let json = serde_json::to_string(&event).unwrap();
        assert!(json.contains("4111********1111"));
        assert!(!json.contains("4111111111111111"));
    }

    #[test]
    fn plain_traffic_is_a_transaction_and_budget_refusals_are_security() {
        let plain = SiemEvent::from_record(&Record::Http(EventRecord {
            http: HttpEvent::default(),
            findings: vec![],
        }));
        assert!(!plain.security);
        let budget = SiemEvent::from_record(&Record::from(AiRequest {
            error: "budget_exceeded".into(),
            status: 429,
            cost_micro_usd: None,
            ..AiRequest::default()
        }));
        assert!(budget.security);
        assert_eq!(budget.kind, "budget");
        let long = "x".repeat(2000);
        let audit = SiemEvent::from_audit(5, 1, "token:ops", "key_create", &long);
        assert_eq!(audit.kind, "key");
        assert!(audit.detail.len() < 600);
    }
}
