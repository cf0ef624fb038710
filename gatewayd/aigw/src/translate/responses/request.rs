//! A Responses request as an OpenAI chat completions request: `instructions` and
//! system/developer messages lead, `input` (a string, or message, `function_call` and
//! `function_call_output` items) becomes the messages, function tools and `tool_choice`,
//! `max_output_tokens`, `text.format` and `reasoning.effort` their chat equivalents.

use serde_json::{json, Map, Value};

use crate::error::CallError;

/// The 400 for a field that has no chat completions equivalent.
fn untranslatable(path: &str) -> CallError {
    CallError::bad_request(
        path,
        format!("{path} is not supported for this model: its provider does not speak the Responses API, and the gateway's translation has no place for it"),
    )
}

/// Translates `body` (Responses, already checked by `refuse_stateful`).
pub fn request(body: &Value) -> Result<Value, CallError> {
    let fields = body
        .as_object()
        .ok_or_else(|| CallError::bad_request("body", "the body must be a JSON object"))?;
    let mut out = Map::new();
    let mut messages = Vec::new();
    if let Some(instructions) = body.get("instructions").filter(|v| !v.is_null()) {
        let text = instructions.as_str().ok_or_else(|| {
            CallError::bad_request("instructions", "instructions must be a string")
        })?;
        messages.push(json!({"role": "system", "content": text}));
    }
    for (key, value) in fields {
        if value.is_null() {
            continue;
        }
        match key.as_str() {
            "input" | "instructions" => {}
            // Checked before: absent, false or null here.
            "store" | "background" | "previous_response_id" => {}
            "model"
            | "stream"
            | "temperature"
            | "top_p"
            | "parallel_tool_calls"
            | "user"
            | "metadata"
            | "service_tier"
            | "safety_identifier"
            | "prompt_cache_key" => {
                out.insert(key.clone(), value.clone());
            }
            "max_output_tokens" => {
                out.insert("max_tokens".into(), value.clone());
            }
            "tools" => {
                out.insert("tools".into(), tools(value)?);
            }
            "tool_choice" => {
                out.insert("tool_choice".into(), tool_choice(value)?);
            }
            "text" => text(value, &mut out)?,
            "reasoning" => {
                for (k, v) in value.as_object().into_iter().flatten() {
                    match k.as_str() {
                        "effort" if v.is_string() => {
                            out.insert("reasoning_effort".into(), v.clone());
                        }
                        _ if v.is_null() => {}
                        _ => return Err(untranslatable(&format!("reasoning.{k}"))),
                    }
                }
            }
            "truncation" if value == "disabled" => {}
            "include" if value.as_array().is_some_and(Vec::is_empty) => {}
            other => return Err(untranslatable(other)),
        }
    }
    match body.get("input") {
        Some(Value::String(text)) => messages.push(json!({"role": "user", "content": text})),
        Some(Value::Array(items)) => {
            for (i, item) in items.iter().enumerate() {
                item_messages(item, &format!("input[{i}]"), &mut messages)?;
            }
        }
        _ => {
            return Err(CallError::bad_request(
                "input",
                "input must be a string or a list of items",
            ))
        }
    }
    out.insert("messages".into(), Value::Array(messages));
    Ok(Value::Object(out))
}

fn string<'a>(value: &'a Value, key: &str, path: &str) -> Result<&'a str, CallError> {
    value.get(key).and_then(Value::as_str).ok_or_else(|| {
        CallError::bad_request(
            &format!("{path}.{key}"),
            format!("{path}.{key} must be a string"),
        )
    })
}

fn check_keys(value: &Value, path: &str, known: &[&str]) -> Result<(), CallError> {
    for (key, v) in value.as_object().into_iter().flatten() {
        if !known.contains(&key.as_str()) && !v.is_null() {
            return Err(untranslatable(&format!("{path}.{key}")));
        }
    }
    Ok(())
}

