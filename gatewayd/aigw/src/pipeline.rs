//! The phases of a call, in order, over one [`CallRecord`] — the AI gateway's pipeline, the
//! same shape as the proxy's:
//!
//! ```text
//! authenticate ─► parse ─► resolve route ─► budgets, limits (reserve) ─► DLP
//!   ─► forward (translate, provider key, send) ─► account (usage, while streaming)
//!   ─► log (always, exactly once: when the answer's body ends or is dropped)
//! ```
//!
//! Each phase either fills in the record and lets the call go on, or returns a
//! [`CallError`] that `server` turns into an answer in the caller's dialect; the log phase
//! runs either way ([`crate::call_log::CallLog`]). Budgets and rate limits
//! ([`crate::budget`]) go between route and DLP: they know who is calling and which model,
//! and nothing has left the gateway yet; what they reserve is settled by the log phase.
//!
//! Never: send a request upstream before authentication, routing and DLP said yes; forward
//! the caller's own credentials; let a provider key out of `forward`.

use std::time::Duration;

use bytes::Bytes;
use http::{HeaderMap, HeaderValue, Request, StatusCode};
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use serde_json::{json, Value};

use crate::call_log::CallRecord;
use crate::dialect::{anthropic, bedrock, gemini, openai, Dialect};
use crate::error::{scrub, CallError};
use crate::routes::Route;
use crate::translate::bedrock::stream::BedrockStream;
use crate::translate::gemini::stream::GeminiStream;
use crate::translate::stream::{AnthropicToOpenAi, OpenAiToAnthropic, StreamTranslator};
use crate::translate::{self, response, to_anthropic, to_openai};
use crate::vkeys::Caller;
use crate::AiGateway;

/// What the forward phase got back.
pub enum Reply {
    /// A whole JSON answer, already in the caller's dialect.
    Whole(Bytes),
    /// A stream to relay event by event.
    Stream {
        upstream: Incoming,
        translator: StreamTranslator,
    },
}

/// Phase 1: who is calling — `Authorization: Bearer KEY` or `x-api-key: KEY`; on the proxy
/// and agent paths, without a virtual key, the identity they established
/// ([`crate::access`]).
pub fn authenticate(
    gw: &AiGateway,
    headers: &HeaderMap,
    record: &mut CallRecord,
) -> Result<Caller, CallError> {
    let bearer = headers
        .get(http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        });
    let presented = bearer.or_else(|| headers.get("x-api-key").and_then(|v| v.to_str().ok()));
    let presented = presented.map(str::trim).filter(|k| !k.is_empty());
    let proxied = record.arrival.identity.is_some();
    // On the proxied paths a placeholder (SDKs insist on some api_key) is not a key.
    let presented = presented.filter(|k| !proxied || crate::access::is_virtual_key(k));
    let Some(presented) = presented else {
        if proxied {
            crate::access::refuse_cross_site(headers, &gw.hosts)?;
        }
        let (caller, source) = gw.identity.caller(&record.arrival)?;
        record.caller = Some(caller.clone());
        record.identity_source = source;
        return Ok(caller);
    };
    let caller = gw.keys.current().verify(presented).ok_or_else(|| {
        CallError::Unauthenticated("this virtual key is unknown, revoked or expired".into())
    })?;
    record.caller = Some(caller.clone());
    record.identity_source = crate::access::IdentitySource::VirtualKey;
    Ok(caller)
}

/// How long a caller may take to send a whole request body.
const BODY_DEADLINE: std::time::Duration = std::time::Duration::from_secs(60);

