//! `POST /v1/embeddings`, OpenAI's format, to OpenAI and OpenAI-compatible providers: the
//! request goes on unchanged but for the model name (`input` as a string or a list,
//! `dimensions`, `encoding_format`, `user` pass through), after DLP scanned the input like a
//! prompt. `usage.prompt_tokens` is accounted and priced like any call's input.
//!
//! Never: send an embeddings request to a provider that has no such endpoint (Anthropic):
//! that is a 400 naming the model, before anything leaves.

use http::Request;
use hyper::body::Incoming;
use serde_json::{json, Value};

use super::send::{send, whole};
use crate::call_log::CallRecord;
use crate::dialect::openai;
use crate::error::CallError;
use crate::pipeline::{self, Reply};
use crate::AiGateway;

/// The phases of one embeddings call.
pub async fn embeddings(
    gw: &AiGateway,
    request: Request<Incoming>,
    record: &mut CallRecord,
) -> Result<Reply, CallError> {
    let caller = pipeline::authenticate(gw, request.headers(), record)?;
    let (_, mut body) = pipeline::parse(gw, request, record).await?;
    // Embeddings have no stream: whatever the body says, the answer is whole.
    record.stream = false;
    let route = pipeline::resolve_route(gw, &caller, &body, record)?;
    let provider = route.provider.clone();
    if !matches!(
        provider.kind,
        config::ProviderKind::Openai | config::ProviderKind::OpenaiCompatible
    ) {
        return Err(CallError::bad_request(
            "model",
            format!(
                "the model {:?} is served by provider {} ({}), which has no embeddings endpoint: \
                 use an embedding model of an OpenAI or OpenAI-compatible provider",
                route.asked,
                provider.name,
                provider.kind.as_str()
            ),
        ));
    }
    check_input(body.get("input"))?;
    pipeline::budgets(gw, &caller, &route, &mut body, record)?;
    pipeline::dlp(gw, &mut body, record)?;
    body["model"] = json!(route.upstream_model);
    let (response, secret) = send(gw, &provider, "/embeddings", &body, false, record).await?;
    let (bytes, answer) = whole(gw, &provider, response, secret).await?;
    record.model_served = answer
        .get("model")
        .and_then(Value::as_str)
        .map(str::to_string);
    record.usage = openai::usage(&answer).unwrap_or_default();
    Ok(Reply::Whole(bytes))
}

/// `input`: a string, a list of strings, a list of token ids or a list of such lists.
fn check_input(input: Option<&Value>) -> Result<(), CallError> {
    let tokens = |v: &Value| v.as_array().is_some_and(|a| a.iter().all(Value::is_u64));
    let ok = match input {
        Some(Value::String(_)) => true,
        Some(Value::Array(items)) => {
            !items.is_empty()
                && (items.iter().all(Value::is_string)
                    || items.iter().all(Value::is_u64)
                    || items.iter().all(tokens))
        }
        _ => false,
    };
    if ok {
        Ok(())
    } else {
        Err(CallError::bad_request(
            "input",
            "input must be a string, a non-empty list of strings, or token ids",
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inputs_are_strings_or_token_ids() {
        for ok in [
            json!("hi"),
            json!(["a", "b"]),
            json!([1, 2, 3]),
            json!([[1, 2], [3]]),
        ] {
            assert!(check_input(Some(&ok)).is_ok(), "{ok}");
        }
        for bad in [
            json!([]),
            json!(7),
            json!(["a", 1]),
            json!({"a": 1}),
            Value::Null,
        ] {
            assert!(check_input(Some(&bad)).is_err(), "{bad}");
        }
        assert!(check_input(None).is_err());
    }
}
