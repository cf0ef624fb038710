//! "The security team decides, Warden enforces": the catalog maps real AI hosts (sent to the
//! test origin by `upstream.connect_to`) to apps, statuses set through the CLI and the API
//! change what the next request gets, and each rule action does what its name says.

use std::process::Command;
use std::time::Duration;

use crate::support::gateway::gatewayd;
use crate::support::tools::gatewayd_binary;
use crate::support::{curl, GatewayOptions, GatewayProcess, Origin};

fn start(policy: Option<&str>) -> (tempfile::TempDir, Origin, GatewayProcess) {
    let dir = tempfile::tempdir().unwrap();
    let origin = Origin::start(dir.path());
    let sections = match policy {
        Some(text) => {
            let path = dir.path().join("policy.toml");
            std::fs::write(&path, text).unwrap();
            format!("[policies]\nfiles = [\"{}\"]\n", path.display())
        }
        None => String::new(),
    };
    let gw = GatewayProcess::start(
        &origin,
        GatewayOptions {
            sections,
            ..Default::default()
        },
    );
    (dir, origin, gw)
}

fn get(gw: &GatewayProcess, url: &str, accept: &str) -> crate::support::curl::CurlResult {
    let root = gw.root_pem.display().to_string();
    curl(&[
        "-x",
        &gw.proxy_url(),
        "--cacert",
        &root,
        "-H",
        &format!("Accept: {accept}"),
        url,
    ])
}

