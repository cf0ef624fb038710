//! The sanctioned chat page (`[aigw.chat]`): for people who are not developers, a page at
//! `https://<aigw.host>/chat` to chat with the models the policy allows them. The page is
//! rendered here (`page`), with one script file (`app.js`, allowed by its hash under a CSP
//! that forbids everything else, Trusted Types enforced so no HTML sink can be used) and one
//! style sheet; its messages go to `POST /chat/api/completions` (`api`), which runs the
//! normal call pipeline with the identity the proxy or the agent established, so budgets,
//! routes, DLP and the `ai_requests` row apply exactly as to any other call.
//!
//! Conversations live in the browser's storage only: the gateway keeps nothing of them.
//!
//! Never: take the caller's identity from anything the browser sends (keys in headers are
//! dropped); answer a cross-site request; store or log a prompt or an answer; put text from
//! a caller or a model into the page other than escaped.

pub mod api;
mod page;

use std::sync::LazyLock;

use base64::Engine;
use bytes::Bytes;
use http::{header, HeaderMap, HeaderValue, Method, Request, Response, StatusCode};
use sha2::{Digest, Sha256};

use crate::access::Arrival;
use crate::body::CallBody;
use crate::AiGateway;

/// The page.
pub const PAGE_PATH: &str = "/chat";
/// Where the page's script sends a conversation.
pub const API_PATH: &str = "/chat/api/completions";
/// `ai_requests.endpoint` of the page's calls.
pub const ENDPOINT: &str = "chat_page";
const SCRIPT_PATH: &str = "/chat/app.js";
const STYLE_PATH: &str = "/chat/chat.css";

const SCRIPT: &str = include_str!("app.js");
const STYLE: &str = include_str!("chat.css");

/// `sha256-<base64>` of the script: the CSP allows it and nothing else.
static SCRIPT_HASH: LazyLock<String> = LazyLock::new(|| {
    let digest = Sha256::digest(SCRIPT.as_bytes());
    format!(
        "sha256-{}",
        base64::engine::general_purpose::STANDARD.encode(digest)
    )
});

/// The page's settings, from `[aigw.chat]`.
#[derive(Debug, Clone)]
pub struct ChatPage {
    /// `aigw.host`: the only origin the page's calls are accepted from.
    pub host: String,
    pub title: String,
    pub notice: Option<String>,
}

impl ChatPage {
    /// The page when `[aigw.chat] enabled` (validation ensured `aigw.host` then).
    pub fn from_config(aigw: &config::AigwConfig) -> Option<Self> {
        let chat = &aigw.chat;
        if !chat.enabled {
            return None;
        }
        Some(Self {
            host: aigw.host.clone()?,
            title: chat.title.clone(),
            notice: chat.notice.clone(),
        })
    }
}

/// The page and its files (`GET` or `HEAD`), when the page is on and `path` is one of
/// theirs; `None` for every other request (the API and the gateway's endpoints).
pub fn serve_page<B>(
    gw: &AiGateway,
    request: &Request<B>,
    arrival: &Arrival,
) -> Option<Response<CallBody>> {
    let chat = gw.chat.as_ref()?;
    let path = request.uri().path();
    let file = match path {
        PAGE_PATH | "/chat/" => None,
        SCRIPT_PATH => Some(("text/javascript; charset=utf-8", SCRIPT)),
        STYLE_PATH => Some(("text/css; charset=utf-8", STYLE)),
        _ => return None,
    };
    if !matches!(*request.method(), Method::GET | Method::HEAD) {
        return Some(answer(
            StatusCode::METHOD_NOT_ALLOWED,
            "text/plain; charset=utf-8",
            "method not allowed\n".to_string(),
        ));
    }
    Some(match file {
        Some((content_type, text)) => answer(StatusCode::OK, content_type, text.to_string()),
        None => {
            let (status, html) = page::render(gw, chat, arrival);
            answer(status, "text/html; charset=utf-8", html)
        }
    })
}

