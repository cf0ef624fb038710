//! Phase 4, inspect: when the verdict asks for a DLP scan or an audit record, buffer the body
//! (bounded), extract its text, scan it with each profile the policy names, decide again with
//! what matched, and keep the audit text. Bodies nobody needs to see stream through untouched.
//!
//! ```text
//! collect (bounded) ─► decode (Content-Encoding) ─► extract text ─► scan ─► re-decide ─► redact?
//!        └────────────────┴── unreadable: unscanned (refused when a scan is needed) ──┘
//! ```
//!
//! Buffered bytes are covered by the gateway-wide inspection budget; the [`BudgetHold`] this
//! returns must be kept until the body has gone upstream (or been refused).

use bytes::Bytes;
use http::request::Parts;
use http::{header, StatusCode};
use http_body_util::BodyExt;
use hyper::body::Incoming;
use policies::rules::{Action, OnMatch};
use policies::{StatusBook, Verdict};

use super::body::Prepended;
use super::context::{ConnectionContext, RequestContext};
use super::decide;
use super::dlp_scan::{hits, merge_hits, scan};
use super::redact::redact_body;
use crate::inspect::{
    collect_bounded, extract_text, BudgetHold, Collected, Extracted,
    Unscannable as InspectUnscannable,
};
use crate::outcome::Outcome;
use crate::respond::Refusal;
use crate::upstream::Outgoing;
use config::Unscannable as OnUnscannable;

/// Inspects the body when the verdict needs it; returns the body to forward and the budget
/// its buffered bytes hold.
pub async fn inspect(
    conn: &ConnectionContext,
    ctx: &mut RequestContext,
    parts: &mut Parts,
    body: Incoming,
    verdict: &Verdict,
    book: &StatusBook,
) -> Result<(Outgoing, BudgetHold), Refusal> {
    // A person's share is theirs wherever they connect from; an identity that stands for
    // many people (anonymous, a source range) is shared out by client address.
    let owner = if conn.identity.is_person() {
        conn.identity.user.clone()
    } else {
        conn.client.ip().to_canonical().to_string()
    };
    let mut hold = conn.gateway.inspect_budget.hold(&owner);
    let body = inspect_body(conn, ctx, parts, body, verdict, book, &mut hold).await?;
    Ok((body, hold))
}

/// What one request's inspection works with.
struct Inspection<'a> {
    conn: &'a ConnectionContext,
    book: &'a StatusBook,
    /// The verdict in force: the first one, or the one decided again once the body showed
    /// it carries a file.
    verdict: Verdict,
    /// `audit`: how much of the prompt to keep.
    audit_bytes: Option<usize>,
    /// What a catalog app receives outside the body (the URL query, custom headers): part
    /// of the prompt path too, scanned with the body.
    around: String,
}

async fn inspect_body(
    conn: &ConnectionContext,
    ctx: &mut RequestContext,
    parts: &mut Parts,
    body: Incoming,
    verdict: &Verdict,
    book: &StatusBook,
    hold: &mut BudgetHold,
) -> Result<Outgoing, Refusal> {
    let mut run = Inspection {
        conn,
        book,
        audit_bytes: match verdict.action {
            Action::Audit { max_prompt_bytes } => Some(max_prompt_bytes as usize),
            _ => None,
        },
        around: if (verdict.needs_scan() || verdict.monitor_profile.is_some()) && ctx.app.is_some()
        {
            super::request_text::request_text(parts)
        } else {
            String::new()
        },
        verdict: verdict.clone(),
    };
    if http_body::Body::is_end_stream(&body) {
        run.scan_without_body(ctx)?;
        // Nothing to stream: an empty body can be replayed if the upstream asks for a retry.
        return Ok(Outgoing::Buffered(Bytes::new()));
    }
    let body = if !run.verdict.needs_scan()
        && run.audit_bytes.is_none()
        && run.verdict.monitor_profile.is_none()
    {
        match super::upload_sniff::sniff_streamed(conn, ctx, parts, body, verdict, book, hold)
            .await?
        {
            Ok(outgoing) => return Ok(outgoing),
            // Encoded: buffered and decoded below, where the upload is told from its bytes.
            Err(body) => body,
        }
    } else {
        body
    };
    let bytes = match run.collect(ctx, body, hold).await? {
        Ok(bytes) => bytes,
        Err(forward) => return Ok(forward),
    };
    let encoding = content_encoding(parts);
    let decoded = match run.decode(ctx, encoding.as_deref(), &bytes)? {
        Ok(decoded) => decoded,
        Err(()) => return Ok(Outgoing::Buffered(bytes)),
    };
    let plain: &[u8] = decoded.as_deref().unwrap_or(&bytes);
    let content_type = parts
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let mut extracted = run.extract(ctx, content_type, plain)?;
    if let Some(redacted) = run.scan_body(ctx, content_type, plain, &mut extracted)? {
        parts.headers.remove(header::CONTENT_LENGTH);
        if encoding.is_some() {
            // The redacted body is sent decoded.
            parts.headers.remove(header::CONTENT_ENCODING);
        }
        run.keep_audit_prompt(ctx, &extracted, &redacted);
        return Ok(Outgoing::Buffered(Bytes::from(redacted)));
    }
    run.keep_audit_prompt(ctx, &extracted, plain);
    Ok(Outgoing::Buffered(bytes))
}