/// One input item as chat messages: a `function_call` joins the assistant message before it.
fn item_messages(item: &Value, path: &str, out: &mut Vec<Value>) -> Result<(), CallError> {
    match item
        .get("type")
        .and_then(Value::as_str)
        .unwrap_or("message")
    {
        "message" => {
            check_keys(item, path, &["type", "role", "content", "id", "status"])?;
            let role = string(item, "role", path)?;
            if !matches!(role, "user" | "assistant" | "system" | "developer") {
                return Err(untranslatable(&format!("{path}.role")));
            }
            let content = content(item.get("content"), role, &format!("{path}.content"))?;
            out.push(json!({"role": role, "content": content}));
        }
        "function_call" => {
            check_keys(
                item,
                path,
                &["type", "call_id", "name", "arguments", "id", "status"],
            )?;
            let call = json!({
                "id": string(item, "call_id", path)?,
                "type": "function",
                "function": {"name": string(item, "name", path)?, "arguments": string(item, "arguments", path)?},
            });
            match out.last_mut() {
                Some(last) if last["role"] == "assistant" => {
                    if !last["tool_calls"].is_array() {
                        last["tool_calls"] = json!([]);
                    }
                    if let Some(calls) = last["tool_calls"].as_array_mut() {
                        calls.push(call);
                    }
                }
                _ => out.push(json!({"role": "assistant", "content": null, "tool_calls": [call]})),
            }
        }
        "function_call_output" => {
            check_keys(item, path, &["type", "call_id", "output", "id", "status"])?;
            let output = match item.get("output") {
                Some(Value::String(s)) => s.clone(),
                Some(Value::Array(parts)) => {
                    let mut text = Vec::new();
                    for (j, part) in parts.iter().enumerate() {
                        let part_path = format!("{path}.output[{j}]");
                        if part.get("type").and_then(Value::as_str) != Some("input_text") {
                            return Err(untranslatable(&format!("{part_path}.type")));
                        }
                        text.push(string(part, "text", &part_path)?.to_string());
                    }
                    text.join("")
                }
                _ => {
                    return Err(CallError::bad_request(
                        &format!("{path}.output"),
                        format!("{path}.output must be a string"),
                    ))
                }
            };
            out.push(json!({"role": "tool", "tool_call_id": string(item, "call_id", path)?, "content": output}));
        }
        _ => return Err(untranslatable(&format!("{path}.type"))),
    }
    Ok(())
}

/// A message's content: a string, or parts (`input_text`, `output_text`, `input_image`).
fn content(content: Option<&Value>, role: &str, path: &str) -> Result<Value, CallError> {
    let parts = match content {
        Some(Value::String(s)) => return Ok(json!(s)),
        Some(Value::Array(parts)) => parts,
        _ => {
            return Err(CallError::bad_request(
                path,
                format!("{path} must be a string or a list of parts"),
            ))
        }
    };
    let mut out = Vec::with_capacity(parts.len());
    for (j, part) in parts.iter().enumerate() {
        let part_path = format!("{path}[{j}]");
        match part.get("type").and_then(Value::as_str) {
            Some("input_text" | "output_text") => {
                check_keys(
                    part,
                    &part_path,
                    &["type", "text", "annotations", "logprobs"],
                )?;
                out.push(json!({"type": "text", "text": string(part, "text", &part_path)?}));
            }
            Some("input_image") if role == "user" => {
                check_keys(part, &part_path, &["type", "image_url", "detail"])?;
                let mut image = json!({"url": string(part, "image_url", &part_path)?});
                if let Some(detail) = part.get("detail").filter(|d| d.is_string()) {
                    image["detail"] = detail.clone();
                }
                out.push(json!({"type": "image_url", "image_url": image}));
            }
            _ => return Err(untranslatable(&format!("{part_path}.type"))),
        }
    }
    // Chat's system, developer and assistant messages take text; join their parts.
    if role != "user" || out.iter().all(|p| p["type"] == "text") {
        let text: Vec<&str> = out.iter().filter_map(|p| p["text"].as_str()).collect();
        if text.len() == out.len() {
            return Ok(json!(text.join("")));
        }
    }
    Ok(Value::Array(out))
}

fn tools(value: &Value) -> Result<Value, CallError> {
    let tools = value
        .as_array()
        .ok_or_else(|| CallError::bad_request("tools", "tools must be a list"))?;
    let mut out = Vec::with_capacity(tools.len());
    for (i, tool) in tools.iter().enumerate() {
        let path = format!("tools[{i}]");
        if tool.get("type").and_then(Value::as_str) != Some("function") {
            return Err(untranslatable(&format!("{path}.type")));
        }
        check_keys(
            tool,
            &path,
            &["type", "name", "description", "parameters", "strict"],
        )?;
        let mut function = json!({"name": string(tool, "name", &path)?});
        for key in ["description", "parameters", "strict"] {
            if let Some(v) = tool.get(key).filter(|v| !v.is_null()) {
                function[key] = v.clone();
            }
        }
        out.push(json!({"type": "function", "function": function}));
    }
    Ok(Value::Array(out))
}

