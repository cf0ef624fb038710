//! The per-request pipeline: one explicit, ordered sequence of phases over a typed
//! [`RequestContext`], the same for intercepted HTTPS, plain HTTP through the proxy port, and
//! HTTP inside CONNECT tunnels.
//!
//! ```text
//! request ─► 1 request_filter ─► 2 classify ─► 3 decide ─► 4 inspect ─► 5 upstream_request ─► 6 response_filter ─► client
//!             target; host       catalog app,   policy      body: DLP     pooled, verified      hop-by-hop, Alt-Svc h3,
//!             vs tunnel          endpoint,      verdict     scan, audit,  TLS; WebSocket        X-Warden-Request-Id
//!                                upload flag    (+status)   re-decide     upgrade
//!                │                                 │            │              │
//!                └────────► respond (block page / JSON error) ◄─┴──────────────┘ on refusal or failure
//!                                                                                            ▼
//!                                                     7 log: always, when the response body ends or is dropped
//! ```
//!
//! Each phase either continues or answers with a [`Refusal`] that `respond` renders; nothing
//! after a refusal reaches the upstream. The log phase runs for every transaction: allowed,
//! refused and failed.

mod ai_key;
mod body;
mod coaching;
mod coaching_api;
mod context;
mod decide;
mod discover;
mod dlp_scan;
mod headers;
mod inspection;
mod log;
mod redact;
mod request_text;
mod route;
mod stored_path;
mod target;
mod trace_span;
mod tunnel_log;
mod upgrade;
mod upload_name;
mod upload_sniff;
mod ws_seam;

use std::convert::Infallible;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;

use http::{HeaderValue, Request, Response, StatusCode, Version};
use http_body_util::BodyExt;
use hyper::body::Incoming;

pub use context::{
    AppRef, ConnectionContext, DlpHit, InspectionRecord, RequestContext, TunnelTarget,
};
pub use headers::{strip_alt_svc_h3, strip_hop_by_hop};
pub use tunnel_log::{TunnelEvent, TunnelOutcome};

use crate::outcome::Outcome;
use crate::respond::{self, Refusal, HEADER_REQUEST_ID};
use crate::telemetry::events::{
    Coached, EgressCheck, EgressRefused, InternalEvent, RequestReceived, RequestRefused,
    UpstreamFailed,
};
use crate::telemetry::CoachingStep;
use crate::upstream::egress::EgressRefusal;
use crate::upstream::{ConnectError, Outgoing, ProxyBody, UpstreamError};
use body::{CountingBody, LoggedBody};
use log::TransactionLog;
use tracing::Instrument;

/// Handles one request from a client connection; never fails (failures become responses).
pub async fn handle(
    conn: Arc<ConnectionContext>,
    request: Request<Incoming>,
) -> Result<Response<ProxyBody>, Infallible> {
    RequestReceived.emit(&conn.gateway.metrics);
    let mut ctx = RequestContext::begin(&conn, &request);
    let return_to = coaching::return_to(
        request.method(),
        request.uri().path_and_query().map(|p| p.as_str()),
    );
    let browser = coaching_api::from_browser(request.headers());
    // The span follows the future across awaits (an entered guard would not: it would tag
    // whatever else ran on the thread while this request waited), then the response body:
    // the log phase keeps it until the transaction ends.
    let span = trace_span::request_span(&ctx);
    let logged = span.clone();
    async move {
        let response = match run_phases(&conn, &mut ctx, request).await {
            Ok(response) => response,
            Err(mut refusal) => {
                RequestRefused.emit(&conn.gateway.metrics);
                if refusal.action == Outcome::Warn {
                    Coached(CoachingStep::WarningShown).emit(&conn.gateway.metrics);
                }
                coaching::attach_forms(&conn, &ctx, &mut refusal, return_to, browser);
                ctx.refused(&refusal);
                ai_key::render(&conn, &ctx, &refusal)
            }
        };
        Ok(log_phase(&conn, ctx, response, logged))
    }
    .instrument(span)
    .await
}