#[test]
fn an_unapproved_app_gets_the_block_page_as_html_or_json() {
    let (_d, _o, gw) = start(None);
    assert_eq!(
        get(&gw, "https://chatgpt.com/", "text/html").status,
        200,
        "unreviewed apps are usable"
    );
    let (code, out, err) = gatewayd(&gw, &["apps", "set-status", "chatgpt", "unapproved"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("unreviewed -> unapproved"), "{out}");
    std::thread::sleep(Duration::from_millis(1500)); // the daemon notices the CLI's change

    let page = get(&gw, "https://chatgpt.com/", "text/html");
    assert_eq!(page.status, 403);
    assert_eq!(page.header("x-warden-action"), Some("block"));
    assert_eq!(page.header("x-warden-rule"), Some("block-unapproved"));
    assert!(page.body_text().contains("<html"));
    assert!(
        page.body_text().contains("not approved"),
        "{}",
        page.body_text()
    );

    let api = get(
        &gw,
        "https://chatgpt.com/backend-api/models",
        "application/json",
    );
    let value: serde_json::Value = serde_json::from_slice(&api.body).unwrap();
    assert_eq!(value["error"]["rule"], "block-unapproved");

    // A single-page app's fetch() sends `Accept: */*` and says what it is in Sec-Fetch-*:
    // it gets JSON it can show (issue 24), and a navigation still gets the page.
    let root = gw.root_pem.display().to_string();
    let fetch = curl(&[
        "-x",
        &gw.proxy_url(),
        "--cacert",
        &root,
        "-H",
        "Accept: */*",
        "-H",
        "Sec-Fetch-Mode: cors",
        "-H",
        "Sec-Fetch-Dest: empty",
        "https://chatgpt.com/backend-api/conversation",
    ]);
    let value: serde_json::Value = serde_json::from_slice(&fetch.body)
        .unwrap_or_else(|_| panic!("not JSON: {}", fetch.body_text()));
    assert_eq!(value["error"]["rule"], "block-unapproved");
    let navigation = curl(&[
        "-x",
        &gw.proxy_url(),
        "--cacert",
        &root,
        "-H",
        "Accept: application/json",
        "-H",
        "Sec-Fetch-Mode: navigate",
        "-H",
        "Sec-Fetch-Dest: document",
        "https://chatgpt.com/",
    ]);
    assert!(
        navigation.body_text().contains("<html"),
        "{}",
        navigation.body_text()
    );
    assert!(gw.wait_for_log("app=chatgpt ", Duration::from_secs(3)));
    assert!(gw.log().contains("app_status=unapproved"));
}

#[test]
fn block_uploads_refuses_a_multipart_upload_but_passes_a_chat_prompt() {
    // Claude is unreviewed by default: the default policy blocks uploads and scans prompts.
    let (dir, _o, gw) = start(None);
    let root = gw.root_pem.display().to_string();
    let chat = curl(&[
        "-x",
        &gw.proxy_url(),
        "--cacert",
        &root,
        "-H",
        "Content-Type: application/json",
        "-d",
        r#"{"prompt":"Summarise the plot of Hamlet in two sentences."}"#,
        "https://claude.ai/api/organizations/o/chat_conversations/c/completion",
    ]);
    assert_eq!(chat.status, 200, "{}", chat.body_text());
    assert!(
        chat.body_text().contains("Hamlet"),
        "the prompt reached the app"
    );

    let file = dir.path().join("notes.txt");
    std::fs::write(&file, "quarterly numbers").unwrap();
    let upload = curl(&[
        "-x",
        &gw.proxy_url(),
        "--cacert",
        &root,
        "-F",
        &format!("file=@{}", file.display()),
        "https://claude.ai/api/upload",
    ]);
    assert_eq!(upload.status, 403, "{}", upload.body_text());
    assert_eq!(
        upload.header("x-warden-rule"),
        Some("no-uploads-until-approved")
    );
}

#[test]
fn isolate_passes_reads_and_refuses_writes() {
    let (_d, _o, gw) = start(Some(
        "version = \"isolate-test\"\n[[rule]]\nid = \"chatgpt-view-only\"\nwhen = { app = \"chatgpt\" }\naction = \"isolate\"\n",
    ));
    assert_eq!(
        get(&gw, "https://chatgpt.com/c/123", "text/html").status,
        200
    );
    let root = gw.root_pem.display().to_string();
    let post = curl(&[
        "-x",
        &gw.proxy_url(),
        "--cacert",
        &root,
        "-d",
        "{}",
        "https://chatgpt.com/backend-api/conversation",
    ]);
    assert_eq!(post.status, 403);
    assert_eq!(post.header("x-warden-rule"), Some("chatgpt-view-only"));
    assert!(gw.wait_for_log("policy_version=isolate-test", Duration::from_secs(3)));
}

#[test]
fn a_do_not_inspect_rule_shows_the_upstreams_own_certificate() {
    let (_d, origin, gw) = start(Some(
        "[[rule]]\nid = \"pinned-anthropic-api\"\nwhen = { host = \"api.anthropic.com\" }\naction = \"do_not_inspect\"\n",
    ));
    let origin_ca = origin.ca_pem.display().to_string();
    let result = curl(&[
        "-v",
        "-x",
        &gw.proxy_url(),
        "--cacert",
        &origin_ca,
        "https://api.anthropic.com/v1/models",
    ]);
    assert_eq!(result.status, 200, "{}", result.stderr);
    assert!(result.stderr.contains("Test Origin CA"));
    assert!(result.header("x-warden-request-id").is_none());
}

#[test]
fn a_status_change_through_the_api_changes_the_next_request() {
    let (_d, _o, gw) = start(None);
    let (_, admin, _) = gatewayd(
        &gw,
        &[
            "admin", "token", "create", "--role", "admin", "--name", "sec-team",
        ],
    );
    let admin = admin.lines().last().unwrap().to_string();
    let (_, analyst, _) = gatewayd(
        &gw,
        &[
            "admin", "token", "create", "--role", "analyst", "--name", "alice",
        ],
    );
    let analyst = analyst.lines().last().unwrap().to_string();
    std::thread::sleep(Duration::from_millis(1500)); // the daemon picks up new tokens
    let api = format!("http://{}/api/v1/apps/chatgpt/status", gw.admin);
    let put = |token: &str, status: &str| {
        curl(&[
            "-X",
            "PUT",
            "-H",
            &format!("Authorization: Bearer {token}"),
            "-H",
            "Content-Type: application/json",
            "-d",
            &format!("{{\"status\":\"{status}\"}}"),
            &api,
        ])
    };
    assert_eq!(
        put(&analyst, "unapproved").status,
        403,
        "analysts cannot change statuses"
    );
    assert_eq!(put("wdn_forged", "unapproved").status, 401);
    assert_eq!(put(&admin, "sideways").status, 400);

    assert_eq!(put(&admin, "approved").status, 200);
    let approved = get(&gw, "https://chatgpt.com/", "text/html");
    assert_eq!(approved.status, 200);
    assert!(gw.wait_for_log("rule=audit-approved", Duration::from_secs(3)));

    let changed = put(&admin, "unapproved");
    assert_eq!(changed.status, 200);
    let change: serde_json::Value = serde_json::from_slice(&changed.body).unwrap();
    assert_eq!(change["change"]["old"], "approved");
    assert_eq!(change["change"]["actor"], "token:sec-team");
    assert_eq!(
        get(&gw, "https://chatgpt.com/", "text/html").status,
        403,
        "the very next request"
    );

    let listing = curl(&[
        "-H",
        &format!("Authorization: Bearer {analyst}"),
        &format!("http://{}/api/v1/apps", gw.admin),
    ]);
    let apps: serde_json::Value = serde_json::from_slice(&listing.body).unwrap();
    let chatgpt = apps["apps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["id"] == "chatgpt")
        .unwrap();
    assert_eq!(chatgpt["status"], "unapproved");
    let history = curl(&[
        "-H",
        &format!("Authorization: Bearer {analyst}"),
        &format!("http://{}/api/v1/apps/chatgpt/status-history", gw.admin),
    ]);
    let history: serde_json::Value = serde_json::from_slice(&history.body).unwrap();
    assert_eq!(history["changes"].as_array().unwrap().len(), 2);
}

#[test]
fn a_broken_policy_file_keeps_the_last_good_policy() {
    let (dir, _o, gw) = start(Some(
        "version = \"v1\"\n[[rule]]\nid = \"block-chatgpt\"\nwhen = { app = \"chatgpt\" }\naction = \"block\"\n",
    ));
    assert_eq!(get(&gw, "https://chatgpt.com/", "text/html").status, 403);
    std::fs::write(
        dir.path().join("policy.toml"),
        "version = \"v2\"\n[[rule]]\nid = \"x\"\nwhen = { app = \"chatgpt\" }\naction = \"explode\"\n",
    )
    .unwrap();
    assert!(
        gw.wait_for_log("reload refused", Duration::from_secs(5)),
        "{}",
        gw.log()
    );
    assert!(
        gw.log().contains("policy.toml:5:"),
        "the error has its position: {}",
        gw.log()
    );
    let still = get(&gw, "https://chatgpt.com/", "text/html");
    assert_eq!(still.status, 403);
    assert_eq!(still.header("x-warden-rule"), Some("block-chatgpt"));
}

#[test]
fn catalog_match_answers_for_hostile_spellings_of_hosts() {
    let (_d, _o, gw) = start(None);
    for url in [
        "https://chatgpt.com/backend-api/conversation",
        "https://ChatGPT.COM./backend-api/conversation",
        "https://foo.chatgpt.com/",
    ] {
        let (code, out, err) = gatewayd(&gw, &["catalog", "match", url, "--json"]);
        assert_eq!(code, 0, "{url}: {err}");
        let value: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(value["app"]["id"], "chatgpt", "{url}");
    }
    let (_, out, _) = gatewayd(
        &gw,
        &[
            "catalog",
            "match",
            "https://chatgpt.com/backend-api/conversation",
            "--json",
        ],
    );
    assert!(out.contains("\"post_endpoint\":\"prompt\""), "{out}");
    for url in [
        "https://127.0.0.1/",
        "https://example.org/",
        "https://chatgpt.com.evil.example/",
    ] {
        let (code, _, _) = gatewayd(&gw, &["catalog", "match", url]);
        assert_eq!(code, 1, "{url} matches nothing");
    }
    let (code, _, _) = gatewayd(&gw, &["catalog", "match", "not a url"]);
    assert_eq!(code, 2);
    let (code, out, _) = gatewayd(&gw, &["catalog", "list", "--json"]);
    assert_eq!(code, 0);
    let apps: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert!(apps.as_array().unwrap().len() >= 300);
}

#[test]
fn check_reports_policy_errors_with_positions_and_unknown_apps_as_warnings() {
    let (dir, _o, gw) = start(None);
    let policy = dir.path().join("p.toml");
    let config = dir.path().join("c.toml");
    std::fs::write(
        &config,
        format!("[policies]\nfiles = [\"{}\"]\n", policy.display()),
    )
    .unwrap();
    std::fs::write(
        &policy,
        "[[rule]]\nid = \"a\"\nwhen = { app = \"no-such-app\" }\naction = \"block\"\n",
    )
    .unwrap();
    let output = Command::new(gatewayd_binary())
        .args(["check", "--config"])
        .arg(&config)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("warning") && stderr.contains("no-such-app"),
        "{stderr}"
    );
    std::fs::write(
        &policy,
        "[[rule]]\nid = \"a\"\nwhen = { colour = \"red\" }\naction = \"block\"\n",
    )
    .unwrap();
    let output = Command::new(gatewayd_binary())
        .args(["check", "--config"])
        .arg(&config)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains(&format!("{}:3:", policy.display())),
        "{stderr}"
    );
    drop(gw);
}

