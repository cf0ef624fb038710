//! An OpenAI chat completions request (or an Anthropic Messages one, through
//! `crate::translate::to_openai` first) as a Gemini `generateContent` request: system
//! messages become `systemInstruction`, `assistant` turns `model` turns, tools
//! `functionDeclarations` (their JSON Schema as `parametersJsonSchema`, unchanged), tool calls
//! `functionCall` parts (with the `thoughtSignature` their id carries, see
//! `response::SIGNATURE`) and tool answers `functionResponse` parts, base64 images `inlineData`.
//!
//! Images by URL were fetched and put inline before this (`crate::images`).
//! Never: drop a field silently. What Gemini has no place for (an image by URL left, `n` over 1,
//! `logprobs`, a strict tool schema ...) is a 400 naming the field.

use std::collections::BTreeMap;

use serde_json::{json, Map, Value};

use super::super::{chat_message, string, to_openai, untranslatable};
use super::response::SIGNATURE;
use crate::error::CallError;

const TARGET: &str = "Gemini";

/// An Anthropic Messages request as a Gemini request: Anthropic's `top_k` is carried as
/// `topK`, the rest goes through the OpenAI translation (whose 400s are reworded for Gemini).
pub fn from_anthropic(body: &Value, model: &str) -> Result<Value, CallError> {
    let mut body = body.clone();
    let top_k = body
        .as_object_mut()
        .and_then(|fields| fields.remove("top_k"))
        .filter(|v| !v.is_null());
    refuse_image_urls(&body)?;
    let openai = to_openai::request(&body, model).map_err(|e| match e {
        CallError::BadRequest { message, param } => CallError::BadRequest {
            message: message.replace("OpenAI chat completions", TARGET),
            param,
        },
        other => other,
    })?;
    let mut out = from_openai(&openai)?;
    if let Some(k) = top_k {
        let k = k
            .as_u64()
            .ok_or_else(|| CallError::bad_request("top_k", "top_k must be a whole number"))?;
        out["generationConfig"]["topK"] = json!(k);
    }
    Ok(out)
}

/// An Anthropic image by URL is refused here, naming the caller's own field (the OpenAI
/// form it would take next has other paths).
fn refuse_image_urls(body: &Value) -> Result<(), CallError> {
    let messages = body.get("messages").and_then(Value::as_array);
    for (i, m) in messages.into_iter().flatten().enumerate() {
        let blocks = m.get("content").and_then(Value::as_array);
        for (j, block) in blocks.into_iter().flatten().enumerate() {
            if block["type"] == "image" && block["source"]["type"] == "url" {
                let path = format!("messages[{i}].content[{j}].source.url");
                return Err(CallError::bad_request(
                    &path,
                    format!(
                        "{path}: Gemini takes images as base64 only (source.type \"base64\"); \
                         an image by URL cannot be translated to the {TARGET} API"
                    ),
                ));
            }
        }
    }
    Ok(())
}

/// Translates `body` (OpenAI chat completions).
pub fn from_openai(body: &Value) -> Result<Value, CallError> {
    let fields = body
        .as_object()
        .ok_or_else(|| CallError::bad_request("body", "the body must be a JSON object"))?;
    let mut config = Map::new();
    let mut out = Map::new();
    for (key, value) in fields {
        if value.is_null() {
            continue;
        }
        match key.as_str() {
            "model" | "messages" | "stream" | "stream_options" => {}
            // Who the end user is: for the provider's abuse monitoring, which Gemini has no
            // field for; it changes nothing in the answer.
            "user" => {}
            "max_tokens" | "max_completion_tokens" => {
                config.insert("maxOutputTokens".into(), whole(value, key)?);
            }
            "temperature" | "top_p" | "presence_penalty" | "frequency_penalty" => {
                if !value.is_number() {
                    return Err(CallError::bad_request(
                        key,
                        format!("{key} must be a number"),
                    ));
                }
                let name = match key.as_str() {
                    "temperature" => "temperature",
                    "top_p" => "topP",
                    "presence_penalty" => "presencePenalty",
                    _ => "frequencyPenalty",
                };
                config.insert(name.into(), value.clone());
            }
            "seed" => {
                config.insert("seed".into(), value.clone());
            }
            "n" if value.as_u64() == Some(1) => {}
            "logprobs" if value.as_bool() == Some(false) => {}
            "parallel_tool_calls" if value.as_bool() == Some(true) => {}
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
                config.insert("stopSequences".into(), Value::Array(stops));
            }
            "response_format" => response_format(value, &mut config)?,
            "tools" => {
                out.insert("tools".into(), tools(value)?);
            }
            "tool_choice" => {
                out.insert("toolConfig".into(), tool_choice(value)?);
            }
            other => return Err(untranslatable(other, TARGET)),
        }
    }
    let (system, contents) = contents(body.get("messages"))?;
    if !system.is_empty() {
        out.insert(
            "systemInstruction".into(),
            json!({"parts": [{"text": system.join("\n\n")}]}),
        );
    }
    out.insert("contents".into(), Value::Array(contents));
    if !config.is_empty() {
        out.insert("generationConfig".into(), Value::Object(config));
    }
    Ok(Value::Object(out))
}