/// Phases 1–6.
async fn run_phases(
    conn: &ConnectionContext,
    ctx: &mut RequestContext,
    request: Request<Incoming>,
) -> Result<Response<ProxyBody>, Refusal> {
    // 1. request_filter: the one origin this request may reach.
    let target = target::resolve(conn, &request)?;
    ctx.host = target.host.clone();
    if let Some(blocked) = &conn.blocked {
        ai_key::observe_refused(conn, ctx, &request);
        return Err(blocked.clone());
    }
    let (mut parts, body) = request.into_parts();

    // 2. classify: catalog app, endpoint, upload.
    decide::classify(conn, ctx, &parts);
    ai_key::observe(conn, ctx, &parts);
    if ctx.path.starts_with(respond::RESERVED_PREFIX) {
        // The gateway's own forms (coaching, access requests): answered here, never sent on.
        let origin = format!(
            "{}://{}",
            ctx.scheme,
            target
                .uri
                .authority()
                .map(|a| a.as_str())
                .unwrap_or(&ctx.host)
        );
        return coaching::serve_reserved(conn, ctx, parts, body, &origin).await;
    }
    // An API client continuing past a warning with its token: the pass is granted first.
    let continued = coaching_api::continue_by_header(conn, ctx, &mut parts)?;
    ctx.coaching_pass = coaching::live_pass(conn, ctx);

    // 3. decide: the policy's verdict with the app's current status.
    let book = conn.gateway.statuses.book();
    let verdict = decide::decide(conn, ctx, &book, None);
    if let Err(refusal) = decide::apply(conn, ctx, &verdict) {
        if ctx.upload {
            // The event names the file that was stopped.
            upload_name::record(conn, ctx, &parts, body).await;
        }
        return Err(refusal);
    }
    if continued {
        // Its own outcome, never a block: the request the token let through.
        ctx.action = Outcome::Continue;
    }
    if ctx.action == Outcome::WouldRoute {
        ctx.detail = Some(route::dry_run_detail(
            conn,
            ctx,
            &parts.method,
            parts.uri.path(),
        ));
    }
    let websocket = upgrade::is_websocket_parts(&parts);
    if websocket && matches!(verdict.action, policies::rules::Action::Isolate) {
        // View-only: a WebSocket would let the user send messages to the app.
        return Err(decide::refusal_for(conn, ctx, &verdict));
    }

    // 4. inspect: scan and audit the body when the verdict asks for it.
    // `budget` keeps the buffered body's share of the inspection budget until it has gone.
    let (body, budget) = inspection::inspect(conn, ctx, &mut parts, body, &verdict, &book).await?;
    let body = discover::request_body(conn, ctx, body);
    if ctx.scheme == "https" {
        // Tenant control: the vendor's headers replace any the client sent. Intercepted TLS
        // only, so the organisation's ids never cross the network in clear text.
        if let Some(tenant) = conn.snapshot.tenants.for_host(&ctx.host) {
            tenant.inject(&mut parts.headers);
        }
    }

    // 5. upstream_request; a `route` rule's call goes to the AI gateway instead.
    if ctx.action == Outcome::Route {
        return route::forward(conn, ctx, parts, body).await;
    }
    if websocket {
        let request = Request::from_parts(parts, body.into_body());
        let scan = upgrade::MessageScan::for_verdict(conn, ctx, &verdict, &book);
        return upgrade::forward(conn, ctx, request, target, scan).await;
    }
    parts.uri = target.uri;
    parts.version = Version::HTTP_11;
    strip_hop_by_hop(&mut parts.headers);
    parts.headers.remove(http::header::HOST);
    // A buffered body may be sent twice (a retry): count it once, when it has been answered.
    let (body, buffered_len) = match body {
        Outgoing::Buffered(bytes) => {
            let len = bytes.len() as u64;
            (Outgoing::Buffered(bytes), len)
        }
        Outgoing::Streamed(body) => (
            Outgoing::Streamed(CountingBody::new(body, ctx.bytes_up.clone()).boxed()),
            0,
        ),
    };
    let response = conn
        .snapshot
        .upstream
        .send(Request::from_parts(parts, body), &conn.gateway.metrics)
        .await
        .map_err(|e| upstream_refusal(conn, &target.host, e))?;
    ctx.bytes_up.fetch_add(buffered_len, Relaxed);
    drop(budget);

    // 6. response_filter.
    let (mut parts, body) = response.into_parts();
    strip_hop_by_hop(&mut parts.headers);
    strip_alt_svc_h3(&mut parts.headers);
    parts.version = Version::HTTP_11;
    let body = body.map_err(Into::into).boxed();
    let body = match discover::response_hook(conn, ctx, &parts.headers) {
        Some(hook) => body::Sniffed::new(body, hook).boxed(),
        None => body,
    };
    if ctx.inspection.redacted {
        let detectors: Vec<&str> = ctx
            .inspection
            .hits
            .iter()
            .map(|hit| hit.detector.as_str())
            .collect();
        if let Ok(value) = http::HeaderValue::from_str(&detectors.join(",")) {
            parts.headers.insert("x-warden-redacted", value);
        }
    }
    Ok(Response::from_parts(parts, body))
}

