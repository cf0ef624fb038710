//! Phase 4, inspect: when the verdict asks for a DLP scan or an audit record, buffer the body
//! (bounded), extract its text, scan it with each profile the policy names, decide again with
//! what matched, and keep the audit text. Bodies nobody needs to see stream through untouched.
//!
//! Buffered bytes are covered by the gateway-wide inspection budget; the [`BudgetHold`] this
//! returns must be kept until the body has gone upstream (or been refused).

use std::collections::BTreeMap;

use bytes::Bytes;
use dlp::redact;
use http::request::Parts;
use http::{header, StatusCode};
use http_body_util::BodyExt;
use hyper::body::Incoming;
use policies::rules::{Action, OnMatch};
use policies::{StatusBook, Verdict};

use super::body::Prepended;
use super::context::{ConnectionContext, RequestContext};
use super::decide;
use crate::inspect::{
    collect_bounded, extract_text, BudgetHold, Collected, Unscannable as InspectUnscannable,
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

async fn inspect_body(
    conn: &ConnectionContext,
    ctx: &mut RequestContext,
    parts: &mut Parts,
    body: Incoming,
    verdict: &Verdict,
    book: &StatusBook,
    hold: &mut BudgetHold,
) -> Result<Outgoing, Refusal> {
    let audit_bytes = match verdict.action {
        Action::Audit { max_prompt_bytes } => Some(max_prompt_bytes as usize),
        _ => None,
    };
    let mut verdict = verdict.clone();
    let needs_scan = verdict.needs_scan();
    // What a catalog app receives outside the body (the URL query, custom headers) is part of
    // the prompt path too.
    let around = if needs_scan && ctx.app.is_some() {
        super::request_text::request_text(parts)
    } else {
        String::new()
    };
    let has_body = !http_body::Body::is_end_stream(&body);
    if !has_body {
        if !around.is_empty() {
            let second = scan(conn, ctx, book, &verdict, &around)?;
            if second.dlp_matched {
                // A query or header cannot be masked in place: a redact rule blocks here.
                return Err(decide::refusal_for(conn, ctx, &second));
            }
        }
        // Nothing to stream: an empty body can be replayed if the upstream asks for a retry.
        return Ok(Outgoing::Buffered(Bytes::new()));
    }
    let body = if !needs_scan && audit_bytes.is_none() {
        match super::upload_sniff::sniff_streamed(conn, ctx, parts, body, &verdict, book, hold)
            .await?
        {
            Ok(outgoing) => return Ok(outgoing),
            // Encoded: buffered and decoded below, where the upload is told from its bytes.
            Err(body) => body,
        }
    } else {
        body
    };
    let config = &conn.snapshot.config.inspect;
    let collected = collect_bounded(body, config.max_body_bytes, config.body_timeout.0, hold).await;
    let bytes = match collected {
        Collected::Whole(bytes) => bytes,
        Collected::Partial { reason, read, rest } => {
            ctx.inspection.unscanned = Some(reason.to_string());
            if needs_scan && config.on_unscannable == OnUnscannable::Block {
                return Err(match reason {
                    InspectUnscannable::Budget => budget_refusal(ctx),
                    _ => unscannable_refusal(ctx, &reason.to_string()),
                });
            }
            // Allowed unscanned: forward what was read, then the rest as it comes.
            return Ok(match rest {
                Some(rest) => Outgoing::Streamed(Prepended::new(read, rest).boxed()),
                None => Outgoing::Buffered(read),
            });
        }
    };
    // Content-Encoding: scan the decoded bytes (bounded against bombs), forward the original.
    let encoding = parts
        .headers
        .get(header::CONTENT_ENCODING)
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.trim().eq_ignore_ascii_case("identity"))
        .map(str::to_owned);
    let decoded = match &encoding {
        None => None,
        Some(encoding) => {
            let limits = extract::Limits {
                max_output_bytes: (config.max_body_bytes as u64).saturating_mul(2),
                ..extract::Limits::default()
            };
            match extract::decode_content(encoding, &bytes, &limits) {
                Ok(decoded) => Some(decoded),
                Err(error) => {
                    let reason =
                        format!("the {encoding} body could not be decoded safely: {error}");
                    ctx.inspection.unscanned = Some(reason.clone());
                    if needs_scan && config.on_unscannable == OnUnscannable::Block {
                        return Err(unscannable_refusal(ctx, &reason));
                    }
                    return Ok(Outgoing::Buffered(bytes));
                }
            }
        }
    };
    let plain: &[u8] = decoded.as_deref().unwrap_or(&bytes);
    let content_type = parts
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let prompt_fields = prompt_fields(conn, ctx, parts);
    let mut extracted = extract_text(content_type, plain, &prompt_fields);
    ctx.inspection.file_names = extracted.file_names.clone();
    if extracted.holds_file && !ctx.upload {
        // An upload is told by what the body is, not by the type it declares.
        ctx.upload = true;
        verdict = decide::decide(conn, ctx, book, None);
        decide::apply(conn, ctx, &verdict)?;
    }
    let needs_scan = verdict.needs_scan();
    if let Some(reason) = &extracted.refused {
        ctx.inspection.unscanned = Some(reason.clone());
        if needs_scan && config.on_unscannable == OnUnscannable::Block {
            return Err(unscannable_refusal(
                ctx,
                &format!("an uploaded file could not be read ({reason})"),
            ));
        }
    }
    ctx.inspection.prompt_length = if extracted.prompt.is_empty() {
        extracted.text.chars().count()
    } else {
        extracted.prompt.chars().count()
    };

    if needs_scan {
        if !around.is_empty() {
            extracted.text.push('\n');
            extracted.text.push_str(&around);
        }
        let second = scan(conn, ctx, book, &verdict, &extracted.text)?;
        if let Action::Dlp {
            profile,
            on_match: OnMatch::Redact,
        } = &second.action
        {
            if second.dlp_matched {
                let redacted = redact_body(conn, content_type, plain, profile)
                    .filter(|redacted| {
                        // Fail closed: what goes out must scan clean, whatever the rewrite
                        // missed (a reading the redactor does not know, a query, a header).
                        let mut text = extract_text(content_type, redacted, &[]).text;
                        text.push('\n');
                        text.push_str(&around);
                        conn.snapshot
                            .dlp
                            .scan_profile(profile, &text)
                            .is_ok_and(|r| !r.matched)
                    })
                    .ok_or_else(|| decide::refusal_for(conn, ctx, &second))?;
                ctx.inspection.redacted = true;
                parts.headers.remove(header::CONTENT_LENGTH);
                if encoding.is_some() {
                    // The redacted body is sent decoded.
                    parts.headers.remove(header::CONTENT_ENCODING);
                }
                let prompt = if extracted.prompt.is_empty() {
                    &extracted.text
                } else {
                    &extracted.prompt
                };
                if let Some(limit) = audit_bytes {
                    ctx.inspection.audit_prompt = Some(truncate(prompt, limit).to_string());
                }
                return Ok(Outgoing::Buffered(Bytes::from(redacted)));
            }
        }
    }
    let prompt = if extracted.prompt.is_empty() {
        &extracted.text
    } else {
        &extracted.prompt
    };
    if let Some(limit) = audit_bytes {
        ctx.inspection.audit_prompt = Some(truncate(prompt, limit).to_string());
    }
    Ok(Outgoing::Buffered(bytes))
}

