//! An OpenAI chat completions request as an Anthropic Messages request.

use serde_json::{json, Map, Value};

use super::{chat_message, string, untranslatable};
use crate::error::CallError;

const TARGET: &str = "Anthropic Messages";
/// Anthropic requires `max_tokens`; OpenAI callers often leave it out.
pub const DEFAULT_MAX_TOKENS: u64 = 4096;

/// Translates `body` (OpenAI) for `model` (the provider's name).
pub fn request(body: &Value, model: &str) -> Result<Value, CallError> {
    let fields = body
        .as_object()
        .ok_or_else(|| CallError::bad_request("body", "the body must be a JSON object"))?;
    let mut out = Map::new();
    out.insert("model".into(), json!(model));
    let mut parallel = true;
    let mut tool_choice = None;
    for (key, value) in fields {
        if value.is_null() {
            continue;
        }
        match key.as_str() {
            "model" | "messages" | "stream_options" => {}
            "max_tokens" | "max_completion_tokens" => {
                let n = value.as_u64().ok_or_else(|| {
                    CallError::bad_request(key, format!("{key} must be a whole number"))
                })?;
                out.insert("max_tokens".into(), json!(n));
            }
            "temperature" | "top_p" => {
                let v = value.as_f64().ok_or_else(|| {
                    CallError::bad_request(key, format!("{key} must be a number"))
                })?;
                if !(0.0..=1.0).contains(&v) {
                    return Err(CallError::bad_request(
                        key,
                        format!("{key} {v} is outside 0 to 1, the range of the {TARGET} API this model is served by"),
                    ));
                }
                out.insert(key.clone(), value.clone());
            }
            "stop" => {
                let stops = match value {
                    Value::String(s) => vec![json!(s)],
                    Value::Array(a) if a.iter().all(Value::is_string) => a.clone(),
                    _ => {
                        return Err(CallError::bad_request(
                            "stop",
                            "stop must be a string or a list of strings",
                        ))
                    }
                };
                out.insert("stop_sequences".into(), Value::Array(stops));
            }
            "stream" => {
                out.insert("stream".into(), json!(value.as_bool().unwrap_or(false)));
            }
            "n" if value.as_u64() == Some(1) => {}
            "parallel_tool_calls" => parallel = value.as_bool().unwrap_or(true),
            "tools" => {
                out.insert("tools".into(), tools(value)?);
            }
            "tool_choice" => tool_choice = Some(choice(value)?),
            "user" => {
                out.insert("metadata".into(), json!({"user_id": value}));
            }
            other => return Err(untranslatable(other, TARGET)),
        }
    }
    if !parallel {
        let choice = tool_choice.get_or_insert_with(|| json!({"type": "auto"}));
        choice["disable_parallel_tool_use"] = json!(true);
    }
    if let Some(choice) = tool_choice {
        out.insert("tool_choice".into(), choice);
    }
    out.entry("max_tokens").or_insert(json!(DEFAULT_MAX_TOKENS));
    let (system, messages) = messages(body.get("messages"))?;
    if !system.is_empty() {
        out.insert("system".into(), json!(system.join("\n\n")));
    }
    out.insert("messages".into(), Value::Array(messages));
    Ok(Value::Object(out))
}

