//! Bearer-token checks on `/api/v1`, throttled per source like the dashboard's login: the
//! same failure tables (a guess counts the same on either door), the same free failures and
//! doubling waits, `429` with `Retry-After` while a source (or a token prefix) must wait, and
//! the same aggregated audit trail — each free failure, then one `api_token_throttled` line
//! per wait carrying the counts.
//!
//! What it must never do: verify a token while its source must wait (a throttled guess
//! learns nothing), write a token to the audit trail, or let a valid token clear a source's
//! failures (an analyst's own token would otherwise reset the count between admin guesses).

use std::net::IpAddr;

use http::{header, HeaderValue, Request, Response, StatusCode};
use hyper::body::Incoming;

use super::api::{bearer_token, error};
use super::audit;
use super::login_throttle::{Failure, Peer};
use super::state::AdminState;
use super::tokens::Principal;
use crate::view::ProxyView;
use crate::ProxyBody;

/// The token's principal, or the error response (401, or 429 while the source waits; boxed:
/// a response is large and this is the common path).
pub(super) fn authenticate(
    proxy: &dyn ProxyView,
    state: &AdminState,
    request: &Request<Incoming>,
) -> Result<Principal, Box<Response<ProxyBody>>> {
    let token = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(bearer_token);
    let Some(token) = token else {
        return Err(Box::new(error(
            StatusCode::UNAUTHORIZED,
            "missing bearer token",
        )));
    };
    // Without the listener's address (never the case on the admin port) every such request
    // shares one throttle: fail closed.
    let source = request
        .extensions()
        .get::<Peer>()
        .map_or(IpAddr::from([0, 0, 0, 0]), |peer| peer.0);
    if let Some(wait) = state.login_throttle.wait(source, token) {
        return Err(Box::new(throttled(wait)));
    }
    if let Some(principal) = state.tokens().verify(token) {
        return Ok(principal);
    }
    let state_dir = proxy.settings().state_dir;
    match state.login_throttle.failed(source, token) {
        Failure::Free => audit::record(
            &state_dir,
            "anonymous",
            "api_token_refused",
            &format!("invalid bearer token from {source}"),
        ),
        Failure::Throttled {
            failures,
            refused_while_waiting,
            wait,
        } => audit::record(
            &state_dir,
            "anonymous",
            "api_token_throttled",
            &format!(
                "{failures} failed bearer tokens from {source} \
                 ({refused_while_waiting} more refused while waiting); \
                 next attempt checked in {}s",
                wait.as_secs()
            ),
        ),
    }
    Err(Box::new(error(StatusCode::UNAUTHORIZED, "invalid token")))
}

fn throttled(wait: std::time::Duration) -> Response<ProxyBody> {
    let seconds = wait.as_secs_f64().ceil().max(1.0) as u64;
    let mut response = error(
        StatusCode::TOO_MANY_REQUESTS,
        &format!("too many invalid tokens from this address: try again in {seconds} s"),
    );
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
    response
}
