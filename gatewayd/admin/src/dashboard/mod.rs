//! The dashboard: server-rendered HTML pages on the admin listener (no scripts, no build
//! step; charts are inline SVG). A token logs in once and gets a session cookie
//! (`HttpOnly; SameSite=Strict`); every form that changes something carries the session's
//! CSRF token and a same-origin check; admins change approval statuses inline (a change that
//! starts blocking asks first, `confirm.rs`) and decide about discovered hosts
//! (`discovered.rs`); every such action goes to the admin audit trail.

pub mod access;
pub mod ai;
pub mod ai_call;
pub mod confirm;
pub mod discovered;
pub mod errors;
pub mod explorer;
pub mod html;
pub mod key_inventory;
mod overview;
pub mod pages;
pub mod person;
pub mod provider_keys;
pub mod session;
pub mod svg;
pub mod vkeys;

use std::collections::BTreeMap;
use std::net::IpAddr;

use bytes::Bytes;
use http::{header, HeaderValue, Method, Request, Response, StatusCode};
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;

use crate::audit;
use crate::login_throttle::{Failure, Peer};
use crate::report_api::{csv, report_error, run_query, run_report};
use crate::state::AdminState;
use crate::tokens::Role;
use crate::view::ProxyView;
use crate::ProxyBody;
use report::explorer::ExplorerError;
use report::explorer::PRESETS;
use report::{form, ReportError};
use session::Session;

/// The largest form post read.
const MAX_FORM_BYTES: usize = 128 * 1024;

