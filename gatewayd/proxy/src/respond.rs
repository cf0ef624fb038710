//! The one place where the gateway answers a request itself: block pages, refusals and
//! upstream failures. Browsers get an HTML page that says what happened and what to do;
//! API clients get JSON. Every such response carries `X-Warden-Action`, `X-Warden-Rule` and
//! `X-Warden-Request-Id`, and is never cached.

use bytes::Bytes;
use http::{header, HeaderMap, HeaderValue, Response, StatusCode};
use http_body_util::{BodyExt, Full};

use crate::outcome::Outcome;
use crate::upstream::ProxyBody;

mod coaching;
pub mod guidance;
pub use coaching::{
    continued, request_filed, PageForms, CONTINUE_HEADER, JUSTIFICATION_HEADER, RESERVED_PREFIX,
};

// Shared with the agent, which reads them to explain a refusal.
pub use agent_proto::header::{
    ACTION as HEADER_ACTION, REQUEST_ID as HEADER_REQUEST_ID, RULE as HEADER_RULE,
};

/// Why the gateway answers instead of the upstream.
#[derive(Debug, Clone)]
pub struct Refusal {
    pub status: StatusCode,
    /// [`Outcome::Block`] for decisions, [`Outcome::Error`] for failures, [`Outcome::Deny`]
    /// for access control.
    pub action: Outcome,
    /// The rule or check that decided, e.g. `intercept.block` or `upstream.certificate`.
    pub rule: String,
    /// A short title, e.g. "Upstream certificate is not valid".
    /// (A boxed str, like `forms`' box, keeps refusals small: every phase returns one.)
    pub title: Box<str>,
    /// What happened, in a sentence a user can act on.
    pub reason: String,
    /// The sanctioned alternative, when a policy names one (a boxed str: see `title`).
    pub alternative: Option<Box<str>>,
    /// The sanctioned chat page's link and the security team's sentence for it
    /// (`[aigw.chat]`), on block pages for chat apps; boxed, as it is rare.
    pub sanctioned_chat: Option<Box<(String, String)>>,
    /// For a DLP block: the kinds of data found (detector ids), never the data.
    pub data_kinds: Box<[String]>,
    /// A policy's decision about an app, which an employee may ask the security team to
    /// change: the page offers "Request access" (and "Continue" for a warning).
    pub askable: bool,
    /// The forms of a coaching or block page, with their ticket (browsers only).
    pub forms: Option<Box<PageForms>>,
}

impl Refusal {
    pub fn new(
        status: StatusCode,
        action: Outcome,
        rule: &str,
        title: &str,
        reason: String,
    ) -> Self {
        Self {
            status,
            action,
            rule: rule.to_string(),
            title: title.into(),
            reason,
            alternative: None,
            sanctioned_chat: None,
            data_kinds: Box::default(),
            askable: false,
            forms: None,
        }
    }
}

/// Whether the client wants JSON. A browser says what it is doing in `Sec-Fetch-*`: a page
/// being navigated to (`Sec-Fetch-Mode: navigate`, or a document or frame destination) gets
/// the HTML page; a `fetch()` or XHR from a single-page app (any other mode) gets JSON it can
/// show, whatever its `Accept` says. Without those headers: an explicit JSON `Accept` without
/// HTML, or a request to an API host (no browser navigates to `api.*`).
pub fn wants_json(headers: &HeaderMap, host: &str) -> bool {
    let header_text = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_ascii_lowercase)
    };
    let dest = header_text("sec-fetch-dest");
    if let Some(mode) = header_text("sec-fetch-mode") {
        let document = matches!(dest.as_deref(), Some("document" | "iframe" | "frame"));
        return mode != "navigate" && !document;
    }
    let accept = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if accept.contains("text/html") {
        return false;
    }
    accept.contains("application/json") || host.starts_with("api.") || host.contains(".api.")
}