/// Phase 2: the body, within `max_body_bytes` and `BODY_DEADLINE` (60 s), as JSON.
pub async fn parse(
    gw: &AiGateway,
    request: Request<Incoming>,
    record: &mut CallRecord,
) -> Result<(HeaderMap, Value), CallError> {
    let (parts, body) = request.into_parts();
    let limit = gw.options.max_body_bytes;
    // Content type, early limits and memory budget before a byte is read ([`crate::intake`]).
    if let Err(refused) = crate::intake::admit(gw, &parts.headers, record).await {
        crate::intake::discard(body).await;
        return Err(refused);
    }
    // A body trickled a byte at a time must not hold a connection (and a revoked key's call)
    // open for ever: the whole body arrives within BODY_DEADLINE or the call ends.
    let bytes = tokio::time::timeout(BODY_DEADLINE, Limited::new(body, limit).collect())
        .await
        .map_err(|_| {
            CallError::bad_request(
                "body",
                format!(
                    "the request body did not arrive within {} s",
                    BODY_DEADLINE.as_secs()
                ),
            )
        })?
        .map_err(|e| {
            if e.downcast_ref::<http_body_util::LengthLimitError>()
                .is_some()
            {
                CallError::TooLarge(limit)
            } else {
                CallError::bad_request("body", "the request body could not be read")
            }
        })?
        .to_bytes();
    crate::intake::parsing(gw, &bytes, record)?;
    let body: Value = serde_json::from_slice(&bytes)
        .map_err(|e| CallError::bad_request("body", format!("the body is not JSON: {e}")))?;
    if !body.is_object() {
        return Err(CallError::bad_request(
            "body",
            "the body must be a JSON object",
        ));
    }
    record.stream = body.get("stream").and_then(Value::as_bool).unwrap_or(false);
    record.body_bytes = bytes.len();
    Ok((parts.headers, body))
}

/// Phase 3: which provider serves the model asked for, and whether this caller may use it.
pub fn resolve_route(
    gw: &AiGateway,
    caller: &Caller,
    body: &Value,
    record: &mut CallRecord,
) -> Result<Route, CallError> {
    let model = body
        .get("model")
        .and_then(Value::as_str)
        .ok_or_else(|| CallError::bad_request("model", "model is required"))?;
    record.model_asked = Some(model.to_string());
    let route = gw.routes.resolve(model).ok_or_else(|| {
        CallError::ModelNotFound(format!(
            "the model {model:?} is not served here: GET /v1/models lists the models this key may use"
        ))
    })?;
    record.provider = Some(route.provider.name.clone());
    record.route = Some(route.clone());
    if !gw.routes.allows(&caller.models, &route) {
        return Err(CallError::Forbidden(format!(
            "this {} may not use the model {model:?}",
            if caller.key_id.is_empty() {
                "caller"
            } else {
                "virtual key"
            }
        )));
    }
    Ok(route)
}

/// Phase 3½: budgets and rate limits — reserve the call's most, or refuse it
/// ([`crate::budget`]).
pub fn budgets(
    gw: &AiGateway,
    caller: &Caller,
    route: &Route,
    body: &mut Value,
    record: &mut CallRecord,
) -> Result<(), CallError> {
    // Knobs no reservation can bound (`n` over its cap, provider-side tools) are refused
    // first, budgets or not ([`crate::knobs`]).
    crate::knobs::check(body, gw.options.allow_server_tools)?;
    if let Some(governor) = &gw.budgets {
        // A route's call may be served by any of its deployments: reserve for the dearest.
        let fallbacks: Vec<Route> = record
            .model_asked
            .as_deref()
            .and_then(|m| gw.fallbacks.plans.get(m))
            .map(|plan| plan.deployments.iter().map(|(d, _)| d.clone()).collect())
            .unwrap_or_default();
        // The rate and concurrency limits reserved before the body was read, if any.
        let early = record.admission.take();
        record.admission = governor.admit_after(
            early,
            caller,
            route,
            &fallbacks,
            body,
            record,
            &gw.ledger.prices.load(),
        )?;
    }
    Ok(())
}

