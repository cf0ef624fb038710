//! Which file a refused upload carried: before the block page goes out for an upload the
//! first decision already refused, the head of the body is read (a few KiB, within the
//! inspection budget, for at most a couple of seconds) and the file names in it are kept on
//! the request, so the event says which file was stopped.
//!
//! It runs only after the refusal is decided: it never changes the decision, never forwards
//! a byte, and a body that is slow, huge or over budget simply leaves the names it had.

use std::time::Duration;

use http::header;
use http::request::Parts;
use hyper::body::Incoming;

use super::context::{ConnectionContext, RequestContext};
use crate::inspect::{collect_bounded, upload_names, Collected};

/// Enough for the part headers of a browser's or an SDK's upload form.
const HEAD: usize = 16 * 1024;
/// The longest wait for that head: the block page is not held up for a slow client.
const WAIT: Duration = Duration::from_secs(2);

/// Records the file names at the start of `body` on `ctx` (when it has none yet).
pub async fn record(
    conn: &ConnectionContext,
    ctx: &mut RequestContext,
    parts: &Parts,
    body: Incoming,
) {
    if !ctx.inspection.file_names.is_empty() || http_body::Body::is_end_stream(&body) {
        return;
    }
    let owner = if conn.identity.is_person() {
        conn.identity.user.clone()
    } else {
        conn.client.ip().to_canonical().to_string()
    };
    let mut hold = conn.gateway.inspect_budget.hold(&owner);
    let wait = WAIT.min(conn.snapshot.config.inspect.body_timeout.0);
    let head = match collect_bounded(body, HEAD, wait, &mut hold).await {
        Collected::Whole(bytes) => bytes,
        Collected::Partial { read, .. } => read,
    };
    from_head(ctx, parts, &head);
}

/// Records the file names in `head`, the body's first bytes (when `ctx` has none yet).
pub fn from_head(ctx: &mut RequestContext, parts: &Parts, head: &[u8]) {
    if !ctx.inspection.file_names.is_empty() {
        return;
    }
    let text = |name: header::HeaderName| {
        parts
            .headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let content_type = text(header::CONTENT_TYPE).unwrap_or_default();
    let disposition = text(header::CONTENT_DISPOSITION);
    ctx.inspection.file_names = upload_names(&content_type, disposition.as_deref(), head);
}
