//! "My laptop runs the Warden agent": it enrolls with a one-time token, its traffic goes
//! through one mTLS HTTP/2 tunnel to gatewayd where it is intercepted as the device's user,
//! posture rules apply, revocation and gateway restarts behave, and forgeries are refused.

use std::io::{Read, Write};
use std::net::SocketAddr;
use std::path::Path;
use std::time::{Duration, Instant};

use schema::testkit::ClickHouseServer;

use crate::support::agent::{
    agent_enroll, devices_cli, enroll, enroll_token, free_port, root_fingerprint, AgentProcess,
};
use crate::support::gateway::http_get;
use crate::support::{clickhouse_sql, curl, GatewayOptions, GatewayProcess, Origin};

struct Setup {
    dir: tempfile::TempDir,
    origin: Origin,
    gw: GatewayProcess,
    tunnel: SocketAddr,
}

fn start(extra_sections: &str) -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let origin = Origin::start(dir.path());
    let port = free_port();
    let gw = GatewayProcess::start(
        &origin,
        GatewayOptions {
            sections: format!("[tunnel]\nlisten = \"127.0.0.1:{port}\"\n\n{extra_sections}"),
            ..Default::default()
        },
    );
    let tunnel = gw.tunnel.expect("gatewayd reports its tunnel port");
    assert_eq!(tunnel.port(), port);
    Setup {
        dir,
        origin,
        gw,
        tunnel,
    }
}

fn browse(
    agent: &AgentProcess,
    gw: &GatewayProcess,
    url: &str,
) -> crate::support::curl::CurlResult {
    let root = gw.root_pem.display().to_string();
    curl(&["-x", &agent.proxy_url(), "--cacert", &root, url])
}

fn query(clickhouse: &ClickHouseServer, sql: &str) -> String {
    clickhouse_sql(&clickhouse.http_url(), sql)
        .body_text()
        .trim()
        .to_string()
}