/// Answers a dashboard request (anything on the admin listener outside `/api`, `/healthz`
/// and `/metrics`).
pub async fn handle(
    proxy: &dyn ProxyView,
    state: &AdminState,
    request: Request<Incoming>,
) -> Response<ProxyBody> {
    let path = request.uri().path().to_string();
    let method = request.method().clone();
    if method == Method::GET && path == "/static/warden.css" {
        let mut response = bytes_response(StatusCode::OK, "text/css; charset=utf-8", html::CSS);
        response.headers_mut().insert(
            header::CACHE_CONTROL,
            HeaderValue::from_static("max-age=3600"),
        );
        return response;
    }
    // No icon, and no 404 in every page's console for the one browsers ask for.
    if method == Method::GET && path == "/favicon.ico" {
        let mut response = bytes_response(StatusCode::NO_CONTENT, "image/x-icon", "");
        response.headers_mut().insert(
            header::CACHE_CONTROL,
            HeaderValue::from_static("max-age=86400"),
        );
        return response;
    }
    if path == "/login" {
        return match method {
            Method::GET => login_page(StatusCode::OK, ""),
            Method::POST => login(proxy, state, request).await,
            _ => not_allowed(),
        };
    }
    let cookie = request
        .headers()
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(session::cookie_value)
        .map(str::to_string);
    // A session is only as good as the token it was opened with: revoked or expired, the
    // session ends here, whatever the cookie's age.
    // Who the session is comes from the token record, never from what the session kept (a
    // sessions file edited on disk cannot raise a role), and no session outlives
    // `admin.session_ttl` from its login.
    let ttl = proxy.settings().session_ttl;
    let session = cookie.as_deref().and_then(|c| {
        let mut session = state.sessions.get(c)?;
        match state.tokens().principal(&session.principal.token_id) {
            Some(principal) if session.age() <= ttl => {
                session.principal = principal;
                Some(session)
            }
            _ => {
                state.sessions.end(c);
                None
            }
        }
    });
    let Some(session) = session else {
        return if method == Method::GET {
            redirect("/login")
        } else {
            error_page(
                None,
                StatusCode::UNAUTHORIZED,
                "Your session has ended: log in again.",
            )
        };
    };
    let mut pairs = form::parse(request.uri().query().unwrap_or(""));
    // `?changed=APP` after a status change is the page's, not the report filter's.
    let notice = confirm::notice(proxy, &pairs);
    pairs.remove("changed");
    if method == Method::POST {
        return post(
            proxy,
            state,
            &session,
            cookie.as_deref().unwrap_or(""),
            request,
            &path,
        )
        .await;
    }
    if method != Method::GET {
        return not_allowed();
    }
    let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
    let (title, active, result) = match segments.as_slice() {
        [""] => (
            "Shadow AI overview",
            "/",
            pages::overview(proxy, &pairs).await,
        ),
        ["apps"] => (
            "AI apps",
            "/apps",
            pages::apps(proxy, &session, &pairs).await,
        ),
        ["apps", id] => {
            let id = form::decode(id);
            let title = format!("App: {id}");
            let result = pages::app(proxy, &session, &id, &pairs).await;
            let result = result.map(|body| notice + &body);
            return render(&session, &title, "/apps", result);
        }
        ["users"] => ("Users", "/users", pages::users(proxy, &pairs).await),
        ["users", name] => {
            let name = form::decode_path(name);
            let title = format!("User: {name}");
            let result = person::user(proxy, &name, &pairs).await;
            return render(&session, &title, "/users", result);
        }
        ["user"] => {
            // Names a browser would read as a path step (`.`, `..`) come as `?name=`.
            let name = pairs.get("name").cloned().unwrap_or_default();
            let title = format!("User: {name}");
            let result = person::user(proxy, &name, &pairs).await;
            return render(&session, &title, "/users", result);
        }
        ["events", id] => {
            let id = form::decode_path(id);
            let title = format!("Event {id}");
            let result = person::event(proxy, &session, &id).await;
            return render(&session, &title, "", result);
        }
        ["errors"] => ("Errors", "/", errors::page(proxy, None, &pairs).await),
        ["errors", id] => {
            let id = form::decode(id);
            let title = format!("Errors: {id}");
            let result = errors::page(proxy, Some(&id), &pairs).await;
            return render(&session, &title, "/", result);
        }
        ["dlp"] => ("DLP findings", "/dlp", pages::dlp(proxy, &pairs).await),
        ["unapproved"] => (
            "Unapproved, in-review and unreviewed usage",
            "/unapproved",
            pages::unapproved(proxy, &session, &pairs).await,
        ),
        ["anomalies"] => (
            "Anomalies",
            "/anomalies",
            pages::anomalies(proxy, &pairs).await,
        ),
        ["discovered"] => (
            "Discovered apps",
            "/discovered",
            discovered::page(proxy, &session, &pairs).await,
        ),
        ["access-requests"] => (
            "Access requests",
            "/access-requests",
            access::page(proxy, &session),
        ),
        ["ai"] => ("AI gateway", "/ai", ai::page(proxy, &session, &pairs).await),
        ["ai", "calls", id] => {
            let id = form::decode_path(id);
            let title = format!("AI gateway call {id}");
            let result = ai_call::page(proxy, &id).await;
            return render(&session, &title, "/ai", result);
        }
        ["ai", "keys"] => ("Virtual keys", "/ai", vkeys::page(proxy, &session)),
        ["ai", "provider-keys"] => ("Provider keys", "/ai", provider_keys::page(proxy, &session)),
        ["ai-keys"] => (
            "AI keys",
            "/ai-keys",
            key_inventory::page(proxy, &pairs).await,
        ),
        ["explorer"] => {
            let preset = pairs
                .get("preset")
                .and_then(|p| p.parse::<usize>().ok())
                .and_then(|i| PRESETS.get(i))
                .map_or(PRESETS[0].1, |(_, sql)| sql);
            let body = explorer::explorer(&session, preset, None);
            return render(&session, "Log explorer", "/explorer", Ok(body));
        }
        ["export", "app", id] => {
            return export(proxy, "app", Some(&form::decode(id)), &pairs).await
        }
        ["export", "user", name] => {
            return export(proxy, "user", Some(&form::decode_path(name)), &pairs).await
        }
        ["export", name] => return export(proxy, name, None, &pairs).await,
        _ => (
            "Not found",
            "",
            Err((StatusCode::NOT_FOUND, "There is no such page.".to_string())),
        ),
    };
    let result = result.map(|body| notice + &body);
    render(&session, title, active, result)
}