/// A head and its bytes as one response (answers built as parts for the tunnel port's h2
/// streams, which send the bytes themselves).
pub(crate) fn with_body((head, body): (Response<()>, Bytes)) -> Response<ProxyBody> {
    head.map(|()| Full::new(body).map_err(|e| match e {}).boxed())
}

/// Renders a refusal as the response the client sees.
pub fn render(refusal: &Refusal, request_id: &str, json: bool) -> Response<ProxyBody> {
    with_body(render_parts(refusal, request_id, json))
}

/// [`render`] as a head and its bytes (for the tunnel port's h2 streams).
pub fn render_parts(refusal: &Refusal, request_id: &str, json: bool) -> (Response<()>, Bytes) {
    let (content_type, body) = if json {
        let mut value = serde_json::json!({
            "error": {
                "type": refusal.action.as_str(),
                "rule": refusal.rule,
                "title": refusal.title,
                "message": refusal.reason,
                "alternative": refusal.alternative,
                "sanctioned_chat": refusal.sanctioned_chat.as_deref()
                    .map(|(url, text)| serde_json::json!({"url": url, "text": text})),
                "data_kinds": refusal.data_kinds,
                "request_id": request_id,
            }
        });
        if let Some(forms) = refusal.forms.as_deref() {
            if forms.can_continue {
                // An API client's warning: how to send the request again past it (one use).
                value["error"]["continue"] = serde_json::json!({
                    "header": coaching::CONTINUE_HEADER,
                    "token": forms.ticket,
                    "justification_header": coaching::JUSTIFICATION_HEADER,
                });
            }
            // Warned or blocked: how to ask the security team for the app instead.
            value["error"]["request_access"] = coaching::request_access_json(forms);
        }
        ("application/json", value.to_string())
    } else {
        ("text/html; charset=utf-8", html_page(refusal, request_id))
    };
    let forms = refusal.forms.is_some() && !json;
    let mut response = Response::new(());
    *response.status_mut() = refusal.status;
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(
        HEADER_ACTION,
        HeaderValue::from_static(refusal.action.as_str()),
    );
    if let Ok(rule) = HeaderValue::from_str(&refusal.rule) {
        headers.insert(HEADER_RULE, rule);
    }
    if let Ok(id) = HeaderValue::from_str(request_id) {
        headers.insert(HEADER_REQUEST_ID, id);
    }
    if forms {
        coaching::lock_down(headers);
    }
    (response, Bytes::from(body))
}

