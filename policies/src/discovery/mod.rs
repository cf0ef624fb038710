//! Shadow-AI discovery: heuristics that flag traffic to hosts outside the catalog whose shape
//! says "AI" — well-known completion paths, provider key formats in auth headers, streamed
//! completion chunks in responses, and the web apps' side (`web.rs`): chat backends' paths,
//! model names in request bodies, chat streams and sockets.
//!
//! Pure functions over a small facts struct; the daemon calls [`discover`] only for hosts the
//! catalog did not match. Reasons never carry the key itself, only the provider it looks like.
//! A key alone is weak evidence when the key format is a platform's (a Google API key opens
//! every Google API, an `sk-` key any OpenAI-compatible service) or the host is a shared
//! platform host (`*.googleapis.com`, ...): such traffic is flagged only when something else
//! agrees — browsers' own calls to Google APIs carry `AIza` keys and are not shadow AI.
//! A discovery is evidence for a person to review; it never changes what the policy decides.

pub mod decision;
mod web;

use crate::host_pattern::request_path;
use dlp::Confidence;
use serde::{Deserialize, Serialize};

/// What is known about one discovered host: the record the daemon keeps (in
/// `<state>/discovered-apps.json`) and the admin plane lists for triage.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct DiscoveredApp {
    pub host: String,
    pub first_seen_unix_ms: u64,
    pub last_seen_unix_ms: u64,
    pub requests: u64,
    /// Evidence seen so far, e.g. `api_path:openai-chat`, `provider_key:openai`.
    pub evidence: Vec<String>,
    /// Strongest confidence seen: low, medium, high.
    pub confidence: String,
    /// `unreviewed` until someone decides (adds the host to the catalog, blocks it, or marks
    /// it not AI); discovery itself never changes enforcement.
    pub status: String,
}

/// How much of the first response chunk is looked at.
const CHUNK_LIMIT: usize = 4096;

/// What the daemon knows about one request and the start of its response.
#[derive(Debug, Clone, Copy, Default)]
pub struct TrafficFacts<'a> {
    /// The request's host, lowercase, without port.
    pub host: &'a str,
    pub method: &'a str,
    /// Request target path (a query is ignored).
    pub path: &'a str,
    /// The `Authorization` header value.
    pub authorization: Option<&'a str>,
    /// An `x-api-key` (or `x-goog-api-key`, `api-key`) header value.
    pub api_key: Option<&'a str>,
    /// The response `Content-Type`.
    pub response_content_type: Option<&'a str>,
    /// The first bytes of the response body.
    pub first_chunk: Option<&'a [u8]>,
    /// The first bytes of the request body, when the gateway has them.
    pub request_first_chunk: Option<&'a [u8]>,
    /// The request asks for a WebSocket upgrade.
    pub websocket: bool,
}

