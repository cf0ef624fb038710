//! The most a call can cost, before it is sent: what its reservation holds.
//!
//! Input tokens are bounded by the request body's bytes, not counted with a tokenizer: every
//! token of the byte-level BPE tokenizers the providers use (OpenAI's, Anthropic's, Llama's)
//! is at least one byte of the text, and the JSON around the text (keys, quotes, escapes) is
//! more bytes than the role and framing tokens a provider adds per message. A tokenizer
//! (tiktoken's o200k) is exact for some OpenAI models only and *under*-counts others (Claude
//! uses more tokens for the same text), so it cannot bound a budget; the byte bound can, at
//! the price of reserving 3-4 times the real input for the length of the call (what is not
//! used is released at settlement). Attachments (images, documents, audio) are billed by
//! size or pages, not by their bytes in the request (a URL is short): each adds
//! [`ATTACHMENT_TOKENS`] on top, and a document given by reference (a URL or a provider file
//! id: billed per page, its bytes are not in the request) `aigw.url_document_reserve_tokens`.
//! Output is bounded by the call's own cap (`max_tokens`, `max_completion_tokens`,
//! `max_output_tokens`), or the configured default, which is then written into the request
//! so the provider holds to it, times the number of answers asked for (`n`).
//!
//! Never: estimate below what the provider can bill for the request as sent.

use serde_json::{json, Value};

use crate::dialect::Dialect;
use crate::prices::Price;

/// Tokens added for each image, document or audio part: above what OpenAI (at most about
/// 1,500 for an image at high detail) and Anthropic (about 1,600) bill for an image. A
/// multi-page document by URL can bill more: see the module docs of `budget`.
pub const ATTACHMENT_TOKENS: u64 = 5_000;

const CAPS: [&str; 3] = ["max_tokens", "max_completion_tokens", "max_output_tokens"];

/// The call's output cap: the largest it names, or `default` — then also set in `body`
/// (`max_tokens` for Anthropic's API, `max_completion_tokens` for OpenAI's chat,
/// `max_output_tokens` for its Responses API), so that the provider stops where the
/// reservation does. Embeddings produce no output tokens.
pub fn output_cap(body: &mut Value, ingress: Dialect, endpoint: &str, default: u64) -> u64 {
    match endpoint {
        "embeddings" => return 0,
        "responses" => {
            if let Some(cap) = body.get("max_output_tokens").and_then(Value::as_u64) {
                return cap;
            }
            body["max_output_tokens"] = json!(default);
            return default;
        }
        _ => {}
    }
    let named = CAPS
        .iter()
        .filter_map(|k| body.get(*k).and_then(Value::as_u64))
        .max();
    if let Some(cap) = named {
        return cap;
    }
    let field = match ingress {
        Dialect::Anthropic => "max_tokens",
        Dialect::OpenAi => "max_completion_tokens",
        // Callers speak OpenAI's or Anthropic's API; Gemini's and Bedrock's are only ever a
        // provider's, so such a body never reaches this phase.
        Dialect::Gemini | Dialect::Bedrock => return default,
    };
    body[field] = json!(default);
    default
}

/// The output cap multiplied by the number of answers asked for: OpenAI's chat bills up to
/// `n` × `max_completion_tokens` (`crate::knobs` refuses an `n` above its cap first).
pub fn output_bound(body: &Value, endpoint: &str, cap: u64) -> u64 {
    let n = match endpoint {
        "chat_completions" => body.get("n").and_then(Value::as_u64).unwrap_or(1).max(1),
        _ => 1,
    };
    cap.saturating_mul(n)
}

/// An upper bound on the input tokens of a request of `body_bytes` bytes, where a document
/// given by reference counts `reference_doc_tokens`.
pub fn input_bound(body: &Value, body_bytes: usize, reference_doc_tokens: u64) -> u64 {
    let bytes = u64::try_from(body_bytes).unwrap_or(u64::MAX);
    let (parts, referenced) = attachments(body, 0);
    bytes
        .saturating_add(parts.saturating_mul(ATTACHMENT_TOKENS))
        .saturating_add(referenced.saturating_mul(reference_doc_tokens))
}