/// Phase 4: DLP on the prompt (block, or redact in place).
pub fn dlp(gw: &AiGateway, body: &mut Value, record: &mut CallRecord) -> Result<(), CallError> {
    let Some(scanner) = &gw.dlp else {
        return Ok(());
    };
    match scanner.check_tallied(body, &mut record.dlp_findings) {
        Ok(outcome) => {
            record.dlp = outcome.detectors;
            record.dlp_action = outcome.action;
            Ok(())
        }
        Err(CallError::DlpBlocked(detectors)) => {
            record.dlp = detectors.clone();
            record.dlp_action = Some("block");
            Err(CallError::DlpBlocked(detectors))
        }
        Err(other) => Err(other),
    }
}

/// Phases 5 and 6: translate for the provider, send with its key, and (for whole answers)
/// account for the usage it reports and translate back.
pub async fn forward(
    gw: &AiGateway,
    ingress: Dialect,
    route: &Route,
    headers: &HeaderMap,
    mut body: Value,
    record: &mut CallRecord,
) -> Result<Reply, CallError> {
    let provider = &route.provider;
    let stream = record.stream;
    let caller_wants_usage = ingress == Dialect::OpenAi
        && body["stream_options"]["include_usage"].as_bool() == Some(true);
    if matches!(provider.dialect, Dialect::Gemini | Dialect::Bedrock) {
        // These providers take image bytes only: images by URL are fetched here.
        crate::images::inline(&gw.images, ingress, &mut body).await?;
    }
    let mut upstream_body = match (ingress, provider.dialect) {
        (_, Dialect::Gemini) => translate::gemini::request(ingress, &body, &route.upstream_model)?,
        (_, Dialect::Bedrock) => {
            translate::bedrock::request(ingress, &body, &route.upstream_model)?
        }
        (Dialect::OpenAi, Dialect::Anthropic) => {
            to_anthropic::request(&body, &route.upstream_model)?
        }
        (Dialect::Anthropic, Dialect::OpenAi) => to_openai::request(&body, &route.upstream_model)?,
        _ => {
            body["model"] = json!(route.upstream_model);
            body
        }
    };
    if provider.dialect == Dialect::OpenAi && stream && provider.stream_usage {
        // Usage is what the provider says: ask for it on every stream (unless the operator
        // said this server refuses the field: `stream_usage = false`).
        if !upstream_body["stream_options"].is_object() {
            upstream_body["stream_options"] = json!({});
        }
        upstream_body["stream_options"]["include_usage"] = json!(true);
    }
    let secret = gw.provider_secret(provider)?;
    // Bedrock's key store entry holds AWS credentials: requests are signed with them, and
    // the part to keep out of every message is the secret access key.
    let aws_key = match (&secret, provider.kind) {
        (Some(secret), config::ProviderKind::Bedrock) => Some(crate::sigv4::AwsKey::parse(
            secret.expose(),
            provider.key.as_deref().unwrap_or_default(),
        )?),
        _ => None,
    };
    let hidden = match &aws_key {
        Some(key) => key.secrets().next(),
        None => secret.as_ref().map(|s| s.expose()),
    };
    let accept = match (stream, provider.dialect) {
        (true, Dialect::Bedrock) => "application/vnd.amazon.eventstream",
        (true, _) => "text/event-stream",
        (false, _) => "application/json",
    };
    let mut request = Request::post(crate::endpoint::url(route, stream)?)
        .header(http::header::CONTENT_TYPE, "application/json")
        .header(http::header::ACCEPT, accept)
        .header(http::header::USER_AGENT, "warden-aigw");
    let key_header = secret
        .as_ref()
        .and_then(|secret| crate::endpoint::key_header(provider.kind, secret.expose()));
    if let Some((name, value)) = key_header {
        let mut value = HeaderValue::from_str(&value).map_err(|_| {
            CallError::Internal(format!(
                "the provider key of {} is not a valid header value",
                provider.name
            ))
        })?;
        value.set_sensitive(true);
        request = request.header(name, value);
    }
    if provider.dialect == Dialect::Anthropic {
        let same = ingress == Dialect::Anthropic;
        let version = headers.get("anthropic-version").filter(|_| same).cloned();
        request = request.header(
            "anthropic-version",
            version.unwrap_or(HeaderValue::from_static(anthropic::VERSION)),
        );
        if let Some(beta) = headers.get("anthropic-beta").filter(|_| same) {
            request = request.header("anthropic-beta", beta.clone());
        }
    }
    let payload = Bytes::from(upstream_body.to_string());
    // The body's tree is gone: its memory budget is free again (the payload, the body's
    // size once, goes out now).
    drop(upstream_body);
    record.body_hold = Default::default();
    let mut request = request
        .body(Full::new(payload.clone()))
        .map_err(|e| CallError::Internal(format!("building the provider request: {e}")))?;
    if let Some(key) = &aws_key {
        let region = provider.region.as_deref().unwrap_or_default();
        crate::sigv4::sign_bedrock(&mut request, &payload, key, region)?;
    }
    let target = request
        .uri()
        .authority()
        .map_or_else(String::new, |a| a.to_string());
    let sent = tokio::time::timeout(gw.options.response_timeout, gw.client.request(request)).await;
    let response = match sent {
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
                hidden,
            ));
        }
        Ok(Ok(response)) => response,
    };
    // The provider answered: from here on the call may cost something.
    record.sent = true;
    let status = response.status();
    // (Reset on success: an earlier deployment of a route may have refused.)
    record.provider_refused = !status.is_success();
    if !status.is_success() {
        let retry_after = response
            .headers()
            .get(http::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let error_type = response
            .headers()
            .get("x-amzn-errortype")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let body = read_limited(response.into_body(), 64 * 1024, gw.options.response_timeout)
            .await
            .unwrap_or_default();
        if provider.dialect == Dialect::Bedrock {
            let parsed = serde_json::from_slice::<Value>(&body).unwrap_or_default();
            let kind = error_type.or_else(|| parsed["__type"].as_str().map(str::to_string));
            let message = parsed["message"].as_str().or(parsed["Message"].as_str());
            let mut error = bedrock::error(
                &provider.name,
                status,
                kind.as_deref().unwrap_or_default(),
                &scrub(message.unwrap_or_default(), hidden),
            );
            // Bedrock's throttles carry no retry-after today; one it sends is passed on.
            if let CallError::Upstream {
                retry_after: slot @ None,
                ..
            } = &mut error
            {
                *slot = retry_after;
            }
            return Err(error);
        }
        return Err(provider_error(
            &provider.name,
            status,
            &body,
            retry_after,
            hidden,
        ));
    }
    if stream {
        drop(aws_key);
        drop(secret);
        let translator = match (provider.dialect, ingress) {
            (Dialect::Bedrock, _) => StreamTranslator::Bedrock(Box::new(BedrockStream::new(
                caller_wants_usage,
                ingress == Dialect::Anthropic,
                &route.upstream_model,
            ))),
            (Dialect::Gemini, _) => StreamTranslator::Gemini(Box::new(GeminiStream::new(
                caller_wants_usage,
                ingress == Dialect::Anthropic,
            ))),
            // No caller speaks Gemini: the `Gemini` ingress arms are never taken.
            (Dialect::OpenAi, Dialect::OpenAi | Dialect::Gemini | Dialect::Bedrock) => {
                StreamTranslator::OpenAi { caller_wants_usage }
            }
            (Dialect::Anthropic, Dialect::Anthropic | Dialect::Gemini | Dialect::Bedrock) => {
                StreamTranslator::Anthropic
            }
            (Dialect::Anthropic, Dialect::OpenAi) => {
                StreamTranslator::AnthropicToOpenAi(AnthropicToOpenAi::new(caller_wants_usage))
            }
            (Dialect::OpenAi, Dialect::Anthropic) => {
                StreamTranslator::OpenAiToAnthropic(OpenAiToAnthropic::default())
            }
        };
        return Ok(Reply::Stream {
            upstream: response.into_body(),
            translator,
        });
    }
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
    // Account: usage and the model that served, by the provider's own rules.
    record.model_served = answer
        .get("model")
        .and_then(Value::as_str)
        .map(str::to_string)
        .or_else(|| translate::gemini::response::model(&answer))
        .or_else(|| {
            // Converse does not name the model in its answer: it is the one asked for.
            (provider.dialect == Dialect::Bedrock).then(|| route.upstream_model.clone())
        });
    record.usage = match provider.dialect {
        Dialect::OpenAi => openai::usage(&answer).unwrap_or_default(),
        Dialect::Anthropic => anthropic::usage(answer.get("usage").unwrap_or(&Value::Null)),
        Dialect::Gemini => gemini::usage(&answer["usageMetadata"]),
        Dialect::Bedrock => bedrock::usage(&answer["usage"]),
    };
    let out = match (provider.dialect, ingress) {
        (Dialect::Gemini, _) => translate::gemini::answer(ingress, &answer)?,
        (Dialect::Bedrock, _) => {
            translate::bedrock::answer(ingress, &answer, &route.upstream_model)?
        }
        (Dialect::Anthropic, Dialect::OpenAi) => {
            Bytes::from(response::anthropic_to_openai(&answer).to_string())
        }
        (Dialect::OpenAi, Dialect::Anthropic) => {
            Bytes::from(response::openai_to_anthropic(&answer)?.to_string())
        }
        _ => bytes,
    };
    // A provider that echoes its key in a good answer (a buggy or hostile one) does not hand
    // it to the caller: whole answers are scrubbed like errors. (Streams are not: the key is
    // not kept for a stream's lifetime.)
    let out = match hidden {
        Some(key) if key.len() >= 8 && out.windows(key.len()).any(|w| w == key.as_bytes()) => {
            Bytes::from(scrub(&String::from_utf8_lossy(&out), Some(key)))
        }
        _ => out,
    };
    drop(aws_key);
    drop(secret);
    Ok(Reply::Whole(out))
}

