//! "Someone hammers the gateway's logins": a flood of wrong proxy passwords, probing for user
//! names, a revoked admin token's leftover dashboard cookie, an expired token, a cross-site
//! login, a DNS-rebinding Host header. Each attack is performed for real against a real
//! gatewayd (real sockets, real curl) and the refusal a user would see is asserted.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use base64::Engine;

use crate::proxy_access::users_file;
use crate::support::gateway::gatewayd;
use crate::support::tools::gatewayd_binary;
use crate::support::{curl, GatewayOptions, GatewayProcess, Origin};

/// A gateway on all addresses whose only way in is a password (`alice:correct horse`).
fn password_gateway(dir: &std::path::Path, origin: &Origin) -> GatewayProcess {
    let users = users_file(dir);
    GatewayProcess::start(
        origin,
        GatewayOptions {
            listen: Some("0.0.0.0:0".into()),
            proxy: format!("allow_sources = [\"192.0.2.0/24\"]\nusers_file = \"{users}\"\n"),
            ..Default::default()
        },
    )
}

/// A plain-HTTP request through the proxy from `source` (a loopback address: each one is a
/// different client to the gateway) with `user:password`; returns (status, retry-after,
/// time taken).
fn login_via_curl(
    gw: &GatewayProcess,
    source: &str,
    credentials: &str,
) -> (u16, Option<String>, Duration) {
    let proxy = format!("http://127.0.0.1:{}", gw.proxy.port());
    let started = Instant::now();
    let result = curl(&[
        "--interface",
        source,
        "-x",
        &proxy,
        "-U",
        credentials,
        "-d",
        "hi",
        "http://plain.test/echo",
    ]);
    let elapsed = started.elapsed();
    assert_eq!(result.exit, 0, "{}", result.stderr);
    (
        result.status,
        result.header("retry-after").map(str::to_string),
        elapsed,
    )
}

/// One raw request with a wrong password over its own connection: the status line's code.
fn wrong_password(proxy: std::net::SocketAddr, n: usize) -> u16 {
    let Ok(mut stream) = TcpStream::connect(proxy) else {
        return 0;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(60)));
    let auth = base64::engine::general_purpose::STANDARD.encode(format!("alice:guess-{n}"));
    let request = format!(
        "GET http://plain.test/echo HTTP/1.1\r\nHost: plain.test\r\n\
         Proxy-Authorization: Basic {auth}\r\nConnection: close\r\n\r\n"
    );
    if stream.write_all(request.as_bytes()).is_err() {
        return 0;
    }
    let mut head = [0u8; 12];
    match stream.read_exact(&mut head) {
        Ok(()) => String::from_utf8_lossy(&head[9..12]).parse().unwrap_or(0),
        Err(_) => 0,
    }
}

#[test]
fn a_flood_of_wrong_passwords_stays_bounded_and_the_right_one_still_gets_in() {
    let dir = tempfile::tempdir().unwrap();
    let origin = Origin::start(dir.path());
    let gw = password_gateway(dir.path(), &origin);
    let proxy = std::net::SocketAddr::from(([127, 0, 0, 1], gw.proxy.port()));
    // One ordinary refusal first, so the baseline includes a warmed-up daemon.
    assert_eq!(wrong_password(proxy, 0), 407);
    let baseline_kib = gw.memory_kib("VmRSS");

    const FLOOD: usize = 100;
    let barrier = Arc::new(Barrier::new(FLOOD + 1));
    let attackers: Vec<_> = (1..=FLOOD)
        .map(|n| {
            let barrier = barrier.clone();
            std::thread::spawn(move || {
                barrier.wait();
                wrong_password(proxy, n)
            })
        })
        .collect();
    barrier.wait();
    // The legitimate user, on another machine (another source address), mid-flood.
    std::thread::sleep(Duration::from_millis(50));
    let (legit, _, legit_latency) = login_via_curl(&gw, "127.0.0.2", "alice:correct horse");
    let statuses: Vec<u16> = attackers.into_iter().map(|t| t.join().unwrap()).collect();
    let peak_kib = gw.memory_kib("VmHWM");
    eprintln!(
        "flood of {FLOOD}: RSS baseline {} MiB, peak {} MiB (+{} MiB); legitimate login ({legit}) \
         took {} ms; answers 407={} 429={} 503={} other={}",
        baseline_kib / 1024,
        peak_kib / 1024,
        peak_kib.saturating_sub(baseline_kib) / 1024,
        legit_latency.as_millis(),
        statuses.iter().filter(|s| **s == 407).count(),
        statuses.iter().filter(|s| **s == 429).count(),
        statuses.iter().filter(|s| **s == 503).count(),
        statuses
            .iter()
            .filter(|s| ![407, 429, 503].contains(*s))
            .count(),
    );

    assert_eq!(legit, 200, "the right password gets in during the flood");
    assert!(
        legit_latency < Duration::from_secs(3),
        "the legitimate login waited {legit_latency:?}"
    );
    assert!(
        statuses.iter().all(|s| [407, 429, 503].contains(s)),
        "every wrong password is refused: {statuses:?}"
    );
    assert!(
        statuses.contains(&429),
        "the flooding source is throttled: {statuses:?}"
    );
    assert!(
        peak_kib.saturating_sub(baseline_kib) < 150 * 1024,
        "memory grew by {} MiB",
        peak_kib.saturating_sub(baseline_kib) / 1024
    );
    // Only the free failures (plus what was already queued) were hashed, not the flood.
    let verifications = gw.metric("warden_proxy_auth_verifications_total");
    eprintln!("argon2 runs during the flood: {verifications}");
    assert!(verifications < 20.0, "{verifications} argon2 runs");

    // The flooding source is told to wait even when it finally sends the right password.
    let (status, retry_after, _) = login_via_curl(&gw, "127.0.0.1", "alice:correct horse");
    assert_eq!(status, 429);
    assert!(
        retry_after.is_some_and(|s| s.parse::<u64>().is_ok_and(|s| s >= 1)),
        "429 says when to retry"
    );
}