fn tool_choice(value: &Value) -> Result<Value, CallError> {
    match value {
        Value::String(s) if matches!(s.as_str(), "auto" | "none" | "required") => Ok(value.clone()),
        Value::Object(_) if value.get("type").and_then(Value::as_str) == Some("function") => Ok(
            json!({"type": "function", "function": {"name": string(value, "name", "tool_choice")?}}),
        ),
        _ => Err(untranslatable("tool_choice")),
    }
}

/// `text.format` as `response_format`.
fn text(value: &Value, out: &mut Map<String, Value>) -> Result<(), CallError> {
    for (key, v) in value.as_object().into_iter().flatten() {
        match key.as_str() {
            "format" => {
                let format = match v.get("type").and_then(Value::as_str) {
                    Some("text") => continue,
                    Some("json_object") => json!({"type": "json_object"}),
                    Some("json_schema") => {
                        check_keys(
                            v,
                            "text.format",
                            &["type", "name", "schema", "strict", "description"],
                        )?;
                        let mut schema = v.clone();
                        if let Some(fields) = schema.as_object_mut() {
                            fields.remove("type");
                        }
                        json!({"type": "json_schema", "json_schema": schema})
                    }
                    _ => return Err(untranslatable("text.format.type")),
                };
                out.insert("response_format".into(), format);
            }
            _ if v.is_null() => {}
            _ => return Err(untranslatable(&format!("text.{key}"))),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tool_conversation_becomes_chat_messages() {
        let body = json!({
            "model": "claude", "instructions": "Be brief.", "max_output_tokens": 300,
            "input": [
                {"role": "user", "content": "weather in Paris?"},
                {"type": "message", "role": "assistant", "content": [{"type": "output_text", "text": "Checking."}]},
                {"type": "function_call", "call_id": "call_1", "name": "get_weather", "arguments": "{\"city\":\"Paris\"}"},
                {"type": "function_call_output", "call_id": "call_1", "output": "sunny"},
                {"role": "user", "content": [{"type": "input_text", "text": "and "}, {"type": "input_image", "image_url": "https://x/y.png"}]},
            ],
            "tools": [{"type": "function", "name": "get_weather", "parameters": {"type": "object"}, "strict": true}],
            "tool_choice": {"type": "function", "name": "get_weather"},
            "text": {"format": {"type": "json_schema", "name": "w", "schema": {"type": "object"}}},
            "store": false, "stream": true,
        });
        let out = request(&body).unwrap();
        let m = &out["messages"];
        assert_eq!(m[0], json!({"role": "system", "content": "Be brief."}));
        assert_eq!(
            m[1],
            json!({"role": "user", "content": "weather in Paris?"})
        );
        assert_eq!(m[2]["content"], "Checking.");
        assert_eq!(m[2]["tool_calls"][0]["id"], "call_1");
        assert_eq!(
            m[3],
            json!({"role": "tool", "tool_call_id": "call_1", "content": "sunny"})
        );
        assert_eq!(m[4]["content"][1]["image_url"]["url"], "https://x/y.png");
        assert_eq!(out["max_tokens"], 300);
        assert_eq!(out["tools"][0]["function"]["strict"], true);
        assert_eq!(out["tool_choice"]["function"]["name"], "get_weather");
        assert_eq!(out["response_format"]["json_schema"]["name"], "w");
        assert_eq!(out["stream"], true);
        assert!(out.get("store").is_none());
        let simple = request(&json!({"model": "m", "input": "hi"})).unwrap();
        assert_eq!(
            simple["messages"],
            json!([{"role": "user", "content": "hi"}])
        );
    }

    #[test]
    fn what_chat_cannot_carry_is_named() {
        for (body, field) in [
            (
                json!({"input": "x", "tools": [{"type": "web_search_preview"}]}),
                "tools[0].type",
            ),
            (
                json!({"input": [{"type": "reasoning", "id": "rs_1"}]}),
                "input[0].type",
            ),
            (
                json!({"input": [{"role": "user", "content": [{"type": "input_file", "file_id": "f"}]}]}),
                "input[0].content[0].type",
            ),
            (json!({"input": "x", "truncation": "auto"}), "truncation"),
            (json!({"input": "x", "max_tool_calls": 2}), "max_tool_calls"),
            (json!({"input": 7}), "input"),
        ] {
            let e = request(&body).unwrap_err();
            assert_eq!(e.status(), 400);
            assert!(e.to_string().contains(field), "{field}: {e}");
        }
    }
}