pub(crate) async fn read_limited(
    body: Incoming,
    limit: usize,
    within: Duration,
) -> Result<Bytes, String> {
    match tokio::time::timeout(within, Limited::new(body, limit).collect()).await {
        Err(_) => Err("the answer did not arrive in time".into()),
        Ok(Err(_)) => Err(format!("the answer is over {limit} bytes or was cut")),
        Ok(Ok(collected)) => Ok(collected.to_bytes()),
    }
}

/// A provider's error, in words a caller can act on: its own message (scrubbed of the key)
/// for what the caller did, a 502 for what the operator must fix.
pub(crate) fn provider_error(
    provider: &str,
    status: StatusCode,
    body: &[u8],
    retry_after: Option<String>,
    secret: Option<&str>,
) -> CallError {
    let parsed = serde_json::from_slice::<Value>(body).ok();
    if matches!(status.as_u16(), 401 | 403) || parsed.as_ref().is_some_and(gemini::key_refused) {
        return CallError::BadGateway(format!(
            "provider {provider} refused the gateway's key ({status}); an operator must check it with `gatewayd keys list`"
        ));
    }
    // Gemini says when to retry in the body (`google.rpc.RetryInfo`), not in a header.
    let retry_after = retry_after.or_else(|| {
        parsed
            .as_ref()
            .and_then(gemini::retry_delay)
            .map(|s| s.to_string())
    });
    let message = parsed
        .and_then(|v| v["error"]["message"].as_str().map(str::to_string))
        .unwrap_or_else(|| format!("HTTP {status}"));
    let mut message: String = scrub(&message, secret).chars().take(1000).collect();
    message.insert_str(0, &format!("provider {provider}: "));
    CallError::Upstream {
        status,
        message,
        retry_after,
    }
}
