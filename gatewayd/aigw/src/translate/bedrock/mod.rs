//! Translation between the gateway's ingresses (OpenAI chat completions, Anthropic Messages)
//! and AWS Bedrock's Converse API, both ways: requests ([`mod@request`]), whole answers
//! ([`response`]) and ConverseStream's events ([`stream`], after `crate::eventstream` cut
//! them out of AWS's binary framing). OpenAI is the hub, as for Gemini: an Anthropic request
//! goes through `crate::translate::to_openai` first and a Converse answer reaches an
//! Anthropic caller through the OpenAI form, so each rule is written once.
//!
//! Never: drop what Converse cannot take (a 400 names the field).

pub mod request;
pub mod response;
pub mod stream;

use bytes::Bytes;
use serde_json::Value;

use crate::dialect::Dialect;
use crate::error::CallError;

/// The Converse request for `body`, as the `ingress` caller wrote it.
pub fn request(ingress: Dialect, body: &Value, model: &str) -> Result<Value, CallError> {
    match ingress {
        Dialect::Anthropic => request::from_anthropic(body, model),
        _ => request::from_openai(body),
    }
}

/// A whole Converse answer in the `ingress` caller's dialect.
pub fn answer(ingress: Dialect, answer: &Value, model: &str) -> Result<Bytes, CallError> {
    let out = match ingress {
        Dialect::Anthropic => response::to_anthropic(answer, model)?,
        _ => response::to_openai(answer, model),
    };
    Ok(Bytes::from(out.to_string()))
}

#[cfg(test)]
mod tests;
