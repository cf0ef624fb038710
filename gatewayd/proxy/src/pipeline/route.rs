//! The `route` action's hand-off: an AI API call that bypasses the AI gateway (the `openai` or
//! `anthropic` SDK pointed at the provider with a personal key) is served by the in-process AI
//! gateway instead of the origin, as the proxy's caller (user, groups, device), with the
//! organisation's provider key — so the gateway's budgets, DLP, routes and logging apply —
//! and the answer says so (`X-Warden-Action: route`).
//!
//! Never: send a routed call to the origin (a call the AI gateway cannot serve is refused,
//! fail closed), or pass on the caller's credentials (every credential header, the query
//! and cookies are removed before the hand-off; the inventory keeps the fingerprint only).

use std::sync::atomic::Ordering::Relaxed;

use http::request::Parts;
use http::{HeaderValue, Method, Request, Response, StatusCode, Version};
use http_body_util::BodyExt;

use super::body::CountingBody;
use super::context::{ConnectionContext, RequestContext};
use super::headers::strip_hop_by_hop;
use crate::intercept::local::LocalCaller;
use crate::outcome::Outcome;
use crate::respond::{Refusal, HEADER_ACTION, HEADER_RULE};
use crate::upstream::{Outgoing, ProxyBody};

/// Headers that carry a caller's credentials to an AI provider (or to anyone): none of them
/// reaches the AI gateway.
const CREDENTIAL_HEADERS: &[&str] = &[
    "authorization",
    "proxy-authorization",
    "x-api-key",
    "api-key",
    "x-goog-api-key",
    "cookie",
    "openai-organization",
    "openai-project",
];

/// The AI gateway's provider kind for a provider API host the route action serves, and the
/// endpoints the AI gateway speaks for it.
fn provider_of(host: &str) -> Option<(config::ProviderKind, &'static [(Method, &'static str)])> {
    const OPENAI: &[(Method, &str)] = &[
        (Method::POST, "/v1/chat/completions"),
        (Method::POST, "/v1/responses"),
        (Method::POST, "/v1/embeddings"),
        (Method::GET, "/v1/models"),
    ];
    const ANTHROPIC: &[(Method, &str)] = &[(Method::POST, "/v1/messages")];
    match host.trim_end_matches('.').to_ascii_lowercase().as_str() {
        "api.openai.com" => Some((config::ProviderKind::Openai, OPENAI)),
        "api.anthropic.com" => Some((config::ProviderKind::Anthropic, ANTHROPIC)),
        _ => None,
    }
}

/// Why the AI gateway cannot take this call, or `None` when it can.
pub fn unroutable(
    conn: &ConnectionContext,
    host: &str,
    method: &Method,
    path: &str,
) -> Option<String> {
    let serving = conn.gateway.local_service.get().is_some();
    let person = conn.identity.is_person();
    why_not(
        &conn.snapshot.config.aigw,
        serving,
        person,
        (host, method, path),
    )
}

/// [`unroutable`] over its facts: the AI gateway's configuration, whether it is serving,
/// whether the caller is a person, and the call (host, method, path).
fn why_not(
    aigw: &config::AigwConfig,
    serving: bool,
    person: bool,
    (host, method, path): (&str, &Method, &str),
) -> Option<String> {
    let Some((kind, endpoints)) = provider_of(host) else {
        return Some(format!("the AI gateway does not serve calls to {host}"));
    };
    let path = path.trim_end_matches('/');
    if !endpoints.iter().any(|(m, p)| m == method && *p == path) {
        return Some(format!(
            "the AI gateway does not serve {method} {path} on {host}"
        ));
    }
    if aigw.listen.is_none() || !serving {
        return Some("the AI gateway is not enabled here".into());
    }
    let org_key = aigw
        .providers
        .iter()
        .any(|p| p.kind == kind && p.key.is_some());
    if !org_key {
        return Some(format!(
            "the organisation has no {} key in the AI gateway",
            kind.as_str()
        ));
    }
    // The routed call is made as the proxy's caller: that must be a person the AI gateway
    // serves without a key.
    if !aigw.identity.allow {
        return Some("the AI gateway does not serve callers by their proxy identity".into());
    }
    if !person {
        return Some("the proxy did not identify a person (sign in to the proxy)".into());
    }
    None
}