#[test]
fn unknown_and_known_user_names_get_the_same_answers() {
    let dir = tempfile::tempdir().unwrap();
    let origin = Origin::start(dir.path());
    let gw = password_gateway(dir.path(), &origin);
    // Two prober machines, taking turns: one guesses at a real name, the other at a made-up one.
    let (mut known, mut known_times, mut unknown, mut unknown_times) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for i in 0..7 {
        let (status, _, took) = login_via_curl(&gw, "127.0.0.3", &format!("alice:guess{i}"));
        known.push(status);
        known_times.push(took);
        let (status, _, took) = login_via_curl(&gw, "127.0.0.4", &format!("nobody-here:guess{i}"));
        unknown.push(status);
        unknown_times.push(took);
    }
    assert_eq!(
        known, unknown,
        "the answers do not reveal which name exists"
    );
    assert_eq!(known, [407, 407, 407, 407, 407, 407, 429]);
    // Both names cost a password hash (a made-up name is not answered straight away); only a
    // coarse check, the exact times are noise.
    let median = |times: &[Duration]| {
        let mut hashed = times[..6].to_vec();
        hashed.sort();
        hashed[3]
    };
    let (k, u) = (median(&known_times), median(&unknown_times));
    eprintln!("median wrong-password answer: known name {k:?}, unknown name {u:?}");
    assert!(
        u * 3 > k,
        "unknown names answered suspiciously fast: {u:?} vs {k:?}"
    );
}

/// `gatewayd admin token create` against `gw`'s state: (id, token).
fn create_token(
    gw: &GatewayProcess,
    role: &str,
    name: &str,
    expires: Option<&str>,
) -> (String, String) {
    let mut args = vec!["admin", "token", "create", "--role", role, "--name", name];
    if let Some(expires) = expires {
        args.extend(["--expires", expires]);
    }
    let (code, out, err) = gatewayd(gw, &args);
    assert_eq!(code, 0, "{err}");
    let id = err
        .split("(id ")
        .nth(1)
        .and_then(|rest| rest.split(',').next())
        .unwrap()
        .to_string();
    (id, out.lines().last().unwrap().trim().to_string())
}

/// Status of an admin API GET with this token.
fn api_status(gw: &GatewayProcess, token: &str) -> u16 {
    curl(&[
        "-H",
        &format!("Authorization: Bearer {token}"),
        &format!("http://{}/api/v1/apps", gw.admin),
    ])
    .status
}