fn html_page(refusal: &Refusal, request_id: &str) -> String {
    let alternative = refusal
        .alternative
        .as_deref()
        .map(|a| {
            format!(
                "<p class=\"alt\">Use instead: <strong>{}</strong></p>",
                escape(a)
            )
        })
        .unwrap_or_default();
    let alternative = match refusal.sanctioned_chat.as_deref() {
        Some((url, text)) => format!(
            "{alternative}<p class=\"alt\" id=\"warden-sanctioned-chat\">{} \
             <a href=\"{url}\" rel=\"noopener\">{url}</a></p>",
            escape(text),
            url = escape(url),
        ),
        None => alternative,
    };
    let found = if refusal.data_kinds.is_empty() {
        String::new()
    } else {
        let kinds: Vec<String> = refusal
            .data_kinds
            .iter()
            .map(|k| escape(&k.replace('_', " ")))
            .collect();
        format!(
            "<p>What was found: <strong>{}</strong>. The data itself is neither shown nor \
             stored; remove it and try again.</p>",
            kinds.join(", ")
        )
    };
    format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <title>{title} · Warden</title>\
         <style>body{{font-family:system-ui,sans-serif;max-width:42rem;margin:4rem auto;padding:0 1rem;color:#1f2328}}\
         h1{{font-size:1.5rem}}.meta{{color:#59636e;font-size:.85rem}}.alt{{background:#f0f7ff;padding:.75rem;border-radius:6px}}</style>\
         </head><body><h1>{title}</h1><p>{reason}</p>{found}{alternative}{forms}\
         <p class=\"meta\">Rule: <code>{rule}</code> · Request ID: <code>{id}</code><br>\
         {signature} If you think this is a \
         mistake, contact your IT or security team and quote the request ID.</p></body></html>\n",
        title = escape(&refusal.title),
        reason = escape(&refusal.reason),
        forms = refusal
            .forms
            .as_deref()
            .map(coaching::forms_html)
            .unwrap_or_default(),
        // Only a refusal is "blocked": a site that could not be reached was not.
        signature = if refusal.action == Outcome::Error {
            "Nothing was blocked: Warden, your organisation's secure web gateway, could not \
             complete the request."
        } else if refusal.action == Outcome::Warn {
            "A warning from Warden, your organisation's secure web gateway."
        } else {
            "Blocked by Warden, your organisation's secure web gateway."
        },
        rule = escape(&refusal.rule),
        id = escape(request_id),
    )
}

/// Escapes text for HTML element content and double-quoted attributes.
pub(crate) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refusal() -> Refusal {
        Refusal::new(
            StatusCode::FORBIDDEN,
            Outcome::Block,
            "intercept.block",
            "Blocked",
            "<script>alert(1)</script> is not allowed".into(),
        )
    }

    #[test]
    fn html_escapes_and_carries_headers() {
        let response = render(&refusal(), "req-1", false);
        assert_eq!(response.status(), StatusCode::FORBIDDEN);
        assert_eq!(response.headers()[HEADER_ACTION], "block");
        assert_eq!(response.headers()[HEADER_RULE], "intercept.block");
        assert_eq!(response.headers()[HEADER_REQUEST_ID], "req-1");
        let page = html_page(&refusal(), "req-1");
        assert!(page.contains("&lt;script&gt;"));
        assert!(!page.contains("<script>"));
    }

    #[test]
    fn a_block_page_links_to_the_sanctioned_chat_in_the_teams_words() {
        let mut blocked = refusal();
        blocked.sanctioned_chat = Some(Box::new((
            "https://ai.corp.example/chat".into(),
            "Use <our> chat:".into(),
        )));
        let page = html_page(&blocked, "req-1");
        assert!(page.contains(
            "Use &lt;our&gt; chat: <a href=\"https://ai.corp.example/chat\" rel=\"noopener\">"
        ));
        let (_, json) = render_parts(&blocked, "req-1", true);
        let json: serde_json::Value = serde_json::from_slice(&json).unwrap_or_default();
        assert_eq!(
            json["error"]["sanctioned_chat"]["url"],
            "https://ai.corp.example/chat"
        );
        assert!(!html_page(&refusal(), "r").contains("warden-sanctioned-chat"));
    }

    #[test]
    fn json_for_api_clients() {
        let mut headers = HeaderMap::new();
        headers.insert(header::ACCEPT, HeaderValue::from_static("application/json"));
        assert!(wants_json(&headers, "chat.example"));
        assert!(wants_json(&HeaderMap::new(), "api.openai.com"));
        headers.insert(
            header::ACCEPT,
            HeaderValue::from_static("text/html,application/json"),
        );
        assert!(!wants_json(&headers, "api.openai.com"));

        // A single-page app's fetch(): JSON, whatever Accept says.
        let mut fetch = HeaderMap::new();
        fetch.insert(header::ACCEPT, HeaderValue::from_static("*/*"));
        fetch.insert("sec-fetch-mode", HeaderValue::from_static("cors"));
        fetch.insert("sec-fetch-dest", HeaderValue::from_static("empty"));
        assert!(wants_json(&fetch, "chatgpt.com"));
        // A navigation: the page, even to an API host.
        let mut navigate = HeaderMap::new();
        navigate.insert("sec-fetch-mode", HeaderValue::from_static("navigate"));
        navigate.insert("sec-fetch-dest", HeaderValue::from_static("document"));
        assert!(!wants_json(&navigate, "api.openai.com"));
    }
}
