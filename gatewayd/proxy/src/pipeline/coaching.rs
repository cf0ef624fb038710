//! Coaching in the pipeline: who holds a pass for the request's app (phase 3 decides with
//! it), the forms a refusal's page carries, and the gateway's own reserved paths on every
//! intercepted host (`/.warden/continue`, `/.warden/request-access`) that those forms post.
//!
//! A form post is honoured only when all of these hold: `POST`; `Origin` is the page's own
//! origin; where the browser sends fetch metadata, it is a user-activated top-level navigation
//! (`Sec-Fetch-Mode: navigate`, `Sec-Fetch-User: ?1`), which a script's `fetch()`, a hidden
//! frame or an automatic `form.submit()` cannot produce; a URL-encoded body within 8 KiB; text
//! within its limit; and a live, single-use ticket issued to this person for this host. The
//! pages themselves cannot be framed or reached from an opener (see `respond::coaching`). What
//! is left — the app's own page navigating its user to a Continue they then click — is the
//! user clicking Continue, logged as such.

use std::sync::Arc;

use bytes::Bytes;
use http::request::Parts;
use http::{header, HeaderMap, Method, Response, StatusCode};
use http_body_util::{BodyExt, Limited};
use hyper::body::Incoming;
use policies::access::{clean_reason, Filed, MAX_REASON_CHARS};

use super::context::{ConnectionContext, RequestContext};
use crate::coaching::requests::Filer;
use crate::coaching::tickets::TicketFor;
use crate::coaching::{Holder, Pass, RequestRefused};
use crate::outcome::Outcome;
use crate::respond::{self, PageForms, Refusal, RESERVED_PREFIX};
use crate::telemetry::events::Coached;
use crate::telemetry::{CoachingStep, InternalEvent};
use crate::upstream::ProxyBody;

/// Largest form body read.
const MAX_FORM_BYTES: usize = 8 * 1024;

/// The person (or shared identity narrowed to its address) behind the connection.
pub(super) fn holder(conn: &ConnectionContext) -> Holder {
    Holder::of(&conn.identity, conn.client.ip())
}

/// The holder's live pass for the request's app.
pub(super) fn live_pass(conn: &ConnectionContext, ctx: &RequestContext) -> Option<Arc<Pass>> {
    let app = ctx.app.as_ref()?;
    conn.gateway.coaching.passes.live(&holder(conn), &app.id)
}

/// Where Continue goes back to: the warned request's path and query for a page load, the
/// app's start page otherwise; never another host (`//host`, backslashes).
pub(super) fn return_to(method: &Method, path_and_query: Option<&str>) -> String {
    let path = path_and_query.unwrap_or("/");
    let safe = path.starts_with('/') && !path.starts_with("//") && !path.contains('\\');
    if (*method == Method::GET || *method == Method::HEAD) && safe && path.len() <= 2048 {
        path.to_string()
    } else {
        "/".to_string()
    }
}

/// Gives a browser's warning or block page about an app its forms, with a fresh ticket; and
/// an API client's JSON warning or block (a client without fetch metadata: `browser` is
/// false) the same ticket, as its continue token (see `coaching_api`) and as the ticket of
/// its access request. A script in a browser gets neither: it cannot post the form anyway.
pub(super) fn attach_forms(
    conn: &ConnectionContext,
    ctx: &RequestContext,
    refusal: &mut Refusal,
    return_to: String,
    browser: bool,
) {
    let can_continue = refusal.action == Outcome::Warn;
    let api_client = ctx.json && !browser;
    let Some(app) = ctx
        .app
        .as_ref()
        .filter(|_| refusal.askable && (!ctx.json || api_client))
    else {
        return;
    };
    let config = &conn.snapshot.config.coaching;
    let ticket = conn.gateway.coaching.tickets.issue(
        TicketFor {
            holder: holder(conn),
            app_id: app.id.clone(),
            app_name: app.name.clone(),
            host: ctx.host.clone(),
            rule: refusal.rule.clone(),
            can_continue,
            return_to,
        },
        config.ticket_ttl.0,
        config.max_tickets,
    );
    refusal.forms = Some(Box::new(PageForms {
        ticket,
        app_name: app.name.clone(),
        can_continue,
        origin: page_origin(conn, ctx),
    }));
}

/// The origin the request was sent to, as `serve_reserved` compares it (`target::resolve`
/// leaves the port out when it is the scheme's default).
fn page_origin(conn: &ConnectionContext, ctx: &RequestContext) -> String {
    let default_port = if ctx.scheme == "https" { 443 } else { 80 };
    match conn.tunnel.as_ref().map(|t| t.port) {
        Some(port) if port != default_port => format!("{}://{}:{port}", ctx.scheme, ctx.host),
        _ => format!("{}://{}", ctx.scheme, ctx.host),
    }
}

