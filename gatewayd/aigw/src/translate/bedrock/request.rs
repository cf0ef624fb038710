//! An OpenAI chat completions request (or an Anthropic Messages one, through
//! `crate::translate::to_openai` first) as a Bedrock Converse request: system messages become
//! `system` blocks, `max_tokens`/`temperature`/`top_p`/`stop` the `inferenceConfig`, tools a
//! `toolConfig` (`toolSpec` with the JSON Schema as `inputSchema.json`), tool calls `toolUse`
//! blocks and tool answers `toolResult` blocks in a user turn, base64 images `image` blocks
//! (`source.bytes`). Turns of the same role are joined, as Converse requires alternation.
//!
//! Images by URL were fetched and put inline before this (`crate::images`).
//! Never: drop a field silently. What Converse has no place for (an image by URL left, `n` over
//! 1, `logprobs`, penalties, `seed`, JSON mode ...) is a 400 naming the field.

use serde_json::{json, Map, Value};

use super::super::{chat_message, string, to_openai, untranslatable};
use crate::error::CallError;

const TARGET: &str = "Bedrock Converse";

/// An Anthropic Messages request as a Converse request, through the OpenAI translation (its
/// 400s reworded for Bedrock); an image by URL is refused naming the caller's own field.
pub fn from_anthropic(body: &Value, model: &str) -> Result<Value, CallError> {
    let messages = body.get("messages").and_then(Value::as_array);
    for (i, m) in messages.into_iter().flatten().enumerate() {
        let blocks = m.get("content").and_then(Value::as_array);
        for (j, block) in blocks.into_iter().flatten().enumerate() {
            if block["type"] == "image" && block["source"]["type"] == "url" {
                let path = format!("messages[{i}].content[{j}].source.url");
                return Err(CallError::bad_request(
                    &path,
                    format!(
                        "{path}: Bedrock takes images as bytes only (source.type \"base64\"); \
                         an image by URL cannot be translated to the {TARGET} API"
                    ),
                ));
            }
        }
    }
    let openai = to_openai::request(body, model).map_err(|e| match e {
        CallError::BadRequest { message, param } => CallError::BadRequest {
            message: message.replace("OpenAI chat completions", TARGET),
            param,
        },
        other => other,
    })?;
    from_openai(&openai)
}

/// Translates `body` (OpenAI chat completions).
pub fn from_openai(body: &Value) -> Result<Value, CallError> {
    let fields = body
        .as_object()
        .ok_or_else(|| CallError::bad_request("body", "the body must be a JSON object"))?;
    let mut inference = Map::new();
    let mut out = Map::new();
    let mut tool_config = Map::new();
    for (key, value) in fields {
        if value.is_null() {
            continue;
        }
        match key.as_str() {
            "model" | "messages" | "stream" | "stream_options" => {}
            // Who the end user is, for the provider's abuse monitoring: Converse has no field
            // for it and it changes nothing in the answer.
            "user" => {}
            "max_tokens" | "max_completion_tokens" => {
                let n = value.as_u64().ok_or_else(|| {
                    CallError::bad_request(key, format!("{key} must be a whole number"))
                })?;
                inference.insert("maxTokens".into(), json!(n));
            }
            "temperature" | "top_p" => {
                if !value.is_number() {
                    return Err(CallError::bad_request(
                        key,
                        format!("{key} must be a number"),
                    ));
                }
                let name = if key == "temperature" {
                    "temperature"
                } else {
                    "topP"
                };
                inference.insert(name.into(), value.clone());
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
                inference.insert("stopSequences".into(), Value::Array(stops));
            }
            "n" if value.as_u64() == Some(1) => {}
            "logprobs" if value.as_bool() == Some(false) => {}
            "parallel_tool_calls" if value.as_bool() == Some(true) => {}
            "response_format" if value["type"] == "text" => {}
            "tools" => {
                tool_config.insert("tools".into(), tools(value)?);
            }
            "tool_choice" => {
                if let Some(choice) = tool_choice(value)? {
                    tool_config.insert("toolChoice".into(), choice);
                }
            }
            other => return Err(untranslatable(other, TARGET)),
        }
    }
    let (system, messages) = messages(body.get("messages"))?;
    if !system.is_empty() {
        out.insert("system".into(), Value::Array(system));
    }
    out.insert("messages".into(), Value::Array(messages));
    if !inference.is_empty() {
        out.insert("inferenceConfig".into(), Value::Object(inference));
    }
    if tool_config.contains_key("tools") {
        out.insert("toolConfig".into(), Value::Object(tool_config));
    } else if tool_config.contains_key("toolChoice") {
        return Err(CallError::bad_request(
            "tool_choice",
            "tool_choice without tools cannot be translated to the Bedrock Converse API",
        ));
    }
    Ok(Value::Object(out))
}

