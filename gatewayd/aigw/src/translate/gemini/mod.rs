//! Translation between the gateway's ingresses (OpenAI chat completions, Anthropic Messages)
//! and Google's Gemini API, both ways: requests ([`mod@request`]), whole answers ([`response`])
//! and streams ([`stream`]). OpenAI is the hub: an Anthropic request goes through
//! `crate::translate::to_openai` first and a Gemini answer reaches an Anthropic caller
//! through the OpenAI form, so each rule (roles, tools, stop reasons, usage) is written once.
//!
//! Never: drop what Gemini cannot take (a 400 names the field), or put the key in the URL.

pub mod request;
pub mod response;
pub mod stream;

use bytes::Bytes;
use serde_json::Value;

use crate::dialect::Dialect;
use crate::error::CallError;

/// The Gemini request for `body`, as the `ingress` caller wrote it.
pub fn request(ingress: Dialect, body: &Value, model: &str) -> Result<Value, CallError> {
    match ingress {
        Dialect::Anthropic => request::from_anthropic(body, model),
        Dialect::OpenAi | Dialect::Gemini | Dialect::Bedrock => request::from_openai(body),
    }
}

/// A whole Gemini answer in the `ingress` caller's dialect.
pub fn answer(ingress: Dialect, answer: &Value) -> Result<Bytes, CallError> {
    let out = match ingress {
        Dialect::Anthropic => response::to_anthropic(answer)?,
        Dialect::OpenAi | Dialect::Gemini | Dialect::Bedrock => response::to_openai(answer),
    };
    Ok(Bytes::from(out.to_string()))
}

#[cfg(test)]
mod tests;
