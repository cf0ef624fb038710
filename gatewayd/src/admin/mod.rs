//! The admin listener: `/healthz` and `/metrics` (Prometheus text, unauthenticated, as
//! scrapers expect) and the token-protected JSON API under `/api/v1`. Every request must name
//! an allowed host (`hosts`, against DNS rebinding) before anything else is looked at.

pub mod api;
pub mod audit;
pub mod hosts;
pub mod report_api;
pub mod state;
pub mod tokens;

use std::convert::Infallible;
use std::sync::Arc;

use bytes::Bytes;
use http::{header, HeaderValue, Method, Request, Response, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use tokio::net::TcpListener;

use crate::gateway::Gateway;
use crate::serve::{serve_http, Protocol};
use crate::upstream::ProxyBody;
use state::AdminState;

/// Serves admin requests until shutdown.
pub async fn serve_admin(listener: TcpListener, gateway: Arc<Gateway>, admin: Arc<AdminState>) {
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            () = gateway.shutdown.cancelled() => break,
        };
        let Ok((stream, _)) = accepted else {
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            continue;
        };
        let gateway2 = gateway.clone();
        let admin2 = admin.clone();
        gateway.tasks.spawn(async move {
            let config = gateway2.snapshot().config.clone();
            let stream = crate::io::IdleTimeout::new(stream, config.timeouts.idle.0);
            let shutdown = gateway2.shutdown.clone();
            serve_http(stream, Protocol::Http1, &config, shutdown, move |request| {
                let (gateway, admin) = (gateway2.clone(), admin2.clone());
                async move { Ok::<_, Infallible>(route(&gateway, &admin, request).await) }
            })
            .await;
        });
    }
}

async fn route(
    gateway: &Gateway,
    state: &AdminState,
    request: Request<Incoming>,
) -> Response<ProxyBody> {
    let admin = &gateway.snapshot().config.admin;
    let host = request
        .headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok());
    // An absolute-form target names a host too; both must pass.
    let target_ok = request
        .uri()
        .authority()
        .is_none_or(|a| hosts::allowed(admin, Some(a.as_str())));
    if !target_ok || !hosts::allowed(admin, host) {
        return text(
            StatusCode::MISDIRECTED_REQUEST,
            "text/plain; charset=utf-8",
            "This admin port does not answer to that host name. Use its address or localhost, \
             or add the name to admin.allowed_hosts (or admin.public_url).\n"
                .into(),
        );
    }
    if request.uri().path().starts_with("/api/v1/") {
        return api::handle(gateway, state, request).await;
    }
    match (request.method(), request.uri().path()) {
        (&Method::GET, "/healthz") => text(StatusCode::OK, "text/plain", "ok\n".into()),
        (&Method::GET, "/metrics") => text(StatusCode::OK, "text/plain; version=0.0.4", {
            let mut text = gateway.metrics.render(gateway.leaves.len());
            text.push_str(&gateway.auth.render_metrics());
            if let Some(events) = &gateway.events {
                text.push_str(&crate::telemetry::render_events(&events.stats));
            }
            text
        }),
        _ => crate::dashboard::handle(gateway, state, request).await,
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
