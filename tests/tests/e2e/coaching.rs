//! "Think before you continue", and "may I have it?": the employee's side of a policy. A
//! `warn` rule shows a coaching page in the app's place; Continue, with a logged
//! justification, gives that person (and nobody else) a time-limited pass; block and warning
//! pages offer Request access, which the security team sees and decides on the dashboard and
//! over the API. And DLP watches approved apps in monitor mode: findings logged, nothing
//! blocked. Each attack an employee's browser or a curious colleague could try is performed
//! here with real curl, real Chromium and a real ClickHouse.

use std::time::{Duration, Instant};

use schema::testkit::ClickHouseServer;
use serde_json::Value;

use crate::browser::warden_spki;
use crate::report::{api, token};
use crate::support::curl::CurlResult;
use crate::support::gateway::gatewayd;
use crate::support::webdriver::Browser;
use crate::support::{clickhouse_sql, curl, GatewayOptions, GatewayProcess, Origin};

const POLICY: &str = r#"
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

struct Setup {
    _dir: tempfile::TempDir,
    _origin: Origin,
    clickhouse: Option<ClickHouseServer>,
    gw: GatewayProcess,
    admin: String,
}

/// Proxy users `alice` and `bob` (password "correct horse").
fn users_file(dir: &std::path::Path) -> String {
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
fn start(policy: Option<&str>, with_users: bool, coaching: &str, events: bool) -> Setup {
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
        _dir: dir,
        _origin: origin,
        clickhouse,
        gw,
        admin,
    }
}