fn wait_for_row(clickhouse: &ClickHouseServer, sql: &str, limit: Duration) -> String {
    let deadline = Instant::now() + limit;
    loop {
        let got = query(clickhouse, sql);
        if !got.is_empty() && !got.contains("Exception") {
            return got;
        }
        assert!(Instant::now() < deadline, "{sql}: no row, last saw {got:?}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[cfg(unix)]
fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[test]
fn an_enrolled_laptop_browses_through_its_agent_and_events_name_the_device() {
    let clickhouse = ClickHouseServer::start().expect("clickhouse-server starts");
    let s = start(&format!(
        "[clickhouse]\nurl = \"{}\"\ndatabase = \"warden\"\n\n\
         [events]\nflush_interval = \"200ms\"\nbatch_size = 1000\ninsert_timeout = \"3s\"\n",
        clickhouse.http_url()
    ));
    let state = s.dir.path().join("agent-state");
    let device = enroll(&s.gw, s.tunnel, "alice", "eng,ai", &state);
    assert!(device.starts_with("dev-"), "{device}");
    #[cfg(unix)]
    {
        assert_eq!(mode(&state.join("device.key.pem")), 0o600);
        assert_eq!(mode(&state.join("device.crt.pem")), 0o600);
    }
    let listed = devices_cli(&s.gw, &["list"]);
    let listed = String::from_utf8_lossy(&listed.stdout);
    assert!(
        listed.contains(&device) && listed.contains("alice") && listed.contains("active"),
        "{listed}"
    );

    let enrollment_handshakes = s.gw.metric("warden_agent_handshakes_total");
    let agent = AgentProcess::start(&state, &[]);
    agent.wait_connected(Duration::from_secs(10));
    let handshakes = s.gw.metric("warden_agent_handshakes_total");
    assert_eq!(
        handshakes,
        enrollment_handshakes + 1.0,
        "one TLS handshake to the gateway for the agent"
    );

    // HTTP CONNECT through the agent: intercepted by gatewayd, with the request id header.
    let result = browse(&agent, &s.gw, "https://chatgpt.com/c/agent-1");
    assert_eq!(result.status, 200, "{}\n{}", result.stderr, agent.log());
    assert_eq!(result.body_text(), "origin page /c/agent-1");
    let id = result
        .header("x-warden-request-id")
        .expect("intercepted")
        .to_string();

    // SOCKS5 and absolute-form HTTP take the same way.
    let root = s.gw.root_pem.display().to_string();
    let socks = format!("socks5h://{}", agent.listen);
    let via_socks = curl(&[
        "-x",
        &socks,
        "--cacert",
        &root,
        "https://chatgpt.com/c/agent-2",
    ]);
    assert_eq!(via_socks.status, 200, "{}", via_socks.stderr);
    assert!(via_socks.header("x-warden-request-id").is_some());
    let plain = curl(&["-x", &agent.proxy_url(), "http://plain.test/hello"]);
    assert_eq!(plain.status, 200, "{}", plain.stderr);
    assert!(
        plain.header("x-warden-request-id").is_some(),
        "plain HTTP is inspected too"
    );
    let pac = curl(&[&format!("http://{}/proxy.pac", agent.listen)]);
    assert!(
        pac.body_text().contains(&format!("PROXY {}", agent.listen)),
        "{}",
        pac.body_text()
    );

    // Many client connections, still the one handshake: each was a stream on the tunnel.
    for i in 0..5 {
        assert_eq!(
            browse(&agent, &s.gw, &format!("https://chatgpt.com/c/more-{i}")).status,
            200
        );
    }
    assert_eq!(s.gw.metric("warden_agent_handshakes_total"), handshakes);
    assert!(s.gw.metric("warden_agent_streams_total") >= 8.0);

    // The event names the device's user and id, and carries its posture.
    let row = wait_for_row(
        &clickhouse,
        &format!(
            "SELECT user, device_id, app_id, device_posture FROM warden.http_events WHERE request_id = '{id}' FORMAT TSV"
        ),
        Duration::from_secs(15),
    );
    let fields: Vec<&str> = row.split('\t').collect();
    assert_eq!(fields[0], "alice", "{row}");
    assert_eq!(fields[1], device, "{row}");
    assert_eq!(fields[2], "chatgpt", "{row}");
    assert!(
        fields[3].contains("os=linux") && fields[3].contains("agent_version="),
        "{row}"
    );

    // The Shadow AI report's app drill-down lists the device with its user and posture.
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let out = std::process::Command::new(crate::support::tools::gatewayd_binary())
            .args(["report", "app", "chatgpt", "--json", "--config"])
            .arg(&s.gw.config_path)
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        let report: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
        let listed = report["devices"].as_array().is_some_and(|devices| {
            devices.iter().any(|d| {
                d.to_string().contains(&device)
                    && d.to_string().contains("alice")
                    && d.to_string().contains("os=linux")
            })
        });
        if listed {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "device missing from the report: {text} {}",
            String::from_utf8_lossy(&out.stderr)
        );
        std::thread::sleep(Duration::from_millis(300));
    }

    // `agent status` shows the gateway, the connection, the device and the posture.
    let status = agent.status();
    assert_eq!(status["connection"], "connected");
    assert_eq!(status["device_id"], device.as_str());
    assert_eq!(status["gateway"], format!("https://{}", s.tunnel));
    assert_eq!(status["posture"]["os"], "linux");
}

#[test]
fn a_posture_rule_follows_the_device_state() {
    let dir = tempfile::tempdir().unwrap();
    let policy = dir.path().join("policy.toml");
    std::fs::write(
        &policy,
        "version = \"posture-test\"\n\
         [[rule]]\nid = \"uploads-need-encrypted-disk\"\nwhen = { upload = true }\n\
         unless = { posture = { disk_encrypted = true } }\naction = \"block\"\n\
         message = \"Uploads need an encrypted disk.\"\n",
    )
    .unwrap();
    let s = start(&format!("[policies]\nfiles = [\"{}\"]\n", policy.display()));
    let state = s.dir.path().join("agent-state");
    enroll(&s.gw, s.tunnel, "bob", "", &state);
    let posture = s.dir.path().join("posture.json");
    std::fs::write(&posture, r#"{"disk_encrypted": false}"#).unwrap();
    let posture_arg = posture.display().to_string();
    let agent = AgentProcess::start(
        &state,
        &["--posture-file", &posture_arg, "--posture-interval", "1"],
    );
    agent.wait_connected(Duration::from_secs(10));
    let doc = s.dir.path().join("notes.txt");
    std::fs::write(&doc, "quarterly numbers").unwrap();
    let root = s.gw.root_pem.display().to_string();
    let upload = || {
        curl(&[
            "-x",
            &agent.proxy_url(),
            "--cacert",
            &root,
            "-F",
            &format!("file=@{}", doc.display()),
            "https://chatgpt.com/upload",
        ])
    };
    let blocked = upload();
    assert_eq!(blocked.status, 403, "{}", blocked.body_text());
    assert_eq!(
        blocked.header("x-warden-rule"),
        Some("uploads-need-encrypted-disk")
    );
    assert_eq!(
        browse(&agent, &s.gw, "https://chatgpt.com/c/1").status,
        200,
        "only uploads are held back"
    );

    // The disk gets encrypted: the agent notices and reports it, and the upload goes through.
    std::fs::write(&posture, r#"{"disk_encrypted": true}"#).unwrap();
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let result = upload();
        if result.status == 200 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "posture change not applied:\n{}",
            agent.log()
        );
        std::thread::sleep(Duration::from_millis(300));
    }
    assert!(s
        .gw
        .wait_for_log("disk_encrypted=true", Duration::from_secs(2)));
}

#[test]
fn a_revoked_device_is_refused_at_once_and_its_tunnel_closed() {
    let s = start("");
    let state = s.dir.path().join("agent-state");
    let device = enroll(&s.gw, s.tunnel, "carol", "", &state);
    let agent = AgentProcess::start(&state, &[]);
    agent.wait_connected(Duration::from_secs(10));
    assert_eq!(browse(&agent, &s.gw, "https://chatgpt.com/c/1").status, 200);

    let out = devices_cli(&s.gw, &["revoke", &device]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let refused = browse(&agent, &s.gw, "https://chatgpt.com/c/2");
    assert_ne!(refused.status, 200, "a revoked device's traffic is refused");
    assert!(
        s.gw.wait_for_log("device revoked", Duration::from_secs(3)),
        "{}",
        s.gw.log()
    );
    // Fail closed: the agent refuses rather than sending traffic around the gateway.
    let later = browse(&agent, &s.gw, "https://chatgpt.com/c/3");
    assert!(
        later.status != 200 && (later.stderr.contains("503") || later.stderr.contains("403")),
        "{}",
        later.stderr
    );
    // The gateway tells the reconnecting agent why (issue 24, bug 10): the agent stops
    // retrying, says so in `agent status`, and tells its clients the device was revoked
    // instead of "cannot reach the gateway".
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while agent.status()["connection"] != "refused" && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(200));
    }
    let status = agent.status();
    assert_eq!(status["connection"], "refused", "{status}\n{}", agent.log());
    assert!(
        status["last_error"]
            .as_str()
            .unwrap_or("")
            .contains("revoked"),
        "{status}"
    );
    let later = curl(&["-x", &agent.proxy_url(), "http://plain.test/"]);
    assert_eq!(later.status, 403, "{}", later.body_text());
    assert_eq!(later.header("x-warden-rule"), Some("agent.device_refused"));
    assert!(
        later.body_text().contains("revoked"),
        "{}",
        later.body_text()
    );
    let tries = agent.log().matches("cannot reach the gateway").count();
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(
        agent.log().matches("cannot reach the gateway").count(),
        tries,
        "a revoked agent stops retrying: {}",
        agent.log()
    );
    let listed = devices_cli(&s.gw, &["list"]);
    assert!(String::from_utf8_lossy(&listed.stdout).contains("revoked"));
    assert_eq!(
        devices_cli(&s.gw, &["revoke", "dev-nope"]).status.code(),
        Some(1)
    );
}

#[test]
fn the_agent_reconnects_after_the_gateway_restarts() {
    let mut s = start("");
    let state = s.dir.path().join("agent-state");
    enroll(&s.gw, s.tunnel, "dave", "", &state);
    let agent = AgentProcess::start(&state, &[]);
    agent.wait_connected(Duration::from_secs(10));
    assert_eq!(browse(&agent, &s.gw, "https://chatgpt.com/c/1").status, 200);

    s.gw.crash_and_restart();
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let result = browse(&agent, &s.gw, "https://chatgpt.com/c/after-restart");
        if result.status == 200 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "traffic did not resume:\n{}",
            agent.log()
        );
        std::thread::sleep(Duration::from_millis(250));
    }
    agent.wait_connected(Duration::from_secs(5));
    assert!(
        agent.log().contains("tunnel lost; reconnecting")
            || agent.log().contains("cannot reach the gateway")
    );
}

