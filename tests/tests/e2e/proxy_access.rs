//! "Warden is never an open proxy": who may use it, proxy authentication, and the PAC file.

use std::process::Command;

use crate::support::tools::gatewayd_binary;
use crate::support::{curl, GatewayOptions, GatewayProcess, Origin};

pub(crate) fn users_file(dir: &std::path::Path) -> String {
    let output = Command::new(gatewayd_binary())
        .args(["users", "hash-password"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut child| {
            use std::io::Write;
            child.stdin.take().unwrap().write_all(b"correct horse\n")?;
            child.wait_with_output()
        })
        .unwrap();
    assert!(output.status.success());
    let stdout = String::from_utf8(output.stdout).unwrap();
    let hash = stdout.lines().last().unwrap();
    let path = dir.join("users.toml");
    std::fs::write(
        &path,
        format!(
            "[[user]]\nname = \"alice\"\npassword_hash = \"{hash}\"\ngroups = [\"engineering\"]\n"
        ),
    )
    .unwrap();
    path.display().to_string()
}

#[test]
fn non_loopback_listener_refuses_unknown_sources_and_requires_credentials() {
    let dir = tempfile::tempdir().unwrap();
    let origin = Origin::start(dir.path());
    let users = users_file(dir.path());
    // Listening on all addresses: the loopback client is neither local-on-loopback nor in the
    // allowed range, so it must authenticate.
    let gw = GatewayProcess::start(
        &origin,
        GatewayOptions {
            listen: Some("0.0.0.0:0".into()),
            proxy: format!("allow_sources = [\"192.0.2.0/24\"]\nusers_file = \"{users}\"\n"),
            ..Default::default()
        },
    );
    let proxy = format!("http://127.0.0.1:{}", gw.proxy.port());
    let root = gw.root_pem.display().to_string();

    let anonymous = curl(&["-x", &proxy, "--cacert", &root, "https://chat.test/echo"]);
    assert_ne!(anonymous.exit, 0, "CONNECT without credentials must fail");
    assert!(anonymous.stderr.contains("407"), "{}", anonymous.stderr);

    let wrong = curl(&[
        "-x",
        &proxy,
        "-U",
        "alice:wrong",
        "--cacert",
        &root,
        "https://chat.test/echo",
    ]);
    assert!(wrong.stderr.contains("407"), "{}", wrong.stderr);

    let good = curl(&[
        "-x",
        &proxy,
        "-U",
        "alice:correct horse",
        "--cacert",
        &root,
        "-d",
        "hi",
        "https://chat.test/echo",
    ]);
    assert_eq!(good.status, 200, "{}", good.stderr);
    assert_eq!(good.body_text(), "hi");
    let plain = curl(&[
        "-x",
        &proxy,
        "-U",
        "alice:correct horse",
        "http://plain.test/echo",
        "-d",
        "p",
    ]);
    assert_eq!(
        plain.header("x-origin-saw-proxy-auth"),
        Some("no"),
        "credentials never go upstream"
    );
    assert!(gw.wait_for_log("user=alice", std::time::Duration::from_secs(5)));
}

#[test]
fn without_users_an_unlisted_source_is_denied() {
    let dir = tempfile::tempdir().unwrap();
    let origin = Origin::start(dir.path());
    let gw = GatewayProcess::start(
        &origin,
        GatewayOptions {
            listen: Some("0.0.0.0:0".into()),
            proxy: "allow_sources = [\"192.0.2.0/24\"]\n".into(),
            ..Default::default()
        },
    );
    let proxy = format!("http://127.0.0.1:{}", gw.proxy.port());
    let result = curl(&["-x", &proxy, "http://plain.test/echo"]);
    assert_eq!(result.status, 403);
    assert_eq!(result.header("x-warden-rule"), Some("proxy.access"));
}

#[test]
fn the_pac_file_points_browsers_at_the_proxy() {
    let dir = tempfile::tempdir().unwrap();
    let origin = Origin::start(dir.path());
    let gw = GatewayProcess::start(&origin, GatewayOptions::default());
    let result = curl(&[&format!("http://{}/proxy.pac", gw.proxy)]);
    assert_eq!(result.status, 200);
    assert_eq!(
        result.header("content-type"),
        Some("application/x-ns-proxy-autoconfig")
    );
    assert!(
        result.body_text().contains(&format!("PROXY {}", gw.proxy)),
        "{}",
        result.body_text()
    );
}
