//! Tenant control (issue 24, "The employee's side"): "we allow ChatGPT, Claude and Microsoft
//! Copilot, but only with our own accounts". The gateway writes the headers the vendors honour
//! into intercepted requests to their hosts — replacing whatever the client sent — and records
//! whether each request used a corporate or a personal account; a policy can block personal
//! use. Real gatewayd, real curl, the real TLS origin, a real ClickHouse.

use std::process::Command;
use std::time::{Duration, Instant};

use schema::testkit::ClickHouseServer;

use crate::support::tools::gatewayd_binary;
use crate::support::{clickhouse_sql, curl, GatewayOptions, GatewayProcess, Origin};

const WORKSPACE: &str = "437adf77-4085-4b22-b7b1-de7b6f5ec6c0";
const PARTNER: &str = "6ba7b810-9dad-11d1-80b4-00c04fd430c8";
const PERSONAL: &str = "99999999-8888-7777-6666-555555555555";
const CLAUDE_ORG: &str = "550e8400-e29b-41d4-a716-446655440000";
const CLAUDE_PERSONAL: &str = "12121212-3434-5656-7878-909090909090";

fn tenants() -> String {
    format!(
        "[tenants.chatgpt]\nids = [\"{WORKSPACE}\", \"{PARTNER}\"]\n\n\
         [tenants.claude]\nids = [\"{CLAUDE_ORG}\"]\n\n\
         [tenants.microsoft-365-copilot]\nids = [\"contoso.com\", \"contoso.onmicrosoft.com\"]\n\
         context = \"{WORKSPACE}\"\n\n"
    )
}

/// `curl -x gw --cacert root ARGS URL`: status and body.
fn through(gw: &GatewayProcess, args: &[&str], url: &str) -> (u16, String, Option<String>) {
    let root = gw.root_pem.display().to_string();
    let proxy = gw.proxy_url();
    let mut all = vec!["-x", proxy.as_str(), "--cacert", root.as_str()];
    all.extend_from_slice(args);
    all.push(url);
    let got = curl(&all);
    let rule = got.header("x-warden-rule").map(str::to_owned);
    (got.status, got.body_text(), rule)
}

/// The lines of the origin's `/headers` answer whose name is `name`.
fn lines<'a>(body: &'a str, name: &str) -> Vec<&'a str> {
    body.lines()
        .filter(|l| {
            l.split_once(':')
                .is_some_and(|(n, _)| n.eq_ignore_ascii_case(name))
        })
        .collect()
}

#[test]
fn vendor_headers_go_to_vendor_hosts_only_and_replace_the_clients_own() {
    let dir = tempfile::tempdir().unwrap();
    let origin = Origin::start(dir.path());
    let gw = GatewayProcess::start(
        &origin,
        GatewayOptions {
            sections: tenants(),
            ..Default::default()
        },
    );
    let ours = format!("chatgpt-allowed-workspace-id: {WORKSPACE},{PARTNER}");

    // The attack: a client sends its own allow-list, naming its personal workspace, hoping
    // the vendor sees it (alone, or first) and lets the personal account in.
    let forged = format!("ChatGPT-Allowed-Workspace-Id: {PERSONAL}");
    for http in ["--http1.1", "--http2"] {
        let (status, body, _) = through(
            &gw,
            &[http, "-H", &forged, "-H", "X-Other: kept"],
            "https://chatgpt.com/headers",
        );
        assert_eq!(status, 200, "{body}");
        assert_eq!(
            lines(&body, "chatgpt-allowed-workspace-id"),
            [ours.as_str()],
            "{http}: {body}"
        );
        assert!(!body.contains(PERSONAL), "{body}");
        assert_eq!(lines(&body, "x-other"), ["x-other: kept"]);
    }

    // Anthropic's numbered continuation headers are the vendor's too: a client cannot add
    // slots to (or break) the organisation's list.
    let (_, body, _) = through(
        &gw,
        &[
            "-H",
            &format!("anthropic-allowed-org-ids: {PERSONAL};n=2"),
            "-H",
            &format!("anthropic-allowed-org-ids1: {PERSONAL}"),
        ],
        "https://claude.ai/headers",
    );
    assert_eq!(
        lines(&body, "anthropic-allowed-org-ids"),
        [format!("anthropic-allowed-org-ids: {CLAUDE_ORG}").as_str()],
        "{body}"
    );
    assert!(
        lines(&body, "anthropic-allowed-org-ids1").is_empty(),
        "{body}"
    );
    let (_, body, _) = through(&gw, &[], "https://api.anthropic.com/headers");
    assert_eq!(lines(&body, "anthropic-allowed-org-ids").len(), 1, "{body}");

    // Microsoft's sign-in host gets tenant restrictions; what is not configured (the v2
    // policy) is not sent, and the client's own copy is not passed on either.
    let (_, body, _) = through(
        &gw,
        &["-H", "sec-Restrict-Tenant-Access-Policy: client:chosen"],
        "https://login.microsoftonline.com/headers",
    );
    assert_eq!(
        lines(&body, "restrict-access-to-tenants"),
        ["restrict-access-to-tenants: contoso.com,contoso.onmicrosoft.com"],
        "{body}"
    );
    assert_eq!(
        lines(&body, "restrict-access-context"),
        [format!("restrict-access-context: {WORKSPACE}").as_str()]
    );
    assert!(
        lines(&body, "sec-restrict-tenant-access-policy").is_empty(),
        "{body}"
    );

    // Other hosts get nothing: not another host of the same app (OpenAI names chatgpt.com
    // only), not an unrelated host, and not plain HTTP, where the organisation's ids would
    // cross the network in clear text.
    for url in [
        "https://chat.openai.com/headers",
        "https://api.test/headers",
        "http://chatgpt.com/headers",
    ] {
        let (status, body, _) = through(&gw, &[], url);
        assert_eq!(status, 200, "{url}: {body}");
        assert!(
            !body.contains(WORKSPACE) && !body.contains(CLAUDE_ORG),
            "{url}: {body}"
        );
    }
}

