//! Phases 2 and 3, classify and decide: which AI app a request goes to (the catalog) and what
//! the security team's policy says about it, given who is asking and whether it uploads.

use std::sync::Arc;

use http::request::Parts;
use http::{header, Method, StatusCode};
use policies::rules::Action;
use policies::rules::{AppFacts, Posture};
use policies::{Facts, StatusBook, Verdict};

use super::context::{AppRef, ConnectionContext, RequestContext};
use crate::outcome::Outcome;
use crate::respond::Refusal;

static NO_POSTURE: Posture = Posture::new();

/// Methods that only read: what `isolate` (view-only) lets through.
pub fn is_safe_method(method: &Method) -> bool {
    matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// Whether a request carries a file: a catalog upload endpoint, a multipart form, or a body
/// whose type is a file format rather than an API payload.
pub fn is_upload(parts: &Parts, upload_endpoint: bool) -> bool {
    if upload_endpoint {
        return true;
    }
    if is_safe_method(&parts.method) {
        return false;
    }
    let content_type = parts
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    let essence = content_type.split(';').next().unwrap_or("").trim();
    essence == "multipart/form-data"
        || essence == "application/octet-stream"
        || essence == "application/pdf"
        || essence == "application/zip"
        || essence.starts_with("application/vnd.")
        || essence.starts_with("image/")
        || essence.starts_with("audio/")
        || essence.starts_with("video/")
}

/// Classifies the request and asks the policy. `dlp_matched` is `None` before a body scan.
pub fn decide(
    conn: &ConnectionContext,
    ctx: &RequestContext,
    book: &StatusBook,
    dlp_matched: Option<&[String]>,
) -> Verdict {
    let snapshot = &conn.snapshot;
    let app = ctx
        .app
        .as_ref()
        .and_then(|a| snapshot.catalog.app(&a.id))
        .map(|app| AppFacts::new(app, book));
    // A discovered host (shadow AI outside the catalog) is evidence for a person to review:
    // it never changes what the policy decides until someone adds it to the catalog or sets
    // a status. A browser service mistaken for AI must not get DLP or the upload block.
    let facts = Facts {
        host: &ctx.host,
        path: Some(&ctx.path),
        app,
        user: Some(&conn.identity.user),
        groups: &conn.identity.groups,
        posture: conn
            .identity
            .device
            .as_ref()
            .map_or(&NO_POSTURE, |d| &d.posture),
        posture_signed: conn.identity.device.as_ref().is_some_and(|d| d.signed),
        country: Some(conn.who.country.as_str()).filter(|c| !c.is_empty()),
        method: Some(ctx.method.as_str()),
        upload: ctx.upload,
        dlp_profiles_matched: dlp_matched,
        coached: ctx.coaching_pass.is_some(),
        tenant: ctx.tenant,
    };
    snapshot.policy.decide(&facts)
}

/// Fills in the request's app (catalog match) and upload flag. The one catalog match of the
/// request: what inspection needs of it (the prompt fields) is kept on the context.
pub fn classify(conn: &ConnectionContext, ctx: &mut RequestContext, parts: &Parts) {
    use policies::catalog::Endpoint;
    let snapshot = &conn.snapshot;
    let matched = snapshot
        .catalog
        .match_request(&ctx.host, parts.method.as_str(), &ctx.path);
    let mut upload_endpoint = false;
    if let Some(m) = matched {
        let (endpoint, prompt_fields) = match &m.endpoint {
            Some(Endpoint::Prompt(p)) => (Some("prompt"), p.fields.clone()),
            Some(Endpoint::Upload(_)) => (Some("upload"), Vec::new()),
            None => (None, Vec::new()),
        };
        upload_endpoint = endpoint == Some("upload");
        ctx.app = Some(AppRef {
            id: m.matched.app.id.clone(),
            name: m.matched.app.name.clone(),
            category: m.matched.app.category.as_str(),
            host_kind: m.matched.kind,
            endpoint,
            prompt_fields,
        });
    }
    ctx.upload = is_upload(parts, upload_endpoint);
    // Tenant control reads the path, query, headers and cookies only, never the body.
    ctx.tenant = snapshot
        .tenants
        .for_host(&ctx.host)
        .map(|t| t.classify(&ctx.path, parts.uri.query(), &parts.headers));
    super::discover::headers(conn, ctx, parts);
}

/// Records the verdict on the request and turns a blocking verdict into the page to show.
pub fn apply(
    conn: &ConnectionContext,
    ctx: &mut RequestContext,
    verdict: &Verdict,
) -> Result<(), Refusal> {
    ctx.rule = verdict.rule_id.to_string();
    // A request its token let past a warning keeps that outcome through later decisions (the
    // scan's second look) unless one of them blocks it.
    let continued = matches!(ctx.action, Outcome::Continue) && !verdict.blocked;
    ctx.action = if continued {
        Outcome::Continue
    } else {
        Outcome::from(&verdict.action)
    };
    ctx.policy_version = Arc::clone(&verdict.policy_version);
    ctx.app_status = match (&ctx.app, &ctx.discovered) {
        (Some(app), _) => Some(conn.gateway.statuses.book().status(&app.id).as_str()),
        (None, Some(_)) => Some(policies::AppStatus::Unreviewed.as_str()),
        (None, None) => None,
    };
    if let (Some(_), Some(pass)) = (&verdict.coached_past, &ctx.coaching_pass) {
        // A request a warning would have stopped: the event says why it went on.
        ctx.detail = Some(super::coaching::justification_detail(&pass.justification));
    }
    if !verdict.blocked {
        return Ok(());
    }
    Err(refusal_for(conn, ctx, verdict))
}

/// The block page for a blocking verdict: which rule, why, and what to use instead.
pub fn refusal_for(conn: &ConnectionContext, ctx: &RequestContext, verdict: &Verdict) -> Refusal {
    let app_name = ctx
        .app
        .as_ref()
        .map(|a| a.name.as_str())
        .unwrap_or(&ctx.host);
    let (title, default_reason) = match &verdict.action {
        Action::BlockUploads => (
            "File uploads to this app are blocked",
            format!("Uploading files to {app_name} is not allowed."),
        ),
        Action::Isolate => (
            "This app is view-only",
            format!("{app_name} is available to read only; sending data to it is not allowed."),
        ),
        Action::Dlp { .. } => (
            "Sensitive data detected",
            format!("This request to {app_name} contains data that may not be sent to it."),
        ),
        Action::Block if verdict.on_tenant => (
            "Use your organisation's account",
            format!(
                "Your organisation allows {app_name} only with its own accounts, and this \
                 request does not use one of them. Sign in with your work account to \
                 continue."
            ),
        ),
        Action::Warn => (
            "Think before you continue",
            format!(
                "Your organisation has not approved {app_name} for company data. Continue only \
                 if you need it, and do not share confidential information: your choice and \
                 what you write are logged."
            ),
        ),
        _ => (
            "This AI app is blocked",
            format!("Your organisation does not allow {app_name}."),
        ),
    };
    let outcome = if verdict.action == Action::Warn {
        Outcome::Warn
    } else {
        Outcome::Block
    };
    let mut refusal = Refusal::new(
        StatusCode::FORBIDDEN,
        outcome,
        &verdict.rule_id,
        title,
        verdict
            .message
            .as_deref()
            .map(str::to_owned)
            .unwrap_or(default_reason),
    );
    // Someone may ask for the app itself; a DLP block is about the data, not the app.
    refusal.askable = !matches!(verdict.action, Action::Dlp { .. });
    if matches!(verdict.action, Action::Dlp { .. }) {
        refusal.data_kinds = ctx
            .inspection
            .hits
            .iter()
            .map(|hit| hit.detector.clone())
            .collect::<Vec<_>>()
            .into_boxed_slice();
    }
    // A chat app refused as an app (not for its data or account): the sanctioned chat page.
    let chat_app = ctx
        .app
        .as_ref()
        .is_some_and(|a| a.category == policies::catalog::Category::Chat.as_str());
    if chat_app && matches!(verdict.action, Action::Block | Action::Warn) && !verdict.on_tenant {
        refusal.sanctioned_chat = config::aigw_chat_link(&conn.snapshot.config.aigw)
            .map(|(url, text)| Box::new((url, text.to_string())));
    }
    refusal.alternative = verdict.alternative.as_deref().map(|id| {
        conn.snapshot
            .catalog
            .app(id)
            .map(|a| a.name.as_str())
            .unwrap_or(id)
            .into()
    });
    refusal
}
