//! The AI key inventory's phase, right after classify: on a request to an AI API host (a
//! catalog app's `api_hosts`, or a host discovery recognised from its headers) the key the
//! client presents is fingerprinted for the event (`inspect::credentials`). And the answer to
//! a refused AI API call: with `ai_keys.guidance` set, in the API's own error format.
//!
//! On a host outside the catalog that discovery may yet recognise from the request body, the
//! key is fingerprinted as pending: it counts only if the body shows an AI API
//! (`RequestContext::settle_discovery`).
//!
//! It never changes a decision and never keeps the key; on any other host it reads nothing.

use http::request::Parts;
use http::{HeaderMap, Response};
use policies::catalog::HostKind;

use super::context::{ConnectionContext, RequestContext};
use crate::inspect::credentials;
use crate::outcome::Outcome;
use crate::respond::{self, guidance, Refusal};
use crate::upstream::ProxyBody;

/// Records the key on `ctx` when the host is an AI API's and the daemon keeps an inventory.
pub fn observe(conn: &ConnectionContext, ctx: &mut RequestContext, parts: &Parts) {
    observe_headers(conn, ctx, &parts.headers, parts.uri.query());
}

/// [`observe`] for a request refused before classify (its tunnel was blocked at CONNECT):
/// the catalog is asked here, so a refused call's key is in the inventory too.
pub fn observe_refused<B>(
    conn: &ConnectionContext,
    ctx: &mut RequestContext,
    request: &http::Request<B>,
) {
    observe_headers(conn, ctx, request.headers(), request.uri().query());
}

fn observe_headers(
    conn: &ConnectionContext,
    ctx: &mut RequestContext,
    headers: &HeaderMap,
    query: Option<&str>,
) {
    let Some(fingerprints) = conn.gateway.key_fingerprints.get() else {
        return;
    };
    if !conn.snapshot.config.ai_keys.inventory {
        return;
    }
    let Some(app) = api_app(conn, ctx) else {
        if super::discover::body_may_discover(conn, ctx) {
            let app = format!("discovered:{}", ctx.host);
            ctx.ai_key_pending =
                credentials::observe(fingerprints, headers, query, &ctx.host, &app);
        }
        return;
    };
    ctx.ai_key = credentials::observe(fingerprints, headers, query, &ctx.host, &app);
}

/// The app id when the request goes to an AI API host: the classified app's (API hosts
/// only), the discovered host's, or — before classify — the catalog's answer for the host.
fn api_app(conn: &ConnectionContext, ctx: &RequestContext) -> Option<String> {
    match (&ctx.app, &ctx.discovered) {
        (Some(app), _) => (app.host_kind == HostKind::Api).then(|| app.id.clone()),
        (None, Some(discovered)) => Some(discovered.clone()),
        (None, None) => conn
            .snapshot
            .catalog
            .match_request(&ctx.host, ctx.method.as_str(), &ctx.path)
            .filter(|m| m.matched.kind == HostKind::Api)
            .map(|m| m.matched.app.id.clone()),
    }
}

/// The answer to a refusal: in the AI API's own error format with the security team's
/// guidance when it is configured and this is a policy's refusal of an AI API call (not a
/// DLP finding, whose kinds the gateway's own answer names; not a warning, which carries a
/// continue token); the gateway's usual answer otherwise.
pub fn render(
    conn: &ConnectionContext,
    ctx: &RequestContext,
    refusal: &Refusal,
) -> Response<ProxyBody> {
    let policy_block = matches!(
        refusal.action,
        Outcome::Block | Outcome::BlockUploads | Outcome::Isolate
    ) && refusal.data_kinds.is_empty();
    let message = conn.snapshot.config.ai_keys.guidance.as_deref();
    match message {
        Some(message) if policy_block && api_app(conn, ctx).is_some() => {
            let provider = ctx.ai_key.as_ref().map(|k| k.provider.as_str());
            let dialect = guidance::ApiDialect::of(&ctx.host, &ctx.path, provider);
            guidance::render(refusal, &ctx.request_id, dialect, message)
        }
        _ => respond::render(refusal, &ctx.request_id, ctx.json),
    }
}
