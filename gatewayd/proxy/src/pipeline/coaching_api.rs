//! Continuing past a warning from an API client, which has no page to click: the JSON warning
//! a client without fetch metadata receives carries a one-time token (`error.continue`), and
//! the client sends the request again with it in `X-Warden-Continue` (and an optional
//! justification in `X-Warden-Justification`, logged). The token is the warning page's
//! ticket: single use, short-lived, bound to the person, the app and the host it was issued
//! for; redeeming it grants the same time-limited pass as the page's Continue button.
//!
//! What it must never do: let a script in a browser continue for its user (a request with
//! `Sec-Fetch-Mode`, which scripts cannot remove, is refused and never given a token), or
//! send either header on to the app.

use http::request::Parts;
use http::{HeaderMap, HeaderValue, StatusCode};
use policies::access::{clean_reason, MAX_REASON_CHARS};

use super::coaching::{holder, refused};
use super::context::{ConnectionContext, RequestContext};
use crate::coaching::TicketRefused;
use crate::respond::Refusal;
use crate::respond::{CONTINUE_HEADER, JUSTIFICATION_HEADER};
use crate::telemetry::events::Coached;
use crate::telemetry::{CoachingStep, InternalEvent};

/// Whether the request comes from a browser that says what it is doing (fetch metadata):
/// such a client continues by clicking, never by header.
pub(super) fn from_browser(headers: &HeaderMap) -> bool {
    headers.contains_key("sec-fetch-mode")
}

/// Redeems `X-Warden-Continue` when the request carries it: `Ok(true)` when it granted a
/// pass for this request's app. Both headers are removed from the request in every case.
pub(super) fn continue_by_header(
    conn: &ConnectionContext,
    ctx: &mut RequestContext,
    parts: &mut Parts,
) -> Result<bool, Refusal> {
    let tokens: Vec<HeaderValue> = parts
        .headers
        .get_all(CONTINUE_HEADER)
        .iter()
        .cloned()
        .collect();
    let justifications: Vec<HeaderValue> = parts
        .headers
        .get_all(JUSTIFICATION_HEADER)
        .iter()
        .cloned()
        .collect();
    parts.headers.remove(CONTINUE_HEADER);
    parts.headers.remove(JUSTIFICATION_HEADER);
    if tokens.is_empty() {
        return Ok(false);
    }
    if from_browser(&parts.headers) {
        return Err(refused(
            StatusCode::FORBIDDEN,
            "coaching.header_from_browser",
            "In a browser, continue by clicking Continue on the warning page.",
        ));
    }
    if tokens.len() > 1 || justifications.len() > 1 {
        return Err(refused(
            StatusCode::BAD_REQUEST,
            "coaching.header",
            "Send X-Warden-Continue and X-Warden-Justification at most once each.",
        ));
    }
    let token = tokens[0].to_str().unwrap_or("");
    let text = justifications
        .first()
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
        .unwrap_or_default();
    if text.chars().count() > MAX_REASON_CHARS {
        return Err(refused(
            StatusCode::BAD_REQUEST,
            "coaching.text_too_long",
            format!("Please keep the justification under {MAX_REASON_CHARS} characters."),
        ));
    }
    let holder = holder(conn);
    let coaching = &conn.gateway.coaching;
    let ticket = coaching
        .tickets
        .redeem(token, &holder, &ctx.host)
        .map_err(|why| refused(StatusCode::FORBIDDEN, why.rule(), why.explain()))?;
    let same_app = ctx.app.as_ref().is_some_and(|app| app.id == ticket.app_id);
    if !ticket.can_continue || !same_app {
        let why = TicketRefused::NotContinuable;
        return Err(refused(StatusCode::FORBIDDEN, why.rule(), why.explain()));
    }
    let text = clean_reason(&text);
    let config = &conn.snapshot.config.coaching;
    coaching.passes.grant(
        holder,
        &ticket.app_id,
        &ticket.rule,
        &text,
        config.pass_duration.0,
        config.max_passes,
    );
    Coached(CoachingStep::Continued).emit(&conn.gateway.metrics);
    tracing::info!(
        target: "warden::coaching",
        request_id = %ctx.request_id, user = %conn.identity.user, app = %ticket.app_id,
        rule = %ticket.rule, "user continued past a warning (API)"
    );
    Ok(true)
}