async fn post(
    proxy: &dyn ProxyView,
    state: &AdminState,
    session: &Session,
    cookie: &str,
    request: Request<Incoming>,
    path: &str,
) -> Response<ProxyBody> {
    if !same_origin(&request) {
        return error_page(
            Some(session),
            StatusCode::FORBIDDEN,
            "This form was sent from another site, so it was refused.",
        );
    }
    let fields = match read_form(request).await {
        Ok(fields) => fields,
        Err(response) => return response,
    };
    let csrf_ok = fields.get("csrf").is_some_and(|t| session.csrf_ok(t));
    if !csrf_ok {
        return error_page(
            Some(session),
            StatusCode::FORBIDDEN,
            "The form's security token is missing or stale: reload the page and try again.",
        );
    }
    let state_dir = proxy.settings().state_dir;
    let actor = format!("dashboard:{}", session.principal.name);
    let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
    match segments.as_slice() {
        ["logout"] => {
            state.sessions.end(cookie);
            audit::record(&state_dir, &actor, "logout", "");
            let mut response = redirect("/login");
            set_cookie(&mut response, &session::clear_cookie(secure_cookies(proxy)));
            response
        }
        ["apps", id, "status"] => {
            let id = form::decode(id);
            if session.principal.role != Role::Admin {
                return error_page(
                    Some(session),
                    StatusCode::FORBIDDEN,
                    "Changing an app's status needs the admin role.",
                );
            }
            if proxy.catalog().app(&id).is_none() {
                return error_page(
                    Some(session),
                    StatusCode::NOT_FOUND,
                    "No such app in the catalog.",
                );
            }
            let status = match fields
                .get("status")
                .map(|s| s.parse::<policies::AppStatus>())
            {
                Some(Ok(status)) => status,
                _ => {
                    let (code, message) = confirm::BAD_STATUS;
                    return error_page(Some(session), code, message);
                }
            };
            let back = confirm::safe_back(
                fields.get("return").map_or("/apps", String::as_str),
                "/apps",
            )
            .to_string();
            match confirm::status_step(proxy, session, &id, status, &fields, &back) {
                confirm::StatusStep::Ask(page) => {
                    return html_response(
                        StatusCode::OK,
                        html::page("Confirm the change", "", Some(session), &page),
                    )
                }
                confirm::StatusStep::Unchanged => return redirect(&back),
                confirm::StatusStep::Apply => {}
            }
            match proxy.set_status(&id, status, &actor) {
                Ok(change) => {
                    audit::record(
                        &state_dir,
                        &actor,
                        "set_app_status",
                        &format!("{id}: {} -> {}", change.old, change.new),
                    );
                    redirect(&confirm::with_param(&back, "changed", &id))
                }
                Err(e) => error_page(
                    Some(session),
                    StatusCode::INTERNAL_SERVER_ERROR,
                    &e.to_string(),
                ),
            }
        }
        ["access-requests", id, verb] => {
            let id = form::decode(id);
            match access::decide(proxy, session, &id, verb, &actor) {
                Ok(()) => redirect("/access-requests"),
                Err((status, message)) => error_page(Some(session), status, &message),
            }
        }
        ["discovered", "decide"] => match discovered::decide(proxy, session, &fields) {
            Ok(discovered::Posted::Ask(page)) => html_response(
                StatusCode::OK,
                html::page("Confirm the decision", "", Some(session), &page),
            ),
            Ok(discovered::Posted::Done(location)) => redirect(&location),
            Err((status, message)) => error_page(Some(session), status, &message),
        },
        ["ai", "keys", rest @ ..] | ["ai", "provider-keys", rest @ ..] => {
            let posted = if segments[1] == "keys" {
                vkeys::post(proxy, session, rest, &fields, &actor)
            } else {
                provider_keys::post(proxy, session, rest, &fields, &actor)
            };
            match posted {
                Ok(vkeys::Posted::Redirect(location)) => redirect(&location),
                Ok(vkeys::Posted::Page(title, body)) => html_response(
                    StatusCode::OK,
                    html::page(title, "/ai", Some(session), &body),
                ),
                Err((status, message)) => error_page(Some(session), status, &message),
            }
        }
        ["explorer", "csv"] => {
            let sql = fields.get("sql").cloned().unwrap_or_default();
            match run_query(proxy, state, &actor, session.principal.role, &sql).await {
                Ok(answer) => crate::report_api::query_csv(&answer),
                Err(e) => explorer_page(session, &sql, Err(e)),
            }
        }
        ["explorer"] => {
            let sql = fields.get("sql").cloned().unwrap_or_default();
            let result = run_query(proxy, state, &actor, session.principal.role, &sql).await;
            explorer_page(session, &sql, result)
        }
        _ => error_page(
            Some(session),
            StatusCode::NOT_FOUND,
            "There is no such form.",
        ),
    }
}