fn whole(value: &Value, key: &str) -> Result<Value, CallError> {
    value
        .as_u64()
        .map(|n| json!(n))
        .ok_or_else(|| CallError::bad_request(key, format!("{key} must be a whole number")))
}

fn response_format(value: &Value, config: &mut Map<String, Value>) -> Result<(), CallError> {
    match value.get("type").and_then(Value::as_str) {
        Some("text") => {}
        Some("json_object") => {
            config.insert("responseMimeType".into(), json!("application/json"));
        }
        Some("json_schema") => {
            let schema = value
                .get("json_schema")
                .and_then(|s| s.get("schema"))
                .ok_or_else(|| {
                    CallError::bad_request(
                        "response_format.json_schema.schema",
                        "response_format.json_schema.schema is required",
                    )
                })?;
            config.insert("responseMimeType".into(), json!("application/json"));
            config.insert("responseJsonSchema".into(), schema.clone());
        }
        _ => return Err(untranslatable("response_format.type", TARGET)),
    }
    Ok(())
}

fn tools(value: &Value) -> Result<Value, CallError> {
    let list = value
        .as_array()
        .ok_or_else(|| CallError::bad_request("tools", "tools must be a list"))?;
    let mut declarations = Vec::new();
    for (i, tool) in list.iter().enumerate() {
        let path = format!("tools[{i}]");
        if tool.get("type").and_then(Value::as_str) != Some("function") {
            return Err(untranslatable(&format!("{path}.type"), TARGET));
        }
        let function = tool.get("function").unwrap_or(&Value::Null);
        let fpath = format!("{path}.function");
        let mut declaration = Map::new();
        for (key, v) in function.as_object().into_iter().flatten() {
            match key.as_str() {
                _ if v.is_null() => {}
                "name" | "description" => {
                    declaration.insert(key.clone(), json!(string(function, key, &fpath)?));
                }
                "parameters" => {
                    declaration.insert("parametersJsonSchema".into(), v.clone());
                }
                "strict" if v.as_bool() == Some(false) => {}
                _ => return Err(untranslatable(&format!("{fpath}.{key}"), TARGET)),
            }
        }
        if !declaration.contains_key("name") {
            return Err(CallError::bad_request(
                &format!("{fpath}.name"),
                format!("{fpath}.name is required"),
            ));
        }
        declarations.push(Value::Object(declaration));
    }
    Ok(json!([{"functionDeclarations": declarations}]))
}

fn tool_choice(value: &Value) -> Result<Value, CallError> {
    let config = match value {
        Value::String(mode) => match mode.as_str() {
            "none" => json!({"mode": "NONE"}),
            "auto" => json!({"mode": "AUTO"}),
            "required" => json!({"mode": "ANY"}),
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
            json!({"mode": "ANY", "allowedFunctionNames": [name]})
        }
        _ => return Err(untranslatable("tool_choice", TARGET)),
    };
    Ok(json!({"functionCallingConfig": config}))
}

