//! What one transaction records: the `http_events` row and its `dlp_findings` rows, as they
//! travel through the queue and, serialised as JSON, through the spool.

use schema::{DlpFinding, HttpEvent};
use serde::{Deserialize, Serialize};

/// One transaction's rows.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct EventRecord {
    pub http: HttpEvent,
    pub findings: Vec<DlpFinding>,
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