fn wait_rows(clickhouse: &ClickHouseServer, sql: &str, rows: usize) -> String {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let got = clickhouse_sql(&clickhouse.http_url(), sql);
        let text = got.body_text().trim().to_string();
        if got.status == 200 && text.lines().count() == rows {
            return text;
        }
        assert!(
            Instant::now() < deadline,
            "{sql}: wanted {rows} rows, last saw {text:?}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn personal_accounts_are_recorded_and_blocked_where_the_policy_says() {
    let dir = tempfile::tempdir().unwrap();
    let origin = Origin::start(dir.path());
    let clickhouse = ClickHouseServer::start().expect("clickhouse-server starts");
    let policy = dir.path().join("tenant-policy.toml");
    std::fs::write(
        &policy,
        "version = \"tenant-1\"\n\n\
         [[rule]]\nid = \"chatgpt-work-accounts-only\"\n\
         when = { app = \"chatgpt\", tenant = \"personal\" }\naction = \"block\"\n",
    )
    .unwrap();
    let sections = format!(
        "{}[clickhouse]\nurl = \"{}\"\ndatabase = \"warden\"\n\n\
         [events]\nflush_interval = \"200ms\"\n\n\
         [policies]\nfiles = [\"{}\"]\n",
        tenants(),
        clickhouse.http_url(),
        policy.display()
    );
    let gw = GatewayProcess::start(
        &origin,
        GatewayOptions {
            sections,
            ..Default::default()
        },
    );
    let account = |id: &str| format!("ChatGPT-Account-Id: {id}");
    let post = |path: &str, extra: &[&str]| {
        let mut args = vec!["-H", "Content-Type: application/json", "-d", "{\"x\":1}"];
        args.extend_from_slice(extra);
        through(&gw, &args, &format!("https://chatgpt.com{path}"))
    };

    let corporate = account(&WORKSPACE.to_uppercase());
    let (status, body, _) = post("/backend-api/corporate", &["-H", &corporate]);
    assert_eq!(status, 200, "the work workspace is used as usual: {body}");

    let personal = account(PERSONAL);
    let (status, page, rule) = post("/backend-api/personal", &["-H", &personal]);
    assert_eq!(status, 403, "{page}");
    assert_eq!(rule.as_deref(), Some("chatgpt-work-accounts-only"));
    assert!(page.contains("only with its own accounts"), "{page}");
    assert!(
        !page.contains(PERSONAL),
        "the page never echoes the id: {page}"
    );

    // Mixed ids (one corporate, one not) are personal use; so is a huge or odd id, which
    // costs a length comparison.
    let (status, _, _) = post("/backend-api/mixed", &["-H", &corporate, "-H", &personal]);
    assert_eq!(status, 403);
    let huge = account(&"7".repeat(6000));
    let (status, _, _) = post("/backend-api/huge", &["-H", &huge]);
    assert_eq!(status, 403);

    // No id: unknown, which is not personal (a strict policy names both).
    let (status, _, _) = post("/backend-api/none", &[]);
    assert_eq!(status, 200);
    // An id only in the body is not read: tenant control never opens a body.
    let body_only = format!("{{\"chatgpt-account-id\":\"{PERSONAL}\"}}");
    let (status, _, _) = through(
        &gw,
        &["-H", "Content-Type: application/json", "-d", &body_only],
        "https://chatgpt.com/backend-api/body-only",
    );
    assert_eq!(status, 200);

    // Claude shows the organisation in the URL path; no rule blocks it, it is recorded.
    let (status, _, _) = through(
        &gw,
        &[],
        &format!("https://claude.ai/api/organizations/{CLAUDE_PERSONAL}/projects"),
    );
    assert_eq!(status, 200);
    // A host outside tenant control has an empty column.
    through(&gw, &[], "https://api.test/untracked");

    let rows = wait_rows(
        &clickhouse,
        "SELECT path, tenant, blocked FROM warden.http_events ORDER BY path",
        8,
    );
    let expected = [
        format!("/api/organizations/{CLAUDE_PERSONAL}/projects\tpersonal\t0"),
        "/backend-api/body-only\tunknown\t0".to_string(),
        "/backend-api/corporate\tcorporate\t0".to_string(),
        "/backend-api/huge\tpersonal\t1".to_string(),
        "/backend-api/mixed\tpersonal\t1".to_string(),
        "/backend-api/none\tunknown\t0".to_string(),
        "/backend-api/personal\tpersonal\t1".to_string(),
        "/untracked\t\t0".to_string(),
    ];
    assert_eq!(rows.lines().collect::<Vec<_>>(), expected, "{rows}");
    // The id a header carried is nowhere in the event, nor in the gateway's log (an id in a
    // URL path is part of the path, which events and logs have always recorded).
    let leaked = clickhouse_sql(
        &clickhouse.http_url(),
        &format!(
            "SELECT count() FROM warden.http_events WHERE host = 'chatgpt.com' AND \
             (position(detail, '{PERSONAL}') > 0 OR position(path, '{PERSONAL}') > 0)"
        ),
    );
    assert_eq!(leaked.body_text().trim(), "0");
    let log = gw.log();
    assert!(!log.contains(PERSONAL), "{log}");
    assert!(
        log.contains("tenant=personal") && log.contains("tenant=corporate"),
        "{log}"
    );
}

/// `gatewayd check --config FILE` on a config holding `tenants`: exit code and stderr.
fn check(dir: &std::path::Path, tenants: &str) -> (i32, String) {
    let path = dir.join("gatewayd.toml");
    std::fs::write(&path, tenants).unwrap();
    let out = Command::new(gatewayd_binary())
        .args(["check", "--config"])
        .arg(&path)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn check_refuses_tenant_ids_that_would_inject_headers() {
    let dir = tempfile::tempdir().unwrap();
    // The attack: a value that ends the header line and starts one of its own (TOML's
    // escapes make it easy to write), or widens a list with a comma or `;n=`.
    for evil in [
        r#"ids = ["ws\r\nX-Injected: 1"]"#,
        r#"ids = ["a,b"]"#,
        r#"ids = ["ok"]
policy = "x;n=9""#,
    ] {
        let (code, stderr) = check(dir.path(), &format!("[tenants.chatgpt]\n{evil}\n"));
        assert_eq!(code, 2, "{evil}: {stderr}");
        assert!(stderr.contains("tenants.chatgpt"), "{stderr}");
        assert!(!stderr.contains("X-Injected: 1\n"), "{stderr}");
    }
    let (code, stderr) = check(dir.path(), "[tenants.chatgpt]\nidz = [\"a\"]\n");
    assert_eq!(code, 2, "unknown keys are refused: {stderr}");
    // An app the catalog has no tenant hint for cannot be configured (no header to send).
    let (code, stderr) = check(dir.path(), "[tenants.perplexity]\nids = [\"a\"]\n");
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("no tenant hint"), "{stderr}");
    let (code, stderr) = check(dir.path(), &tenants());
    assert_eq!(code, 0, "{stderr}");
}
