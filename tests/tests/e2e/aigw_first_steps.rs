//! "What a new user of the AI gateway tripped over" (issues 19 and 24, review 2), each step
//! performed as the user did it: deleting a provider key that a provider uses (the CLI refuses
//! without `--force`, the dashboard asks, naming the providers; callers then get a message
//! without the admin's command), a virtual key for a model that does not exist (refused with
//! the known ones, CLI and dashboard), the master-key hint once a store exists, and
//! `gatewayd check` never printing "ok" before it fails. With ClickHouse: a page per AI call
//! linked from `/ai`, a user page for a person who only used the AI gateway, the spend chart
//! in cents, the filters the page applies, a provider's error not counted as an unknown cost,
//! a provider's cut stream counting the output sent, and a median latency that leaves out
//! calls refused before a provider.

use std::process::{Command, Stdio};
use std::time::Duration;

use schema::testkit::ClickHouseServer;
use serde_json::{json, Value};

use crate::aigw::{plan, with, AiGateway};
use crate::aigw_spend::{num, rows, sections};
use crate::support::tools::gatewayd_binary;
use crate::support::webdriver::Browser;

fn admin_addr(gw: &AiGateway) -> String {
    let listen = std::fs::read_to_string(gw.dir.path().join("state/listen.json")).unwrap();
    let listen: Value = serde_json::from_str(&listen).unwrap();
    listen["admin"].as_str().unwrap().to_string()
}

/// `gatewayd ARGS` in the gateway's directory with `env` set: (exit code, stdout, stderr).
fn gatewayd(gw: &AiGateway, args: &[&str], env: &[(&str, &str)]) -> (i32, String, String) {
    let out = Command::new(gatewayd_binary())
        .args(args)
        .current_dir(gw.dir.path())
        .envs(env.iter().copied())
        .env_remove("WARDEN_MASTER_KEY")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn login(gw: &mut AiGateway, role: &str, name: &str) -> (Browser, String) {
    let token = gw
        .cli(
            &["admin", "token", "create", "--role", role, "--name", name],
            "",
        )
        .lines()
        .last()
        .unwrap()
        .trim()
        .to_string();
    let admin = admin_addr(gw);
    let browser = Browser::start(None);
    browser.login(&admin, &token);
    (browser, admin)
}

#[test]
fn a_provider_key_in_use_is_not_deleted_by_one_click_and_a_typo_in_models_makes_no_key() {
    let mut gw = AiGateway::start_with(
        "[clickhouse]\nurl = \"http://127.0.0.1:1\"\n[events]\nenabled = false\n",
    );
    let config = ["--config", "gatewayd.toml"];
    let key = gw.virtual_key(&["--name", "k", "--user", "carol"]);

    // The CLI: refused without --force, naming the provider; nothing deleted.
    let (code, _, err) = gatewayd(
        &gw,
        &[&["keys", "delete", "anthropic-prod"], &config[..]].concat(),
        &[],
    );
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("provider anthropic") && err.contains("--force"),
        "the refusal names the provider and the way through: {err}"
    );
    assert!(gw.cli(&["keys", "list"], "").contains("anthropic-prod"));

    // A typo in --models: refused with the models the gateway knows; no key made.
    let (code, out, err) = gatewayd(
        &gw,
        &[
            &[
                "aigw", "keys", "create", "--name", "typo", "--user", "y", "--models", "gpt-99",
            ],
            &config[..],
        ]
        .concat(),
        &[],
    );
    assert_eq!(code, 2, "{err}");
    assert!(!out.contains("wvk_"), "no key printed: {out}");
    assert!(
        err.contains("\"gpt-99\"") && err.contains("gpt-4o-mini, fast, claude"),
        "the known models are listed: {err}"
    );
    assert!(!gw.cli(&["aigw", "keys", "list"], "").contains("typo"));

    // The dashboard: the same typo in the create form, then Delete on a key in use asks first.
    let (browser, admin) = login(&mut gw, "key_admin", "kim");
    browser.goto(&format!("http://{admin}/ai/keys"));
    browser.fill("#key-name", "typo-dash");
    browser.fill("#key-user", "y");
    browser.fill("#key-models", "gpt-99");
    browser.click("#create");
    let page = browser.wait_for_source("knows no model", Duration::from_secs(10));
    assert!(page.contains("gpt-4o-mini, fast"), "{page}");
    assert!(!gw.cli(&["aigw", "keys", "list"], "").contains("typo-dash"));

    browser.goto(&format!("http://{admin}/ai/provider-keys"));
    browser.click("#delete-anthropic-prod");
    let asked = browser.wait_for_source("id=\"confirm\"", Duration::from_secs(10));
    browser.screenshot("aigw-delete-provider-key-in-use");
    assert!(
        browser.text("#confirm").contains("provider anthropic"),
        "the question names the provider: {asked}"
    );
    assert!(
        gw.cli(&["keys", "list"], "").contains("anthropic-prod"),
        "asking deleted nothing"
    );
    browser.click("#confirm-yes");
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while gw.cli(&["keys", "list"], "").contains("anthropic-prod") {
        assert!(
            std::time::Instant::now() < deadline,
            "not deleted after Confirm"
        );
        std::thread::sleep(Duration::from_millis(100));
    }

    // Its callers: told whom to ask, not an administrator's command.
    let results = gw.clients(vec![plan("openai", &key, "claude", "hello")]);
    let message = results[0]["message"].as_str().unwrap_or_default();
    assert_eq!(results[0]["ok"], false, "{}", results[0]);
    assert!(
        message.contains("the provider key is missing; ask the AI gateway's administrators"),
        "{message}"
    );
    assert!(!message.contains("gatewayd keys"), "{message}");
    assert!(
        gw.log().contains("gatewayd keys add anthropic-prod"),
        "the log tells the administrators what to run"
    );

    // --force deletes a key in use.
    let (code, _, err) = gatewayd(
        &gw,
        &[&["keys", "delete", "openai-prod", "--force"], &config[..]].concat(),
        &[],
    );
    assert_eq!(code, 0, "{err}");

    // `gatewayd check` on the config whose keys are now gone: no "ok" on stdout.
    let (code, out, err) = gatewayd(&gw, &["check", "--config", "gatewayd.toml"], &[]);
    assert_eq!(code, 2, "{out}{err}");
    assert!(!out.contains("ok:"), "stdout says ok before failing: {out}");
    assert!(err.contains("not in the key store"), "{err}");

    // The master key from an unset variable while a store exists: the hint names the key the
    // store needs, never "make a new one" (which could not open it).
    let text = std::fs::read_to_string(gw.dir.path().join("gatewayd.toml")).unwrap();
    std::fs::write(
        gw.dir.path().join("env.toml"),
        text.replace("file:master.key", "env:WARDEN_MASTER_KEY"),
    )
    .unwrap();
    let (code, _, err) = gatewayd(&gw, &["keys", "list", "--config", "env.toml"], &[]);
    assert_ne!(code, 0);
    assert!(
        err.contains("stored with (id ") && !err.contains("keys master-key"),
        "{err}"
    );
}