/// Scans `text` with every profile the verdict names, records what matched, and decides
/// again with the results; a blocking second verdict becomes the refusal.
fn scan(
    conn: &ConnectionContext,
    ctx: &mut RequestContext,
    book: &StatusBook,
    verdict: &Verdict,
    text: &str,
) -> Result<Verdict, Refusal> {
    let profiles: Vec<&str> = verdict.profiles_to_scan().collect();
    let results = match conn.snapshot.dlp.scan_profiles(&profiles, text) {
        Ok(results) => results,
        Err(error) => {
            // Fail closed: a scan that cannot run is not a clean scan.
            ctx.inspection.unscanned = Some(error.to_string());
            return Err(unscannable_refusal(ctx, &error.to_string()));
        }
    };
    let mut matched = Vec::new();
    let mut counts: BTreeMap<String, u32> = BTreeMap::new();
    for result in &results {
        for count in &result.counts {
            let entry = counts.entry(count.detector.clone()).or_default();
            *entry = (*entry).max(count.count as u32);
            let confidence = count.max_confidence.as_str().to_string();
            match ctx
                .inspection
                .confidence
                .iter_mut()
                .find(|(d, _)| *d == count.detector)
            {
                Some((_, c)) => *c = confidence,
                None => ctx
                    .inspection
                    .confidence
                    .push((count.detector.clone(), confidence)),
            }
        }
        for finding in &result.findings {
            let line = format!("{}: {}", finding.detector, finding.snippet);
            if ctx.inspection.snippets.len() < 16 && !ctx.inspection.snippets.contains(&line) {
                ctx.inspection.snippets.push(line);
            }
        }
        if result.matched {
            matched.push(result.profile.clone());
        }
    }
    ctx.inspection.detectors = counts.into_iter().collect();
    ctx.inspection.matched_profiles = matched.clone();
    let second = decide::decide(conn, ctx, book, Some(&matched));
    decide::apply(conn, ctx, &second)?;
    Ok(second)
}