fn answer(status: StatusCode, content_type: &'static str, body: String) -> Response<CallBody> {
    let mut response = Response::new(CallBody::plain(Bytes::from(body)));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    harden(headers);
    response
}

/// The headers every answer of the page and its API carries: a CSP that allows the one
/// script (by hash) and same-origin fetches only, no framing, no sniffing, no caching.
pub fn harden(headers: &mut HeaderMap) {
    let csp = format!(
        "default-src 'none'; script-src '{}'; style-src 'self'; connect-src 'self'; \
         img-src 'self'; form-action 'none'; frame-ancestors 'none'; base-uri 'none'; \
         require-trusted-types-for 'script'; trusted-types 'none'",
        *SCRIPT_HASH
    );
    if let Ok(value) = HeaderValue::from_str(&csp) {
        headers.insert(header::CONTENT_SECURITY_POLICY, value);
    }
    for (name, value) in [
        (header::X_FRAME_OPTIONS, "DENY"),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::REFERRER_POLICY, "no-referrer"),
        (header::CACHE_CONTROL, "no-store"),
    ] {
        headers.insert(name, HeaderValue::from_static(value));
    }
    headers.insert(
        "cross-origin-opener-policy",
        HeaderValue::from_static("same-origin"),
    );
    headers.insert(
        "cross-origin-resource-policy",
        HeaderValue::from_static("same-origin"),
    );
}

/// What a detector found, in words for the person who wrote the message.
pub fn plain_words(detector: &str) -> String {
    let words = match detector {
        "credit_card" => "a card number",
        "iban" => "a bank account number (IBAN)",
        "us_ssn" => "a US social security number",
        "email_address" => "an email address",
        "private_key" => "a private key",
        "jwt" => "a login token (JWT)",
        "source_code" => "source code",
        "database_url" => "a database address with its password",
        "uk_nino" | "ca_sin" | "de_tax_id" | "fr_nir" | "in_aadhaar" | "in_pan" | "br_cpf" => {
            "a national identity or tax number"
        }
        d if d.contains("key") || d.contains("token") || d.contains("secret") => {
            "a password, key or access token"
        }
        other => return format!("data of the kind {:?}", other.replace('_', " ")),
    };
    words.to_string()
}

/// "This message was blocked: it contains a card number and an email address."
pub fn blocked_sentence(what: &str, detectors: &[String]) -> String {
    let mut words: Vec<String> = Vec::new();
    for d in detectors {
        let w = plain_words(d);
        if !words.contains(&w) {
            words.push(w);
        }
    }
    let list = match words.as_slice() {
        [] => "data your organisation does not allow to be sent".to_string(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    };
    format!("This {what} was blocked: it contains {list}.")
}

/// The script's hash as the CSP names it (for tests).
pub fn script_hash() -> &'static str {
    &SCRIPT_HASH
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn findings_are_said_in_words_never_with_the_data() {
        assert_eq!(
            blocked_sentence("message", &["credit_card".into()]),
            "This message was blocked: it contains a card number."
        );
        assert_eq!(
            blocked_sentence(
                "answer",
                &[
                    "aws_access_key_id".into(),
                    "github_token".into(),
                    "email_address".into(),
                    "iban".into()
                ]
            ),
            "This answer was blocked: it contains a password, key or access token, an email \
             address and a bank account number (IBAN)."
        );
    }

    #[test]
    fn the_csp_names_the_script_by_its_hash() {
        let mut headers = HeaderMap::new();
        harden(&mut headers);
        let csp = headers[header::CONTENT_SECURITY_POLICY]
            .to_str()
            .unwrap_or("");
        assert!(csp.contains(script_hash()), "{csp}");
        assert!(csp.starts_with("default-src 'none'"), "{csp}");
        assert!(!csp.contains("unsafe"), "{csp}");
        assert_eq!(headers[header::X_FRAME_OPTIONS], "DENY");
    }
}
