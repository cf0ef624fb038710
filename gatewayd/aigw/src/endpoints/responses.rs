//! `POST /v1/responses`, the stateless subset of OpenAI's Responses API. To an OpenAI
//! provider the request goes to its own `/responses` unchanged but for the model name and
//! `store: false` (the gateway keeps nothing, and asks the provider to keep nothing it could
//! never serve back); to every other provider it is translated to chat completions and
//! through the forward phase (`crate::translate::responses`), streams included. Usage is what
//! the provider reported, read by its own rules, so a call is priced and logged with
//! endpoint `responses` like any other.
//!
//! Never: accept what would need stored state (`previous_response_id`, `store: true` ...):
//! that is a 400 naming the field, before anything leaves.

use http::Request;
use hyper::body::Incoming;
use serde_json::{json, Value};

use super::send::{send, whole};
use crate::call_log::CallRecord;
use crate::dialect::{responses as usage_rules, Dialect};
use crate::error::CallError;
use crate::pipeline::{self, Reply};
use crate::translate::responses::answer::{echoed, from_chat};
use crate::translate::responses::stream::{FromChat, ResponsesStream};
use crate::translate::responses::{refuse_stateful, request as to_chat};
use crate::translate::stream::StreamTranslator;
use crate::AiGateway;

/// The phases of one Responses call.
pub async fn responses(
    gw: &AiGateway,
    request: Request<Incoming>,
    record: &mut CallRecord,
) -> Result<Reply, CallError> {
    let caller = pipeline::authenticate(gw, request.headers(), record)?;
    let (headers, mut body) = pipeline::parse(gw, request, record).await?;
    refuse_stateful(&body)?;
    let route = pipeline::resolve_route(gw, &caller, &body, record)?;
    pipeline::budgets(gw, &caller, &route, &mut body, record)?;
    pipeline::dlp(gw, &mut body, record)?;
    let provider = route.provider.clone();
    if provider.kind == config::ProviderKind::Openai {
        body["model"] = json!(route.upstream_model);
        body["store"] = json!(false);
        let (response, secret) =
            send(gw, &provider, "/responses", &body, record.stream, record).await?;
        if record.stream {
            drop(secret);
            return Ok(Reply::Stream {
                upstream: response.into_body(),
                translator: StreamTranslator::Responses(Box::new(ResponsesStream::Passthrough)),
            });
        }
        let (bytes, answer) = whole(gw, &provider, response, secret).await?;
        record.model_served = answer
            .get("model")
            .and_then(Value::as_str)
            .map(str::to_string);
        record.usage = usage_rules::usage(&answer).unwrap_or_default();
        return crate::response_dlp::check(gw, Dialect::OpenAi, Reply::Whole(bytes), record);
    }
    let chat = to_chat::request(&body)?;
    // The response id is the call's request id: what the caller sees is what the log says.
    let id = format!("resp_{}", record.request_id.replace('-', ""));
    let echo = echoed(&body);
    drop(body);
    match pipeline::forward(gw, Dialect::OpenAi, &route, &headers, chat, record).await? {
        Reply::Whole(bytes) => {
            let completion: Value = serde_json::from_slice(&bytes).map_err(|_| {
                CallError::BadGateway(format!(
                    "provider {}: the translated answer is not JSON",
                    provider.name
                ))
            })?;
            let response = from_chat(&completion, &id, &echo, &record.usage)?;
            crate::response_dlp::check(
                gw,
                Dialect::OpenAi,
                Reply::Whole(response.to_string().into()),
                record,
            )
        }
        Reply::Stream {
            upstream,
            translator,
        } => Ok(Reply::Stream {
            upstream,
            translator: StreamTranslator::Responses(Box::new(ResponsesStream::FromChat(Box::new(
                FromChat::new(translator, id, echo),
            )))),
        }),
    }
}
