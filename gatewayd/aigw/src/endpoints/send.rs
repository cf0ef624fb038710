//! Sending a request to an OpenAI-dialect provider's own endpoint (`/responses`,
//! `/embeddings`) with the organisation's key, and reading its whole JSON answer within
//! `max_response_bytes`, scrubbed of that key.
//!
//! Never: let the provider key out of this module (not into an error, a log or an answer).

use bytes::Bytes;
use http::{HeaderValue, Request, Response};
use http_body_util::Full;
use hyper::body::Incoming;
use keystore::Secret;
use serde_json::Value;

use crate::call_log::CallRecord;
use crate::error::{scrub, CallError};
use crate::pipeline::{provider_error, read_limited};
use crate::routes::Provider;
use crate::AiGateway;

/// POSTs `body` to `path` (under the provider's base URL); the provider's successful
/// answer and the key it was sent with, or the provider's error in the caller's words.
pub async fn send(
    gw: &AiGateway,
    provider: &Provider,
    path: &str,
    body: &Value,
    stream: bool,
    record: &mut CallRecord,
) -> Result<(Response<Incoming>, Option<Secret>), CallError> {
    let secret = gw.provider_secret(provider)?;
    let accept = if stream {
        "text/event-stream"
    } else {
        "application/json"
    };
    let mut request = Request::post(format!("{}{path}", provider.base_url))
        .header(http::header::CONTENT_TYPE, "application/json")
        .header(http::header::ACCEPT, accept)
        .header(http::header::USER_AGENT, "warden-aigw");
    if let Some(secret) = &secret {
        let mut value =
            HeaderValue::from_str(&format!("Bearer {}", secret.expose())).map_err(|_| {
                CallError::Internal(format!(
                    "the provider key of {} is not a valid header value",
                    provider.name
                ))
            })?;
        value.set_sensitive(true);
        request = request.header(http::header::AUTHORIZATION, value);
    }
    let request = request
        .body(Full::new(Bytes::from(body.to_string())))
        .map_err(|e| CallError::Internal(format!("building the provider request: {e}")))?;
    // The body is serialised: its memory budget is free again ([`crate::intake`]).
    record.body_hold = Default::default();
    let key = secret.as_ref().map(|s| s.expose());
    let target = request
        .uri()
        .authority()
        .map_or_else(String::new, |a| a.to_string());
    let response =
        match tokio::time::timeout(gw.options.response_timeout, gw.client.request(request)).await {
            Err(_) => {
                return Err(CallError::Timeout(format!(
                    "provider {} did not answer in time",
                    provider.name
                )))
            }
            Ok(Err(e)) => {
                return Err(crate::unreachable::error(
                    &provider.name,
                    &target,
                    &e,
                    &record.request_id,
                    key,
                ))
            }
            Ok(Ok(response)) => response,
        };
    // The provider answered: from here on the call may cost something.
    record.sent = true;
    let status = response.status();
    if !status.is_success() {
        record.provider_refused = true;
        let retry_after = response
            .headers()
            .get(http::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let body = read_limited(response.into_body(), 64 * 1024, gw.options.response_timeout)
            .await
            .unwrap_or_default();
        return Err(provider_error(
            &provider.name,
            status,
            &body,
            retry_after,
            key,
        ));
    }
    Ok((response, secret))
}

/// The whole JSON answer of `response`, as bytes to hand on (scrubbed of the provider key,
/// should a provider echo it) and as JSON to read.
pub async fn whole(
    gw: &AiGateway,
    provider: &Provider,
    response: Response<Incoming>,
    secret: Option<Secret>,
) -> Result<(Bytes, Value), CallError> {
    let bytes = read_limited(
        response.into_body(),
        gw.options.max_response_bytes,
        gw.options.response_timeout,
    )
    .await
    .map_err(|why| CallError::BadGateway(format!("provider {}: {why}", provider.name)))?;
    let answer: Value = serde_json::from_slice(&bytes).map_err(|_| {
        CallError::BadGateway(format!(
            "provider {} answered something that is not JSON",
            provider.name
        ))
    })?;
    let bytes = match secret.as_ref().map(|s| s.expose()) {
        Some(key) if key.len() >= 8 && bytes.windows(key.len()).any(|w| w == key.as_bytes()) => {
            Bytes::from(scrub(&String::from_utf8_lossy(&bytes), Some(key)))
        }
        _ => bytes,
    };
    Ok((bytes, answer))
}