/// Hands the request to the AI gateway and returns its answer; a call it cannot take is
/// refused with the rule's id (answered with `[ai_keys] guidance` when that is set).
pub async fn forward(
    conn: &ConnectionContext,
    ctx: &mut RequestContext,
    mut parts: Parts,
    body: Outgoing,
) -> Result<Response<ProxyBody>, Refusal> {
    if let Some(why) = unroutable(conn, &ctx.host, &parts.method, parts.uri.path()) {
        return Err(refusal(ctx, &why));
    }
    let Some(service) = conn.gateway.local_service.get() else {
        return Err(refusal(ctx, "the AI gateway is not enabled here"));
    };
    strip_hop_by_hop(&mut parts.headers);
    for name in CREDENTIAL_HEADERS {
        parts.headers.remove(*name);
    }
    // The path only: a key in the query (`?key=`) must not travel on.
    let path = parts.uri.path().to_string();
    parts.uri = match path.parse() {
        Ok(uri) => uri,
        Err(_) => return Err(refusal(ctx, "the request path cannot be routed")),
    };
    parts.version = Version::HTTP_11;
    let host = conn
        .snapshot
        .config
        .aigw
        .host
        .as_deref()
        .unwrap_or("aigw.route");
    if let Ok(value) = HeaderValue::from_str(host) {
        parts.headers.insert(http::header::HOST, value);
    }
    let body = match body {
        Outgoing::Buffered(bytes) => {
            ctx.bytes_up.fetch_add(bytes.len() as u64, Relaxed);
            Outgoing::Buffered(bytes).into_body()
        }
        Outgoing::Streamed(body) => CountingBody::new(body, ctx.bytes_up.clone()).boxed(),
    };
    let caller = LocalCaller::of(conn.client, &conn.identity);
    let Some(answer) = service.route(Request::from_parts(parts, body), caller) else {
        return Err(refusal(ctx, "the AI gateway does not take routed calls"));
    };
    let mut response = answer.await.map_err(|error| {
        tracing::warn!(%error, host = %ctx.host, "route: the AI gateway did not answer");
        Refusal::new(
            StatusCode::BAD_GATEWAY,
            Outcome::Error,
            "route.failed",
            "The AI gateway did not answer",
            "Warden sent this call through the organisation's AI gateway, which did not answer."
                .into(),
        )
    })?;
    strip_hop_by_hop(response.headers_mut());
    // The event names the AI gateway's call (its `ai_requests` row) by the id it answered with.
    let call_id = response
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .filter(|id| id.len() <= 64);
    ctx.detail = Some(match call_id {
        Some(id) => format!("routed through the AI gateway as {id}"),
        None => "routed through the AI gateway".into(),
    });
    let headers = response.headers_mut();
    headers.insert(HEADER_ACTION, HeaderValue::from_static("route"));
    if let Ok(rule) = HeaderValue::from_str(&ctx.rule) {
        headers.insert(HEADER_RULE, rule);
    }
    Ok(response)
}

/// The answer to a call a `route` rule took that the AI gateway cannot serve: a policy block
/// (so `[ai_keys] guidance` answers it in the provider's error format), never the origin.
fn refusal(ctx: &RequestContext, why: &str) -> Refusal {
    Refusal::new(
        StatusCode::FORBIDDEN,
        Outcome::Block,
        &ctx.rule,
        "Use the organisation's AI gateway",
        format!(
            "Calls to {} go through the organisation's AI gateway, which cannot take this one: \
             {why}. Ask your administrator for the AI gateway's address and a key.",
            ctx.host
        ),
    )
}

/// The event's detail for a dry run: what the route action would have done.
pub fn dry_run_detail(
    conn: &ConnectionContext,
    ctx: &RequestContext,
    method: &Method,
    path: &str,
) -> String {
    match unroutable(conn, &ctx.host, method, path) {
        None => "would route through the AI gateway".into(),
        Some(why) => format!("would refuse: {why}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_endpoints_the_ai_gateway_speaks_are_routable() {
        let (kind, openai) = provider_of("API.OpenAI.com.").unwrap();
        assert_eq!(kind, config::ProviderKind::Openai);
        assert!(openai.contains(&(Method::POST, "/v1/chat/completions")));
        assert!(!openai.contains(&(Method::POST, "/v1/files")));
        let (kind, anthropic) = provider_of("api.anthropic.com").unwrap();
        assert_eq!(kind, config::ProviderKind::Anthropic);
        assert_eq!(anthropic, &[(Method::POST, "/v1/messages")]);
        // No Gemini ingress on the AI gateway: such calls are refused, not passed on.
        assert!(provider_of("generativelanguage.googleapis.com").is_none());
        assert!(provider_of("api.openai.com.evil.test").is_none());
    }

    #[test]
    fn a_call_is_routed_only_with_an_org_key_an_identity_policy_and_a_person() {
        let text = "[proxy]\nlisten = \"127.0.0.1:0\"\n[aigw]\nlisten = \"127.0.0.1:0\"\n\
                    host = \"ai.example.internal\"\n[aigw.identity]\nallow = true\n\
                    [[aigw.providers]]\nname = \"openai\"\nkind = \"openai\"\n\
                    base_url = \"https://api.openai.com/v1\"\nkey = \"openai-prod\"\n";
        let config: config::Config = toml::from_str(text).unwrap();
        let aigw = &config.aigw;
        let chat = ("api.openai.com", &Method::POST, "/v1/chat/completions");
        assert_eq!(why_not(aigw, true, true, chat), None);
        let messages = ("api.anthropic.com", &Method::POST, "/v1/messages");
        assert!(why_not(aigw, true, true, messages)
            .unwrap()
            .contains("no anthropic key"));
        let files = ("api.openai.com", &Method::POST, "/v1/files");
        assert!(why_not(aigw, true, true, files)
            .unwrap()
            .contains("does not serve"));
        assert!(why_not(aigw, false, true, chat)
            .unwrap()
            .contains("not enabled"));
        assert!(why_not(aigw, true, false, chat).unwrap().contains("person"));
        let mut closed = aigw.clone();
        closed.identity.allow = false;
        assert!(why_not(&closed, true, true, chat)
            .unwrap()
            .contains("identity"));
    }
}
