//! The web apps' side of discovery: what a chat product's browser traffic looks like when its
//! host is not in the catalog — its backend paths, model names in the bodies it posts, the
//! streams it answers with and the sockets it opens — and which hosts are shared platforms,
//! where a key format alone proves nothing.
//!
//! Every test here reads at most [`super::CHUNK_LIMIT`] bytes and allocates nothing.

use super::{contains, Confidence, Reason, CHUNK_LIMIT};
use crate::host_pattern::request_path;

/// Chat backends' paths: (how the path is told, shape). Told by a prefix and a suffix of the
/// path (either may be empty), so ids in between match.
const BACKENDS: &[(&str, &str, &str)] = &[
    // ChatGPT-style web backends (and their clones).
    ("/backend-api/conversation", "", "chatgpt-style"),
    ("/backend-api/f/conversation", "", "chatgpt-style"),
    ("/backend-anon/conversation", "", "chatgpt-style"),
    // Claude-style: /api/organizations/ORG/chat_conversations/ID/completion
    ("/api/organizations/", "/completion", "claude-style"),
    ("/api/organizations/", "/retry_completion", "claude-style"),
    // Gemini web's batch RPC.
    ("/_/", "/StreamGenerate", "gemini-web"),
    // Common self-hosted chat UIs (Open WebUI, LibreChat, LobeChat ...).
    ("/api/chat/completions", "", "chat-ui"),
    ("/api/ask/", "", "chat-ui"),
    ("/api/agents/chat", "", "chat-ui"),
    ("/webapi/chat/", "", "chat-ui"),
];

/// A chat web app's backend, by its path (POST only: reading a conversation list is not
/// sending a prompt).
pub(super) fn backend_path(method: &str, path: &str) -> Option<(Reason, Confidence)> {
    if !method.eq_ignore_ascii_case("POST") {
        return None;
    }
    let path = request_path(path).trim_end_matches('/');
    BACKENDS
        .iter()
        .find(|(prefix, suffix, _)| {
            path.len() >= prefix.len() + suffix.len()
                && path.starts_with(prefix)
                && path.ends_with(suffix)
        })
        .map(|&(_, _, shape)| (Reason::WebBackend { shape }, Confidence::Medium))
}

/// Model families by the start of a model's name (lowercase); the most specific first.
const FAMILIES: &[(&str, &str)] = &[
    ("gpt-", "openai"),
    ("chatgpt-", "openai"),
    ("o1", "openai"),
    ("o3", "openai"),
    ("o4-", "openai"),
    ("text-davinci", "openai"),
    ("claude-", "anthropic"),
    ("gemini-", "google"),
    ("gemma", "google"),
    ("llama", "meta"),
    ("meta-llama/", "meta"),
    ("mistral", "mistral"),
    ("mixtral", "mistral"),
    ("codestral", "mistral"),
    ("qwen", "qwen"),
    ("deepseek", "deepseek"),
    ("command-r", "cohere"),
    ("grok-", "xai"),
    ("phi-", "microsoft"),
    ("sonar", "perplexity"),
    ("glm-", "zhipu"),
    ("moonshot", "moonshot"),
    ("kimi", "moonshot"),
    ("ernie", "baidu"),
    ("doubao", "bytedance"),
    ("yi-", "01ai"),
];

/// The family of the model a JSON request body names (`"model": "..."`, the first one in
/// the body's first bytes).
pub(super) fn model_name(body: &[u8]) -> Option<(Reason, Confidence)> {
    let body = &body[..body.len().min(CHUNK_LIMIT)];
    let at = find(body, b"\"model\"")?;
    let rest = &body[at + 7..];
    let rest = trim_start(rest);
    let rest = trim_start(rest.strip_prefix(b":")?);
    let rest = rest.strip_prefix(b"\"")?;
    let end = rest.iter().position(|&b| b == b'"')?;
    let name = &rest[..end.min(96)];
    // "provider/model" names (OpenRouter, Together): the part after the last slash, unless
    // the family itself is written with one.
    let short = name.rsplit(|&b| b == b'/').next().unwrap_or(name);
    FAMILIES.iter().find_map(|&(prefix, family)| {
        let matches = |n: &[u8]| {
            n.len() >= prefix.len() && n[..prefix.len()].eq_ignore_ascii_case(prefix.as_bytes())
        };
        (matches(name) || matches(short))
            .then_some((Reason::ModelName { family }, Confidence::Medium))
    })
}

/// Chat web apps' own streams (not the public APIs' chunks, which `completion_stream`
/// reads): ChatGPT-style message events, Claude-style completion events.
pub(super) fn chat_stream(content_type: &str, chunk: &[u8]) -> Option<(Reason, Confidence)> {
    let chunk = &chunk[..chunk.len().min(CHUNK_LIMIT)];
    let ct = content_type.trim_start();
    if !ct
        .get(..17)
        .is_some_and(|p| p.eq_ignore_ascii_case("text/event-stream"))
    {
        return None;
    }
    let shape = if contains(chunk, b"\"conversation_id\"")
        && (contains(chunk, b"\"parts\"") || contains(chunk, b"\"message\""))
    {
        "chatgpt-style-sse"
    } else if contains(chunk, b"event: completion") && contains(chunk, b"\"completion\"") {
        "claude-style-sse"
    } else {
        return None;
    };
    Some((Reason::CompletionStream { shape }, Confidence::Medium))
}

/// A WebSocket on a path that names a chat or an assistant: weak alone.
pub(super) fn chat_socket(path: &str) -> Option<(Reason, Confidence)> {
    let path = request_path(path).to_ascii_lowercase();
    [
        "chat",
        "conversation",
        "assistant",
        "completion",
        "inference",
    ]
    .iter()
    .any(|word| path.contains(word))
    .then_some((Reason::ChatSocket, Confidence::Low))
}

/// Hosts of platforms that serve many products under one name, where a platform key in a
/// header says nothing about AI (Chromium calls `content-autofill.googleapis.com` with an
/// `AIza` key).
const SHARED_PLATFORMS: &[&str] = &[
    "googleapis.com",
    "google.com",
    "gstatic.com",
    "amazonaws.com",
    "azure.com",
    "azure-api.net",
    "windows.net",
    "microsoft.com",
    "cloudflare.com",
    "firebaseio.com",
    "appspot.com",
];

/// Whether `host` is (under) a shared platform's domain.
pub(super) fn shared_platform_host(host: &str) -> bool {
    let host = host.trim_end_matches('.').as_bytes();
    SHARED_PLATFORMS.iter().any(|domain| {
        let domain = domain.as_bytes();
        host.len() >= domain.len()
            && host[host.len() - domain.len()..].eq_ignore_ascii_case(domain)
            && (host.len() == domain.len() || host[host.len() - domain.len() - 1] == b'.')
    })
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

fn trim_start(bytes: &[u8]) -> &[u8] {
    let skip = bytes
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(bytes.len());
    &bytes[skip..]
}