fn tools(value: &Value) -> Result<Value, CallError> {
    let list = value
        .as_array()
        .ok_or_else(|| CallError::bad_request("tools", "tools must be a list"))?;
    let mut out = Vec::new();
    for (i, tool) in list.iter().enumerate() {
        let path = format!("tools[{i}]");
        if tool.get("type").and_then(Value::as_str) != Some("function") {
            return Err(untranslatable(&format!("{path}.type"), TARGET));
        }
        let function = tool.get("function").unwrap_or(&Value::Null);
        let fpath = format!("{path}.function");
        let mut spec = Map::new();
        for (key, v) in function.as_object().into_iter().flatten() {
            match key.as_str() {
                _ if v.is_null() => {}
                "name" | "description" => {
                    spec.insert(key.clone(), json!(string(function, key, &fpath)?));
                }
                "parameters" => {
                    spec.insert("inputSchema".into(), json!({"json": v}));
                }
                "strict" if v.as_bool() == Some(false) => {}
                _ => return Err(untranslatable(&format!("{fpath}.{key}"), TARGET)),
            }
        }
        if !spec.contains_key("name") {
            return Err(CallError::bad_request(
                &format!("{fpath}.name"),
                format!("{fpath}.name is required"),
            ));
        }
        // Converse requires a schema; a function without parameters takes an empty object.
        spec.entry("inputSchema")
            .or_insert_with(|| json!({"json": {"type": "object", "properties": {}}}));
        out.push(json!({"toolSpec": spec}));
    }
    Ok(Value::Array(out))
}

/// `auto` is Converse's default (`None`: nothing to send); `none` has no equivalent.
fn tool_choice(value: &Value) -> Result<Option<Value>, CallError> {
    Ok(match value {
        Value::String(mode) => match mode.as_str() {
            "auto" => None,
            "required" => Some(json!({"any": {}})),
            _ => return Err(untranslatable("tool_choice", TARGET)),
        },
        Value::Object(_) if value.get("type").and_then(Value::as_str) == Some("function") => {
            let name = value
                .get("function")
                .and_then(|f| f.get("name"))
                .and_then(Value::as_str)
                .ok_or_else(|| {
                    CallError::bad_request(
                        "tool_choice.function.name",
                        "tool_choice.function.name must be a string",
                    )
                })?;
            Some(json!({"tool": {"name": name}}))
        }
        _ => return Err(untranslatable("tool_choice", TARGET)),
    })
}

/// The system blocks and the turns.
fn messages(messages: Option<&Value>) -> Result<(Vec<Value>, Vec<Value>), CallError> {
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
                let text = text_of(content, &path)?;
                if !text.is_empty() {
                    system.push(json!({"text": text}));
                }
            }
            "user" => push(&mut out, "user", user_blocks(content, &path)?),
            "assistant" => {
                let mut blocks = Vec::new();
                let text = text_of(content, &path)?;
                if !text.is_empty() {
                    blocks.push(json!({"text": text}));
                }
                let calls = m.get("tool_calls").and_then(Value::as_array);
                for (j, call) in calls.into_iter().flatten().enumerate() {
                    let cpath = format!("{path}.tool_calls[{j}]");
                    let id = string(call, "id", &cpath)?;
                    let fpath = format!("{cpath}.function");
                    let function = call.get("function").unwrap_or(&Value::Null);
                    let name = string(function, "name", &fpath)?;
                    let arguments = string(function, "arguments", &fpath)?;
                    let input = match serde_json::from_str::<Value>(arguments) {
                        Ok(object @ Value::Object(_)) => object,
                        _ => {
                            return Err(CallError::bad_request(
                                &format!("{fpath}.arguments"),
                                format!("{fpath}.arguments must be a JSON object"),
                            ))
                        }
                    };
                    blocks
                        .push(json!({"toolUse": {"toolUseId": id, "name": name, "input": input}}));
                }
                push(&mut out, "assistant", blocks);
            }
            "tool" => {
                let id = string(m, "tool_call_id", &path)?;
                let text = text_of(content, &path)?;
                // A JSON object answer as `json`, anything else as text.
                let result = match serde_json::from_str::<Value>(&text) {
                    Ok(object @ Value::Object(_)) => json!({"json": object}),
                    _ => json!({"text": text}),
                };
                push(
                    &mut out,
                    "user",
                    vec![json!({"toolResult": {"toolUseId": id, "content": [result]}})],
                );
            }
            _ => return Err(untranslatable(&format!("{path}.role"), TARGET)),
        }
    }
    Ok((system, out))
}