fn live_token(gw: &GatewayProcess, role: &str, name: &str) -> String {
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

fn set_status(s: &Setup, app: &str, status: &str) {
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

fn api_post(s: &Setup, token: &str, path: &str) -> (u16, Value) {
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
fn as_user(gw: &GatewayProcess, user: Option<&str>, args: &[&str]) -> CurlResult {
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
fn page(gw: &GatewayProcess, user: Option<&str>, url: &str) -> CurlResult {
    as_user(gw, user, &["-H", "Accept: text/html", url])
}

/// The ticket a page's forms carry.
fn ticket_of(result: &CurlResult) -> String {
    let body = result.body_text();
    let at = body
        .find("name=\"ticket\" value=\"")
        .unwrap_or_else(|| panic!("no form ticket on the page:\n{body}"));
    let rest = &body[at + "name=\"ticket\" value=\"".len()..];
    rest[..rest.find('"').unwrap()].to_string()
}

/// Posts a coaching form as a browser would (Origin of the page, a click's fetch metadata),
/// plus `extra` curl arguments.
fn post_form(
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

const CONTINUE: &str = "https://chatgpt.com/.warden/continue";
const REQUEST: &str = "https://claude.ai/.warden/request-access";

fn query(ch: &ClickHouseServer, sql: &str) -> String {
    let result = clickhouse_sql(&ch.http_url(), sql);
    assert_eq!(result.status, 200, "{sql}: {}", result.body_text());
    result.body_text().trim().to_string()
}

fn wait_query(ch: &ClickHouseServer, sql: &str, ok: impl Fn(&str) -> bool) -> String {
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

#[test]
fn a_warned_user_continues_with_a_logged_justification_and_the_pass_is_theirs_alone() {
    let s = start(Some(POLICY), true, "", true);
    set_status(&s, "chatgpt", "in_review");
    let gw = &s.gw;

    // The coaching page names the app, says why, and carries the forms.
    let warned = page(gw, Some("alice"), "https://chatgpt.com/c/1?x=2");
    assert_eq!(warned.status, 403, "{}", warned.body_text());
    assert_eq!(warned.header("x-warden-action"), Some("warn"));
    assert_eq!(warned.header("x-warden-rule"), Some("coach-in-review"));
    let body = warned.body_text();
    assert!(body.contains("ChatGPT is still being reviewed"), "{body}");
    assert!(body.contains("Continue to ChatGPT") && body.contains("Request access"));
    let csp = warned.header("content-security-policy").unwrap_or("");
    assert!(csp.contains("frame-ancestors 'none'") && csp.contains("form-action 'self'"));
    assert_eq!(
        warned.header("cross-origin-opener-policy"),
        Some("same-origin")
    );
    let alices = ticket_of(&warned);

    // A single-page app's fetch() gets the JSON error, and no ticket.
    let fetched = as_user(
        gw,
        Some("alice"),
        &[
            "-H",
            "Sec-Fetch-Mode: cors",
            "-H",
            "Sec-Fetch-Dest: empty",
            "https://chatgpt.com/backend-api/me",
        ],
    );
    let value: Value = serde_json::from_slice(&fetched.body).unwrap();
    assert_eq!(value["error"]["type"], "warn", "{value}");
    assert!(!fetched.body_text().contains("wt_"));

    // Bob cannot use alice's ticket, and his own requests stay warned.
    let stolen = post_form(gw, Some("bob"), CONTINUE, &[("ticket", &alices)], &[]);
    assert_eq!(stolen.status, 403);
    assert_eq!(
        stolen.header("x-warden-rule"),
        Some("coaching.ticket_other_user")
    );

    // A post from another origin, without one, or from a script, is refused.
    let no_origin = as_user(
        gw,
        Some("alice"),
        &["--data-urlencode", &format!("ticket={alices}"), CONTINUE],
    );
    assert_eq!(no_origin.header("x-warden-rule"), Some("coaching.origin"));
    let cross = post_form(
        gw,
        Some("alice"),
        CONTINUE,
        &[("ticket", &alices)],
        &["-H", "Origin: https://evil.test"],
    );
    assert_eq!(cross.header("x-warden-rule"), Some("coaching.origin"));
    let two = as_user(
        gw,
        Some("alice"),
        &[
            "--data-urlencode",
            &format!("ticket={alices}"),
            "-H",
            "Origin: https://chatgpt.com",
            "-H",
            "Origin: https://evil.test",
            CONTINUE,
        ],
    );
    assert_eq!(
        two.header("x-warden-rule"),
        Some("coaching.origin"),
        "two Origins"
    );
    let scripted = post_form(
        gw,
        Some("alice"),
        CONTINUE,
        &[("ticket", &alices)],
        &["-H", "Sec-Fetch-Mode: cors", "-H", "Sec-Fetch-Dest: empty"],
    );
    assert_eq!(
        scripted.header("x-warden-rule"),
        Some("coaching.not_a_click")
    );
    let get = as_user(
        gw,
        Some("alice"),
        &["-H", "Origin: https://chatgpt.com", CONTINUE],
    );
    assert_eq!(get.status, 405);
    let forged = post_form(
        gw,
        Some("alice"),
        CONTINUE,
        &[("ticket", "wt_forgedforgedforgedforgedforgedforged")],
        &[],
    );
    assert_eq!(
        forged.header("x-warden-rule"),
        Some("coaching.ticket_unknown")
    );

    // Oversize justification: refused before the ticket is spent; an oversize body: 413.
    let long = "x".repeat(501);
    let too_long = post_form(
        gw,
        Some("alice"),
        CONTINUE,
        &[("ticket", &alices), ("justification", &long)],
        &[],
    );
    assert_eq!(too_long.status, 400);
    assert_eq!(
        too_long.header("x-warden-rule"),
        Some("coaching.text_too_long")
    );
    let huge = "y".repeat(20_000);
    let too_big = post_form(
        gw,
        Some("alice"),
        CONTINUE,
        &[("ticket", &alices), ("pad", &huge)],
        &[],
    );
    assert_eq!(too_big.status, 413);

    // Continue, with HTML in the justification: back to the warned page, with a pass.
    let why = "<script>alert(1)</script> drafting the Q3 memo";
    let done = post_form(
        gw,
        Some("alice"),
        CONTINUE,
        &[("ticket", &alices), ("justification", why)],
        &[],
    );
    assert_eq!(done.status, 303, "{}", done.body_text());
    assert_eq!(done.header("location"), Some("/c/1?x=2"));
    assert_eq!(done.header("x-warden-action"), Some("continue"));
    let replay = post_form(gw, Some("alice"), CONTINUE, &[("ticket", &alices)], &[]);
    assert_eq!(
        replay.header("x-warden-rule"),
        Some("coaching.ticket_unknown")
    );

    let passed = page(gw, Some("alice"), "https://chatgpt.com/c/1");
    assert_eq!(passed.status, 200, "{}", passed.body_text());
    assert!(passed.body_text().contains("origin page /c/1"));
    let bobs = page(gw, Some("bob"), "https://chatgpt.com/c/1");
    assert_eq!(
        bobs.header("x-warden-action"),
        Some("warn"),
        "a pass is one person's"
    );

    // The pass lifts the warning, not the rules after it: a secret is still stopped.
    let key = format!("AKIA{}", "Q7RZ4XH2LMNB5TWE");
    let secret = as_user(
        gw,
        Some("alice"),
        &[
            "-H",
            "Content-Type: application/json",
            "-d",
            &format!("{{\"prompt\":\"aws_access_key_id = {key}\"}}"),
            "https://chatgpt.com/backend-api/conversation",
        ],
    );
    assert_eq!(secret.status, 403);
    assert_eq!(secret.header("x-warden-rule"), Some("dlp-until-approved"));

    // The events: the warning, the Continue with its justification, the request it allowed.
    let ch = s.clickhouse.as_ref().unwrap();
    let cont = wait_query(
        ch,
        "SELECT user, app_id, rule_id, blocked, detail FROM warden.http_events WHERE action = 'continue'",
        |t| !t.is_empty(),
    );
    assert!(
        cont.starts_with("alice\tchatgpt\tcoach-in-review\t0\t"),
        "{cont}"
    );
    assert!(
        cont.contains("justification: <script>alert(1)</script> drafting the Q3 memo"),
        "{cont}"
    );
    let after = wait_query(
        ch,
        "SELECT action, detail FROM warden.http_events WHERE user = 'alice' AND path = '/c/1' AND status = 200",
        |t| !t.is_empty(),
    );
    assert!(after.contains("drafting the Q3 memo"), "{after}");
    let warned_rows = query(
        ch,
        "SELECT count() FROM warden.http_events WHERE action = 'warn' AND blocked = 1",
    );
    assert_ne!(warned_rows, "0");

    // On the dashboard's event page the justification is text, never markup.
    let id = query(
        ch,
        "SELECT request_id FROM warden.http_events WHERE action = 'continue'",
    );
    let jar = s._dir.path().join("cookies").display().to_string();
    let base = format!("http://{}", gw.admin);
    let login = curl(&[
        "-c",
        &jar,
        "--data-urlencode",
        &format!("token={}", s.admin),
        &format!("{base}/login"),
    ]);
    assert_eq!(login.status, 303, "{}", login.body_text());
    let event = curl(&["-b", &jar, &format!("{base}/events/{id}")]);
    assert_eq!(event.status, 200, "{}", event.body_text());
    let html = event.body_text();
    assert!(
        html.contains("&lt;script&gt;alert(1)&lt;/script&gt; drafting the Q3 memo"),
        "{html}"
    );
    assert!(!html.contains("<script>alert(1)"), "{html}");
}

#[test]
fn an_expired_ticket_or_pass_is_refused() {
    let s = start(
        Some(POLICY),
        true,
        "ticket_ttl = \"1s\"\npass_duration = \"2s\"\n",
        false,
    );
    set_status(&s, "chatgpt", "in_review");
    let gw = &s.gw;
    let stale = ticket_of(&page(gw, Some("alice"), "https://chatgpt.com/"));
    std::thread::sleep(Duration::from_millis(1300));
    let late = post_form(gw, Some("alice"), CONTINUE, &[("ticket", &stale)], &[]);
    assert_eq!(late.status, 403);
    assert_eq!(
        late.header("x-warden-rule"),
        Some("coaching.ticket_expired")
    );

    let fresh = ticket_of(&page(gw, Some("alice"), "https://chatgpt.com/"));
    assert_eq!(
        post_form(gw, Some("alice"), CONTINUE, &[("ticket", &fresh)], &[]).status,
        303
    );
    assert_eq!(page(gw, Some("alice"), "https://chatgpt.com/").status, 200);
    std::thread::sleep(Duration::from_millis(2300));
    let again = page(gw, Some("alice"), "https://chatgpt.com/");
    assert_eq!(
        again.header("x-warden-action"),
        Some("warn"),
        "the pass ended"
    );
}

#[test]
fn access_requests_are_deduplicated_rate_limited_bounded_and_decided_by_admins() {
    let s = start(
        Some(POLICY),
        true,
        "requests_per_user_per_hour = 3\nmax_open_requests = 1\n",
        false,
    );
    set_status(&s, "claude", "unapproved");
    let gw = &s.gw;

    // The block page offers Request access (no Continue).
    let blocked = page(gw, Some("alice"), "https://claude.ai/new");
    assert_eq!(blocked.header("x-warden-action"), Some("block"));
    assert!(blocked.body_text().contains("warden-request-access"));
    assert!(!blocked.body_text().contains("warden-continue"));
    let continue_on_block = post_form(
        gw,
        Some("alice"),
        "https://claude.ai/.warden/continue",
        &[("ticket", &ticket_of(&blocked))],
        &[],
    );
    assert_eq!(
        continue_on_block.header("x-warden-rule"),
        Some("coaching.not_continuable")
    );

    // A flood: three filings an hour, repeats kept as one request.
    let reason = "<img src=x onerror=alert(1)> for the legal team";
    let mut statuses = Vec::new();
    for _ in 0..8 {
        let ticket = ticket_of(&page(gw, Some("alice"), "https://claude.ai/new"));
        let filed = post_form(
            gw,
            Some("alice"),
            REQUEST,
            &[("ticket", &ticket), ("reason", reason)],
            &[],
        );
        statuses.push(filed.status);
    }
    assert_eq!(statuses, [200, 200, 200, 429, 429, 429, 429, 429]);
    // The queue is full (one open request): bob is told to come back later.
    let bobs = ticket_of(&page(gw, Some("bob"), "https://claude.ai/new"));
    let full = post_form(gw, Some("bob"), REQUEST, &[("ticket", &bobs)], &[]);
    assert_eq!(full.status, 503, "{}", full.body_text());

    let (status, list) = api(gw, &s.admin, "/api/v1/access-requests");
    assert_eq!(status, 200);
    let requests = list["requests"].as_array().unwrap();
    assert_eq!(requests.len(), 1, "{list}");
    let r = &requests[0];
    assert_eq!(
        (r["user"].as_str(), r["app_id"].as_str()),
        (Some("alice"), Some("claude"))
    );
    assert_eq!(r["repeats"], 2);
    assert_eq!(r["reason"], reason, "kept as text, escaped where shown");
    let id = r["id"].as_str().unwrap().to_string();

    // Analysts read but cannot decide; an admin denies once.
    let analyst = live_token(gw, "analyst", "ana");
    assert_eq!(
        api(gw, &analyst, "/api/v1/access-requests?state=open").0,
        200
    );
    let path = format!("/api/v1/access-requests/{id}/deny");
    assert_eq!(api_post(&s, &analyst, &path).0, 403);
    let (status, denied) = api_post(&s, &s.admin, &path);
    assert_eq!(status, 200, "{denied}");
    assert_eq!(denied["request"]["state"], "denied");
    assert_eq!(api_post(&s, &s.admin, &path).0, 409);
    assert_eq!(
        api_post(&s, &s.admin, "/api/v1/access-requests/nope/approve").0,
        404
    );
    let (_, apps) = api(gw, &s.admin, "/api/v1/apps/claude");
    assert_eq!(apps["status"], "unapproved", "denying changes nothing");
    let (_, audit) = api(gw, &s.admin, "/api/v1/audit?limit=100");
    assert!(audit.to_string().contains("deny_access_request"), "{audit}");

    // The command line lists them (read-only).
    let (code, out, err) = gatewayd(gw, &["apps", "requests", "--json"]);
    assert_eq!(code, 0, "{err}");
    let listed: Value = serde_json::from_str(out.lines().next().unwrap_or("null")).unwrap();
    assert_eq!(
        (listed["id"].as_str(), listed["state"].as_str()),
        (Some(id.as_str()), Some("denied"))
    );

    // Persisted in the state dir, private.
    let file = gw.dir.path().join("state/access-requests.json");
    let mode =
        std::os::unix::fs::PermissionsExt::mode(&std::fs::metadata(&file).unwrap().permissions());
    assert_eq!(mode & 0o077, 0);
    let (code, _, _) = gatewayd(gw, &["check"]);
    assert_eq!(code, 0);
}

#[test]
fn dlp_monitors_approved_apps_in_the_default_policy_and_blocks_nothing_new() {
    let s = start(None, false, "", true);
    set_status(&s, "chatgpt", "approved");
    set_status(&s, "claude", "in_review");
    let gw = &s.gw;
    let key = format!("AKIA{}", "Q7RZ4XH2LMNB5TWE");
    let prompt = format!("{{\"prompt\":\"deploy is failing: aws_access_key_id = {key}\"}}");
    let send = |url: &str| {
        as_user(
            gw,
            None,
            &[
                "-H",
                "Content-Type: application/json",
                "-H",
                "Accept: application/json",
                "-d",
                &prompt,
                url,
            ],
        )
    };
    let approved = send("https://chatgpt.com/backend-api/conversation");
    assert_eq!(
        approved.status,
        200,
        "monitor mode blocks nothing: {}",
        approved.body_text()
    );
    let in_review = send("https://claude.ai/api/organizations/o/chat_conversations/c/completion");
    assert_eq!(
        in_review.status, 403,
        "apps not approved are blocked as before"
    );
    assert_eq!(
        in_review.header("x-warden-rule"),
        Some("dlp-until-approved")
    );
    set_status(&s, "claude", "unapproved");
    let unapproved = send("https://claude.ai/api/organizations/o/chat_conversations/c/completion");
    assert_eq!(unapproved.header("x-warden-rule"), Some("block-unapproved"));

    let ch = s.clickhouse.as_ref().unwrap();
    let row = wait_query(
        ch,
        "SELECT action, blocked, rule_id, dlp_detectors FROM warden.http_events WHERE app_id = 'chatgpt' AND method = 'POST'",
        |t| !t.is_empty(),
    );
    assert_eq!(row, "audit\t0\taudit-approved\t['aws_access_key_id']");
    let finding = wait_query(
        ch,
        "SELECT detector, action, snippet FROM warden.dlp_findings WHERE app_id = 'chatgpt'",
        |t| !t.is_empty(),
    );
    assert!(
        finding.starts_with("aws_access_key_id\taudit\t"),
        "{finding}"
    );
    assert!(!finding.contains(&key[4..]), "masked: {finding}");

    // The report's DLP view shows it as seen on a sanctioned app, not blocked.
    let (status, dlp) = api(gw, &s.admin, "/api/v1/report/dlp?since=1h");
    assert_eq!(status, 200, "{dlp}");
    assert!(dlp.to_string().contains("aws_access_key_id"), "{dlp}");
}

#[test]
fn in_chromium_a_click_continues_a_script_cannot_and_a_request_reaches_the_dashboard() {
    let s = start(Some(POLICY), false, "", false);
    set_status(&s, "chatgpt", "in_review");
    set_status(&s, "claude", "unapproved");
    let gw = &s.gw;
    let spki = format!(
        "--ignore-certificate-errors-spki-list={}",
        warden_spki(gw).join(",")
    );
    let proxy = gw.proxy_url();
    let user = Browser::start_args(Some(&proxy), None, &[spki, "--disable-quic".into()]);

    // A script on the page (as an injected or origin script would) submits the form: no click,
    // no pass.
    user.goto("https://chatgpt.com/c/2");
    assert!(
        user.text("h1").contains("Think before you continue"),
        "{}",
        user.source()
    );
    user.execute("document.getElementById('warden-continue-form').submit(); return 1;");
    let refused = user.wait_for_source("was not accepted", Duration::from_secs(10));
    assert!(refused.contains("clicking its button"), "{refused}");

    // The person clicks: back on the page they wanted.
    user.goto("https://chatgpt.com/c/2");
    user.fill("#warden-justification", "reviewing a vendor contract");
    user.click("#warden-continue");
    let landed = user.wait_for_source("origin page /c/2", Duration::from_secs(10));
    assert!(landed.contains("origin page /c/2"), "{landed}");
    assert!(user.url().ends_with("/c/2"), "{}", user.url());

    // A blocked app: Request access, with HTML in the reason.
    user.goto("https://claude.ai/new");
    user.fill("#warden-reason", "<b>bold</b> need it for research");
    user.click("#warden-request-access");
    let sent = user.wait_for_source("warden-request-sent", Duration::from_secs(10));
    assert!(
        sent.contains("has been sent to the security team"),
        "{sent}"
    );

    // The security team sees it (escaped) and approves: Claude is approved for everyone.
    let team = Browser::start(None);
    team.goto(&format!("http://{}/login", gw.admin));
    team.fill("#token", &s.admin);
    team.click("#login");
    let deadline = Instant::now() + Duration::from_secs(10);
    while team.url().ends_with("/login") {
        assert!(Instant::now() < deadline, "login did not finish");
        std::thread::sleep(Duration::from_millis(100));
    }
    team.goto(&format!("http://{}/access-requests", gw.admin));
    let row = team.text("#access-requests tbody tr");
    assert!(
        row.contains("<b>bold</b> need it for research"),
        "shown as text: {row}"
    );
    assert!(row.contains("Claude"), "{row}");
    let bolds = team.execute("return document.querySelectorAll('#access-requests b').length;");
    assert_eq!(bolds, 0, "the reason is not markup");
    let (_, list) = api(gw, &s.admin, "/api/v1/access-requests");
    let id = list["requests"][0]["id"].as_str().unwrap().to_string();
    team.click(&format!("#approve-{id}"));
    let after = team.wait_for_source("approved", Duration::from_secs(10));
    assert!(
        !after.contains(&format!("id=\"approve-{id}\"")),
        "decided: no buttons"
    );
    let (_, app) = api(gw, &s.admin, "/api/v1/apps/claude");
    assert_eq!(app["status"], "approved");
    user.goto("https://claude.ai/new");
    let open = user.wait_for_source("origin page /new", Duration::from_secs(10));
    assert!(open.contains("origin page /new"), "{open}");
}
