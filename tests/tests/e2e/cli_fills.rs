//! What a first user had to look up elsewhere (user review, items 7 and 8): `gatewayd apps
//! list` shows every app's approval status (what `set-status` changed), and `devices
//! enroll-token` prints an `agent enroll` line with the gateway's real tunnel address, the token
//! and the root's fingerprint, which works when pasted; the start log names the real port;
//! the dashboard answers the browser's favicon request.

use std::process::Command;

use crate::support::agent::{devices_cli, free_port, root_fingerprint};
use crate::support::gateway::gatewayd;
use crate::support::tools::agent_binary;
use crate::support::{GatewayOptions, GatewayProcess, Origin};

#[test]
fn apps_list_shows_the_approval_statuses_set_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let origin = Origin::start(dir.path());
    let gw = GatewayProcess::start(&origin, GatewayOptions::default());
    let (code, _, err) = gatewayd(&gw, &["apps", "set-status", "chatgpt", "approved"]);
    assert_eq!(code, 0, "{err}");

    let (code, out, err) = gatewayd(&gw, &["apps", "list"]);
    assert_eq!(code, 0, "{err}");
    let line = |id: &str| {
        out.lines()
            .find(|l| l.split_whitespace().next() == Some(id))
            .unwrap_or_else(|| panic!("{id} missing:\n{out}"))
            .to_string()
    };
    assert!(out.lines().next().unwrap().contains("STATUS"), "{out}");
    assert!(line("chatgpt").ends_with("approved"), "{}", line("chatgpt"));
    assert!(line("claude").ends_with("unreviewed"), "{}", line("claude"));

    let (code, out, _) = gatewayd(&gw, &["apps", "list", "--status", "approved"]);
    assert_eq!(code, 0);
    assert_eq!(
        out.lines().count(),
        2,
        "the heading and chatgpt only:\n{out}"
    );
    let (code, out, _) = gatewayd(&gw, &["apps", "list", "--status", "approved", "--json"]);
    assert_eq!(code, 0);
    let row: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(
        (row["id"].as_str(), row["status"].as_str()),
        (Some("chatgpt"), Some("approved"))
    );
    let (code, _, err) = gatewayd(&gw, &["apps", "list", "--status", "maybe"]);
    assert_eq!(code, 2, "{err}");

    // (Every dashboard page's console logged a 404 for the icon browsers ask for.)
    let icon = crate::support::curl(&[&format!("http://{}/favicon.ico", gw.admin)]);
    assert_eq!(icon.status, 204);
}

#[test]
fn the_enroll_token_hint_is_a_command_that_works_when_pasted() {
    let dir = tempfile::tempdir().unwrap();
    let origin = Origin::start(dir.path());
    let port = free_port();
    let gw = GatewayProcess::start(
        &origin,
        GatewayOptions {
            sections: format!("[tunnel]\nlisten = \"127.0.0.1:{port}\"\n"),
            ..Default::default()
        },
    );
    assert!(
        gw.log()
            .contains(&format!("agents dial https://127.0.0.1:{port}")),
        "{}",
        gw.log()
    );
    let out = devices_cli(&gw, &["enroll-token", "--user", "alice", "--groups", "eng"]);
    assert!(out.status.success());
    let hint = String::from_utf8_lossy(&out.stderr).into_owned();
    let token = String::from_utf8_lossy(&out.stdout).trim().to_string();
    let command = hint
        .lines()
        .map(str::trim)
        .find(|l| l.starts_with("agent enroll"))
        .unwrap_or_else(|| panic!("{hint}"));
    assert_eq!(
        command,
        format!(
            "agent enroll --gateway https://127.0.0.1:{port} --token {token} --ca-fingerprint {}",
            root_fingerprint(&gw)
        )
    );
    assert!(
        !hint.contains("TUNNEL_PORT") && !hint.contains("ROOT_SHA256"),
        "{hint}"
    );

    // Pasted as printed (plus where this test keeps the device's state), it enrolls.
    let state = dir.path().join("device");
    let args: Vec<&str> = command.split_whitespace().skip(1).collect();
    let enrolled = Command::new(agent_binary())
        .args(&args)
        .arg("--state-dir")
        .arg(&state)
        .env("RUST_LOG", "warn")
        .output()
        .unwrap();
    assert!(
        enrolled.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&enrolled.stderr),
        gw.log()
    );
}
