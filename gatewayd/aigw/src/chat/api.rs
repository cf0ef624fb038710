//! `POST /chat/api/completions`: the chat page's calls. A same-origin request from the page
//! (exactly one `Origin`, `https://<aigw.host>`, equal to the request's own authority; a
//! browser's `Sec-Fetch-Site` must say `same-origin`; a JSON body) becomes an ordinary
//! `/v1/chat/completions` call through `crate::server::call` — authenticate, parse, route,
//! budgets, DLP, forward, account, log — with the identity the proxy or the agent
//! established. A DLP refusal comes back with a sentence the page shows as it is.
//!
//! Never: accept a credential from the browser (`Authorization` and `x-api-key` are removed,
//! so only the proxy's or the agent's identity counts), answer a cross-site request (the
//! browser's ambient proxy identity must not be usable by another site), or send CORS
//! headers.

use bytes::Bytes;
use http::{header, HeaderMap, Request};
use hyper::body::Incoming;
use serde_json::json;

use crate::call_log::CallRecord;
use crate::dialect::Dialect;
use crate::error::CallError;
use crate::pipeline::Reply;
use crate::AiGateway;

/// One message of the page: checked as the page's own, then the normal call.
pub async fn completions(
    gw: &AiGateway,
    mut request: Request<Incoming>,
    record: &mut CallRecord,
) -> Result<Reply, CallError> {
    let chat = gw
        .chat
        .as_ref()
        .ok_or_else(|| CallError::NotFound("the chat page is not enabled here".into()))?;
    let authority = request
        .uri()
        .authority()
        .map(|a| a.as_str().to_string())
        .or_else(|| {
            request
                .headers()
                .get(header::HOST)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
        });
    same_origin(request.headers(), authority.as_deref(), &chat.host)?;
    let json_body = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.trim()
                .to_ascii_lowercase()
                .starts_with("application/json")
        });
    if !json_body {
        return Err(CallError::bad_request(
            "content-type",
            "the chat page sends application/json",
        ));
    }
    // Identity comes only from the proxy or the agent on this path.
    let headers = request.headers_mut();
    headers.remove(header::AUTHORIZATION);
    headers.remove("x-api-key");
    crate::server::call(gw, Dialect::OpenAi, request, record).await
}

/// Whether the request is the page's own: refused (403) unless it is.
fn same_origin(headers: &HeaderMap, authority: Option<&str>, host: &str) -> Result<(), CallError> {
    let refuse = |why: &str| {
        Err(CallError::Forbidden(format!(
            "cross-site request refused: {why}; the chat page's calls come only from \
             https://{host}/chat"
        )))
    };
    let mut origins = headers.get_all(header::ORIGIN).iter();
    let (Some(origin), None) = (origins.next(), origins.next()) else {
        return refuse("exactly one Origin header is required");
    };
    let Some(origin) = origin.to_str().ok().map(str::to_ascii_lowercase) else {
        return refuse("the Origin header is not text");
    };
    let Some(authority) = authority.map(str::to_ascii_lowercase) else {
        return refuse("the request names no host");
    };
    // Browsers leave the default port out of an origin.
    let authority = authority.strip_suffix(":443").unwrap_or(&authority);
    let authority_host = authority.rsplit_once(':').map_or(authority, |(h, _)| h);
    if authority_host != host.to_ascii_lowercase() {
        return refuse("the request is not for the chat page's host");
    }
    if origin != format!("https://{authority}") {
        return refuse("the Origin is another site");
    }
    let site = headers
        .get("sec-fetch-site")
        .and_then(|v| v.to_str().ok())
        .map(str::to_ascii_lowercase);
    if site.is_some_and(|s| s != "same-origin") {
        return refuse("the browser says the request comes from another site");
    }
    Ok(())
}

/// An error for the page: the OpenAI error JSON, and for a DLP refusal the sentence to
/// show (`warden_notice`: the kinds of data in words, never the data).
pub fn error_response(error: &CallError) -> http::Response<Bytes> {
    let response = error.response(Dialect::OpenAi);
    let notice = match error {
        CallError::DlpBlocked(detectors) => super::blocked_sentence("message", detectors),
        CallError::ResponseDlpBlocked(detectors) => super::blocked_sentence("answer", detectors),
        _ => return response,
    };
    let (parts, bytes) = response.into_parts();
    let mut body: serde_json::Value = serde_json::from_slice(&bytes).unwrap_or(json!({}));
    body["warden_notice"] = json!(notice);
    http::Response::from_parts(parts, Bytes::from(body.to_string()))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use http::HeaderValue;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(*name, HeaderValue::from_static(value));
        }
        map
    }

    const HOST: &str = "ai.warden.internal";

    #[test]
    fn only_the_pages_own_origin_is_served() {
        let ok = |h: &[(&'static str, &'static str)], authority: &str| {
            same_origin(&headers(h), Some(authority), HOST).is_ok()
        };
        let page = ("origin", "https://ai.warden.internal");
        assert!(ok(&[page], HOST));
        assert!(ok(&[page, ("sec-fetch-site", "same-origin")], HOST));
        assert!(ok(&[page], "ai.warden.internal:443"));
        assert!(ok(
            &[("origin", "https://ai.warden.internal:8443")],
            "ai.warden.internal:8443"
        ));
        assert!(!ok(&[], HOST));
        assert!(!ok(&[page, page], HOST));
        assert!(!ok(&[("origin", "https://evil.example")], HOST));
        assert!(!ok(&[("origin", "http://ai.warden.internal")], HOST));
        assert!(!ok(&[("origin", "null")], HOST));
        assert!(!ok(&[page, ("sec-fetch-site", "cross-site")], HOST));
        assert!(!ok(&[page, ("sec-fetch-site", "same-site")], HOST));
        assert!(!ok(&[("origin", "https://evil.example")], "evil.example"));
        assert!(same_origin(&headers(&[page]), None, HOST).is_err());
        assert_eq!(
            same_origin(&headers(&[]), Some(HOST), HOST)
                .unwrap_err()
                .status(),
            403
        );
    }

    #[test]
    fn a_dlp_refusal_carries_its_sentence() {
        let response = error_response(&CallError::DlpBlocked(vec!["credit_card".into()]));
        assert_eq!(response.status(), 403);
        let body: serde_json::Value = serde_json::from_slice(response.body()).unwrap();
        assert_eq!(
            body["warden_notice"],
            "This message was blocked: it contains a card number."
        );
        assert_eq!(body["error"]["code"], "dlp_blocked");
    }
}