#[test]
fn ai_api_traffic_to_an_unknown_host_is_discovered_for_triage() {
    let (_d, _o, gw) = start(None);
    let root = gw.root_pem.display().to_string();
    let result = curl(&[
        "-x",
        &gw.proxy_url(),
        "--cacert",
        &root,
        "-H",
        "Authorization: Bearer sk-proj-4fJq8xZ2mN7vR1tY6wE3uI9oP0aS5dF",
        "-H",
        "Content-Type: application/json",
        "-d",
        r#"{"model":"x","messages":[{"role":"user","content":"hello"}]}"#,
        "https://origin.test/v1/chat/completions",
    ]);
    assert_eq!(result.status, 200, "{}", result.body_text());
    assert!(
        gw.wait_for_log("discovered=discovered:origin.test", Duration::from_secs(3)),
        "{}",
        gw.log()
    );
    assert!(
        gw.log().contains("app_status=unreviewed"),
        "shadow AI is recorded as unreviewed"
    );
    // Discovery is evidence for a person; it changes no decision until someone decides
    // (issue 24): a card number to the discovered host is not DLP-blocked by it.
    let second = curl(&[
        "-x",
        &gw.proxy_url(),
        "--cacert",
        &root,
        "-H",
        "Authorization: Bearer sk-proj-4fJq8xZ2mN7vR1tY6wE3uI9oP0aS5dF",
        "-H",
        "Content-Type: application/json",
        "-d",
        r#"{"model":"x","messages":[{"role":"user","content":"card 4556 7375 8689 9855"}]}"#,
        "https://origin.test/v1/chat/completions",
    ]);
    assert_eq!(second.status, 200, "{}", second.body_text());
    let (_, admin, _) = gatewayd(
        &gw,
        &[
            "admin", "token", "create", "--role", "analyst", "--name", "triage",
        ],
    );
    let token = admin.lines().last().unwrap().to_string();
    std::thread::sleep(Duration::from_millis(1500));
    let listing = curl(&[
        "-H",
        &format!("Authorization: Bearer {token}"),
        &format!("http://{}/api/v1/discovered", gw.admin),
    ]);
    let value: serde_json::Value = serde_json::from_slice(&listing.body).unwrap();
    let found = &value["discovered"][0];
    assert_eq!(found["host"], "origin.test", "{value}");
    assert_eq!(found["status"], "unreviewed");
    assert!(
        found["evidence"].as_array().unwrap().len() >= 2,
        "path and key both count: {found}"
    );
    assert!(
        !listing.body_text().contains("sk-proj-4fJq"),
        "the key itself is never stored"
    );
    assert!(!gw.log().contains("sk-proj-4fJq"), "nor logged");
    assert_eq!(value["total"], 1);

    let get = |query: &str| {
        curl(&[
            "-H",
            &format!("Authorization: Bearer {token}"),
            &format!("http://{}/api/v1/discovered?{query}", gw.admin),
        ])
    };
    let csv = get("since=1h&format=csv");
    assert!(
        csv.body_text()
            .starts_with("host,requests,users,bytes_up,bytes_down,confidence"),
        "{}",
        csv.body_text()
    );
    assert!(csv.body_text().contains("origin.test"));
    let past: serde_json::Value =
        serde_json::from_slice(&get("from=2020-01-01&to=2020-02-01").body).unwrap();
    assert_eq!(past["total"], 0, "not seen in that range");
    assert_eq!(
        get("user=alice").status,
        400,
        "discovered apps have no users to filter by"
    );
}