/// Why traffic looks like an AI API.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Reason {
    /// The request path is a well-known completion endpoint (`api` names the API family).
    ApiPath { api: &'static str },
    /// An auth header holds a key in a provider's format.
    ProviderKey { provider: &'static str },
    /// The response streams completion chunks (`shape` names the format).
    CompletionStream { shape: &'static str },
    /// The path is a chat web app's backend (`/backend-api/conversation`, ...).
    WebBackend { shape: &'static str },
    /// The request body names a model of a known family (`"model": "gpt-4o"`).
    ModelName { family: &'static str },
    /// A WebSocket opened on a chat-like path.
    ChatSocket,
}

/// A host flagged as a likely AI service.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Discovery {
    pub reasons: Vec<Reason>,
    pub confidence: Confidence,
}

/// Flags `facts` when any heuristic fires. Confidence is the strongest single reason, raised
/// one step when two or more kinds of evidence agree.
pub fn discover(facts: &TrafficFacts<'_>) -> Option<Discovery> {
    let mut found: Vec<(Reason, Confidence)> = Vec::new();
    if let Some(hit) = api_path(facts.method, facts.path) {
        found.push(hit);
    }
    found.extend(web::backend_path(facts.method, facts.path));
    let keys = [facts.authorization, facts.api_key];
    let key = keys.into_iter().flatten().find_map(provider_key);
    if let (Some(ct), Some(chunk)) = (facts.response_content_type, facts.first_chunk) {
        if let Some(hit) = completion_stream(ct, chunk) {
            found.push(hit);
        } else {
            found.extend(web::chat_stream(ct, chunk));
        }
    }
    found.extend(facts.request_first_chunk.and_then(web::model_name));
    if facts.websocket {
        found.extend(web::chat_socket(facts.path));
    }
    if let Some((reason, confidence)) = key {
        // A key alone proves an AI service only when the key is an AI provider's and the host
        // is nobody's shared platform; otherwise it only corroborates other evidence.
        let weak = matches!(reason, Reason::ProviderKey { provider } if PLATFORM_KEYS.contains(&provider))
            || web::shared_platform_host(facts.host);
        if !weak || !found.is_empty() {
            found.push((reason, confidence));
        }
    }
    let strongest = found.iter().map(|(_, c)| *c).max()?;
    let confidence = if found.len() >= 2 {
        strongest.raised()
    } else {
        strongest
    };
    Some(Discovery {
        reasons: found.into_iter().map(|(r, _)| r).collect(),
        confidence,
    })
}

/// Key formats that open a whole platform rather than an AI service.
const PLATFORM_KEYS: &[&str] = &["google", "openai-compatible"];

/// Completion-style paths. Suffix matches catch gateways and Azure-style prefixes
/// (`/openai/deployments/x/chat/completions`); generic paths such as `/api/chat` count low.
fn api_path(method: &str, path: &str) -> Option<(Reason, Confidence)> {
    if !method.eq_ignore_ascii_case("POST") {
        return None;
    }
    let path = request_path(path).trim_end_matches('/');
    const SUFFIXES: &[(&str, &str, Confidence)] = &[
        ("/chat/completions", "openai-chat", Confidence::Medium),
        ("/v1/completions", "openai-completions", Confidence::Medium),
        ("/v1/responses", "openai-responses", Confidence::Medium),
        ("/v1/messages", "anthropic-messages", Confidence::Medium),
        ("/v1/embeddings", "openai-embeddings", Confidence::Low),
    ];
    for &(suffix, api, confidence) in SUFFIXES {
        if path.ends_with(suffix) {
            return Some((Reason::ApiPath { api }, confidence));
        }
    }
    if path == "/api/generate" || path == "/api/chat" {
        return Some((Reason::ApiPath { api: "ollama" }, Confidence::Low));
    }
    let gemini = path.starts_with("/v1beta/models/") || path.starts_with("/v1/models/");
    let last = path.rsplit('/').next().unwrap_or_default();
    if gemini && (last.ends_with(":generateContent") || last.ends_with(":streamGenerateContent")) {
        return Some((Reason::ApiPath { api: "gemini" }, Confidence::Medium));
    }
    None
}

/// Key formats: (prefix, minimum length of what follows, allowed body characters, provider,
/// confidence). The most specific prefixes come first.
type KeyFormat = (
    &'static str,
    usize,
    fn(u8) -> bool,
    &'static str,
    Confidence,
);
const KEY_FORMATS: &[KeyFormat] = &[
    ("sk-ant-", 32, key_char, "anthropic", Confidence::High),
    ("sk-or-v1-", 64, hex_char, "openrouter", Confidence::High),
    ("sk-proj-", 32, key_char, "openai", Confidence::High),
    ("sk-svcacct-", 32, key_char, "openai", Confidence::High),
    ("sk-admin-", 32, key_char, "openai", Confidence::High),
    ("sk-", 32, key_char, "openai-compatible", Confidence::Medium),
    ("gsk_", 40, alnum_char, "groq", Confidence::High),
    ("xai-", 60, alnum_char, "xai", Confidence::High),
    ("pplx-", 40, alnum_char, "perplexity", Confidence::High),
    ("AIza", 35, key_char, "google", Confidence::Medium),
    ("hf_", 30, alnum_char, "huggingface", Confidence::High),
    ("r8_", 30, alnum_char, "replicate", Confidence::High),
    ("fw_", 20, alnum_char, "fireworks", Confidence::Medium),
];

fn key_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'-' || b == b'_'
}

fn hex_char(b: u8) -> bool {
    b.is_ascii_hexdigit()
}

fn alnum_char(b: u8) -> bool {
    b.is_ascii_alphanumeric()
}

fn provider_key(header: &str) -> Option<(Reason, Confidence)> {
    let value = header.trim();
    let value = match value.get(..7) {
        Some(p) if p.eq_ignore_ascii_case("bearer ") => value[7..].trim_start(),
        _ => value,
    };
    if value.len() > 512 {
        return None;
    }
    KEY_FORMATS
        .iter()
        .find_map(|&(prefix, min, ok, provider, confidence)| {
            let body = value.strip_prefix(prefix)?;
            (body.len() >= min && body.bytes().all(ok))
                .then_some((Reason::ProviderKey { provider }, confidence))
        })
}

fn completion_stream(content_type: &str, chunk: &[u8]) -> Option<(Reason, Confidence)> {
    let chunk = &chunk[..chunk.len().min(CHUNK_LIMIT)];
    let ct = content_type.trim_start().to_ascii_lowercase();
    if ct.starts_with("text/event-stream") {
        if contains(chunk, b"content_block_delta") || contains(chunk, b"\"message_start\"") {
            return Some((
                Reason::CompletionStream {
                    shape: "anthropic-sse",
                },
                Confidence::High,
            ));
        }
        if contains(chunk, b"\"choices\"") && contains(chunk, b"\"delta\"") {
            return Some((
                Reason::CompletionStream {
                    shape: "openai-sse",
                },
                Confidence::High,
            ));
        }
        if contains(chunk, b"\"response.output_text.delta\"") {
            return Some((
                Reason::CompletionStream {
                    shape: "openai-responses-sse",
                },
                Confidence::High,
            ));
        }
        if contains(chunk, b"\"candidates\"") && contains(chunk, b"\"parts\"") {
            return Some((
                Reason::CompletionStream {
                    shape: "gemini-sse",
                },
                Confidence::High,
            ));
        }
    }
    if ct.starts_with("application/x-ndjson")
        && contains(chunk, b"\"done\"")
        && (contains(chunk, b"\"response\"") || contains(chunk, b"\"message\""))
    {
        return Some((
            Reason::CompletionStream {
                shape: "ollama-ndjson",
            },
            Confidence::Medium,
        ));
    }
    None
}

pub(crate) fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

#[cfg(test)]
mod tests;
