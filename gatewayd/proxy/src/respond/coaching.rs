//! The coaching side of the gateway's own answers: the "Continue" and "Request access" forms
//! on warning and block pages, the headers that keep those pages from being framed, opened
//! and read by a script, and the answers to the forms (back to the app; request sent).
//!
//! What it must never do: put anything a user or an app wrote into a page unescaped, or let a
//! form post anywhere but the reserved path of the page's own host.

use bytes::Bytes;
use http::{header, HeaderMap, HeaderValue, Response, StatusCode};

use super::{escape, with_body, HEADER_ACTION, HEADER_REQUEST_ID, HEADER_RULE};
use crate::outcome::Outcome;
use crate::upstream::ProxyBody;

/// Paths under this prefix on any intercepted host are answered by the gateway itself
/// (the forms below post there); they never reach the app.
pub const RESERVED_PREFIX: &str = "/.warden/";
/// Longest justification or reason a form accepts, in characters (the server refuses
/// more; the form says so first).
pub const MAX_TEXT_CHARS: usize = policies::access::MAX_REASON_CHARS;

/// The header an API client sends a JSON warning's token back in, to continue past it.
pub const CONTINUE_HEADER: &str = "x-warden-continue";
/// The header carrying that client's justification (optional, logged).
pub const JUSTIFICATION_HEADER: &str = "x-warden-justification";

/// The forms a page carries and the one-time ticket they post.
#[derive(Debug, Clone)]
pub struct PageForms {
    pub ticket: String,
    pub app_name: String,
    /// A warning: "Continue" is offered besides "Request access".
    pub can_continue: bool,
    /// The page's own origin (`https://host[:port]`): where an API client posts its access
    /// request, and the `Origin` it must send with it.
    pub origin: String,
}

/// How an API client (no page to click) asks for access: the JSON error's `request_access`.
/// The same reserved path and one-time ticket as the block page's button, so the request
/// lands in the same list the security team sees on the dashboard.
pub(super) fn request_access_json(forms: &PageForms) -> serde_json::Value {
    serde_json::json!({
        "url": format!("{}{RESERVED_PREFIX}request-access", forms.origin),
        "method": "POST",
        "content_type": "application/x-www-form-urlencoded",
        "origin": forms.origin,
        "fields": { "ticket": forms.ticket, "reason": "why you need it (optional, logged)" },
        "ticket": forms.ticket,
    })
}

pub(super) fn forms_html(forms: &PageForms) -> String {
    let ticket = escape(&forms.ticket);
    let app = escape(&forms.app_name);
    let continue_form = if forms.can_continue {
        format!(
            "<form method=\"post\" action=\"{RESERVED_PREFIX}continue\" id=\"warden-continue-form\">\
             <input type=\"hidden\" name=\"ticket\" value=\"{ticket}\">\
             <label>Why do you need {app}? (optional, logged)<br>\
             <textarea name=\"justification\" id=\"warden-justification\" rows=\"3\" cols=\"60\" \
             maxlength=\"{MAX_TEXT_CHARS}\"></textarea></label><br>\
             <button type=\"submit\" id=\"warden-continue\">Continue to {app}</button></form>"
        )
    } else {
        String::new()
    };
    format!(
        "{continue_form}<details{open}><summary>Request access</summary>\
         <form method=\"post\" action=\"{RESERVED_PREFIX}request-access\" id=\"warden-request-form\">\
         <input type=\"hidden\" name=\"ticket\" value=\"{ticket}\">\
         <label>Tell the security team why you need {app} (optional)<br>\
         <textarea name=\"reason\" id=\"warden-reason\" rows=\"3\" cols=\"60\" \
         maxlength=\"{MAX_TEXT_CHARS}\"></textarea></label><br>\
         <button type=\"submit\" id=\"warden-request-access\">Request access</button></form></details>",
        open = if forms.can_continue { "" } else { " open" },
    )
}

/// Headers for a page that carries a ticket: no framing, no scripts, no opener that could
/// reach into it, forms only to its own origin.
pub(super) fn lock_down(headers: &mut HeaderMap) {
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; \
             frame-ancestors 'none'; base-uri 'none'",
        ),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(
        "cross-origin-opener-policy",
        HeaderValue::from_static("same-origin"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
}

fn stamp(headers: &mut HeaderMap, action: Outcome, rule: &str, request_id: &str) {
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(HEADER_ACTION, HeaderValue::from_static(action.as_str()));
    if let Ok(rule) = HeaderValue::from_str(rule) {
        headers.insert(HEADER_RULE, rule);
    }
    if let Ok(id) = HeaderValue::from_str(request_id) {
        headers.insert(HEADER_REQUEST_ID, id);
    }
}

/// The answer to "Continue": back to the request that was warned (a path the gateway kept
/// with the ticket, never one the form names).
pub fn continued(return_to: &str, rule: &str, request_id: &str) -> Response<ProxyBody> {
    let mut response = Response::new(());
    *response.status_mut() = StatusCode::SEE_OTHER;
    let headers = response.headers_mut();
    let location = HeaderValue::from_str(return_to).unwrap_or(HeaderValue::from_static("/"));
    headers.insert(header::LOCATION, location);
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    stamp(headers, Outcome::Continue, rule, request_id);
    with_body((response, Bytes::from_static(b"Continuing.\n")))
}

/// The answer to "Request access": the request was recorded (or was already open).
pub fn request_filed(
    app_name: &str,
    repeated: bool,
    request_id: &str,
    json: bool,
) -> Response<ProxyBody> {
    let message = if repeated {
        format!(
            "Your request for {app_name} was already with the security team; it has been updated."
        )
    } else {
        format!("Your request for {app_name} has been sent to the security team.")
    };
    let (content_type, body) = if json {
        let value = serde_json::json!({
            "request_access": { "app": app_name, "repeated": repeated, "message": message,
                                "request_id": request_id }
        });
        ("application/json", value.to_string())
    } else {
        (
            "text/html; charset=utf-8",
            format!(
                "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
                 <title>Request sent · Warden</title></head><body>\
                 <h1>Request sent</h1><p id=\"warden-request-sent\">{}</p>\
                 <p>Request ID: <code>{}</code></p></body></html>\n",
                escape(&message),
                escape(request_id)
            ),
        )
    };
    let mut response = Response::new(());
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    stamp(
        headers,
        Outcome::RequestAccess,
        "coaching.request_access",
        request_id,
    );
    lock_down(headers);
    with_body((response, Bytes::from(body)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms_escape_what_they_show() {
        let html = forms_html(&PageForms {
            ticket: "wt_\"><script>".into(),
            app_name: "<b>Evil</b>".into(),
            can_continue: true,
            origin: "https://a.test".into(),
        });
        assert!(
            !html.contains("<script>") && !html.contains("<b>Evil"),
            "{html}"
        );
        assert!(html.contains("action=\"/.warden/continue\""));
        assert!(html.contains("action=\"/.warden/request-access\""));
        let forms = PageForms {
            ticket: "t".into(),
            app_name: "A".into(),
            can_continue: false,
            origin: "https://a.test".into(),
        };
        assert!(!forms_html(&forms).contains("warden-continue"));
        let api = request_access_json(&forms);
        assert_eq!(api["url"], "https://a.test/.warden/request-access");
        assert_eq!(api["origin"], "https://a.test");
        assert_eq!(api["fields"]["ticket"], "t");
    }
}
