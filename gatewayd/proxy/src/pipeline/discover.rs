//! Shadow-AI discovery in the pipeline: the evidence the heuristics (`policies::discovery`)
//! read — the request's headers at classify, the first chunk of the request body on its way
//! upstream, the first chunk of a streamed response — for hosts outside the catalog only.
//!
//! It must never change what the policy decides (a discovered host is evidence for a person),
//! and never cost anything on the hot path when discovery is off, the host is catalogued or
//! marked "not AI": then no body is wrapped and nothing is read. The body hooks look at the
//! frame the proxy forwards anyway (bounded by `policies::discovery`'s chunk limit); they copy
//! nothing.

use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::sync::Arc;

use http::request::Parts;
use http_body_util::BodyExt;
use policies::discovery::{discover, TrafficFacts};

use super::body::{self, FirstChunkHook};
use super::context::{ConnectionContext, RequestContext};
use crate::upstream::Outgoing;

/// Whether discovery looks at this request at all.
fn wanted(conn: &ConnectionContext, ctx: &RequestContext) -> bool {
    ctx.app.is_none()
        && conn.snapshot.config.policies.discovery == config::Discovery::On
        && !conn.snapshot.not_ai.contains(ctx.host.as_str())
}

/// Whether the request body (or a streamed answer) may still make this request count as
/// discovered: what `request_body` and `response_hook` look at, before they run.
pub fn body_may_discover(conn: &ConnectionContext, ctx: &RequestContext) -> bool {
    wanted(conn, ctx) && ctx.discovered.is_none()
}

/// At classify: the path and headers. Records the host when they look like an AI API.
pub fn headers(conn: &ConnectionContext, ctx: &mut RequestContext, parts: &Parts) {
    if !wanted(conn, ctx) {
        return;
    }
    let header = |name: &str| parts.headers.get(name).and_then(|v| v.to_str().ok());
    let facts = TrafficFacts {
        host: &ctx.host,
        method: parts.method.as_str(),
        path: &ctx.path,
        authorization: header("authorization"),
        api_key: header("x-api-key")
            .or_else(|| header("x-goog-api-key"))
            .or_else(|| header("api-key")),
        websocket: header("upgrade").is_some_and(|u| u.eq_ignore_ascii_case("websocket")),
        ..Default::default()
    };
    if let Some(found) = discover(&facts) {
        conn.gateway.discovered.record(&ctx.host, &found);
        ctx.discovered = Some(format!("discovered:{}", ctx.host));
    }
}

/// The request body on its way upstream, seen by discovery: a buffered body is read in
/// place; a streamed one shows its first frame to a hook. Evidence found here (a model name
/// in the body) adds to what the headers showed, and makes the request count as discovered
/// when the headers showed nothing.
pub fn request_body(
    conn: &ConnectionContext,
    ctx: &mut RequestContext,
    body: Outgoing,
) -> Outgoing {
    if !wanted(conn, ctx) || super::decide::is_safe_method(&ctx.method) {
        return body;
    }
    let counted = ctx.discovered.is_some();
    let seen = ctx.discovered_late.get_or_insert_with(Arc::default).clone();
    let gateway = conn.gateway.clone();
    let host = ctx.host.clone();
    let look = move |chunk: &[u8]| {
        let facts = TrafficFacts {
            host: &host,
            request_first_chunk: Some(chunk),
            ..Default::default()
        };
        if let Some(found) = discover(&facts) {
            if counted {
                gateway.discovered.add_evidence(&host, &found);
            } else {
                gateway.discovered.record(&host, &found);
                seen.store(true, Relaxed);
            }
        }
    };
    match body {
        Outgoing::Buffered(bytes) => {
            if !bytes.is_empty() {
                look(&bytes);
            }
            Outgoing::Buffered(bytes)
        }
        Outgoing::Streamed(stream) => {
            let hook: FirstChunkHook = Box::new(look);
            Outgoing::Streamed(body::Sniffed::new(stream, hook).boxed())
        }
    }
}

/// For a host outside the catalog that streams events back and showed nothing yet, a hook
/// that runs discovery on the response's first chunk (completion-chunk shapes).
pub fn response_hook(
    conn: &ConnectionContext,
    ctx: &mut RequestContext,
    headers: &http::HeaderMap,
) -> Option<FirstChunkHook> {
    if !wanted(conn, ctx) || ctx.discovered.is_some() {
        return None;
    }
    let content_type = headers.get(http::header::CONTENT_TYPE)?.to_str().ok()?;
    if !content_type
        .get(..17)
        .is_some_and(|p| p.eq_ignore_ascii_case("text/event-stream"))
    {
        return None;
    }
    let content_type = content_type.to_string();
    let gateway = conn.gateway.clone();
    let host = ctx.host.clone();
    let method = ctx.method.to_string();
    let path = ctx.path.clone();
    let seen = ctx.discovered_late.get_or_insert_with(Arc::default).clone();
    Some(Box::new(move |chunk: &[u8]| {
        let facts = TrafficFacts {
            host: &host,
            method: &method,
            path: &path,
            response_content_type: Some(&content_type),
            first_chunk: Some(chunk),
            ..Default::default()
        };
        if let Some(found) = discover(&facts) {
            // The request body may have counted this request already.
            if seen.swap(true, Relaxed) {
                gateway.discovered.add_evidence(&host, &found);
            } else {
                gateway.discovered.record(&host, &found);
            }
        }
    }))
}

/// Whether a hook saw evidence after the context left for the log (see
/// [`RequestContext::settle_discovery`]).
pub type LateDiscovery = Option<Arc<AtomicBool>>;
