//! A chat completions request, as the AI gateway sends it (OpenAI's wire format), read into the
//! engine's terms: the conversation, the sampling settings, whether to stream.
//!
//! What the engine cannot do is refused with a 400 naming the field (tools, `n` > 1, images),
//! never silently dropped; numbers are clamped to what the engine and the configuration allow.

use inference::chat::ChatMessage;
use inference::generate::GenerateParams;
use inference::sample::SamplerConfig;
use serde_json::Value;

/// Why a request was refused: the field and what was wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{param}: {message}")]
pub struct BadRequest {
    pub param: &'static str,
    pub message: String,
}

fn bad(param: &'static str, message: impl Into<String>) -> BadRequest {
    BadRequest {
        param,
        message: message.into(),
    }
}

/// A request the engine can run.
#[derive(Debug, Clone, PartialEq)]
pub struct ChatRequest {
    pub messages: Vec<ChatMessage>,
    pub params: GenerateParams,
    pub stream: bool,
    /// `stream_options.include_usage`: a last chunk with the usage.
    pub stream_usage: bool,
}

/// Most stop strings a request may give (OpenAI's limit).
const MAX_STOP: usize = 4;

/// Reads `body`; `max_tokens_cap` bounds the completion's length.
pub fn parse(body: &Value, max_tokens_cap: usize) -> Result<ChatRequest, BadRequest> {
    let obj = body
        .as_object()
        .ok_or_else(|| bad("body", "must be a JSON object"))?;
    for refused in [
        "tools",
        "functions",
        "tool_choice",
        "response_format",
        "audio",
    ] {
        if obj.get(refused).is_some_and(|v| !v.is_null()) {
            return Err(bad(
                field_name(refused),
                "the local model does not support it",
            ));
        }
    }
    if obj.get("n").and_then(Value::as_u64).is_some_and(|n| n != 1) {
        return Err(bad("n", "the local model writes one choice (n = 1)"));
    }
    let messages = obj
        .get("messages")
        .and_then(Value::as_array)
        .ok_or_else(|| bad("messages", "must be an array"))?
        .iter()
        .map(message)
        .collect::<Result<Vec<_>, _>>()?;
    if messages.is_empty() {
        return Err(bad("messages", "must not be empty"));
    }
    let max_tokens = ["max_completion_tokens", "max_tokens"]
        .iter()
        .find_map(|k| obj.get(*k).and_then(Value::as_u64))
        .map_or(max_tokens_cap, |n| (n as usize).min(max_tokens_cap));
    if max_tokens == 0 {
        return Err(bad("max_tokens", "must be at least 1"));
    }
    let number = |k: &str| obj.get(k).and_then(Value::as_f64);
    let sampler = SamplerConfig {
        // OpenAI's default temperature is 1.
        temperature: number("temperature").unwrap_or(1.0).clamp(0.0, 2.0) as f32,
        top_p: number("top_p").unwrap_or(1.0).clamp(0.0, 1.0) as f32,
        top_k: obj
            .get("top_k")
            .and_then(Value::as_u64)
            .map_or(0, |k| k.min(1000) as usize),
        min_p: number("min_p").unwrap_or(0.0).clamp(0.0, 1.0) as f32,
        repetition_penalty: number("repetition_penalty").unwrap_or(1.0).clamp(0.5, 2.0) as f32,
        seed: obj.get("seed").and_then(Value::as_u64).unwrap_or_else(seed),
    };
    let stop = match obj.get("stop") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::String(s)) => vec![s.clone()],
        Some(Value::Array(a)) if a.len() <= MAX_STOP => a
            .iter()
            .map(|s| {
                s.as_str()
                    .map(str::to_owned)
                    .ok_or_else(|| bad("stop", "must be strings"))
            })
            .collect::<Result<_, _>>()?,
        Some(_) => return Err(bad("stop", format!("a string or up to {MAX_STOP} strings"))),
    };
    Ok(ChatRequest {
        messages,
        params: GenerateParams {
            max_tokens,
            sampler,
            stop,
            ..GenerateParams::default()
        },
        stream: obj.get("stream").and_then(Value::as_bool).unwrap_or(false),
        stream_usage: obj
            .get("stream_options")
            .and_then(|o| o.get("include_usage"))
            .and_then(Value::as_bool)
            .unwrap_or(false),
    })
}