#[test]
fn an_ai_call_has_its_page_an_ai_only_user_has_theirs_and_the_spend_reads_right() {
    let clickhouse = ClickHouseServer::start().expect("clickhouse-server starts");
    let mut gw = AiGateway::start_with(&sections(&clickhouse));
    let erin = gw.virtual_key(&["--name", "erin-laptop", "--user", "erin", "--team", "mkt"]);
    let dave = gw.virtual_key(&["--name", "dave-ci", "--user", "dave"]);
    let results = gw.clients(vec![
        plan("anthropic", &erin, "claude", "hello"),
        // The provider answers 429 with no usage: it bills nothing.
        plan("openai", &erin, "gpt-4o-mini", "please rate-limit me"),
        // The provider cuts the stream after the text.
        with(
            plan("openai", &erin, "gpt-4o-mini", "cut-stream"),
            "stream",
            json!(true),
        ),
        // One call of 1.5 s, and three refused before any provider (an unknown model).
        plan("openai", &dave, "gpt-4o-mini", "slow please"),
        plan("openai", &dave, "nope/model", "hello"),
        plan("openai", &dave, "nope/model", "hello"),
        plan("openai", &dave, "nope/model", "hello"),
    ]);
    let ids: Vec<String> = results
        .iter()
        .map(|r| r["request_id"].as_str().unwrap_or_default().to_string())
        .collect();
    assert_eq!(results[0]["ok"], true, "{}", results[0]);
    let calls = rows(
        &clickhouse,
        "SELECT request_id, status, error, output_tokens, usage_flags, cost_micro_usd, \
         cost_status FROM warden.ai_requests ORDER BY ts",
        7,
        Duration::from_secs(15),
    );
    let row = |id: &str| calls.iter().find(|c| c["request_id"] == id).cloned();
    let limited = calls
        .iter()
        .find(|c| c["status"] == 429)
        .unwrap_or_else(|| panic!("the 429: {calls:?}"));
    assert_eq!(limited["cost_status"], "provider_error", "{limited}");
    assert_eq!(num(&limited["cost_micro_usd"]), 0, "{limited}");
    let cut = calls
        .iter()
        .find(|c| c["error"] == "stream_cut")
        .unwrap_or_else(|| panic!("the cut stream: {calls:?}"));
    assert_eq!(num(&cut["output_tokens"]), 5, "the five pieces sent: {cut}");
    assert_eq!(cut["usage_flags"], json!(["counted"]), "{cut}");

    // The report: the 429 is not "without a known cost"; the median leaves out the refusals.
    let report: Value =
        serde_json::from_str(&gw.cli(&["report", "ai", "--since", "1h", "--json"], "")).unwrap();
    let unpriced = num(&report["totals"]["unpriced_calls"]);
    assert_eq!(
        unpriced, 1,
        "only the cut stream's cost is unknown: {report}"
    );
    let dave_row = report["by_user"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["name"] == "dave")
        .cloned()
        .unwrap();
    assert!(
        num(&dave_row["latency_p50_ms"]) >= 1000,
        "three refusals do not pull the median of one 1.5 s call to 0 ms: {dave_row}"
    );

    let (browser, admin) = login(&mut gw, "analyst", "ana");
    browser.goto(&format!("http://{admin}/ai?since=1h"));
    let page = browser.source();
    browser.screenshot("aigw-first-steps-spend");
    // The chart in dollars and cents, not "0".
    assert!(
        page.contains(">$0.0001840<"),
        "claude's $0.000184 labelled as such: {page}"
    );
    // Filters the page applies, only.
    assert!(page.contains("name=\"user\"") && !page.contains("name=\"country\""));
    // A call links to its own page, not to the proxy's events.
    let call_id = &ids[0];
    assert!(page.contains(&format!("/ai/calls/{call_id}")), "{page}");
    assert!(!page.contains("href=\"/events/"), "{page}");
    browser.goto(&format!("http://{admin}/ai/calls/{call_id}"));
    let call = browser.text("#ai-call");
    browser.screenshot("aigw-first-steps-call");
    for expected in [
        "erin",
        "claude",
        "HTTP 200",
        "$0.0001840 (priced)",
        "erin-laptop",
    ] {
        assert!(call.contains(expected), "{expected} in {call}");
    }
    assert!(row(call_id).is_some());
    // erin never used the proxy: her user page exists and shows her AI gateway calls.
    browser.goto(&format!("http://{admin}/users/erin?since=1h"));
    let user = browser.source();
    assert!(
        user.contains("AI gateway calls") && user.contains("id=\"user-ai\""),
        "{user}"
    );
    assert!(!user.contains("no activity of user"), "{user}");
}

#[test]
fn the_readmes_first_ai_gateway_step_works_on_a_fresh_directory() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("gatewayd.toml"), "[state]\ndir = \"st\"\n").unwrap();
    let run = |args: &[&str], master: &str, stdin: &str| {
        use std::io::Write;
        let mut child = Command::new(gatewayd_binary())
            .args(args)
            .current_dir(dir.path())
            .env("WARDEN_MASTER_KEY", master)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(stdin.as_bytes())
            .unwrap();
        let out = child.wait_with_output().unwrap();
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).trim().to_string(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (_, master, _) = run(&["keys", "master-key"], "", "");
    let (code, _, err) = run(
        &[
            "keys",
            "add",
            "openai-prod",
            "--provider",
            "openai",
            "--config",
            "gatewayd.toml",
        ],
        &master,
        "sk-proj-FreshDirectoryKey0000000000000000",
    );
    assert_eq!(code, 0, "{err}");
    assert!(dir.path().join("st/provider-keys.json").exists());
    // A read on a directory that holds no state still says so and makes nothing.
    let (code, _, err) = run(&["keys", "list"], &master, "");
    assert_ne!(code, 0);
    assert!(err.contains("no state at"), "{err}");
    assert!(!dir.path().join("warden-state").exists());
}