/// The explorer page after a run: the answer, or the error with a status that says why.
fn explorer_page(
    session: &Session,
    sql: &str,
    result: Result<report::explorer::ExplorerAnswer, ExplorerError>,
) -> Response<ProxyBody> {
    let (status, body) = match &result {
        Ok(answer) => (
            StatusCode::OK,
            explorer::explorer(session, sql, Some(Ok(answer))),
        ),
        Err(e) => (
            match e {
                ExplorerError::Busy(_) => StatusCode::TOO_MANY_REQUESTS,
                _ => StatusCode::BAD_REQUEST,
            },
            explorer::explorer(session, sql, Some(Err(e.to_string()))),
        ),
    };
    html_response(
        status,
        html::page("Log explorer", "/explorer", Some(session), &body),
    )
}

/// `Origin` (or, without it, `Referer`) must name this listener's own host when present;
/// browsers send one of them on every form post.
fn same_origin(request: &Request<Incoming>) -> bool {
    let host = request
        .headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("");
    let from = request
        .headers()
        .get(header::ORIGIN)
        .or_else(|| request.headers().get(header::REFERER))
        .and_then(|v| v.to_str().ok());
    match from {
        None => true,
        Some(origin) => {
            let rest = origin
                .strip_prefix("http://")
                .or_else(|| origin.strip_prefix("https://"))
                .unwrap_or("");
            let origin_host = rest.split('/').next().unwrap_or("");
            !host.is_empty() && origin_host.eq_ignore_ascii_case(host)
        }
    }
}

async fn read_form(
    request: Request<Incoming>,
) -> Result<BTreeMap<String, String>, Response<ProxyBody>> {
    match Limited::new(request.into_body(), MAX_FORM_BYTES)
        .collect()
        .await
    {
        Ok(collected) => Ok(form::parse(&String::from_utf8_lossy(&collected.to_bytes()))),
        Err(_) => Err(error_page(
            None,
            StatusCode::PAYLOAD_TOO_LARGE,
            "The form was too large.",
        )),
    }
}

/// Whether browsers reach the dashboard over https (`admin.public_url`), so cookies get
/// `Secure`.
fn secure_cookies(proxy: &dyn ProxyView) -> bool {
    proxy
        .settings()
        .public_url
        .as_deref()
        .is_some_and(|url| url.starts_with("https://"))
}

async fn login(
    proxy: &dyn ProxyView,
    state: &AdminState,
    request: Request<Incoming>,
) -> Response<ProxyBody> {
    // A login from another site's form would log the victim into the attacker's account
    // (login CSRF); the same-origin rule of every other form applies here too.
    if !same_origin(&request) {
        audit::record(
            &proxy.settings().state_dir,
            "anonymous",
            "login_refused",
            "cross-site form",
        );
        return login_page(
            StatusCode::FORBIDDEN,
            "This login was sent from another site, so it was refused.",
        );
    }
    // Without the listener's address (never the case on the admin port) every such
    // request shares one throttle: fail closed.
    let source = request
        .extensions()
        .get::<Peer>()
        .map_or(IpAddr::from([0, 0, 0, 0]), |peer| peer.0);
    let fields = match read_form(request).await {
        Ok(fields) => fields,
        Err(response) => return response,
    };
    let token = fields.get("token").map(|t| t.trim()).unwrap_or("");
    let state_dir = proxy.settings().state_dir;
    // Checked before the token is: a throttled attempt is neither verified nor audited.
    if let Some(wait) = state.login_throttle.wait(source, token) {
        return throttled_page(wait);
    }
    match state.tokens().verify(token) {
        Some(principal) => {
            state.login_throttle.succeeded(source);
            let ttl = proxy.settings().session_ttl;
            let actor = format!("dashboard:{}", principal.name);
            let id = state.sessions.start(principal, ttl);
            audit::record(&state_dir, &actor, "login", "");
            let mut response = redirect("/");
            set_cookie(
                &mut response,
                &session::set_cookie(&id, ttl, secure_cookies(proxy)),
            );
            response
        }
        None => {
            match state.login_throttle.failed(source, token) {
                Failure::Free => {
                    audit::record(&state_dir, "anonymous", "login_refused", "invalid token")
                }
                Failure::Throttled {
                    failures,
                    refused_while_waiting,
                    wait,
                } => audit::record(
                    &state_dir,
                    "anonymous",
                    "login_throttled",
                    &format!(
                        "{failures} failed logins from {source} \
                         ({refused_while_waiting} more refused while waiting); \
                         next attempt checked in {}s",
                        wait.as_secs()
                    ),
                ),
            }
            login_page(StatusCode::UNAUTHORIZED, "That token is not valid.")
        }
    }
}

