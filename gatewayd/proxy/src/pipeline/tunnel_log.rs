//! One event for a CONNECT tunnel whose bytes never reach the per-request phases: refused at
//! CONNECT time (egress policy, mismatched names) or spliced untouched (do-not-inspect). It is
//! the same record, log line and metrics as a transaction, with method `CONNECT`, so reports
//! and the log explorer see these tunnels beside ordinary requests.
//!
//! It never carries bytes of the tunnel itself: only names, counts and the duration.

use std::net::SocketAddr;
use std::sync::atomic::AtomicU64;
use std::sync::Arc;
use std::time::Instant;

use http::Method;

use super::context::{AppRef, RequestContext};
use super::log::TransactionLog;
use crate::gateway::{Gateway, Snapshot};
use crate::identity::Identity;
use crate::outcome::Outcome;
use crate::respond::Refusal;

/// A CONNECT tunnel as the event row records it.
pub struct TunnelEvent<'a> {
    /// The event's id, also the `X-Warden-Request-Id` of a refusal's answer.
    pub request_id: String,
    pub gateway: &'a Gateway,
    pub snapshot: &'a Snapshot,
    pub identity: &'a Identity,
    pub client: SocketAddr,
    /// The name the gateway decided on (and dialled, for a splice).
    pub host: &'a str,
    pub port: u16,
    pub started: Instant,
}

/// How a tunnel ended: refused before it opened, or spliced with these byte counts.
pub enum TunnelOutcome<'a> {
    Refused(&'a Refusal),
    Bypassed {
        rule: &'a str,
        up: u64,
        down: u64,
    },
    /// The splice could not reach the origin (or the egress policy refused the name).
    Failed {
        rule: &'a str,
        detail: String,
    },
}

impl TunnelEvent<'_> {
    /// Writes the tunnel's one event.
    pub fn finish(self, outcome: TunnelOutcome<'_>) {
        let (action, rule, detail, status, blocked, up, down) = match outcome {
            TunnelOutcome::Refused(refusal) => (
                refusal.action,
                refusal.rule.clone(),
                Some(refusal.reason.clone()),
                refusal.status.as_u16(),
                true,
                0,
                0,
            ),
            TunnelOutcome::Bypassed { rule, up, down } => (
                Outcome::Bypass,
                rule.to_string(),
                None,
                200,
                false,
                up,
                down,
            ),
            TunnelOutcome::Failed { rule, detail } => (
                Outcome::Error,
                rule.to_string(),
                Some(detail),
                502,
                true,
                0,
                0,
            ),
        };
        let app = self.app();
        let app_status = app
            .as_ref()
            .map(|a| self.gateway.statuses.book().status(&a.id).as_str());
        let mut ctx = RequestContext::new(
            self.request_id,
            Method::CONNECT,
            "tcp",
            self.host.to_string(),
            format!(":{}", self.port),
            Arc::from(self.snapshot.policy.version()),
        );
        ctx.started = self.started;
        ctx.blocked = blocked;
        ctx.action = action;
        ctx.rule = rule;
        ctx.detail = detail;
        ctx.app = app;
        ctx.app_status = app_status;
        ctx.bytes_up = Arc::new(AtomicU64::new(up));
        let log = TransactionLog {
            ctx,
            who: self.gateway.event_context(self.identity, self.client),
            client: self.client,
            status,
            events: self.gateway.events.clone(),
            metrics: self.gateway.metrics.clone(),
            bytes_down: Arc::new(AtomicU64::new(down)),
            body_error: None,
            span: tunnel_span(),
        };
        log.finish();
    }

    fn app(&self) -> Option<AppRef> {
        let found = self.snapshot.catalog.match_url(self.host, "/")?;
        Some(AppRef {
            id: found.app.id.clone(),
            name: found.app.name.clone(),
            category: found.app.category.as_str(),
            host_kind: found.kind,
            endpoint: None,
            prompt_fields: Vec::new(),
        })
    }
}

/// The tunnel's span, where this runs inside it: it takes the outcome too. Any other span
/// (or none) is left alone.
fn tunnel_span() -> tracing::Span {
    let span = tracing::Span::current();
    if span.metadata().is_some_and(|m| m.name() == "tunnel") {
        span
    } else {
        tracing::Span::none()
    }
}