fn messages(messages: Option<&Value>) -> Result<(Vec<String>, Vec<Value>), CallError> {
    let messages = messages
        .and_then(Value::as_array)
        .ok_or_else(|| CallError::bad_request("messages", "messages must be a list"))?;
    let mut system = Vec::new();
    let mut out: Vec<Value> = Vec::new();
    for (i, m) in messages.iter().enumerate() {
        let path = format!("messages[{i}]");
        let (role, content) = chat_message(m, &path, TARGET)?;
        match role {
            "system" | "developer" => {
                if !out.is_empty() {
                    return Err(CallError::bad_request(
                        &format!("{path}.role"),
                        format!("{path}.role: a {role} message after the conversation started cannot be translated to the {TARGET} API (its system prompt comes first)"),
                    ));
                }
                system.push(text_only(content, &path)?);
            }
            "user" => push(&mut out, "user", user_blocks(content, &path)?),
            "assistant" => {
                let mut blocks = match content {
                    Some(Value::String(s)) if s.is_empty() => Vec::new(),
                    Some(_) => vec![json!({"type": "text", "text": text_only(content, &path)?})],
                    None => Vec::new(),
                };
                for (j, call) in m
                    .get("tool_calls")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .enumerate()
                {
                    let call_path = format!("{path}.tool_calls[{j}]");
                    let function = call.get("function").ok_or_else(|| {
                        CallError::bad_request(
                            &call_path,
                            format!("{call_path}.function is missing"),
                        )
                    })?;
                    let arguments =
                        string(function, "arguments", &format!("{call_path}.function"))?;
                    let input: Value = serde_json::from_str(arguments)
                        .ok()
                        .filter(Value::is_object)
                        .ok_or_else(|| {
                            CallError::bad_request(
                                &format!("{call_path}.function.arguments"),
                                format!("{call_path}.function.arguments must be a JSON object"),
                            )
                        })?;
                    blocks.push(json!({
                        "type": "tool_use",
                        "id": string(call, "id", &call_path)?,
                        "name": string(function, "name", &format!("{call_path}.function"))?,
                        "input": input,
                    }));
                }
                if blocks.is_empty() {
                    return Err(CallError::bad_request(
                        &format!("{path}.content"),
                        format!("{path} has neither content nor tool calls"),
                    ));
                }
                push(&mut out, "assistant", blocks);
            }
            "tool" => {
                let block = json!({
                    "type": "tool_result",
                    "tool_use_id": string(m, "tool_call_id", &path)?,
                    "content": text_only(content, &path)?,
                });
                push(&mut out, "user", vec![block]);
            }
            _ => return Err(untranslatable(&format!("{path}.role"), TARGET)),
        }
    }
    Ok((system, out))
}

/// Adds `blocks` as a `role` message, joined to the previous one when it has the same role
/// (Anthropic wants user and assistant turns to alternate).
fn push(out: &mut Vec<Value>, role: &str, blocks: Vec<Value>) {
    if let Some(last) = out.last_mut().filter(|l| l["role"] == role) {
        if let Some(content) = last.get_mut("content").and_then(Value::as_array_mut) {
            content.extend(blocks);
            return;
        }
    }
    out.push(json!({"role": role, "content": blocks}));
}

/// Content that may only hold text: a string, or text parts (joined).
fn text_only(content: Option<&Value>, path: &str) -> Result<String, CallError> {
    match content {
        None => Ok(String::new()),
        Some(Value::String(s)) => Ok(s.clone()),
        Some(Value::Array(parts)) => {
            let mut text = Vec::new();
            for (j, part) in parts.iter().enumerate() {
                let part_path = format!("{path}.content[{j}]");
                match part.get("type").and_then(Value::as_str) {
                    Some("text") => text.push(string(part, "text", &part_path)?.to_string()),
                    Some("refusal") => text.push(string(part, "refusal", &part_path)?.to_string()),
                    _ => return Err(untranslatable(&format!("{part_path}.type"), TARGET)),
                }
            }
            Ok(text.join("\n"))
        }
        Some(_) => Err(CallError::bad_request(
            &format!("{path}.content"),
            format!("{path}.content must be a string or a list"),
        )),
    }
}

fn user_blocks(content: Option<&Value>, path: &str) -> Result<Vec<Value>, CallError> {
    let Some(Value::Array(parts)) = content else {
        return Ok(vec![
            json!({"type": "text", "text": text_only(content, path)?}),
        ]);
    };
    let mut blocks = Vec::with_capacity(parts.len());
    for (j, part) in parts.iter().enumerate() {
        let part_path = format!("{path}.content[{j}]");
        match part.get("type").and_then(Value::as_str) {
            Some("text") => {
                blocks.push(json!({"type": "text", "text": string(part, "text", &part_path)?}))
            }
            Some("image_url") => {
                let image = part.get("image_url").ok_or_else(|| {
                    CallError::bad_request(&part_path, format!("{part_path}.image_url is missing"))
                })?;
                if image
                    .get("detail")
                    .and_then(Value::as_str)
                    .is_some_and(|d| d != "auto")
                {
                    return Err(untranslatable(
                        &format!("{part_path}.image_url.detail"),
                        TARGET,
                    ));
                }
                let url = string(image, "url", &format!("{part_path}.image_url"))?;
                blocks.push(json!({"type": "image", "source": image_source(url, &part_path)?}));
            }
            _ => return Err(untranslatable(&format!("{part_path}.type"), TARGET)),
        }
    }
    Ok(blocks)
}