#[test]
fn split_tunnel_hosts_go_direct_and_fail_open_is_a_choice() {
    let s = start("");
    let state = s.dir.path().join("agent-state");
    enroll(&s.gw, s.tunnel, "frank", "", &state);
    let direct_url = format!("http://{}/direct", s.origin.plain_addr);

    // Split tunnel: the listed range is reached directly, the rest through the gateway.
    {
        let agent = AgentProcess::start(&state, &["--direct", "127.0.0.1/32"]);
        agent.wait_connected(Duration::from_secs(10));
        let direct = curl(&["-x", &agent.proxy_url(), &direct_url]);
        assert_eq!(direct.status, 200, "{}", direct.stderr);
        assert_eq!(direct.body_text(), "origin page /direct");
        assert!(
            direct.header("x-warden-request-id").is_none(),
            "split-tunnel traffic does not pass the gateway"
        );
        let pac = curl(&[&format!("http://{}/proxy.pac", agent.listen)]);
        assert!(pac
            .body_text()
            .contains("isInNet(host, \"127.0.0.1\", \"255.255.255.255\")"));
        let inspected = browse(&agent, &s.gw, "https://chatgpt.com/c/1");
        assert!(inspected.header("x-warden-request-id").is_some());
    }

    // The gateway goes away: fail closed by default, direct only when configured so.
    let Setup {
        dir, origin, gw, ..
    } = s;
    drop(gw);
    let closed = AgentProcess::start(&state, &[]);
    let refused = curl(&["-x", &closed.proxy_url(), &direct_url]);
    assert_eq!(refused.status, 503, "{}", refused.body_text());
    assert_eq!(refused.header("x-warden-rule"), Some("agent.fail_closed"));
    assert_eq!(closed.status()["connection"], "disconnected");
    drop(closed);
    let open = AgentProcess::start(&state, &["--fail-open"]);
    let through = curl(&["-x", &open.proxy_url(), &direct_url]);
    assert_eq!(through.status, 200, "{}", through.stderr);
    assert!(open.log().contains("fail_open: going direct"));
    drop((dir, origin));
}

