//! "Think before you continue", and "may I have it?": the employee's side of a policy. A
//! `warn` rule shows a coaching page in the app's place; Continue, with a logged
//! justification, gives that person (and nobody else) a time-limited pass; block and warning
//! pages offer Request access, which the security team sees and decides on the dashboard and
//! over the API. And DLP watches approved apps in monitor mode: findings logged, nothing
//! blocked. Each attack an employee's browser or a curious colleague could try is performed
//! here with real curl, real Chromium and a real ClickHouse.

mod access;
mod api;
mod api_access;
mod monitor;
mod outcomes;
mod warn;

use std::time::{Duration, Instant};

use schema::testkit::ClickHouseServer;
use serde_json::Value;

use crate::report::{api, token};
use crate::support::curl::CurlResult;
use crate::support::{clickhouse_sql, curl, GatewayOptions, GatewayProcess, Origin};

pub(super) const POLICY: &str = r#"
version = "coaching-test-1"

[[rule]]
id = "block-unapproved"
when = { status = "unapproved" }
action = "block"

[[rule]]
id = "coach-in-review"
when = { status = "in_review" }
action = "warn"
message = "ChatGPT is still being reviewed: keep company data out of it."

[[rule]]
id = "dlp-until-approved"
when = { status = ["in_review", "unreviewed"] }
action = "dlp"
profile = "default"

[[rule]]
id = "audit-approved"
when = { status = "approved" }
action = "audit"
monitor_profile = "default"
"#;

pub(super) struct Setup {
    pub dir: tempfile::TempDir,
    _origin: Origin,
    pub clickhouse: Option<ClickHouseServer>,
    pub gw: GatewayProcess,
    pub admin: String,
}

/// Proxy users `alice` and `bob` (password "correct horse").
pub(super) fn users_file(dir: &std::path::Path) -> String {
    use std::io::Write;
    let mut child = std::process::Command::new(crate::support::tools::gatewayd_binary())
        .args(["users", "hash-password"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"correct horse\n")
        .unwrap();
    let output = child.wait_with_output().unwrap();
    let stdout = String::from_utf8(output.stdout).unwrap();
    let hash = stdout.lines().last().unwrap();
    let path = dir.join("users.toml");
    let users: String = ["alice", "bob"]
        .iter()
        .map(|name| format!("[[user]]\nname = \"{name}\"\npassword_hash = \"{hash}\"\n\n"))
        .collect();
    std::fs::write(&path, users).unwrap();
    path.display().to_string()
}

/// A gateway with `policy` (the default one when `None`), proxy users (or none, for a
/// browser), `[coaching]` lines, and a ClickHouse when `events`.
pub(super) fn start(policy: Option<&str>, with_users: bool, coaching: &str, events: bool) -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let origin = Origin::start(dir.path());
    let clickhouse = events.then(|| ClickHouseServer::start().expect("clickhouse-server starts"));
    let mut sections = format!("[coaching]\n{coaching}\n");
    if let Some(policy) = policy {
        let path = dir.path().join("policy.toml");
        std::fs::write(&path, policy).unwrap();
        sections.push_str(&format!("[policies]\nfiles = [\"{}\"]\n\n", path.display()));
    }
    if let Some(ch) = &clickhouse {
        sections.push_str(&format!(
            "[clickhouse]\nurl = \"{}\"\ndatabase = \"warden\"\n\n\
             [events]\nflush_interval = \"200ms\"\nbatch_size = 1000\ninsert_timeout = \"3s\"\n\n",
            ch.http_url()
        ));
    }
    let proxy = if with_users {
        format!("users_file = \"{}\"\n", users_file(dir.path()))
    } else {
        String::new()
    };
    let gw = GatewayProcess::start(
        &origin,
        GatewayOptions {
            proxy,
            sections,
            ..Default::default()
        },
    );
    let admin = live_token(&gw, "admin", "secteam");
    Setup {
        dir,
        _origin: origin,
        clickhouse,
        gw,
        admin,
    }
}