#[test]
fn a_browsers_own_google_api_calls_are_not_discovered_as_shadow_ai() {
    // Issue 24, bug 3: Chromium's autofill calls carry a Google API key (`AIza...`, the same
    // format Gemini's API uses) to a shared Google API host; they were put in review, with DLP
    // and the upload block applied to a browser service.
    let (_d, _o, gw) = start(None);
    let root = gw.root_pem.display().to_string();
    let result = curl(&[
        "-x",
        &gw.proxy_url(),
        "--cacert",
        &root,
        "-H",
        "X-Goog-Api-Key: AIzaSyA2KlwBX3mkFo30om9LUFYQhpqLoa_BNhE",
        "-H",
        "Content-Type: application/x-protobuf",
        "--data-binary",
        "\u{8}\u{1}\u{12}\u{4}page",
        "https://content-autofill.googleapis.com/v1/pages/ChVDaHJvbWUvMTIw",
    ]);
    assert_eq!(result.status, 200, "{}", result.body_text());
    assert!(gw.wait_for_log("content-autofill.googleapis.com", Duration::from_secs(3)));
    std::thread::sleep(Duration::from_millis(300));
    let log = gw.log();
    assert!(!log.contains("discovered=discovered:"), "{log}");
    assert!(
        !log.contains("AIzaSyA2KlwBX3mkFo"),
        "the key is never logged"
    );
}

