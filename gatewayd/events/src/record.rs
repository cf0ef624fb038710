//! What the events path carries: a proxy transaction's `http_events` row and its
//! `dlp_findings` rows ([`EventRecord`]), or an AI gateway call's `ai_requests` row, as they
//! travel through the queue and, serialised as JSON, through the spool.
//!
//! The spool's JSON is kept readable across versions: a transaction is written as it always
//! was (`{"http": ..., "findings": [...]}`), a call as `{"ai": ...}`, so a spool left by an
//! older gatewayd replays unchanged.

use schema::{AiRequest, DlpFinding, HttpEvent};
use serde::{Deserialize, Serialize};

/// One transaction's rows.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct EventRecord {
    pub http: HttpEvent,
    pub findings: Vec<DlpFinding>,
}

/// One record of the queue and the spool.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(untagged)]
pub enum Record {
    /// A proxy transaction.
    Http(EventRecord),
    /// An AI gateway call.
    Ai(AiCall),
}

/// An AI gateway call's row, in the spool as `{"ai": ...}`, with the `dlp_findings` rows
/// of its prompt and answer (`"findings"`, left out when there are none, so a spool
/// written before calls had findings replays unchanged).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct AiCall {
    pub ai: AiRequest,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub findings: Vec<DlpFinding>,
}

impl From<EventRecord> for Record {
    fn from(record: EventRecord) -> Self {
        Self::Http(record)
    }
}

impl From<AiRequest> for Record {
    fn from(ai: AiRequest) -> Self {
        Self::Ai(AiCall {
            ai,
            findings: Vec::new(),
        })
    }
}

impl Record {
    /// The spool's byte form.
    pub fn encode(&self) -> Result<Vec<u8>, serde_json::Error> {
        serde_json::to_vec(self)
    }

    pub fn decode(bytes: &[u8]) -> Result<Self, serde_json::Error> {
        serde_json::from_slice(bytes)
    }

    pub fn http(&self) -> Option<&EventRecord> {
        match self {
            Self::Http(record) => Some(record),
            Self::Ai(_) => None,
        }
    }

    pub fn ai(&self) -> Option<&AiRequest> {
        self.ai_call().map(|call| &call.ai)
    }

    pub fn ai_call(&self) -> Option<&AiCall> {
        match self {
            Self::Ai(call) => Some(call),
            Self::Http(_) => None,
        }
    }
}

/// Who and where, filled in once per connection (identity, source address, geo).
#[derive(Debug, Clone, Default)]
pub struct EventContext {
    pub user: String,
    pub groups: Vec<String>,
    pub device_id: String,
    pub device_posture: String,
    pub src_ip: String,
    pub country: String,
    pub city: String,
}

impl EventRecord {
    /// The spool's byte form.
    pub fn encode(&self) -> Result<Vec<u8>, serde_json::Error> {
        serde_json::to_vec(self)
    }

    pub fn decode(bytes: &[u8]) -> Result<Self, serde_json::Error> {
        serde_json::from_slice(bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A spool written before AI calls existed replays as transactions; calls and
    /// transactions never decode as each other.
    #[test]
    fn spooled_records_keep_their_kind_across_versions() {
        let http = EventRecord {
            http: HttpEvent {
                request_id: "r1".into(),
                ..HttpEvent::default()
            },
            findings: vec![],
        };
        let old_form = http.encode().unwrap();
        assert_eq!(
            Record::decode(&old_form).unwrap(),
            Record::Http(http.clone())
        );
        let call = Record::from(AiRequest {
            request_id: "c1".into(),
            cost_micro_usd: None,
            ..AiRequest::default()
        });
        let bytes = call.encode().unwrap();
        assert!(bytes.starts_with(b"{\"ai\":"));
        assert_eq!(Record::decode(&bytes).unwrap(), call);
        assert_eq!(
            Record::decode(&Record::from(http.clone()).encode().unwrap()).unwrap(),
            Record::Http(http)
        );
    }

    /// A call travels with its DLP findings; a call spooled before calls had findings (or
    /// before the answer's DLP columns existed) replays unchanged.
    #[test]
    fn a_call_keeps_its_findings_and_older_spooled_calls_still_decode() {
        let call = Record::Ai(AiCall {
            ai: AiRequest {
                request_id: "c2".into(),
                response_dlp_action: "block".into(),
                response_dlp_detectors: vec!["credit_card".into()],
                response_dlp_finding_count: 1,
                ..AiRequest::default()
            },
            findings: vec![DlpFinding {
                request_id: "c2".into(),
                detector: "credit_card".into(),
                finding_count: 1,
                ..DlpFinding::default()
            }],
        });
        assert_eq!(Record::decode(&call.encode().unwrap()).unwrap(), call);
        let mut old = serde_json::to_value(AiRequest {
            request_id: "c3".into(),
            ..AiRequest::default()
        })
        .unwrap();
        for column in [
            "dlp_finding_count",
            "response_dlp_action",
            "response_dlp_detectors",
            "response_dlp_finding_count",
        ] {
            old.as_object_mut().unwrap().remove(column);
        }
        let old = serde_json::json!({ "ai": old }).to_string();
        let decoded = Record::decode(old.as_bytes()).unwrap();
        assert_eq!(decoded.ai().unwrap().request_id, "c3");
        assert!(decoded.ai_call().unwrap().findings.is_empty());
    }
}