fn prompt_fields(
    conn: &ConnectionContext,
    ctx: &RequestContext,
    parts: &Parts,
) -> Vec<policies::catalog::FieldPath> {
    let Some(app) = &ctx.app else {
        return Vec::new();
    };
    conn.snapshot
        .catalog
        .match_request(&ctx.host, parts.method.as_str(), &ctx.path)
        .filter(|m| m.matched.app.id == app.id)
        .and_then(|m| match m.endpoint {
            Some(policies::catalog::Endpoint::Prompt(p)) => Some(p.fields.clone()),
            _ => None,
        })
        .unwrap_or_default()
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

/// The body with every finding of `profile` replaced by `[REDACTED:detector]`: inside each
/// string of a JSON body, or across a text body. `None` for bodies that cannot be rewritten
/// safely (forms, multipart, binary): the caller blocks those instead.
fn redact_body(
    conn: &ConnectionContext,
    content_type: &str,
    body: &[u8],
    profile: &str,
) -> Option<Vec<u8>> {
    let dlp = &conn.snapshot.dlp;
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    let redact_text = |text: &str| -> Option<String> {
        let result = dlp.scan_profile(profile, text).ok()?;
        Some(if result.findings.is_empty() {
            text.to_string()
        } else {
            redact(text, &result.findings)
        })
    };
    if essence.ends_with("json") || (essence.is_empty() && body.first() == Some(&b'{')) {
        let mut value: serde_json::Value = serde_json::from_slice(body).ok()?;
        redact_strings(&mut value, &redact_text, 0)?;
        return serde_json::to_vec(&value).ok();
    }
    if essence.is_empty() || essence.starts_with("text/") {
        let text = std::str::from_utf8(body).ok()?;
        return redact_text(text).map(String::into_bytes);
    }
    None
}

fn redact_strings(
    value: &mut serde_json::Value,
    redact_text: &dyn Fn(&str) -> Option<String>,
    depth: usize,
) -> Option<()> {
    if depth > 64 {
        return None;
    }
    match value {
        serde_json::Value::String(s) => *s = redact_text(s)?,
        serde_json::Value::Number(n) => {
            // A card sent as a JSON number is masked as a string.
            let digits = n.to_string();
            let redacted = redact_text(&digits)?;
            if redacted != digits {
                *value = serde_json::Value::String(redacted);
            }
        }
        serde_json::Value::Array(items) => {
            for item in items {
                redact_strings(item, redact_text, depth + 1)?;
            }
        }
        serde_json::Value::Object(map) => {
            for item in map.values_mut() {
                redact_strings(item, redact_text, depth + 1)?;
            }
        }
        _ => {}
    }
    Some(())
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
