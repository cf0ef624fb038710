//! An Anthropic Messages request as an OpenAI chat completions request.

use serde_json::{json, Map, Value};

use super::{string, untranslatable};
use crate::error::CallError;

const TARGET: &str = "OpenAI chat completions";

/// Translates `body` (Anthropic) for `model` (the provider's name).
pub fn request(body: &Value, model: &str) -> Result<Value, CallError> {
    let fields = body
        .as_object()
        .ok_or_else(|| CallError::bad_request("body", "the body must be a JSON object"))?;
    let mut out = Map::new();
    out.insert("model".into(), json!(model));
    let mut messages = Vec::new();
    if let Some(system) = body.get("system").filter(|s| !s.is_null()) {
        messages.push(json!({"role": "system", "content": text_only(system, "system")?}));
    }
    for (key, value) in fields {
        if value.is_null() {
            continue;
        }
        match key.as_str() {
            "model" | "messages" | "system" => {}
            "max_tokens" | "temperature" | "top_p" | "stream" => {
                out.insert(key.clone(), value.clone());
            }
            "stop_sequences" => {
                out.insert("stop".into(), value.clone());
            }
            "tools" => {
                out.insert("tools".into(), tools(value)?);
            }
            "tool_choice" => {
                if value
                    .get("disable_parallel_tool_use")
                    .and_then(Value::as_bool)
                    == Some(true)
                {
                    out.insert("parallel_tool_calls".into(), json!(false));
                }
                out.insert("tool_choice".into(), choice(value)?);
            }
            "metadata" => {
                for (k, v) in value.as_object().into_iter().flatten() {
                    match k.as_str() {
                        "user_id" if v.is_string() => {
                            out.insert("user".into(), v.clone());
                        }
                        _ if v.is_null() => {}
                        _ => return Err(untranslatable(&format!("metadata.{k}"), TARGET)),
                    }
                }
            }
            other => return Err(untranslatable(other, TARGET)),
        }
    }
    let list = body
        .get("messages")
        .and_then(Value::as_array)
        .ok_or_else(|| CallError::bad_request("messages", "messages must be a list"))?;
    for (i, m) in list.iter().enumerate() {
        translate_message(m, &format!("messages[{i}]"), &mut messages)?;
    }
    out.insert("messages".into(), Value::Array(messages));
    Ok(Value::Object(out))
}

/// Text from a string or a list of text blocks (`cache_control` hints are dropped: OpenAI
/// caches prompts by itself).
fn text_only(value: &Value, path: &str) -> Result<String, CallError> {
    match value {
        Value::String(s) => Ok(s.clone()),
        Value::Array(blocks) => {
            let mut text = Vec::new();
            for (j, block) in blocks.iter().enumerate() {
                let block_path = format!("{path}[{j}]");
                if block.get("type").and_then(Value::as_str) != Some("text") {
                    return Err(untranslatable(&format!("{block_path}.type"), TARGET));
                }
                check_keys(block, &block_path, &["type", "text", "cache_control"])?;
                text.push(string(block, "text", &block_path)?.to_string());
            }
            Ok(text.join("\n"))
        }
        _ => Err(CallError::bad_request(
            path,
            format!("{path} must be a string or a list of text blocks"),
        )),
    }
}

fn check_keys(block: &Value, path: &str, known: &[&str]) -> Result<(), CallError> {
    for (key, value) in block.as_object().into_iter().flatten() {
        if !known.contains(&key.as_str()) && !value.is_null() {
            return Err(untranslatable(&format!("{path}.{key}"), TARGET));
        }
    }
    Ok(())
}

fn translate_message(m: &Value, path: &str, out: &mut Vec<Value>) -> Result<(), CallError> {
    let role = string(m, "role", path)?;
    check_keys(m, path, &["role", "content"])?;
    let content = m.get("content").unwrap_or(&Value::Null);
    let blocks = match content {
        Value::String(s) => {
            out.push(json!({"role": role, "content": s}));
            return Ok(());
        }
        Value::Array(blocks) => blocks,
        _ => {
            return Err(CallError::bad_request(
                &format!("{path}.content"),
                format!("{path}.content must be a string or a list"),
            ))
        }
    };
    let mut parts = Vec::new();
    let mut tool_calls = Vec::new();
    for (j, block) in blocks.iter().enumerate() {
        let bpath = format!("{path}.content[{j}]");
        let kind = block.get("type").and_then(Value::as_str).unwrap_or("");
        match (role, kind) {
            (_, "text") => {
                check_keys(
                    block,
                    &bpath,
                    &["type", "text", "cache_control", "citations"],
                )?;
                parts.push(json!({"type": "text", "text": string(block, "text", &bpath)?}));
            }
            ("user", "image") => {
                let source = block.get("source").unwrap_or(&Value::Null);
                let url = match source.get("type").and_then(Value::as_str) {
                    Some("base64") => format!(
                        "data:{};base64,{}",
                        string(source, "media_type", &format!("{bpath}.source"))?,
                        string(source, "data", &format!("{bpath}.source"))?
                    ),
                    Some("url") => string(source, "url", &format!("{bpath}.source"))?.to_string(),
                    _ => return Err(untranslatable(&format!("{bpath}.source.type"), TARGET)),
                };
                parts.push(json!({"type": "image_url", "image_url": {"url": url}}));
            }
            ("user", "tool_result") => {
                check_keys(
                    block,
                    &bpath,
                    &[
                        "type",
                        "tool_use_id",
                        "content",
                        "is_error",
                        "cache_control",
                    ],
                )?;
                let text = match block.get("content") {
                    None | Some(Value::Null) => String::new(),
                    Some(c) => text_only(c, &format!("{bpath}.content"))?,
                };
                // Tool answers come right after the assistant's calls, before the user's text.
                out.push(json!({"role": "tool", "tool_call_id": string(block, "tool_use_id", &bpath)?, "content": text}));
            }
            ("assistant", "tool_use") => {
                check_keys(
                    block,
                    &bpath,
                    &["type", "id", "name", "input", "cache_control"],
                )?;
                let input = block.get("input").cloned().unwrap_or_else(|| json!({}));
                tool_calls.push(json!({
                    "id": string(block, "id", &bpath)?,
                    "type": "function",
                    "function": {"name": string(block, "name", &bpath)?, "arguments": input.to_string()},
                }));
            }
            _ => return Err(untranslatable(&format!("{bpath}.type"), TARGET)),
        }
    }
    if role == "assistant" {
        let text: Vec<&str> = parts.iter().filter_map(|p| p["text"].as_str()).collect();
        let mut message = json!({"role": "assistant", "content": if text.is_empty() { Value::Null } else { json!(text.join("")) }});
        if !tool_calls.is_empty() {
            message["tool_calls"] = Value::Array(tool_calls);
        }
        out.push(message);
    } else if !parts.is_empty() {
        let all_text = parts.iter().all(|p| p["type"] == "text");
        let content = if all_text && parts.len() == 1 {
            parts[0]["text"].clone()
        } else {
            Value::Array(parts)
        };
        out.push(json!({"role": role, "content": content}));
    }
    Ok(())
}

