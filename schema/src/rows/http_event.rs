//! `http_events`: one row per HTTP transaction, written by the log phase for allowed, refused
//! and failed requests alike. Never holds a body, except `audit_prompt` when an audit rule
//! asked for it.

use clickhouse::Row;
use serde::{Deserialize, Serialize};

use crate::tables;

/// Largest `audit_prompt` the schema stores (the policy language's own ceiling, 1 MiB).
pub const AUDIT_PROMPT_MAX_BYTES: usize = 1024 * 1024;
/// Largest `path` stored; longer ones are cut (query strings can be huge).
pub const PATH_MAX_BYTES: usize = 4096;

/// One HTTP transaction. Empty strings and zeros mean "not known" or "not applicable".
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, Row)]
pub struct HttpEvent {
    /// When the request arrived, seconds since the Unix epoch (UTC).
    pub ts: u32,
    /// The id in `X-Warden-Request-Id` (a UUIDv7 in text form).
    pub request_id: String,
    /// Authenticated user, site name from a source range, or `anonymous`.
    pub user: String,
    pub groups: Vec<String>,
    /// Enrolled device id when the request came through the agent.
    pub device_id: String,
    /// Posture summary from the agent, e.g. `compliant` or `disk_unencrypted,os_outdated`.
    pub device_posture: String,
    pub src_ip: String,
    /// ISO 3166-1 alpha-2 country code from GeoIP.
    pub country: String,
    pub city: String,
    pub host: String,
    /// Catalog app id; empty when the host is not an AI app.
    pub app_id: String,
    pub app_name: String,
    pub category: String,
    /// `approved`, `unapproved`, `in_review` or `unreviewed` at the time of the request.
    pub app_status: String,
    /// 1 when the app was recognised by discovery heuristics rather than the catalog.
    pub discovered: u8,
    pub method: String,
    /// Path and query, bounded by [`PATH_MAX_BYTES`].
    pub path: String,
    /// Status sent to the client (the gateway's own for refusals); 0 if none was sent.
    pub status: u16,
    /// Name of the deciding rule's action: `allow`, `block`, `dlp`, `block_uploads`,
    /// `isolate`, `audit`, `do_not_inspect`.
    pub action: String,
    /// 1 when the gateway refused the request, whatever the action's name.
    pub blocked: u8,
    /// The deciding rule, or `default`.
    pub rule_id: String,
    pub policy_version: String,
    /// Why the gateway refused or failed; empty for a plain pass.
    pub detail: String,
    /// 1 when the request carried one or more files.
    pub upload: u8,
    pub file_names: Vec<String>,
    /// Bytes of prompt text found in the request body.
    pub prompt_length: u32,
    /// Model named in the request, when visible.
    pub model: String,
    /// Detector ids that matched, each once.
    pub dlp_detectors: Vec<String>,
    /// Total findings across detectors.
    pub dlp_finding_count: u32,
    /// Request bytes sent upstream (body), response bytes sent to the client.
    pub bytes_up: u64,
    pub bytes_down: u64,
    /// From request start to the end of the response.
    pub latency_ms: u32,
    /// Prompt text, empty unless an audit rule asked; bounded by [`AUDIT_PROMPT_MAX_BYTES`].
    pub audit_prompt: String,
    /// Whose account the request used, on hosts of an app with tenant control configured:
    /// `corporate`, `personal` or `unknown`; empty elsewhere. Never the account id itself.
    /// (`default`: batches spooled before the column existed still replay.)
    #[serde(default)]
    pub tenant: String,
    /// The AI API key the request presented, on AI API hosts: its keyed fingerprint
    /// (HMAC-SHA256 under the installation's secret, 32 hex digits), never the key; empty
    /// when none was seen. The provider and kind its format (or the host) tells, its last four
    /// characters, and 1 when it is one of the AI gateway's provider keys.
    #[serde(default)]
    pub ai_key_fingerprint: String,
    #[serde(default)]
    pub ai_key_provider: String,
    #[serde(default)]
    pub ai_key_kind: String,
    #[serde(default)]
    pub ai_key_last4: String,
    #[serde(default)]
    pub ai_key_org_managed: u8,
}

impl HttpEvent {
    pub const TABLE: &'static str = tables::HTTP_EVENTS;

    /// Stores `text` as the audited prompt, cut to `max` bytes (and never more than
    /// [`AUDIT_PROMPT_MAX_BYTES`]).
    pub fn set_audit_prompt(&mut self, text: &str, max: usize) {
        self.audit_prompt = super::bounded(text, max.min(AUDIT_PROMPT_MAX_BYTES));
    }

    /// Stores the request path, cut to [`PATH_MAX_BYTES`].
    pub fn set_path(&mut self, path: &str) {
        self.path = super::bounded(path, PATH_MAX_BYTES);
    }
}