/// Content parts that are billed by size rather than bytes, and of those the documents given
/// by reference (URL or file id), within a bounded depth.
fn attachments(value: &Value, depth: u32) -> (u64, u64) {
    if depth > 8 {
        return (0, 0);
    }
    let add = |(a, b): (u64, u64), (c, d): (u64, u64)| (a.saturating_add(c), b.saturating_add(d));
    match value {
        Value::Array(items) => items
            .iter()
            .map(|v| attachments(v, depth + 1))
            .fold((0, 0), add),
        Value::Object(fields) => {
            let own = match fields.get("type").and_then(Value::as_str) {
                Some("document" | "file" | "input_file") if by_reference(fields) => (0, 1),
                Some(
                    "image_url" | "image" | "input_image" | "document" | "file" | "input_file"
                    | "input_audio" | "audio",
                ) => (1, 0),
                _ => (0, 0),
            };
            fields
                .iter()
                .filter(|(k, _)| matches!(k.as_str(), "messages" | "content" | "input" | "system"))
                .map(|(_, v)| attachments(v, depth + 1))
                .fold(own, add)
        }
        _ => (0, 0),
    }
}

/// A document part whose content is not in the request: Anthropic's `source` of type `url`
/// or `file`, OpenAI chat's `file.file_id`, Responses' `file_url` / `file_id`.
fn by_reference(part: &serde_json::Map<String, Value>) -> bool {
    let source_kind = part
        .get("source")
        .and_then(|s| s.get("type"))
        .and_then(Value::as_str);
    matches!(source_kind, Some("url" | "file"))
        || part.get("file").and_then(|f| f.get("file_id")).is_some()
        || part.contains_key("file_url")
        || part.contains_key("file_id")
}

/// The most `input` and `output` tokens can cost at `price`, in microdollars rounded up:
/// every input token at the dearest input rate, every output token at the dearest output
/// rate (reasoning included).
pub fn max_cost_micro_usd(price: &Price, input: u64, output: u64) -> u64 {
    let in_rate = price.input.max(price.cached_input).max(price.cache_write);
    let out_rate = price.output.max(price.reasoning);
    let pico = u128::from(input) * u128::from(in_rate)
        + u128::from(output) * u128::from(out_rate)
        + u128::from(price.per_request);
    u64::try_from(pico.div_ceil(1_000_000)).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_estimate_bounds_input_by_bytes_and_output_by_the_cap() {
        let mut body = json!({"model": "m", "messages": [{"role": "user", "content": [
            {"type": "text", "text": "hi"},
            {"type": "image_url", "image_url": {"url": "https://x/y.png"}}
        ]}]});
        assert_eq!(input_bound(&body, 100, 7), 100 + ATTACHMENT_TOKENS);
        let by_url = json!({"messages": [{"role": "user", "content": [
            {"type": "document", "source": {"type": "url", "url": "https://x/y.pdf"}},
            {"type": "document", "source": {"type": "base64", "data": "AAAA"}},
            {"type": "input_file", "file_url": "https://x/z.pdf"}
        ]}]});
        assert_eq!(input_bound(&by_url, 10, 300), 10 + ATTACHMENT_TOKENS + 600);
        let n8 = json!({"n": 8});
        assert_eq!(output_bound(&n8, "chat_completions", 20), 160);
        assert_eq!(output_bound(&n8, "messages", 20), 20);
        assert_eq!(output_bound(&json!({"n": 0}), "chat_completions", 20), 20);
        // No cap: the default is assumed and sent.
        assert_eq!(
            output_cap(&mut body, Dialect::OpenAi, "chat_completions", 4096),
            4096
        );
        assert_eq!(body["max_completion_tokens"], 4096);
        let mut capped = json!({"max_tokens": 10, "max_completion_tokens": 300});
        assert_eq!(
            output_cap(&mut capped, Dialect::OpenAi, "chat_completions", 4096),
            300
        );
        let price = Price {
            input: 3_000_000,
            cached_input: 300_000,
            cache_write: 3_750_000,
            output: 15_000_000,
            reasoning: 15_000_000,
            per_request: 0,
            checked: String::new(),
            origin: "config",
        };
        // 1000 × 3.75 + 100 × 15 = 5250 µ$.
        assert_eq!(max_cost_micro_usd(&price, 1000, 100), 5250);
        assert_eq!(max_cost_micro_usd(&price, 1, 0), 4, "rounded up");
    }
}