#[test]
fn bad_tokens_forged_or_expired_certificates_and_garbage_are_refused() {
    let s = start("");
    let fingerprint = root_fingerprint(&s.gw);

    // Tokens: unknown, reused, or a gateway that does not hold the pinned root.
    let state = s.dir.path().join("agent-state");
    let out = agent_enroll(s.tunnel, "wde_not-a-token", &fingerprint, &state);
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("unknown, used or expired"),
        "{out:?}"
    );
    let token = enroll_token(&s.gw, "erin", "");
    let wrong_pin = "00".repeat(32);
    let out = agent_enroll(s.tunnel, &token, &wrong_pin, &state);
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("pinned fingerprint"),
        "{out:?}"
    );
    let out = agent_enroll(s.tunnel, &token, &fingerprint, &state);
    assert!(out.status.success(), "{out:?}");
    let device = String::from_utf8_lossy(&out.stdout)
        .lines()
        .last()
        .unwrap()
        .trim()
        .to_string();
    let out = agent_enroll(s.tunnel, &token, &fingerprint, &s.dir.path().join("again"));
    assert!(!out.status.success(), "a token enrolls one device only");

    // A forged certificate (self-signed, claiming the enrolled device's id).
    let forged = s.dir.path().join("forged-state");
    copy_state(&state, &forged);
    let key = rcgen::KeyPair::generate().unwrap();
    let mut params = rcgen::CertificateParams::default();
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, device.as_str());
    let cert = params.self_signed(&key).unwrap();
    std::fs::write(forged.join("device.crt.pem"), cert.pem()).unwrap();
    std::fs::write(forged.join("device.key.pem"), key.serialize_pem()).unwrap();
    let refused_before = s.gw.metric("warden_agent_refused_total");
    {
        let agent = AgentProcess::start(&forged, &[]);
        let result = browse(&agent, &s.gw, "https://chatgpt.com/c/forged");
        assert!(refused_connect(&result), "forged: {}", result.stderr);
    }
    assert!(s
        .gw
        .wait_for_log("tunnel handshake refused", Duration::from_secs(3)));
    assert!(s.gw.metric("warden_agent_refused_total") > refused_before);

    // An expired certificate, really signed by the device CA.
    let expired = s.dir.path().join("expired-state");
    copy_state(&state, &expired);
    let device_ca = ca::DeviceAuthority::load_or_create(&s.gw.dir.path().join("state/ca")).unwrap();
    let key = rcgen::KeyPair::generate().unwrap();
    let csr = rcgen::CertificateParams::default()
        .serialize_request(&key)
        .unwrap()
        .pem()
        .unwrap();
    let now = time::OffsetDateTime::now_utc();
    let issued = device_ca
        .issue(
            &csr,
            &device,
            now - time::Duration::days(10),
            now - time::Duration::days(1),
        )
        .unwrap();
    std::fs::write(expired.join("device.crt.pem"), issued.certificate_pem).unwrap();
    std::fs::write(expired.join("device.key.pem"), key.serialize_pem()).unwrap();
    {
        let agent = AgentProcess::start(&expired, &[]);
        let result = browse(&agent, &s.gw, "https://chatgpt.com/c/expired");
        assert!(refused_connect(&result), "{}", result.stderr);
    }
    assert!(
        s.gw.wait_for_log("xpired", Duration::from_secs(3)),
        "{}",
        s.gw.log()
    );

    // Garbage on the tunnel port: closed promptly, the gateway keeps serving.
    let mut garbage = std::net::TcpStream::connect(s.tunnel).unwrap();
    garbage
        .set_read_timeout(Some(Duration::from_secs(15)))
        .unwrap();
    let _ = garbage.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n\x16\x03\x01\xff\xff\x00garbage");
    let mut sink = Vec::new();
    let started = Instant::now();
    let _ = garbage.read_to_end(&mut sink);
    assert!(
        started.elapsed() < Duration::from_secs(12),
        "garbage connection closed promptly"
    );
    assert_eq!(
        http_get(s.gw.admin, "/healthz").map(|(status, _)| status),
        Some(200)
    );

    // TLS without a device certificate may enroll, nothing else.
    let anonymous = curl(&["-k", "--http2", &format!("https://{}/v1/posture", s.tunnel)]);
    assert_eq!(
        anonymous.status,
        401,
        "{} {}",
        anonymous.stderr,
        anonymous.body_text()
    );
    assert!(anonymous
        .body_text()
        .contains("device certificate is required"));

    // With the device's own certificate: unknown requests get 404, a posture report past its
    // size limit 413, and a good one is taken.
    let (cert, key) = (state.join("device.crt.pem"), state.join("device.key.pem"));
    let device_curl = |extra: &[&str], path: &str| {
        let url = format!("https://{}{path}", s.tunnel);
        let mut args = vec!["-k", "--http2", "--cert"];
        args.extend([cert.to_str().unwrap(), "--key", key.to_str().unwrap()]);
        args.extend(extra);
        args.push(&url);
        curl(&args)
    };
    let unknown = device_curl(&[], "/v1/nothing");
    assert_eq!(unknown.status, 404, "{}", unknown.stderr);
    let oversized = format!("{{\"note\":\"{}\"}}", "x".repeat(20_000));
    let refused = device_curl(&["--data-binary", &oversized], "/v1/posture");
    assert_eq!(refused.status, 413, "{}", refused.stderr);
    let taken = device_curl(&["--data-binary", r#"{"os":"linux"}"#], "/v1/posture");
    assert_eq!(taken.status, 200, "{}", taken.stderr);
    assert!(taken.body_text().contains("\"ok\":true"));

    // The real device still works after all that.
    let agent = AgentProcess::start(&state, &[]);
    agent.wait_connected(Duration::from_secs(10));
    assert_eq!(
        browse(&agent, &s.gw, "https://chatgpt.com/c/ok").status,
        200
    );
}

fn copy_state(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for name in [
        "enrollment.json",
        "warden-root.pem",
        "device.crt.pem",
        "device.key.pem",
    ] {
        std::fs::copy(from.join(name), to.join(name)).unwrap();
    }
}

/// curl's view of a CONNECT the agent answered with 503 (fail closed).
fn refused_connect(result: &crate::support::curl::CurlResult) -> bool {
    result.status != 200 && result.stderr.contains("503")
}
