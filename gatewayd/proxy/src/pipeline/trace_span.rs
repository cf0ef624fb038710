//! The request's tracing span: opened when the request arrives (its fields named after
//! OpenTelemetry's HTTP semantic conventions, so the optional OTLP export in the `otlp` crate
//! reads them as they are), and given the transaction's outcome in the log phase, when the
//! response has ended. The span closes then, so its duration covers the response body.
//!
//! What it must never do: carry a prompt, a finding, a token or a header value; or cost
//! anything when no layer wants the span (everything here is skipped for a disabled span).

use tracing::field::Empty;
use tracing::Span;

use super::context::RequestContext;
use crate::outcome::Outcome;

/// The span one request runs in. Its parent is the span current when the request starts
/// (the CONNECT tunnel's, where the connection is served inside it).
pub(super) fn request_span(ctx: &RequestContext) -> Span {
    tracing::debug_span!(
        "request",
        id = %ctx.request_id,
        host = %ctx.host,
        "http.request.method" = %ctx.method,
        "url.scheme" = ctx.scheme,
        "server.address" = Empty,
        "http.response.status_code" = Empty,
        "warden.action" = Empty,
        "warden.rule" = Empty,
        "warden.app" = Empty,
        "warden.refused" = Empty,
        "warden.dlp.detectors" = Empty,
        "warden.user" = Empty,
        "error.type" = Empty,
    )
}

/// Records what only the end of the transaction knows. `status` is the answer's status (0
/// when there was none, as for a tunnel); `user` is recorded on the span, and the exporter
/// decides whether it leaves the gateway (`telemetry.otlp.export_user`).
pub(super) fn record_outcome(
    span: &Span,
    ctx: &RequestContext,
    status: u16,
    user: &str,
    body_failed: bool,
) {
    if span.is_disabled() {
        return;
    }
    span.record("server.address", ctx.host.as_str());
    if status != 0 {
        span.record("http.response.status_code", u64::from(status));
    }
    span.record("warden.action", ctx.action.as_str());
    span.record("warden.rule", ctx.rule.as_str());
    if let Some(app) = ctx
        .app
        .as_ref()
        .map(|a| a.id.as_str())
        .or(ctx.discovered.as_deref())
    {
        span.record("warden.app", app);
    }
    span.record("warden.refused", ctx.blocked);
    if !ctx.inspection.hits.is_empty() {
        // Detector names only: never a finding, a snippet or a count per field.
        let names: Vec<&str> = ctx
            .inspection
            .hits
            .iter()
            .map(|h| h.detector.as_str())
            .collect();
        span.record("warden.dlp.detectors", names.join(",").as_str());
    }
    if !user.is_empty() {
        span.record("warden.user", user);
    }
    if let Some(error) = error_type(ctx, status, body_failed) {
        span.record("error.type", error.as_str());
    }
}

/// The span's `error.type` (its status is then ERROR): the rule or failure kind when the
/// gateway refused or could not serve the request, the status code when the origin answered
/// 5xx, `response_body` when the response broke off. None for a success.
fn error_type(ctx: &RequestContext, status: u16, body_failed: bool) -> Option<String> {
    if ctx.blocked || matches!(ctx.action, Outcome::Error | Outcome::Deny) {
        return Some(ctx.rule.clone());
    }
    if status >= 500 {
        return Some(status.to_string());
    }
    body_failed.then(|| "response_body".to_string())
}