pub(super) fn live_token(gw: &GatewayProcess, role: &str, name: &str) -> String {
    let token = token(gw, role, name);
    let deadline = Instant::now() + Duration::from_secs(10);
    while api(gw, &token, "/api/v1/apps").0 != 200 {
        assert!(
            Instant::now() < deadline,
            "the daemon did not load the token"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    token
}

pub(super) fn set_status(s: &Setup, app: &str, status: &str) {
    let result = curl(&[
        "-X",
        "PUT",
        "-H",
        &format!("Authorization: Bearer {}", s.admin),
        "-H",
        "Content-Type: application/json",
        "-d",
        &format!("{{\"status\":\"{status}\"}}"),
        &format!("http://{}/api/v1/apps/{app}/status", s.gw.admin),
    ]);
    assert_eq!(result.status, 200, "{}", result.body_text());
}

pub(super) fn api_post(s: &Setup, token: &str, path: &str) -> (u16, Value) {
    let result = curl(&[
        "-X",
        "POST",
        "-H",
        &format!("Authorization: Bearer {token}"),
        &format!("http://{}{path}", s.gw.admin),
    ]);
    (
        result.status,
        serde_json::from_slice(&result.body).unwrap_or(Value::Null),
    )
}

/// curl through the proxy as `user` (none: unauthenticated), with extra arguments.
pub(super) fn as_user(gw: &GatewayProcess, user: Option<&str>, args: &[&str]) -> CurlResult {
    let root = gw.root_pem.display().to_string();
    let proxy_user = user.map(|u| format!("{u}:correct horse"));
    let proxy_url = gw.proxy_url();
    let mut all: Vec<&str> = vec!["-x", &proxy_url, "--cacert", &root];
    if let Some(pu) = &proxy_user {
        all.extend(["--proxy-user", pu]);
    }
    all.extend(args);
    curl(&all)
}

/// A browser's page load of `url` as `user`.
pub(super) fn page(gw: &GatewayProcess, user: Option<&str>, url: &str) -> CurlResult {
    as_user(gw, user, &["-H", "Accept: text/html", url])
}

/// The ticket a page's forms carry.
pub(super) fn ticket_of(result: &CurlResult) -> String {
    let body = result.body_text();
    let at = body
        .find("name=\"ticket\" value=\"")
        .unwrap_or_else(|| panic!("no form ticket on the page:\n{body}"));
    let rest = &body[at + "name=\"ticket\" value=\"".len()..];
    rest[..rest.find('"').unwrap()].to_string()
}

/// Posts a coaching form as a browser would (Origin of the page, a click's fetch metadata),
/// plus `extra` curl arguments.
pub(super) fn post_form(
    gw: &GatewayProcess,
    user: Option<&str>,
    url: &str,
    fields: &[(&str, &str)],
    extra: &[&str],
) -> CurlResult {
    let origin = url
        .find("/.warden/")
        .map(|i| &url[..i])
        .unwrap_or(url)
        .to_string();
    let mut args: Vec<String> = Vec::new();
    for (name, value) in fields {
        args.push("--data-urlencode".into());
        args.push(format!("{name}={value}"));
    }
    if !extra.iter().any(|a| a.starts_with("Origin:")) {
        args.extend(["-H".into(), format!("Origin: {origin}")]);
    }
    args.extend(extra.iter().map(|s| s.to_string()));
    args.push(url.into());
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    as_user(gw, user, &refs)
}

pub(super) const CONTINUE: &str = "https://chatgpt.com/.warden/continue";
pub(super) const REQUEST: &str = "https://claude.ai/.warden/request-access";

pub(super) fn query(ch: &ClickHouseServer, sql: &str) -> String {
    let result = clickhouse_sql(&ch.http_url(), sql);
    assert_eq!(result.status, 200, "{sql}: {}", result.body_text());
    result.body_text().trim().to_string()
}

pub(super) fn wait_query(ch: &ClickHouseServer, sql: &str, ok: impl Fn(&str) -> bool) -> String {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let text = query(ch, sql);
        if ok(&text) {
            return text;
        }
        assert!(Instant::now() < deadline, "{sql}: last saw {text:?}");
        std::thread::sleep(Duration::from_millis(200));
    }
}