/// `data:image/png;base64,...` as a base64 source, anything else as a URL source.
fn image_source(url: &str, path: &str) -> Result<Value, CallError> {
    let Some(data) = url.strip_prefix("data:") else {
        return Ok(json!({"type": "url", "url": url}));
    };
    let (media_type, base64) = data.split_once(";base64,").ok_or_else(|| {
        CallError::bad_request(
            &format!("{path}.image_url.url"),
            "a data: image URL must be base64 (data:TYPE;base64,...)",
        )
    })?;
    Ok(json!({"type": "base64", "media_type": media_type, "data": base64}))
}

fn tools(value: &Value) -> Result<Value, CallError> {
    let tools = value
        .as_array()
        .ok_or_else(|| CallError::bad_request("tools", "tools must be a list"))?;
    let mut out = Vec::with_capacity(tools.len());
    for (i, tool) in tools.iter().enumerate() {
        let path = format!("tools[{i}]");
        if tool.get("type").and_then(Value::as_str) != Some("function") {
            return Err(untranslatable(&format!("{path}.type"), TARGET));
        }
        let function = tool
            .get("function")
            .ok_or_else(|| CallError::bad_request(&path, format!("{path}.function is missing")))?;
        if function.get("strict").and_then(Value::as_bool) == Some(true) {
            return Err(untranslatable(&format!("{path}.function.strict"), TARGET));
        }
        let mut t = json!({
            "name": string(function, "name", &format!("{path}.function"))?,
            "input_schema": function.get("parameters").cloned().unwrap_or_else(|| json!({"type": "object", "properties": {}})),
        });
        if let Some(description) = function.get("description").filter(|d| !d.is_null()) {
            t["description"] = description.clone();
        }
        out.push(t);
    }
    Ok(Value::Array(out))
}

fn choice(value: &Value) -> Result<Value, CallError> {
    match value {
        Value::String(s) => match s.as_str() {
            "auto" => Ok(json!({"type": "auto"})),
            "none" => Ok(json!({"type": "none"})),
            "required" => Ok(json!({"type": "any"})),
            _ => Err(untranslatable("tool_choice", TARGET)),
        },
        Value::Object(_) => {
            let name = value
                .get("function")
                .and_then(|f| f.get("name"))
                .and_then(Value::as_str)
                .ok_or_else(|| untranslatable("tool_choice", TARGET))?;
            Ok(json!({"type": "tool", "name": name}))
        }
        _ => Err(untranslatable("tool_choice", TARGET)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tool_conversation_translates_and_what_cannot_is_named() {
        let body = json!({
            "model": "fast", "max_tokens": 50, "stream": true, "stop": "END", "parallel_tool_calls": false,
            "messages": [
                {"role": "system", "content": "Be brief."},
                {"role": "user", "content": [{"type": "text", "text": "weather?"}, {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA"}}]},
                {"role": "assistant", "content": null, "tool_calls": [{"id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": "{\"city\":\"Paris\"}"}}]},
                {"role": "tool", "tool_call_id": "call_1", "content": "sunny"},
            ],
            "tools": [{"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object"}}}],
            "tool_choice": "required",
        });
        let out = request(&body, "claude-x").unwrap();
        assert_eq!(out["model"], "claude-x");
        assert_eq!(out["system"], "Be brief.");
        assert_eq!(out["stop_sequences"], json!(["END"]));
        assert_eq!(
            out["tool_choice"],
            json!({"type": "any", "disable_parallel_tool_use": true})
        );
        assert_eq!(
            out["messages"][0]["content"][1]["source"]["media_type"],
            "image/png"
        );
        assert_eq!(out["messages"][1]["content"][0]["input"]["city"], "Paris");
        assert_eq!(out["messages"][2]["content"][0]["type"], "tool_result");
        assert_eq!(out["tools"][0]["input_schema"]["type"], "object");

        let n = request(&json!({"messages": [], "n": 2}), "m").unwrap_err();
        assert_eq!(
            n.body(crate::dialect::Dialect::OpenAi)["error"]["param"],
            "n"
        );
        let audio = request(
            &json!({"messages": [{"role": "user", "content": [{"type": "input_audio"}]}]}),
            "m",
        )
        .unwrap_err();
        assert!(
            audio.to_string().contains("messages[0].content[0].type"),
            "{audio}"
        );
        let late = request(&json!({"messages": [{"role": "user", "content": "a"}, {"role": "system", "content": "b"}]}), "m").unwrap_err();
        assert!(late.to_string().contains("messages[1].role"), "{late}");
        assert!(request(&json!({"messages": [], "temperature": 1.5}), "m").is_err());
        assert_eq!(
            request(&json!({"messages": []}), "m").unwrap()["max_tokens"],
            DEFAULT_MAX_TOKENS
        );
    }
}
