//! "The proxy is not a way in": a proxy user (or an enrolled device) asks the gateway to reach
//! its own admin port, the ClickHouse on loopback, or a do-not-inspect tunnel with a swapped
//! name — and is refused with a page naming the egress rule, fast, with an event row. Only
//! loopback destinations are dialled here: private and metadata ranges are covered by the
//! policy's unit tests, so a regression can never send test traffic off the machine.

use std::process::Command;
use std::time::{Duration, Instant};

use schema::testkit::ClickHouseServer;

use crate::support::agent::{enroll, free_port, AgentProcess};
use crate::support::tools::require;
use crate::support::{clickhouse_sql, curl, GatewayOptions, GatewayProcess, Origin};

fn events_section(clickhouse: &ClickHouseServer) -> String {
    format!(
        "[clickhouse]\nurl = \"{}\"\ndatabase = \"warden\"\n\n\
         [events]\nflush_interval = \"200ms\"\nbatch_size = 1000\ninsert_timeout = \"3s\"\n",
        clickhouse.http_url()
    )
}

fn port_of(url: &str) -> u16 {
    url.rsplit(':')
        .next()
        .and_then(|p| p.trim_end_matches('/').parse().ok())
        .expect("url with a port")
}

/// Polls ClickHouse until `sql` returns `expected` (TSV, trimmed).
fn wait_for(clickhouse: &ClickHouseServer, sql: &str, expected: &str) {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let text = clickhouse_sql(&clickhouse.http_url(), sql)
            .body_text()
            .trim()
            .to_string();
        if text == expected {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{sql}: wanted {expected:?}, last saw {text:?}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn proxy_users_cannot_reach_the_admin_port_or_the_database_on_loopback() {
    let dir = tempfile::tempdir().unwrap();
    let origin = Origin::start(dir.path());
    let clickhouse = ClickHouseServer::start().expect("clickhouse-server starts");
    let ch_port = port_of(&clickhouse.http_url());
    // The database's port is allowed as a port, so what refuses it is its address.
    let gw = GatewayProcess::start(
        &origin,
        GatewayOptions {
            sections: format!(
                "{}\n[egress]\nallow_ports = [{ch_port}]\n",
                events_section(&clickhouse)
            ),
            ..Default::default()
        },
    );
    let proxy = gw.proxy_url();
    let admin = format!("127.0.0.1:{}", gw.admin.port());
    let drop_sql = "DROP TABLE warden.http_events";
    let encoded_drop = "DROP%20TABLE%20warden.http_events";

    let mut refused_ids = Vec::new();
    let attempts: Vec<(String, &str)> = vec![
        // The admin port: its address is the reason, though its port is refused too.
        (format!("http://{admin}/metrics"), "egress.loopback"),
        (
            format!("http://localhost:{}/metrics", gw.admin.port()),
            "egress.port",
        ),
        (
            format!("http://127.0.0.1:{ch_port}/?query={encoded_drop}"),
            "egress.loopback",
        ),
        // A name that resolves to loopback: judged on the address after resolution.
        (
            format!("http://localhost:{ch_port}/?query=SHOW%20DATABASES"),
            "egress.loopback",
        ),
        (
            format!("http://[::ffff:127.0.0.1]:{ch_port}/?query={encoded_drop}"),
            "egress.loopback",
        ),
        (
            format!("http://127.1.2.3:{ch_port}/?query={encoded_drop}"),
            "egress.loopback",
        ),
        (
            format!("http://0.0.0.0:{ch_port}/?query={encoded_drop}"),
            "egress.unspecified",
        ),
        (
            format!("http://[::1]:{ch_port}/?query={encoded_drop}"),
            "egress.loopback",
        ),
    ];
    for (url, rule) in &attempts {
        let started = Instant::now();
        let result = curl(&["-x", &proxy, "-H", "Accept: application/json", url]);
        assert_eq!(result.status, 403, "{url}: {}", result.stderr);
        assert_eq!(result.header("x-warden-rule"), Some(*rule), "{url}");
        assert_eq!(result.header("x-warden-action"), Some("block"), "{url}");
        let body = result.body_text();
        assert!(
            !body.contains("warden_") && !body.contains("system"),
            "{url}: nothing of the target leaks: {body}"
        );
        assert!(body.contains(rule), "{url}: JSON names the rule: {body}");
        assert!(started.elapsed() < Duration::from_secs(5), "{url}: no hang");
        refused_ids.push(result.header("x-warden-request-id").unwrap().to_string());
    }

    // CONNECT (curl -p) to the same places is refused before the tunnel opens.
    for (target, rule) in [
        (admin.clone(), "egress.loopback"),
        (format!("localhost:{}", gw.admin.port()), "egress.port"),
        (format!("127.0.0.1:{ch_port}"), "egress.loopback"),
    ] {
        let url = format!("http://{target}/?query={encoded_drop}");
        let result = curl(&["-v", "-p", "-x", &proxy, &url]);
        assert_ne!(result.exit, 0, "CONNECT {target} must fail");
        assert!(
            result.stderr.contains("403") && result.stderr.contains(rule),
            "CONNECT {target}: {}",
            result.stderr
        );
    }

    // A WebSocket upgrade takes its own connector: refused the same way.
    let ws = curl(&[
        "-x",
        &proxy,
        "-H",
        "Connection: Upgrade",
        "-H",
        "Upgrade: websocket",
        "-H",
        "Sec-WebSocket-Version: 13",
        "-H",
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==",
        &format!("http://127.0.0.1:{ch_port}/"),
    ]);
    assert_eq!(ws.status, 403, "{}", ws.stderr);
    assert_eq!(ws.header("x-warden-rule"), Some("egress.loopback"));

    // The database was never touched, and ordinary browsing still works.
    let tables = clickhouse_sql(&clickhouse.http_url(), "EXISTS TABLE warden.http_events");
    assert_eq!(tables.body_text().trim(), "1", "{drop_sql} never ran");
    let root = gw.root_pem.display().to_string();
    let ok = curl(&["-x", &proxy, "--cacert", &root, "https://chat.test/hello"]);
    assert_eq!(ok.status, 200, "{}", ok.stderr);

    // Every refusal is an event row: action block, the egress rule.
    let ids = refused_ids
        .iter()
        .map(|id| format!("'{id}'"))
        .collect::<Vec<_>>()
        .join(",");
    wait_for(
        &clickhouse,
        &format!(
            "SELECT count() FROM warden.http_events WHERE request_id IN ({ids}) \
             AND action = 'block' AND rule_id LIKE 'egress.%'"
        ),
        &refused_ids.len().to_string(),
    );
    wait_for(
        &clickhouse,
        "SELECT count() > 0 FROM warden.http_events WHERE method = 'CONNECT' \
         AND rule_id = 'egress.loopback' AND action = 'block'",
        "1",
    );
    assert!(gw.metric("warden_egress_refused_total") >= refused_ids.len() as f64);
}

#[test]
fn egress_config_is_checked_and_cannot_open_loopback_or_metadata() {
    let dir = tempfile::tempdir().unwrap();
    for (section, complaint) in [
        (
            "[egress]\nallow_networks = [\"0.0.0.0/0\"]\n",
            "covers loopback",
        ),
        (
            "[egress]\nallow_networks = [\"169.254.169.254/32\"]\n",
            "link-local",
        ),
        ("[egress]\nallow_ports = [0]\n", "port range"),
        ("[egress]\nallow_hosts = [\"bad host\"]\n", "host pattern"),
    ] {
        let path = dir.path().join("bad.toml");
        std::fs::write(&path, section).unwrap();
        let output = Command::new(crate::support::tools::gatewayd_binary())
            .args(["check", "--config"])
            .arg(&path)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{section}: {stderr}");
        assert!(stderr.contains(complaint), "{section}: {stderr}");
        assert!(stderr.contains("bad.toml:"), "file position: {stderr}");
    }
    let good = dir.path().join("good.toml");
    std::fs::write(
        &good,
        "[egress]\nallow_ports = [8443, \"9000-9010\"]\nallow_networks = [\"10.20.0.0/16\"]\n\
         allow_hosts = [\"*.corp.example\"]\n",
    )
    .unwrap();
    let output = Command::new(crate::support::tools::gatewayd_binary())
        .args(["check", "--config"])
        .arg(&good)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains("egress: ports 80, 443, 8443, 9000-9010"),
        "check explains the egress policy: {stdout}"
    );
}

#[test]
fn an_enrolled_device_cannot_reach_loopback_through_the_tunnel_port() {
    let dir = tempfile::tempdir().unwrap();
    let origin = Origin::start(dir.path());
    let clickhouse = ClickHouseServer::start().expect("clickhouse-server starts");
    let ch_port = port_of(&clickhouse.http_url());
    let tunnel_port = free_port();
    let gw = GatewayProcess::start(
        &origin,
        GatewayOptions {
            sections: format!(
                "[tunnel]\nlisten = \"127.0.0.1:{tunnel_port}\"\n\n{}\n\
                 [egress]\nallow_ports = [{ch_port}]\n",
                events_section(&clickhouse)
            ),
            ..Default::default()
        },
    );
    let tunnel = gw.tunnel.expect("tunnel port");
    let state = dir.path().join("agent-state");
    enroll(&gw, tunnel, "mallory", "eng", &state);
    let agent = AgentProcess::start(&state, &[]);
    agent.wait_connected(Duration::from_secs(10));

    for url in [
        format!("http://127.0.0.1:{ch_port}/?query=DROP%20TABLE%20warden.http_events"),
        format!("http://127.0.0.1:{}/metrics", gw.admin.port()),
    ] {
        let result = curl(&["-x", &agent.proxy_url(), &url]);
        assert_eq!(result.status, 403, "{url}: {}", result.stderr);
        // The gateway's own rule and event id reach the device user, not a generic refusal.
        assert_eq!(
            result.header("x-warden-rule"),
            Some("egress.loopback"),
            "{url}: {}",
            result.body_text()
        );
        assert_eq!(result.header("x-warden-action"), Some("block"));
        assert!(result.header("x-warden-request-id").is_some());
        assert!(
            result.body_text().contains("loopback"),
            "{}",
            result.body_text()
        );
    }
    let tables = clickhouse_sql(&clickhouse.http_url(), "EXISTS TABLE warden.http_events");
    assert_eq!(tables.body_text().trim(), "1");
    wait_for(
        &clickhouse,
        "SELECT count() > 0 FROM warden.http_events WHERE user = 'mallory' \
         AND method = 'CONNECT' AND action = 'block' AND rule_id LIKE 'egress.%'",
        "1",
    );
}

/// `openssl s_client` through the proxy: CONNECT to `connect`, ClientHello naming `sni`.
/// Returns what it printed (certificate chain and the answer to a GET).
fn s_client(proxy: &str, connect: &str, sni: &str) -> String {
    let openssl = require("openssl", "apt-get install -y openssl");
    let mut child = Command::new(openssl)
        .args(["s_client", "-proxy", proxy, "-connect", connect])
        .args(["-servername", sni, "-showcerts", "-quiet", "-ign_eof"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    {
        use std::io::Write;
        let mut stdin = child.stdin.take().unwrap();
        let _ = stdin.write_all(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    }
    let deadline = Instant::now() + Duration::from_secs(15);
    while child.try_wait().unwrap().is_none() {
        assert!(Instant::now() < deadline, "openssl s_client hung");
        std::thread::sleep(Duration::from_millis(50));
    }
    let output = child.wait_with_output().unwrap();
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

#[test]
fn do_not_inspect_cannot_be_borrowed_for_another_host() {
    let dir = tempfile::tempdir().unwrap();
    let origin = Origin::start(dir.path());
    let clickhouse = ClickHouseServer::start().expect("clickhouse-server starts");
    let gw = GatewayProcess::start(
        &origin,
        GatewayOptions {
            sections: format!(
                "[intercept]\ndo_not_inspect = [\"pinned.test\", \"blocked.test\"]\n\
                 block = [\"blocked.test\"]\n\n{}",
                events_section(&clickhouse)
            ),
            ..Default::default()
        },
    );
    let proxy = gw.proxy_url();
    let root = gw.root_pem.display().to_string();
    let origin_ca = origin.ca_pem.display().to_string();

    // The honest bypass: the origin's own certificate, no Warden header, one event.
    let pinned = curl(&[
        "-x",
        &proxy,
        "--cacert",
        &origin_ca,
        "https://pinned.test/hello",
    ]);
    assert_eq!(pinned.status, 200, "{}", pinned.stderr);
    assert!(pinned.header("x-warden-request-id").is_none());

    // CONNECT pinned.test, but the ClientHello asks for blocked.test: not spliced. The
    // client gets Warden's certificate (trusted via --cacert root) and the refusal page.
    let swapped = curl(&[
        "-x",
        &proxy,
        "--cacert",
        &root,
        "--connect-to",
        "blocked.test:443:pinned.test:443",
        "https://blocked.test/secret",
    ]);
    assert_eq!(swapped.status, 403, "{}", swapped.stderr);
    assert_eq!(
        swapped.header("x-warden-rule"),
        Some("intercept.sni_mismatch")
    );

    // An address as SNI is refused too: never the origin's certificate.
    let by_address = s_client(&proxy, "pinned.test:443", "127.0.0.1");
    assert!(
        !by_address.contains("origin page") && !by_address.contains("Test Origin"),
        "an address SNI must not be spliced: {by_address}"
    );

    // A host both blocked and do-not-inspect is blocked: the block list comes first.
    let blocked = curl(&["-x", &proxy, "--cacert", &root, "https://blocked.test/"]);
    assert_eq!(blocked.status, 403, "{}", blocked.stderr);
    assert_eq!(blocked.header("x-warden-rule"), Some("intercept.block"));

    // The honest bypass wrote one event with both byte counts and a duration.
    wait_for(
        &clickhouse,
        "SELECT action, method, bytes_up > 0, bytes_down > 0 FROM warden.http_events \
         WHERE host = 'pinned.test' AND action = 'bypass'",
        "bypass\tCONNECT\t1\t1",
    );
    // The swapped tunnel wrote a block, never a bypass for blocked.test.
    wait_for(
        &clickhouse,
        "SELECT countIf(action = 'block'), countIf(action = 'bypass') FROM warden.http_events \
         WHERE host = 'blocked.test'",
        "2\t0",
    );
}