/// Appends `blocks` as a `role` turn, joined to the previous turn when it has the same role.
fn push(out: &mut Vec<Value>, role: &str, blocks: Vec<Value>) {
    if blocks.is_empty() {
        return;
    }
    if let Some(last) = out.last_mut().filter(|l| l["role"] == role) {
        if let Some(existing) = last["content"].as_array_mut() {
            existing.extend(blocks);
            return;
        }
    }
    out.push(json!({"role": role, "content": blocks}));
}

/// Text from a string or a list of text parts.
fn text_of(content: Option<&Value>, path: &str) -> Result<String, CallError> {
    match content {
        None => Ok(String::new()),
        Some(Value::String(s)) => Ok(s.clone()),
        Some(Value::Array(parts)) => {
            let mut text = String::new();
            for (j, part) in parts.iter().enumerate() {
                let ppath = format!("{path}.content[{j}]");
                if part.get("type").and_then(Value::as_str) != Some("text") {
                    return Err(untranslatable(&format!("{ppath}.type"), TARGET));
                }
                text.push_str(string(part, "text", &ppath)?);
            }
            Ok(text)
        }
        Some(_) => Err(CallError::bad_request(
            &format!("{path}.content"),
            format!("{path}.content must be a string or a list"),
        )),
    }
}

fn user_blocks(content: Option<&Value>, path: &str) -> Result<Vec<Value>, CallError> {
    let Some(Value::Array(parts)) = content else {
        let text = text_of(content, path)?;
        return Ok(vec![json!({"text": text})]);
    };
    let mut out = Vec::new();
    for (j, part) in parts.iter().enumerate() {
        let ppath = format!("{path}.content[{j}]");
        match part.get("type").and_then(Value::as_str) {
            Some("text") => out.push(json!({"text": string(part, "text", &ppath)?})),
            Some("image_url") => out.push(image(part, &ppath)?),
            _ => return Err(untranslatable(&format!("{ppath}.type"), TARGET)),
        }
    }
    Ok(out)
}

/// A `data:` URL image as an `image` block. Bedrock fetches nothing, and neither does the
/// gateway for it (that would make it a fetcher for whoever calls it).
fn image(part: &Value, path: &str) -> Result<Value, CallError> {
    let image = part.get("image_url").unwrap_or(&Value::Null);
    let ipath = format!("{path}.image_url");
    for (key, v) in image.as_object().into_iter().flatten() {
        let ok = key == "url" || (key == "detail" && (v.is_null() || v == "auto"));
        if !ok {
            return Err(untranslatable(&format!("{ipath}.{key}"), TARGET));
        }
    }
    let url = string(image, "url", &ipath)?;
    let Some((mime, data)) = url
        .strip_prefix("data:")
        .and_then(|rest| rest.split_once(";base64,"))
    else {
        return Err(CallError::bad_request(
            &format!("{ipath}.url"),
            format!(
                "{ipath}.url: Bedrock takes images as bytes only (a data:image/...;base64, URL); \
                 an image by URL cannot be translated to the {TARGET} API"
            ),
        ));
    };
    let format = match mime {
        "image/png" => "png",
        "image/jpeg" | "image/jpg" => "jpeg",
        "image/gif" => "gif",
        "image/webp" => "webp",
        _ => {
            return Err(CallError::bad_request(
                &format!("{ipath}.url"),
                format!("{ipath}.url: Bedrock takes png, jpeg, gif and webp images, not {mime:?}"),
            ))
        }
    };
    // Converse's JSON carries `bytes` as base64: the caller's text goes as it is.
    Ok(json!({"image": {"format": format, "source": {"bytes": data}}}))
}
