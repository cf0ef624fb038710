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
}