/// Phase 5: tags the response with the request id and arranges for the transaction record to
/// be written when the response body ends or is dropped.
fn log_phase(
    conn: &ConnectionContext,
    mut ctx: RequestContext,
    mut response: Response<ProxyBody>,
    span: tracing::Span,
) -> Response<ProxyBody> {
    // A secret in the URL path is never stored or logged in full.
    if let std::borrow::Cow::Owned(path) = stored_path::masked(&conn.snapshot.dlp, &ctx.path) {
        ctx.path = path;
    }
    if let Ok(id) = HeaderValue::from_str(&ctx.request_id) {
        response.headers_mut().insert(HEADER_REQUEST_ID, id);
    }
    let log = TransactionLog {
        ctx,
        who: conn.who.clone(),
        client: conn.client,
        status: response.status().as_u16(),
        events: conn.gateway.events.clone(),
        metrics: conn.gateway.metrics.clone(),
        bytes_down: Arc::default(),
        body_error: None,
        span,
    };
    response.map(|body| LoggedBody::new(body, log).boxed())
}

/// Turns an upstream failure into the page the user sees. An invalid certificate is a block
/// (the gateway refused to talk to an unverified server), never a silent pass.
pub(crate) fn upstream_refusal(
    conn: &ConnectionContext,
    host: &str,
    error: UpstreamError,
) -> Refusal {
    let metrics = &conn.gateway.metrics;
    if let UpstreamError::Connect(ConnectError::Egress { refusal, .. }) = &error {
        let (rule, detail) = (refusal.rule(), Some(&error as &dyn std::fmt::Display));
        let at = EgressCheck::Request;
        EgressRefused {
            at,
            host,
            port: None,
            rule,
            detail,
        }
        .emit(metrics);
        return egress_refusal(host, *refusal);
    }
    UpstreamFailed {
        host,
        error: &error,
    }
    .emit(metrics);
    match &error {
        UpstreamError::Connect(ConnectError::InvalidCertificate { reason, .. }) => Refusal::new(
            StatusCode::BAD_GATEWAY,
            Outcome::Block,
            "upstream.certificate",
            "The site's certificate is not valid",
            format!(
                "Warden could not verify the identity of {host}: {reason}. The connection \
                     was stopped so that nothing you send reaches an impostor."
            ),
        ),
        UpstreamError::Connect(ConnectError::Timeout { .. })
        | UpstreamError::ResponseTimeout(_) => Refusal::new(
            StatusCode::GATEWAY_TIMEOUT,
            Outcome::Error,
            error.kind(),
            "The site did not answer in time",
            format!("{host} did not respond in time: {error}."),
        ),
        _ => Refusal::new(
            StatusCode::BAD_GATEWAY,
            Outcome::Error,
            error.kind(),
            "The site could not be reached",
            format!("Warden could not reach {host}: {error}."),
        ),
    }
}

/// The page for a destination the egress policy refuses: a block, not an upstream failure.
pub fn egress_refusal(host: &str, refusal: EgressRefusal) -> Refusal {
    Refusal::new(
        StatusCode::FORBIDDEN,
        Outcome::Block,
        refusal.rule(),
        "This destination is not allowed",
        format!(
            "Warden does not connect to {host}: {}. Ask your IT team if you need to reach it.",
            refusal.explain()
        ),
    )
}