/// Waits until the daemon's view of the token store gives `want` for this token.
fn wait_for_api(gw: &GatewayProcess, token: &str, want: u16) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while api_status(gw, token) != want {
        assert!(
            Instant::now() < deadline,
            "the daemon never answered {want}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Logs in with `token`: the `name=value` of the session cookie and the whole Set-Cookie.
fn login(gw: &GatewayProcess, token: &str) -> (String, String) {
    let result = curl(&[
        "-d",
        &format!("token={token}"),
        &format!("http://{}/login", gw.admin),
    ]);
    assert_eq!(result.status, 303, "{}", result.body_text());
    let set_cookie = result.header("set-cookie").unwrap().to_string();
    (
        set_cookie.split(';').next().unwrap().to_string(),
        set_cookie,
    )
}

/// The CSRF token of a logged-in page.
fn csrf(gw: &GatewayProcess, cookie: &str) -> String {
    let page = curl(&[
        "-H",
        &format!("Cookie: {cookie}"),
        &format!("http://{}/explorer", gw.admin),
    ]);
    assert_eq!(page.status, 200, "{}", page.body_text());
    page.body_text()
        .split("name=\"csrf\" value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap()
        .to_string()
}

/// A dashboard POST changing an app's approval status: the HTTP status.
fn set_status_from_dashboard(gw: &GatewayProcess, cookie: &str, csrf: &str, status: &str) -> u16 {
    curl(&[
        "-H",
        &format!("Cookie: {cookie}"),
        "-d",
        &format!("csrf={csrf}&status={status}"),
        &format!("http://{}/apps/chatgpt/status", gw.admin),
    ])
    .status
}

#[test]
fn a_revoked_tokens_dashboard_session_can_no_longer_change_approvals() {
    let dir = tempfile::tempdir().unwrap();
    let origin = Origin::start(dir.path());
    let gw = GatewayProcess::start(&origin, GatewayOptions::default());
    let (id, token) = create_token(&gw, "admin", "leaver", None);
    wait_for_api(&gw, &token, 200);
    let (cookie, _) = login(&gw, &token);
    let csrf = csrf(&gw, &cookie);
    assert_eq!(
        set_status_from_dashboard(&gw, &cookie, &csrf, "in_review"),
        303,
        "the session works"
    );

    let (code, listed, _) = gatewayd(&gw, &["admin", "token", "list"]);
    assert_eq!(code, 0);
    assert!(
        listed.contains(&id) && listed.contains("leaver"),
        "{listed}"
    );
    assert!(
        !listed.contains(&token[4..]),
        "list shows no secret: {listed}"
    );
    let (code, _, err) = gatewayd(&gw, &["admin", "token", "revoke", &id]);
    assert_eq!(code, 0, "{err}");
    wait_for_api(&gw, &token, 401);

    // The old cookie and its CSRF token, replayed after the revocation.
    let replay = curl(&[
        "-H",
        &format!("Cookie: {cookie}"),
        "-d",
        &format!("csrf={csrf}&status=approved"),
        &format!("http://{}/apps/chatgpt/status", gw.admin),
    ]);
    assert_eq!(replay.status, 401, "{}", replay.body_text());
    assert!(replay.body_text().contains("session has ended"));
    let (_, history, _) = gatewayd(&gw, &["apps", "history", "chatgpt"]);
    assert!(history.contains("in_review"), "{history}");
    assert!(
        !history.contains("\"approved\""),
        "the status did not change: {history}"
    );
    let page = curl(&[
        "-H",
        &format!("Cookie: {cookie}"),
        &format!("http://{}/apps", gw.admin),
    ]);
    assert_eq!(page.header("location"), Some("/login"), "logged out");
}

#[test]
fn expired_tokens_cross_site_logins_and_rebound_hosts_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let origin = Origin::start(dir.path());
    let gw = GatewayProcess::start(
        &origin,
        GatewayOptions {
            admin: "public_url = \"https://warden.example\"\n".into(),
            ..Default::default()
        },
    );
    let base = format!("http://{}", gw.admin);
    let (_, token) = create_token(&gw, "admin", "sec-team", Some("30d"));
    wait_for_api(&gw, &token, 200);

    // Behind https, the session cookie never travels in clear.
    let (_, set_cookie) = login(&gw, &token);
    assert!(set_cookie.contains("; Secure"), "{set_cookie}");

    // A login form posted from another site (login CSRF) is refused and sets no cookie.
    let cross_site = curl(&[
        "-H",
        "Origin: http://evil.example",
        "-d",
        &format!("token={token}"),
        &format!("{base}/login"),
    ]);
    assert_eq!(cross_site.status, 403);
    assert!(cross_site.header("set-cookie").is_none());
    assert!(cross_site.body_text().contains("another site"));

    // DNS rebinding: evil.example now resolves to the admin port; the browser still says so.
    for path in ["/", "/login", "/api/v1/apps", "/metrics"] {
        let rebound = curl(&[
            "-H",
            "Host: evil.example",
            "-H",
            &format!("Authorization: Bearer {token}"),
            &format!("{base}{path}"),
        ]);
        assert_eq!(rebound.status, 421, "{path}: {}", rebound.body_text());
        assert!(rebound.body_text().contains("admin.allowed_hosts"));
    }
    let named = curl(&["-H", "Host: warden.example", &format!("{base}/healthz")]);
    assert_eq!(named.status, 200, "public_url's host is served");

    // A token that has expired is refused by the API and by the login form.
    let (_, brief) = create_token(&gw, "admin", "contractor", Some("1s"));
    std::thread::sleep(Duration::from_millis(1500));
    assert_eq!(api_status(&gw, &brief), 401);
    let late = curl(&["-d", &format!("token={brief}"), &format!("{base}/login")]);
    assert_eq!(late.status, 401);
    let (_, listed, _) = gatewayd(&gw, &["admin", "token", "list"]);
    assert!(
        listed
            .lines()
            .any(|l| l.contains("contractor") && l.contains("expired")),
        "{listed}"
    );
}

#[test]
fn a_remote_admin_port_without_opt_in_fails_check_with_a_clear_message() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("gatewayd.toml");
    std::fs::write(
        &path,
        "[proxy]\nlisten = \"127.0.0.1:3128\"\n\n[admin]\nlisten = \"0.0.0.0:9090\"\n",
    )
    .unwrap();
    let output = std::process::Command::new(gatewayd_binary())
        .args(["check", "--config"])
        .arg(&path)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.starts_with(&format!(
            "{}:5:1: admin.listen 0.0.0.0:9090 is not a loopback",
            path.display()
        )),
        "{stderr}"
    );
    assert!(stderr.contains("admin.allow_remote = true"), "{stderr}");
    std::fs::write(
        &path,
        "[admin]\nlisten = \"0.0.0.0:9090\"\nallow_remote = true\n",
    )
    .unwrap();
    let output = std::process::Command::new(gatewayd_binary())
        .args(["check", "--config"])
        .arg(&path)
        .output()
        .unwrap();
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn a_dashboard_login_survives_a_restart_and_a_revoked_tokens_does_not() {
    // Issue 24, bug 11: sessions vanished on every restart. They are kept (hashed) in the
    // state dir now — and a restart must not bring back a session whose token was revoked.
    let dir = tempfile::tempdir().unwrap();
    let origin = Origin::start(dir.path());
    let mut gw = GatewayProcess::start(&origin, GatewayOptions::default());
    let (_, token) = create_token(&gw, "admin", "stays", None);
    let (leaver_id, leaver) = create_token(&gw, "admin", "leaves", None);
    wait_for_api(&gw, &token, 200);
    let (cookie, _) = login(&gw, &token);
    let (leaver_cookie, _) = login(&gw, &leaver);
    let stored =
        std::fs::read_to_string(gw.dir.path().join("state/dashboard-sessions.json")).unwrap();
    let raw = cookie.split_once('=').unwrap().1;
    assert!(
        !stored.contains(raw),
        "the session id itself is never stored"
    );

    gw.crash_and_restart();
    wait_for_api(&gw, &token, 200);
    let csrf = csrf(&gw, &cookie);
    assert_eq!(
        set_status_from_dashboard(&gw, &cookie, &csrf, "in_review"),
        303,
        "the login outlived the restart"
    );

    let (code, _, err) = gatewayd(&gw, &["admin", "token", "revoke", &leaver_id]);
    assert_eq!(code, 0, "{err}");
    gw.crash_and_restart();
    wait_for_api(&gw, &token, 200);
    let page = curl(&[
        "-H",
        &format!("Cookie: {leaver_cookie}"),
        &format!("http://{}/explorer", gw.admin),
    ]);
    assert_eq!(page.status, 303, "a revoked token's session stays ended");
    assert_eq!(page.header("location"), Some("/login"));

    // An attacker who can write the sessions file raises an analyst's session to admin: the
    // role comes from the token record, not from the file.
    let (_, analyst) = create_token(&gw, "analyst", "reader", None);
    wait_for_api(&gw, &analyst, 200);
    let (analyst_cookie, _) = login(&gw, &analyst);
    let file = gw.dir.path().join("state/dashboard-sessions.json");
    let edited = std::fs::read_to_string(&file)
        .unwrap()
        .replace("\"role\":\"analyst\"", "\"role\":\"admin\"");
    assert!(edited.contains("\"role\":\"admin\""));
    std::fs::write(&file, edited).unwrap();
    gw.crash_and_restart();
    wait_for_api(&gw, &token, 200);
    let analyst_csrf = self::csrf(&gw, &analyst_cookie);
    assert_eq!(
        set_status_from_dashboard(&gw, &analyst_cookie, &analyst_csrf, "unapproved"),
        403,
        "an edited sessions file grants no role"
    );
}