/// The body's Content-Encoding, unless it is `identity`.
fn content_encoding(parts: &Parts) -> Option<String> {
    parts
        .headers
        .get(header::CONTENT_ENCODING)
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.trim().eq_ignore_ascii_case("identity"))
        .map(str::to_owned)
}

impl Inspection<'_> {
    /// The one rule for a body that could not be read: it is recorded as unscanned, and
    /// refused (with `refusal`) when the verdict needs a scan and `inspect.on_unscannable`
    /// says block; otherwise it goes on unscanned.
    fn unscannable(
        &self,
        ctx: &mut RequestContext,
        reason: String,
        refusal: impl FnOnce(&RequestContext) -> Refusal,
    ) -> Result<(), Refusal> {
        ctx.inspection.unscanned = Some(reason);
        let config = &self.conn.snapshot.config.inspect;
        if self.verdict.needs_scan() && config.on_unscannable == OnUnscannable::Block {
            return Err(refusal(ctx));
        }
        Ok(())
    }

    /// A request without a body: only the text around it (query, headers) can carry data.
    fn scan_without_body(&self, ctx: &mut RequestContext) -> Result<(), Refusal> {
        if self.around.is_empty() {
            return Ok(());
        }
        if self.verdict.needs_scan() {
            let second = scan(self.conn, ctx, self.book, &self.verdict, &self.around)?;
            if second.dlp_matched {
                // A query or header cannot be masked in place: a redact rule blocks here.
                return Err(decide::refusal_for(self.conn, ctx, &second));
            }
        }
        self.monitor(ctx, &self.around);
        Ok(())
    }

    /// DLP in monitor mode (`monitor_profile`): what the profile finds is recorded with the
    /// request's other findings; nothing is refused, not even a scan that cannot run.
    fn monitor(&self, ctx: &mut RequestContext, text: &str) {
        let Some(profile) = self.verdict.monitor_profile.as_deref() else {
            return;
        };
        match self.conn.snapshot.dlp.scan_profiles(&[profile], text) {
            Ok(results) => {
                merge_hits(&mut ctx.inspection.hits, hits(&results));
                if results.iter().any(|r| r.matched)
                    && !ctx.inspection.matched_profiles.iter().any(|p| p == profile)
                {
                    ctx.inspection.matched_profiles.push(profile.to_string());
                }
            }
            Err(error) => {
                ctx.inspection
                    .unscanned
                    .get_or_insert_with(|| format!("monitor scan: {error}"));
            }
        }
    }

    /// Buffers the body within `inspect.max_body_bytes`, the body timeout and the budget.
    /// `Ok(Err(forward))`: it could not be read whole and may go on unscanned as `forward`.
    async fn collect(
        &self,
        ctx: &mut RequestContext,
        body: Incoming,
        hold: &mut BudgetHold,
    ) -> Result<Result<Bytes, Outgoing>, Refusal> {
        let config = &self.conn.snapshot.config.inspect;
        match collect_bounded(body, config.max_body_bytes, config.body_timeout.0, hold).await {
            Collected::Whole(bytes) => Ok(Ok(bytes)),
            Collected::Partial { reason, read, rest } => {
                self.unscannable(ctx, reason.to_string(), |ctx| match reason {
                    InspectUnscannable::Budget => budget_refusal(ctx),
                    _ => unscannable_refusal(ctx, &reason.to_string()),
                })?;
                // Allowed unscanned: forward what was read, then the rest as it comes.
                Ok(Err(match rest {
                    Some(rest) => Outgoing::Streamed(Prepended::new(read, rest).boxed()),
                    None => Outgoing::Buffered(read),
                }))
            }
        }
    }

    /// The decoded bytes of a Content-Encoding (bounded against bombs; the original is what
    /// is forwarded), `None` without one. `Ok(Err(()))`: undecodable, forward it unscanned.
    fn decode(
        &self,
        ctx: &mut RequestContext,
        encoding: Option<&str>,
        bytes: &[u8],
    ) -> Result<Result<Option<Vec<u8>>, ()>, Refusal> {
        let Some(encoding) = encoding else {
            return Ok(Ok(None));
        };
        let limits = extract::Limits {
            max_output_bytes: (self.conn.snapshot.config.inspect.max_body_bytes as u64)
                .saturating_mul(2),
            ..extract::Limits::default()
        };
        match extract::decode_content(encoding, bytes, &limits) {
            Ok(decoded) => Ok(Ok(Some(decoded))),
            Err(error) => {
                let reason = format!("the {encoding} body could not be decoded safely: {error}");
                self.unscannable(ctx, reason.clone(), |ctx| unscannable_refusal(ctx, &reason))?;
                Ok(Err(()))
            }
        }
    }

    /// The body's text (the prompt fields of the app's prompt endpoint preferred). A body
    /// that turns out to carry a file makes the request an upload, decided again.
    fn extract(
        &mut self,
        ctx: &mut RequestContext,
        content_type: &str,
        plain: &[u8],
    ) -> Result<Extracted, Refusal> {
        let prompt_fields = ctx
            .app
            .as_ref()
            .map(|app| app.prompt_fields.as_slice())
            .unwrap_or_default();
        let extracted = extract_text(content_type, plain, prompt_fields);
        ctx.inspection.file_names = extracted.file_names.clone();
        ctx.inspection.model = crate::inspect::model_of(plain);
        if extracted.holds_file && !ctx.upload {
            // An upload is told by what the body is, not by the type it declares.
            ctx.upload = true;
            self.verdict = decide::decide(self.conn, ctx, self.book, None);
            decide::apply(self.conn, ctx, &self.verdict)?;
        }
        if let Some(reason) = &extracted.refused {
            self.unscannable(ctx, reason.clone(), |ctx| {
                unscannable_refusal(
                    ctx,
                    &format!("an uploaded file could not be read ({reason})"),
                )
            })?;
        }
        ctx.inspection.prompt_length = prompt_of(&extracted).chars().count();
        Ok(extracted)
    }

    /// Scans the body's text (with the text around it) when the verdict asks for it. Returns
    /// the body to send instead when a redact rule matched and the rewrite scans clean.
    fn scan_body(
        &self,
        ctx: &mut RequestContext,
        content_type: &str,
        plain: &[u8],
        extracted: &mut Extracted,
    ) -> Result<Option<Vec<u8>>, Refusal> {
        if !self.around.is_empty() {
            extracted.text.push('\n');
            extracted.text.push_str(&self.around);
        }
        let redacted = self.scan_to_decide(ctx, content_type, plain, extracted)?;
        self.monitor(ctx, &extracted.text);
        Ok(redacted)
    }

    /// The scan a `dlp` rule (or a `dlp_profile` selector) decides with.
    fn scan_to_decide(
        &self,
        ctx: &mut RequestContext,
        content_type: &str,
        plain: &[u8],
        extracted: &Extracted,
    ) -> Result<Option<Vec<u8>>, Refusal> {
        if !self.verdict.needs_scan() {
            return Ok(None);
        }
        let second = scan(self.conn, ctx, self.book, &self.verdict, &extracted.text)?;
        let Action::Dlp {
            profile,
            on_match: OnMatch::Redact,
        } = &second.action
        else {
            return Ok(None);
        };
        if !second.dlp_matched {
            return Ok(None);
        }
        let dlp = &self.conn.snapshot.dlp;
        let redacted = redact_body(self.conn, content_type, plain, profile)
            .filter(|redacted| {
                // Fail closed: what goes out must scan clean, whatever the rewrite missed (a
                // reading the redactor does not know, a query, a header).
                let mut text = extract_text(content_type, redacted, &[]).text;
                text.push('\n');
                text.push_str(&self.around);
                dlp.scan_profile(profile, &text).is_ok_and(|r| !r.matched)
            })
            .ok_or_else(|| decide::refusal_for(self.conn, ctx, &second))?;
        ctx.inspection.redacted = true;
        Ok(Some(redacted))
    }

    /// For `audit`: the prompt, cut to the rule's limit.
    /// Keeps the prompt for an audit rule: the app's prompt fields when it defines them;
    /// otherwise, for a JSON body (`sent`: what goes out, redacted when it was), its string
    /// values without the markers around them (roles, model names, ids), so the record
    /// reads as what the person wrote.
    fn keep_audit_prompt(&self, ctx: &mut RequestContext, extracted: &Extracted, sent: &[u8]) {
        if let Some(limit) = self.audit_bytes {
            let text = if extracted.prompt.is_empty() {
                json_prose(sent)
            } else {
                None
            };
            let text = text.as_deref().unwrap_or_else(|| prompt_of(extracted));
            ctx.inspection.audit_prompt = Some(truncate(text, limit).to_string());
        }
    }
}