pub(super) fn refused(status: StatusCode, rule: &str, reason: impl Into<String>) -> Refusal {
    Refusal::new(
        status,
        Outcome::Deny,
        rule,
        "This form was not accepted",
        reason.into(),
    )
}

/// Answers a request to a reserved path: the forms' posts, refused unless every check holds.
pub(super) async fn serve_reserved(
    conn: &ConnectionContext,
    ctx: &mut RequestContext,
    parts: Parts,
    body: Incoming,
    origin: &str,
) -> Result<Response<ProxyBody>, Refusal> {
    let continuing = match ctx.path.strip_prefix(RESERVED_PREFIX) {
        Some("continue") => true,
        Some("request-access") => false,
        _ => {
            return Err(refused(
                StatusCode::NOT_FOUND,
                "coaching.not_found",
                "Nothing is served at this address.",
            ))
        }
    };
    if parts.method != Method::POST {
        return Err(refused(
            StatusCode::METHOD_NOT_ALLOWED,
            "coaching.method",
            "This address only takes the form on a Warden page.",
        ));
    }
    check_sender(&parts.headers, origin)?;
    let fields = read_form(&parts.headers, body).await?;
    let field = |name: &str| {
        fields
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .unwrap_or("")
    };
    let text = field(if continuing {
        "justification"
    } else {
        "reason"
    });
    if text.chars().count() > MAX_REASON_CHARS {
        return Err(refused(
            StatusCode::BAD_REQUEST,
            "coaching.text_too_long",
            format!("Please keep it under {MAX_REASON_CHARS} characters."),
        ));
    }
    let holder = holder(conn);
    let coaching = &conn.gateway.coaching;
    let ticket = coaching
        .tickets
        .redeem(field("ticket"), &holder, &ctx.host)
        .map_err(|why| refused(StatusCode::FORBIDDEN, why.rule(), why.explain()))?;
    ctx.app_status = Some(conn.gateway.statuses.book().status(&ticket.app_id).as_str());
    let text = clean_reason(text);
    let config = &conn.snapshot.config.coaching;
    if continuing {
        if !ticket.can_continue {
            let why = crate::coaching::TicketRefused::NotContinuable;
            return Err(refused(StatusCode::FORBIDDEN, why.rule(), why.explain()));
        }
        coaching.passes.grant(
            holder,
            &ticket.app_id,
            &ticket.rule,
            &text,
            config.pass_duration.0,
            config.max_passes,
        );
        Coached(CoachingStep::Continued).emit(&conn.gateway.metrics);
        ctx.action = Outcome::Continue;
        ctx.rule = ticket.rule.clone();
        ctx.detail = Some(justification_detail(&text));
        tracing::info!(
            target: "warden::coaching",
            request_id = %ctx.request_id, user = %conn.identity.user, app = %ticket.app_id,
            rule = %ticket.rule, "user continued past a warning"
        );
        return Ok(respond::continued(
            &ticket.return_to,
            &ticket.rule,
            &ctx.request_id,
        ));
    }
    let user = match holder.address {
        Some(address) => format!("{} ({address})", holder.user),
        None => holder.user.clone(),
    };
    let filer = Filer {
        user: &user,
        device: &holder.device,
    };
    let filed = coaching
        .requests
        .file(
            filer,
            &ticket.app_id,
            &ticket.app_name,
            &text,
            config.requests_per_user_per_hour,
            config.max_open_requests,
        )
        .map_err(|e| {
            let status = match e {
                RequestRefused::Rate(_) => StatusCode::TOO_MANY_REQUESTS,
                RequestRefused::Busy | RequestRefused::Full(_) => StatusCode::SERVICE_UNAVAILABLE,
                _ => StatusCode::INTERNAL_SERVER_ERROR,
            };
            refused(status, "coaching.request_access", e.to_string())
        })?;
    let request = filed.request();
    Coached(CoachingStep::AccessRequested).emit(&conn.gateway.metrics);
    ctx.action = Outcome::RequestAccess;
    ctx.rule = "coaching.request_access".into();
    ctx.detail = Some(format!("access request {}: {}", request.id, request.reason));
    tracing::info!(
        target: "warden::coaching",
        request_id = %ctx.request_id, user = %user, app = %ticket.app_id,
        access_request = %request.id, repeated = matches!(filed, Filed::Repeated(_)),
        "access requested"
    );
    Ok(respond::request_filed(
        &ticket.app_name,
        matches!(filed, Filed::Repeated(_)),
        &ctx.request_id,
        ctx.json,
    ))
}

/// The event detail of a request made under a pass, or of the Continue itself.
pub(super) fn justification_detail(text: &str) -> String {
    if text.is_empty() {
        "continued past the warning; no justification given".into()
    } else {
        format!("continued past the warning; justification: {text}")
    }
}

