//! The chat page's HTML, rendered on the server: who is signed in, the models this person
//! may pick (the same rule `GET /v1/models` applies), the security team's notice, and the
//! empty conversation the script fills in from the browser's storage.
//!
//! Never: put a caller's or an operator's text into the page unescaped, or render a model
//! the caller may not use.

use http::StatusCode;

use super::{script_hash, ChatPage, SCRIPT_PATH, STYLE_PATH};
use crate::access::Arrival;
use crate::endpoints::models::allowed;
use crate::AiGateway;

/// The page for whoever `arrival` says is calling: the chat, or why they cannot use it.
pub(super) fn render(gw: &AiGateway, chat: &ChatPage, arrival: &Arrival) -> (StatusCode, String) {
    let title = escape(&chat.title);
    let caller = match gw.identity.caller(arrival) {
        Ok((caller, _)) => caller,
        Err(error) => {
            // Off the proxy or agent path, or not one identified person: no chat.
            let body = format!(
                "<main class=\"refused\"><h1>{title}</h1><p>{}</p><p>Open \
                 <strong>https://{}/chat</strong> in a browser that goes through your \
                 organisation's proxy or device agent, signed in as yourself.</p></main>",
                escape(&error.to_string()),
                escape(&chat.host),
            );
            return (error.status(), document(&title, "", &body));
        }
    };
    let models = allowed(&gw.routes, &caller.models);
    let options: String = models
        .iter()
        .map(|m| format!("<option value=\"{id}\">{id}</option>", id = escape(&m.id)))
        .collect();
    let notice = chat
        .notice
        .as_deref()
        .map(|n| format!("<p class=\"notice\" id=\"notice\">{}</p>", escape(n)))
        .unwrap_or_default();
    let dlp = if gw.dlp.is_some() {
        "Messages are checked for sensitive data (card numbers, keys, personal data) before \
         they leave; a message that holds some is blocked and not sent."
    } else {
        ""
    };
    let composer = if models.is_empty() {
        "<p class=\"error\" id=\"no-models\">No models are available to you. Ask your \
         administrator.</p>"
            .to_string()
    } else {
        format!(
            "<form id=\"composer\" autocomplete=\"off\">\
             <label for=\"model\">Model</label> <select id=\"model\">{options}</select>\
             <textarea id=\"prompt\" rows=\"3\" placeholder=\"Write a message\" \
             aria-label=\"Message\" required></textarea>\
             <button id=\"send\" type=\"submit\">Send</button></form>"
        )
    };
    let body = format!(
        "<header><h1>{title}</h1><p class=\"who\">Signed in as <strong id=\"user\">{user}\
         </strong></p></header>{notice}\
         <div class=\"layout\"><nav aria-label=\"Conversations\">\
         <button id=\"new-chat\" type=\"button\">New chat</button>\
         <ul id=\"chats\"></ul>\
         <button id=\"clear\" type=\"button\" class=\"quiet\">Delete all conversations</button>\
         </nav><main><div id=\"log\" aria-live=\"polite\"></div>{composer}\
         <p class=\"status\" id=\"status\" role=\"status\"></p>\
         <p class=\"privacy\">Your conversations are kept in this browser only, never on \
         the gateway. {dlp}</p></main></div>\
         <noscript><p class=\"error\">This page needs JavaScript to send messages.</p>\
         </noscript>",
        user = escape(&caller.user),
    );
    // The words for each detector, for an answer a stream's DLP cut (the script says which
    // kinds of data it held; a prompt's refusal comes with its sentence already).
    let words: String = dlp::Detector::ALL
        .iter()
        .map(|d| {
            format!(
                "<li data-detector=\"{}\">{}</li>",
                d.id(),
                escape(&super::plain_words(d.id()))
            )
        })
        .collect();
    let body = format!("{body}<ul id=\"dlp-words\" hidden>{words}</ul>");
    let data = format!(" data-user=\"{}\"", escape(&caller.user));
    (StatusCode::OK, document(&title, &data, &body))
}

fn document(title: &str, body_attributes: &str, body: &str) -> String {
    format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{title} · Warden</title>\
         <link rel=\"stylesheet\" href=\"{STYLE_PATH}\">\
         <script src=\"{SCRIPT_PATH}\" integrity=\"{hash}\" defer></script>\
         </head><body{body_attributes}>{body}</body></html>\n",
        hash = script_hash(),
    )
}

/// Escapes text for HTML element content and double-quoted attributes.
fn escape(text: &str) -> String {
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
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn text_is_escaped() {
        assert_eq!(
            escape("<img src=x onerror=\"a\">&'"),
            "&lt;img src=x onerror=&quot;a&quot;&gt;&amp;&#39;"
        );
        let page = document("<t>", " data-user=\"u\"", "<p>x</p>");
        assert!(page.contains(script_hash()));
        assert!(page.contains("integrity="));
    }
}
