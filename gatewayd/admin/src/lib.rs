//! The admin plane: what the admin listener answers — `/healthz` and `/metrics` (Prometheus
//! text, unauthenticated, as scrapers expect), the token-protected JSON API under `/api/v1`,
//! and the dashboard. Every request must name an allowed host (`hosts`, against DNS
//! rebinding) before anything else is looked at.
//!
//! The daemon accepts the connections and serves HTTP; this crate answers requests. It sees
//! the proxy only through [`view::ProxyView`] (statuses, discovered apps, metrics, the
//! configuration in force), never its internals, and keeps its own state ([`state::AdminState`]:
//! tokens, dashboard sessions, explorer slots).

pub mod access;
pub mod access_api;
pub mod ai_keys;
pub mod api;
mod api_auth;
pub mod audit;
pub mod dashboard;
pub mod discovered;
pub mod hosts;
pub mod keys_api;
pub mod login_throttle;
pub mod report_api;
pub mod state;
pub mod tokens;
pub mod view;

use bytes::Bytes;
use http::{header, HeaderValue, Method, Request, Response, StatusCode};
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;

use state::AdminState;
use view::ProxyView;

pub use login_throttle::Peer;

/// A response body (the same type as the proxy's, so the daemon serves both alike).
pub type ProxyBody = BoxBody<Bytes, Box<dyn std::error::Error + Send + Sync>>;

/// Answers one request on the admin listener.
pub async fn route(
    proxy: &dyn ProxyView,
    state: &AdminState,
    request: Request<Incoming>,
) -> Response<ProxyBody> {
    let admin = proxy.settings();
    let host = request
        .headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok());
    // An absolute-form target names a host too; both must pass.
    let target_ok = request
        .uri()
        .authority()
        .is_none_or(|a| hosts::allowed(&admin, Some(a.as_str())));
    if !target_ok || !hosts::allowed(&admin, host) {
        return text(
            StatusCode::MISDIRECTED_REQUEST,
            "text/plain; charset=utf-8",
            "This admin port does not answer to that host name. Use its address or localhost, \
             or add the name to admin.allowed_hosts (or admin.public_url).\n"
                .into(),
        );
    }
    if request.uri().path().starts_with("/api/v1/") {
        return api::handle(proxy, state, request).await;
    }
    match (request.method(), request.uri().path()) {
        (&Method::GET, "/healthz") => text(StatusCode::OK, "text/plain", {
            let mut body = "ok\n".to_string();
            for note in proxy.health_notes() {
                body.push_str(&note);
                body.push('\n');
            }
            body
        }),
        (&Method::GET, "/metrics") => text(StatusCode::OK, "text/plain; version=0.0.4", {
            proxy.metrics()
        }),
        _ => crate::dashboard::handle(proxy, state, request).await,
    }
}

fn text(status: StatusCode, content_type: &'static str, body: String) -> Response<ProxyBody> {
    let mut response = Response::new(Full::new(Bytes::from(body)).map_err(|e| match e {}).boxed());
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    response
}