/// The answer to a login attempt while its address (or token prefix) must wait.
fn throttled_page(wait: std::time::Duration) -> Response<ProxyBody> {
    let seconds = wait.as_secs_f64().ceil().max(1.0) as u64;
    let mut response = login_page(
        StatusCode::TOO_MANY_REQUESTS,
        &format!("Too many failed logins from your address: try again in {seconds} s."),
    );
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
    response
}

fn login_page(status: StatusCode, message: &str) -> Response<ProxyBody> {
    let error = if message.is_empty() {
        String::new()
    } else {
        format!(
            "<p class=\"error\" id=\"login-error\">{}</p>",
            html::escape(message)
        )
    };
    let body = format!(
        "<div class=\"login\"><h1>Warden</h1><p>Log in with an admin or analyst token \
         (<code>gatewayd admin token create --role analyst --name NAME</code>).</p>{error}\
         <form method=\"post\" action=\"/login\"><label>Token \
         <input type=\"password\" name=\"token\" id=\"token\" autocomplete=\"off\" autofocus></label>\
         <button type=\"submit\" id=\"login\">Log in</button></form></div>"
    );
    let page = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Log in · Warden</title>\
         <link rel=\"stylesheet\" href=\"/static/warden.css\"></head><body>{body}</body></html>"
    );
    html_response(status, page)
}

async fn export(
    proxy: &dyn ProxyView,
    name: &str,
    id: Option<&str>,
    pairs: &BTreeMap<String, String>,
) -> Response<ProxyBody> {
    match run_report(proxy, name, id, pairs, &[]).await {
        Ok((done, _)) => csv(&done.table.to_csv(), name),
        Err(ReportError::Filter(e)) => error_page(None, StatusCode::BAD_REQUEST, &e.to_string()),
        Err(e) => report_error(&e),
    }
}

fn render(
    session: &Session,
    title: &str,
    active: &str,
    result: pages::Page,
) -> Response<ProxyBody> {
    match result {
        Ok(body) => html_response(
            StatusCode::OK,
            html::page(title, active, Some(session), &body),
        ),
        Err((status, message)) => error_page(Some(session), status, &message),
    }
}

fn error_page(session: Option<&Session>, status: StatusCode, message: &str) -> Response<ProxyBody> {
    let body = format!(
        "<p class=\"error\" id=\"page-error\">{}</p>",
        html::escape(message)
    );
    let title = status.canonical_reason().unwrap_or("Error");
    html_response(status, html::page(title, "", session, &body))
}

fn not_allowed() -> Response<ProxyBody> {
    error_page(None, StatusCode::METHOD_NOT_ALLOWED, "Method not allowed.")
}

fn redirect(location: &str) -> Response<ProxyBody> {
    let mut response = bytes_response(StatusCode::SEE_OTHER, "text/plain; charset=utf-8", "");
    if let Ok(value) = HeaderValue::from_str(location) {
        response.headers_mut().insert(header::LOCATION, value);
    }
    response
}

fn set_cookie(response: &mut Response<ProxyBody>, value: &str) {
    if let Ok(value) = HeaderValue::from_str(value) {
        response.headers_mut().insert(header::SET_COOKIE, value);
    }
}

fn html_response(status: StatusCode, page: String) -> Response<ProxyBody> {
    bytes_response(status, "text/html; charset=utf-8", &page)
}

fn bytes_response(
    status: StatusCode,
    content_type: &'static str,
    body: &str,
) -> Response<ProxyBody> {
    let mut response = Response::new(
        Full::new(Bytes::from(body.to_string()))
            .map_err(|e| match e {})
            .boxed(),
    );
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; \
             frame-ancestors 'none'; base-uri 'none'",
        ),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    if !headers.contains_key(header::CACHE_CONTROL) {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    response
}
