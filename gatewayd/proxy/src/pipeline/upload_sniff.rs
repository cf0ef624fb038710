//! Telling an upload by its bytes when the policy would otherwise stream the body unread:
//! if treating the request as an upload would change the verdict (a `block_uploads` rule),
//! the body's first bytes are read and sniffed (`extract::sniff`), so a document posted as
//! `text/plain` is the upload it is. Only the head is held (a few KiB, within the inspection
//! budget); the rest streams as before.
//!
//! It must never forward bytes before the decision, and never let a body that could not be
//! sniffed pass as a non-upload when `inspect.on_unscannable` says block.

use http::header;
use http::request::Parts;
use http_body_util::BodyExt;
use hyper::body::Incoming;
use policies::{StatusBook, Verdict};

use super::body::{DrainOnDrop, Prepended};
use super::context::{ConnectionContext, RequestContext};
use super::decide;
use crate::inspect::{collect_bounded, BudgetHold, Collected};
use crate::respond::Refusal;
use crate::upstream::Outgoing;
use config::Unscannable as OnUnscannable;

/// Enough bytes to tell every kind `extract` knows (a tar header's magic sits at 257).
const HEAD: usize = 4096;

/// What to do with a body the verdict would stream: stream it (`Ok(Ok)`), or buffer and
/// inspect it whole (`Ok(Err(body))`, a Content-Encoding hides its head), or refuse.
pub async fn sniff_streamed(
    conn: &ConnectionContext,
    ctx: &mut RequestContext,
    parts: &Parts,
    body: Incoming,
    verdict: &Verdict,
    book: &StatusBook,
    hold: &mut BudgetHold,
) -> Result<Result<Outgoing, Incoming>, Refusal> {
    if ctx.upload || !upload_matters(conn, ctx, book, verdict) {
        return Ok(Ok(Outgoing::Streamed(
            DrainOnDrop::new(body).map_err(Into::into).boxed(),
        )));
    }
    if parts.headers.contains_key(header::CONTENT_ENCODING) {
        return Ok(Err(body));
    }
    let config = &conn.snapshot.config.inspect;
    let (head, rest) = match collect_bounded(body, HEAD, config.body_timeout.0, hold).await {
        Collected::Whole(bytes) => (bytes, None),
        Collected::Partial {
            reason: crate::inspect::Unscannable::TooLarge { .. },
            read,
            rest,
        } => (read, rest),
        Collected::Partial { reason, read, rest } => {
            ctx.inspection.unscanned = Some(reason.to_string());
            if config.on_unscannable == OnUnscannable::Block {
                return Err(super::inspection::unscannable_refusal(
                    ctx,
                    &reason.to_string(),
                ));
            }
            (read, rest)
        }
    };
    if !matches!(
        extract::sniff(&head),
        extract::FileKind::Text | extract::FileKind::Binary
    ) {
        ctx.upload = true;
        let second = decide::decide(conn, ctx, book, None);
        if let Err(refusal) = decide::apply(conn, ctx, &second) {
            // The event names the file that was stopped (from the head just read).
            super::upload_name::from_head(ctx, parts, &head);
            return Err(refusal);
        }
        if second.needs_scan() && config.on_unscannable == OnUnscannable::Block {
            // The body is already partly read: it cannot be buffered whole from here.
            return Err(super::inspection::unscannable_refusal(
                ctx,
                "a file sent without a file type could not be scanned",
            ));
        }
    }
    Ok(Ok(match rest {
        Some(rest) => Outgoing::Streamed(Prepended::new(head, DrainOnDrop::new(rest)).boxed()),
        None => Outgoing::Buffered(head),
    }))
}

/// Whether the policy decides differently for this request as an upload.
fn upload_matters(
    conn: &ConnectionContext,
    ctx: &mut RequestContext,
    book: &StatusBook,
    verdict: &Verdict,
) -> bool {
    ctx.upload = true;
    let as_upload = decide::decide(conn, ctx, book, None);
    ctx.upload = false;
    as_upload.blocked != verdict.blocked
        || as_upload.action != verdict.action
        || as_upload.needs_scan() != verdict.needs_scan()
}