/// The system prompt's pieces and the turns. Tool calls' ids are remembered so that a tool
/// answer (which OpenAI ties to a call by id only) can name its function, as Gemini needs.
fn contents(messages: Option<&Value>) -> Result<(Vec<String>, Vec<Value>), CallError> {
    let messages = messages
        .and_then(Value::as_array)
        .ok_or_else(|| CallError::bad_request("messages", "messages must be a list"))?;
    let mut system = Vec::new();
    let mut out: Vec<Value> = Vec::new();
    let mut calls: BTreeMap<String, String> = BTreeMap::new();
    for (i, m) in messages.iter().enumerate() {
        let path = format!("messages[{i}]");
        let (role, content) = chat_message(m, &path, TARGET)?;
        match role {
            "system" | "developer" => {
                if !out.is_empty() {
                    return Err(CallError::bad_request(
                        &format!("{path}.role"),
                        format!("{path}.role: a {role} message after the conversation started cannot be translated to the {TARGET} API (its system instruction comes first)"),
                    ));
                }
                system.push(text_of(content, &path)?);
            }
            "user" => push(&mut out, "user", user_parts(content, &path)?),
            "assistant" => {
                let mut parts = Vec::new();
                let text = match content {
                    Some(_) => text_of(content, &path)?,
                    None => String::new(),
                };
                if !text.is_empty() {
                    parts.push(json!({"text": text}));
                }
                for (j, call) in m
                    .get("tool_calls")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .enumerate()
                {
                    let cpath = format!("{path}.tool_calls[{j}].function");
                    let function = call.get("function").unwrap_or(&Value::Null);
                    let name = string(function, "name", &cpath)?;
                    let arguments = string(function, "arguments", &cpath)?;
                    let args: Value = serde_json::from_str(arguments).map_err(|_| {
                        CallError::bad_request(
                            &format!("{cpath}.arguments"),
                            format!("{cpath}.arguments must be a JSON object"),
                        )
                    })?;
                    let id = call.get("id").and_then(Value::as_str);
                    if let Some(id) = id {
                        calls.insert(id.to_string(), name.to_string());
                    }
                    let mut part = json!({"functionCall": {"name": name, "args": args}});
                    if let Some((_, signature)) = id.and_then(|id| id.split_once(SIGNATURE)) {
                        part["thoughtSignature"] = json!(signature);
                    }
                    parts.push(part);
                }
                push(&mut out, "model", parts);
            }
            "tool" => {
                let id = string(m, "tool_call_id", &path)?;
                let name = calls.get(id).ok_or_else(|| {
                    CallError::bad_request(
                        &format!("{path}.tool_call_id"),
                        format!("{path}.tool_call_id {id:?} answers no earlier tool call (Gemini needs the function's name)"),
                    )
                })?;
                let text = text_of(content, &path)?;
                // Gemini wants an object: a JSON object answer as it is, anything else as text.
                let response = match serde_json::from_str::<Value>(&text) {
                    Ok(object @ Value::Object(_)) => object,
                    _ => json!({"content": text}),
                };
                push(
                    &mut out,
                    "user",
                    vec![json!({"functionResponse": {"name": name, "response": response}})],
                );
            }
            _ => return Err(untranslatable(&format!("{path}.role"), TARGET)),
        }
    }
    Ok((system, out))
}

/// Appends `parts` as a `role` turn, joined to the previous turn when it has the same role
/// (parallel tool answers are one turn to Gemini).
fn push(out: &mut Vec<Value>, role: &str, parts: Vec<Value>) {
    if parts.is_empty() {
        return;
    }
    if let Some(last) = out.last_mut().filter(|l| l["role"] == role) {
        if let Some(existing) = last["parts"].as_array_mut() {
            existing.extend(parts);
            return;
        }
    }
    out.push(json!({"role": role, "parts": parts}));
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

fn user_parts(content: Option<&Value>, path: &str) -> Result<Vec<Value>, CallError> {
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

/// A `data:` URL image as `inlineData`. Gemini cannot fetch an arbitrary URL itself, and the
/// gateway does not fetch for it (that would make it a fetcher for whoever calls it).
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
                "{ipath}.url: Gemini takes images as base64 only (a data:image/...;base64, URL); \
                 an image by URL cannot be translated to the {TARGET} API"
            ),
        ));
    };
    if !mime.starts_with("image/") {
        return Err(CallError::bad_request(
            &format!("{ipath}.url"),
            format!("{ipath}.url: a data URL of {mime:?} is not an image"),
        ));
    }
    Ok(json!({"inlineData": {"mimeType": mime, "data": data}}))
}
