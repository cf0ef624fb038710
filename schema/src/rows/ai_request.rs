//! `ai_requests`: one row per call to the AI gateway, written by its log phase for answered,
//! refused and failed calls alike. Never holds a prompt, an answer, a virtual key's secret or
//! a provider key: the caller is named by the virtual key's public id.

use clickhouse::Row;
use serde::{Deserialize, Serialize};

use crate::tables;

/// Longest text stored in one of the row's string columns (model names come from callers and
/// providers, errors from the gateway); longer text is cut.
pub const AI_TEXT_MAX_BYTES: usize = 256;

/// One AI gateway call. Empty strings and zeros mean "not known" or "not applicable".
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, Row)]
pub struct AiRequest {
    /// When the call arrived, seconds since the Unix epoch (UTC).
    pub ts: u32,
    /// The id in `x-request-id` / `X-Warden-Request-Id`.
    pub request_id: String,
    /// The virtual key's public id (never the key); empty when none was valid.
    pub virtual_key_id: String,
    pub virtual_key_name: String,
    pub user: String,
    pub team: String,
    pub tags: Vec<String>,
    /// The caller's dialect: `openai` or `anthropic`.
    pub ingress: String,
    /// `chat_completions`, `messages`, `models` or `other`.
    pub endpoint: String,
    /// The configured provider's name.
    pub provider: String,
    pub model_asked: String,
    /// The model the provider said answered (e.g. a dated snapshot).
    pub model_served: String,
    pub stream: u8,
    /// Status sent to the caller; 499 when the caller hung up mid-stream.
    pub status: u16,
    /// What went wrong, as a kind (`unauthenticated`, `dlp_blocked`, `upstream`, ...).
    pub error: String,
    /// Every prompt token (OpenAI's `prompt_tokens`; Anthropic's input plus cache reads and
    /// writes), of which `cached_tokens` were read from and `cache_write_tokens` written to
    /// the provider's cache.
    pub input_tokens: u64,
    /// Every output token, of which `reasoning_tokens` were reasoning.
    pub output_tokens: u64,
    pub cached_tokens: u64,
    pub cache_write_tokens: u64,
    pub reasoning_tokens: u64,
    /// 1 when the provider reported usage at all.
    pub usage_reported: u8,
    /// What was wrong with the reported usage (`negative`, `not_an_integer`,
    /// `over_limit`, ...); the numbers stored were bounded.
    pub usage_flags: Vec<String>,
    /// The cost in millionths of a US dollar; `None` when it is not known (no price for the
    /// model, or no usage reported), never a guess.
    pub cost_micro_usd: Option<u64>,
    /// `priced`, `usage_suspect`, `unknown_model`, `no_usage`, `not_billed` (refused before the
    /// provider) or `provider_error` (the provider answered an error and reported no usage).
    pub cost_status: String,
    /// The date the price used was checked (`YYYY-MM-DD`), or `config` for an override.
    pub price_checked: String,
    pub latency_ms: u32,
    /// Time to the first token of a stream.
    pub ttft_ms: Option<u32>,
    /// What DLP did to the prompt: `block`, `redact` or empty.
    pub dlp_action: String,
    /// Detector ids that matched the prompt, each once (never the data).
    pub dlp_detectors: Vec<String>,
    /// How the call came in: `direct`, `proxy` or `agent`. (`default` here and below:
    /// batches spooled before the columns existed still replay.)
    #[serde(default)]
    pub ingress_path: String,
    /// How the caller was identified: `virtual_key`, `proxy_user`, `device`, or empty.
    #[serde(default)]
    pub identity_source: String,
    /// The enrolled device, on the agent path.
    #[serde(default)]
    pub device_id: String,
    /// How many findings DLP made in the prompt, all detectors together.
    #[serde(default)]
    pub dlp_finding_count: u32,
    /// What DLP did to the answer: `block`, `redact`, `log` (monitor) or empty.
    #[serde(default)]
    pub response_dlp_action: String,
    /// Detector ids that matched the answer, each once (never the data).
    #[serde(default)]
    pub response_dlp_detectors: Vec<String>,
    /// How many findings DLP made in the answer (up to where a blocked stream stopped).
    #[serde(default)]
    pub response_dlp_finding_count: u32,
    /// `[[aigw.routes]]`: the route asked for (empty: none), the deployment
    /// (`provider/model`) that answered, the attempts made, the deployments passed over
    /// before one answered, and each attempt that did not (`provider/model outcome`).
    #[serde(default)]
    pub route: String,
    #[serde(default)]
    pub deployment: String,
    #[serde(default)]
    pub attempts: u8,
    #[serde(default)]
    pub fallbacks: u8,
    #[serde(default)]
    pub attempt_errors: Vec<String>,
}

impl AiRequest {
    pub const TABLE: &'static str = tables::AI_REQUESTS;

    /// `text` cut to [`AI_TEXT_MAX_BYTES`], for the string columns that come from outside.
    pub fn bounded(text: &str) -> String {
        super::bounded(text, AI_TEXT_MAX_BYTES)
    }
}