/// Keys whose string values are markers, not what a person wrote.
const MARKER_KEYS: &[&str] = &[
    "role",
    "model",
    "id",
    "type",
    "action",
    "object",
    "conversation_id",
    "parent_message_id",
    "message_id",
    "timezone",
    "timezone_offset_min",
    "conversation_mode",
    "kind",
    "name",
    "content_type",
    "tool_call_id",
    "finish_reason",
    "status",
    "recipient",
    "channel",
];

/// The string values of a JSON body, markers left out, one per line; `None` when the body
/// is not JSON or holds no such text.
fn json_prose(body: &[u8]) -> Option<String> {
    fn walk(value: &serde_json::Value, out: &mut Vec<String>) {
        match value {
            serde_json::Value::String(text) if !text.trim().is_empty() => out.push(text.clone()),
            serde_json::Value::Array(items) => items.iter().for_each(|i| walk(i, out)),
            serde_json::Value::Object(map) => map
                .iter()
                .filter(|(key, _)| !MARKER_KEYS.contains(&key.as_str()))
                .for_each(|(_, v)| walk(v, out)),
            _ => {}
        }
    }
    let value: serde_json::Value = serde_json::from_slice(body).ok()?;
    let mut out = Vec::new();
    walk(&value, &mut out);
    (!out.is_empty()).then(|| out.join("\n"))
}