fn tools(value: &Value) -> Result<Value, CallError> {
    let tools = value
        .as_array()
        .ok_or_else(|| CallError::bad_request("tools", "tools must be a list"))?;
    let mut out = Vec::with_capacity(tools.len());
    for (i, tool) in tools.iter().enumerate() {
        let path = format!("tools[{i}]");
        if tool
            .get("type")
            .and_then(Value::as_str)
            .is_some_and(|t| t != "custom")
        {
            return Err(untranslatable(&format!("{path}.type"), TARGET));
        }
        check_keys(
            tool,
            &path,
            &[
                "type",
                "name",
                "description",
                "input_schema",
                "cache_control",
            ],
        )?;
        let mut function = json!({
            "name": string(tool, "name", &path)?,
            "parameters": tool.get("input_schema").cloned().unwrap_or_else(|| json!({"type": "object"})),
        });
        if let Some(d) = tool.get("description").filter(|d| !d.is_null()) {
            function["description"] = d.clone();
        }
        out.push(json!({"type": "function", "function": function}));
    }
    Ok(Value::Array(out))
}

fn choice(value: &Value) -> Result<Value, CallError> {
    match value.get("type").and_then(Value::as_str) {
        Some("auto") => Ok(json!("auto")),
        Some("any") => Ok(json!("required")),
        Some("none") => Ok(json!("none")),
        Some("tool") => Ok(
            json!({"type": "function", "function": {"name": string(value, "name", "tool_choice")?}}),
        ),
        _ => Err(untranslatable("tool_choice.type", TARGET)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tool_conversation_translates_and_thinking_is_named() {
        let body = json!({
            "model": "m", "max_tokens": 100, "system": [{"type": "text", "text": "Be brief.", "cache_control": {"type": "ephemeral"}}],
            "messages": [
                {"role": "user", "content": "weather?"},
                {"role": "assistant", "content": [{"type": "text", "text": "Let me look."}, {"type": "tool_use", "id": "toolu_1", "name": "get_weather", "input": {"city": "Paris"}}]},
                {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_1", "content": "sunny"}, {"type": "text", "text": "thanks"}]},
            ],
            "tools": [{"name": "get_weather", "input_schema": {"type": "object"}}],
            "tool_choice": {"type": "any", "disable_parallel_tool_use": true},
            "stop_sequences": ["END"],
        });
        let out = request(&body, "gpt-x").unwrap();
        let m = &out["messages"];
        assert_eq!(m[0], json!({"role": "system", "content": "Be brief."}));
        assert_eq!(
            m[2]["tool_calls"][0]["function"]["arguments"],
            "{\"city\":\"Paris\"}"
        );
        assert_eq!(
            m[3],
            json!({"role": "tool", "tool_call_id": "toolu_1", "content": "sunny"})
        );
        assert_eq!(m[4], json!({"role": "user", "content": "thanks"}));
        assert_eq!(out["tool_choice"], "required");
        assert_eq!(out["parallel_tool_calls"], false);
        assert_eq!(out["stop"], json!(["END"]));

        let thinking = request(
            &json!({"messages": [], "thinking": {"type": "enabled"}}),
            "m",
        )
        .unwrap_err();
        assert_eq!(
            thinking.body(crate::dialect::Dialect::Anthropic)["error"]["type"],
            "invalid_request_error"
        );
        assert!(thinking.to_string().contains("thinking"), "{thinking}");
        let doc = request(
            &json!({"messages": [{"role": "user", "content": [{"type": "document"}]}]}),
            "m",
        )
        .unwrap_err();
        assert!(
            doc.to_string().contains("messages[0].content[0].type"),
            "{doc}"
        );
        let server_tool = request(
            &json!({"messages": [], "tools": [{"type": "web_search_20250305", "name": "web"}]}),
            "m",
        )
        .unwrap_err();
        assert!(
            server_tool.to_string().contains("tools[0].type"),
            "{server_tool}"
        );
    }
}