#[test]
fn status_changes_from_cli_runs_and_the_api_at_once_are_all_kept() {
    // The daemon (API) and `gatewayd apps set-status` processes write the same book: each
    // reads, changes and rewrites it, so without the shared lock one overwrites another.
    let (_d, _o, gw) = start(None);
    let (_, admin, _) = gatewayd(
        &gw,
        &[
            "admin", "token", "create", "--role", "admin", "--name", "sec-team",
        ],
    );
    let admin = admin.lines().last().unwrap().to_string();
    std::thread::sleep(Duration::from_millis(1500)); // the daemon picks up the new token
    let by_cli = ["manus", "genspark", "coze", "skywork", "flowith", "dust"];
    let by_api = [
        "lindy",
        "crewai",
        "chatbase",
        "voiceflow",
        "botpress",
        "dify",
    ];
    std::thread::scope(|s| {
        for app in by_cli {
            let gw = &gw;
            s.spawn(move || {
                let (code, _, err) = gatewayd(gw, &["apps", "set-status", app, "approved"]);
                assert_eq!(code, 0, "{app}: {err}");
            });
        }
        for app in by_api {
            let (gw, admin) = (&gw, &admin);
            s.spawn(move || {
                let put = curl(&[
                    "-X",
                    "PUT",
                    "-H",
                    &format!("Authorization: Bearer {admin}"),
                    "-H",
                    "Content-Type: application/json",
                    "-d",
                    "{\"status\":\"approved\"}",
                    &format!("http://{}/api/v1/apps/{app}/status", gw.admin),
                ]);
                assert_eq!(put.status, 200, "{app}: {}", put.body_text());
            });
        }
    });
    std::thread::sleep(Duration::from_millis(1500)); // the daemon notices the CLI's changes
    let listing = curl(&[
        "-H",
        &format!("Authorization: Bearer {admin}"),
        &format!("http://{}/api/v1/apps", gw.admin),
    ]);
    let apps: serde_json::Value = serde_json::from_slice(&listing.body).unwrap();
    let status = |id: &str| {
        apps["apps"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["id"] == id)
            .map(|a| a["status"].clone())
    };
    for app in by_cli.iter().chain(&by_api) {
        assert_eq!(
            status(app),
            Some("approved".into()),
            "{app}'s change was lost"
        );
    }
    let trail =
        std::fs::read_to_string(gw.dir.path().join("state/app-status-changes.jsonl")).unwrap();
    assert_eq!(trail.lines().count(), by_cli.len() + by_api.len());
}
