//! `dlp_findings`: one row per detector that matched in a request. Holds masked snippets only,
//! never the matched secret.

use clickhouse::Row;
use serde::{Deserialize, Serialize};

use crate::tables;

/// Largest masked snippet stored.
pub const SNIPPET_MAX_BYTES: usize = 256;

/// What one detector found in one request.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, Row)]
pub struct DlpFinding {
    /// Seconds since the Unix epoch (UTC); the same as the request's `http_events.ts`.
    pub ts: u32,
    /// Joins to `http_events.request_id`.
    pub request_id: String,
    pub user: String,
    pub app_id: String,
    /// Detector id, e.g. `aws_access_key`.
    pub detector: String,
    /// How many times the detector matched in this request.
    pub finding_count: u32,
    /// Highest confidence among the matches: `low`, `medium` or `high`.
    pub confidence: String,
    /// What the rule did about it: `block`, `redact` or `log`.
    pub action: String,
    /// A masked example of the match, bounded by [`SNIPPET_MAX_BYTES`].
    pub snippet: String,
    /// For an AI API key detector: the key's keyed fingerprint, the same as
    /// `http_events.ai_key_fingerprint` of a request that presented it, so a key pasted into a
    /// prompt links to the key inventory; empty otherwise. Never the key.
    #[serde(default)]
    pub ai_key_fingerprint: String,
}

impl DlpFinding {
    pub const TABLE: &'static str = tables::DLP_FINDINGS;

    /// Stores an already-masked snippet, cut to [`SNIPPET_MAX_BYTES`].
    pub fn set_snippet(&mut self, masked: &str) {
        self.snippet = super::bounded(masked, SNIPPET_MAX_BYTES);
    }
}