fn field_name(k: &str) -> &'static str {
    match k {
        "tools" => "tools",
        "functions" => "functions",
        "tool_choice" => "tool_choice",
        "response_format" => "response_format",
        _ => "audio",
    }
}

/// A seed for calls that give none: different each call, as with a hosted model.
fn seed() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0)
}

/// One message: a role the template knows and text content (a string, or text parts).
fn message(m: &Value) -> Result<ChatMessage, BadRequest> {
    let role = m
        .get("role")
        .and_then(Value::as_str)
        .ok_or_else(|| bad("messages", "each message needs a role"))?;
    let role = match role {
        "system" | "developer" => "system",
        "user" => "user",
        "assistant" => "assistant",
        other => {
            return Err(bad(
                "messages",
                format!("role {other:?} is not supported by the local model"),
            ))
        }
    };
    let content = match m.get("content") {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => s.clone(),
        Some(Value::Array(parts)) => {
            let mut text = String::new();
            for p in parts {
                match (p.get("type").and_then(Value::as_str), p.get("text")) {
                    (Some("text"), Some(Value::String(t))) => text.push_str(t),
                    (kind, _) => {
                        return Err(bad(
                            "messages",
                            format!(
                                "content part {:?} is not supported by the local model (text only)",
                                kind.unwrap_or("?")
                            ),
                        ))
                    }
                }
            }
            text
        }
        Some(_) => return Err(bad("messages", "content must be a string or parts")),
    };
    Ok(ChatMessage {
        role: role.into(),
        content,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_plain_request_reads_into_engine_terms() {
        let r = parse(
            &json!({"model": "local/smollm2", "messages": [
                {"role": "developer", "content": "Be brief"},
                {"role": "user", "content": [{"type": "text", "text": "Hi"}]}],
                "max_tokens": 5000, "temperature": 0, "stop": "END", "stream": true,
                "stream_options": {"include_usage": true}, "seed": 4}),
            512,
        )
        .unwrap();
        assert_eq!(r.messages[0].role, "system");
        assert_eq!(r.messages[1].content, "Hi");
        assert_eq!(r.params.max_tokens, 512, "capped");
        assert_eq!(r.params.sampler.temperature, 0.0);
        assert_eq!(r.params.sampler.seed, 4);
        assert_eq!(r.params.stop, ["END"]);
        assert!(r.stream && r.stream_usage);
    }

    #[test]
    fn what_the_engine_cannot_do_is_refused_by_name() {
        let base = |extra: Value| {
            let mut b = json!({"messages": [{"role": "user", "content": "x"}]});
            for (k, v) in extra.as_object().unwrap() {
                b[k] = v.clone();
            }
            parse(&b, 64).map(|_| ()).map_err(|e| e.param)
        };
        assert_eq!(base(json!({"tools": [{}]})), Err("tools"));
        assert_eq!(base(json!({"n": 2})), Err("n"));
        assert_eq!(
            base(json!({"stop": ["a", "b", "c", "d", "e"]})),
            Err("stop")
        );
        assert_eq!(base(json!({"max_tokens": 0})), Err("max_tokens"));
        let image = json!({"messages": [{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "x"}}]}]});
        assert_eq!(parse(&image, 64).unwrap_err().param, "messages");
        let tool_role = json!({"messages": [{"role": "tool", "content": "x"}]});
        assert!(parse(&tool_role, 64).is_err());
        assert!(parse(&json!({"messages": []}), 64).is_err());
        assert!(parse(&json!([]), 64).is_err());
    }
}