/// The post must come from the page's own origin and, where the browser says how it was
/// sent, from a person's click on a top-level page.
fn check_sender(headers: &HeaderMap, origin: &str) -> Result<(), Refusal> {
    let text = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    // Exactly one Origin, and it is the page's: a second one is not a browser's.
    let one = headers.get_all(header::ORIGIN).iter().count() == 1;
    let same_origin =
        one && text(header::ORIGIN.as_str()).is_some_and(|o| o.eq_ignore_ascii_case(origin));
    if !same_origin {
        return Err(refused(
            StatusCode::FORBIDDEN,
            "coaching.origin",
            "This form was not sent from the Warden page it belongs to.",
        ));
    }
    if let Some(mode) = text("sec-fetch-mode") {
        let dest_ok = text("sec-fetch-dest").is_none_or(|d| d.eq_ignore_ascii_case("document"));
        let clicked = text("sec-fetch-user") == Some("?1");
        if !mode.eq_ignore_ascii_case("navigate") || !dest_ok || !clicked {
            return Err(refused(
                StatusCode::FORBIDDEN,
                "coaching.not_a_click",
                "This form must be sent by clicking its button on the Warden page.",
            ));
        }
    }
    Ok(())
}

async fn read_form(headers: &HeaderMap, body: Incoming) -> Result<Vec<(String, String)>, Refusal> {
    let form = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|v| {
            v.trim()
                .eq_ignore_ascii_case("application/x-www-form-urlencoded")
        });
    if !form {
        return Err(refused(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "coaching.form",
            "This address only takes the form on a Warden page.",
        ));
    }
    let bytes: Bytes = match Limited::new(body, MAX_FORM_BYTES).collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(_) => {
            return Err(refused(
                StatusCode::PAYLOAD_TOO_LARGE,
                "coaching.form_too_large",
                format!("The form is larger than {MAX_FORM_BYTES} bytes."),
            ))
        }
    };
    Ok(parse_form(&bytes))
}

/// `application/x-www-form-urlencoded` pairs (`+` is a space, `%XX` a byte, invalid UTF-8
/// replaced).
fn parse_form(body: &[u8]) -> Vec<(String, String)> {
    body.split(|b| *b == b'&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let mut halves = pair.splitn(2, |b| *b == b'=');
            let name = halves.next().unwrap_or_default();
            let value = halves.next().unwrap_or_default();
            (decode(name), decode(value))
        })
        .collect()
}

fn decode(text: &[u8]) -> String {
    let hex = |b: u8| (b as char).to_digit(16).map(|d| d as u8);
    let mut out = Vec::with_capacity(text.len());
    let mut i = 0;
    while i < text.len() {
        match text[i] {
            b'%' if i + 2 < text.len() => match (hex(text[i + 1]), hex(text[i + 2])) {
                (Some(hi), Some(lo)) => {
                    out.push(hi << 4 | lo);
                    i += 3;
                    continue;
                }
                _ => out.push(b'%'),
            },
            b'+' => out.push(b' '),
            byte => out.push(byte),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms_decode_and_return_paths_stay_home() {
        let pairs = parse_form(b"ticket=wt_a%2Bb&justification=need+it%21%3Cb%3E&x");
        assert_eq!(pairs[0], ("ticket".into(), "wt_a+b".into()));
        assert_eq!(pairs[1].1, "need it!<b>");
        assert_eq!(decode(b"%4"), "%4");
        assert_eq!(decode(b"%zz"), "%zz");
        assert_eq!(return_to(&Method::GET, Some("/c/1?x=2")), "/c/1?x=2");
        assert_eq!(return_to(&Method::GET, Some("//evil.test/x")), "/");
        assert_eq!(return_to(&Method::GET, Some("/\\evil.test")), "/");
        assert_eq!(return_to(&Method::POST, Some("/api")), "/");
    }

    #[test]
    fn only_a_click_on_the_page_counts() {
        let origin = "https://claude.ai";
        let mut headers = HeaderMap::new();
        assert!(check_sender(&headers, origin).is_err(), "no Origin");
        headers.insert(header::ORIGIN, "https://evil.test".parse().unwrap());
        assert!(check_sender(&headers, origin).is_err());
        headers.insert(header::ORIGIN, origin.parse().unwrap());
        assert!(
            check_sender(&headers, origin).is_ok(),
            "no fetch metadata: curl"
        );
        headers.insert("sec-fetch-mode", "cors".parse().unwrap());
        assert!(
            check_sender(&headers, origin).is_err(),
            "a script's fetch()"
        );
        headers.insert("sec-fetch-mode", "navigate".parse().unwrap());
        headers.insert("sec-fetch-dest", "document".parse().unwrap());
        assert!(
            check_sender(&headers, origin).is_err(),
            "no user activation"
        );
        headers.insert("sec-fetch-user", "?1".parse().unwrap());
        assert!(check_sender(&headers, origin).is_ok());
        headers.insert("sec-fetch-dest", "iframe".parse().unwrap());
        assert!(check_sender(&headers, origin).is_err(), "a frame");
    }
}