/// The prompt as the app defines it, or all the text when the app defines none.
fn prompt_of(extracted: &Extracted) -> &str {
    if extracted.prompt.is_empty() {
        &extracted.text
    } else {
        &extracted.prompt
    }
}

/// The gateway's inspection memory stayed in use (`inspect.max_buffered_bytes`): the body
/// could not be scanned now, and a retry shortly after may well succeed.
fn budget_refusal(ctx: &RequestContext) -> Refusal {
    Refusal::new(
        StatusCode::SERVICE_UNAVAILABLE,
        Outcome::Block,
        "inspect.budget",
        "The gateway is busy inspecting other requests",
        format!(
            "A policy requires this request to {} to be checked for sensitive data, but the \
             gateway's inspection memory is in use by other requests. Try again in a moment.",
            ctx.host
        ),
    )
}

pub(super) fn unscannable_refusal(ctx: &RequestContext, reason: &str) -> Refusal {
    Refusal::new(
        StatusCode::FORBIDDEN,
        Outcome::Block,
        "inspect.unscannable",
        "This request could not be inspected",
        format!(
            "A policy requires this request to {} to be checked for sensitive data, but {reason}.",
            ctx.host
        ),
    )
}

/// At most `limit` bytes of `text`, cut on a character boundary.
fn truncate(text: &str, limit: usize) -> &str {
    if text.len() <= limit {
        return text;
    }
    let mut end = limit;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

#[cfg(test)]
mod audit_tests {
    use super::json_prose;

    #[test]
    fn an_audited_json_prompt_reads_as_what_was_written() {
        let body = br#"{"model":"gpt-4o","messages":[{"role":"user","content":"summarise the Q3 memo"}],"stream":true}"#;
        assert_eq!(json_prose(body).as_deref(), Some("summarise the Q3 memo"));
        assert_eq!(json_prose(b"not json"), None);
        assert_eq!(json_prose(br#"{"model":"x"}"#), None);
    }
}
