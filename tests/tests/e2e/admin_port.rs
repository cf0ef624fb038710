//! The admin port under the attacks reviewers ran against it: a slowloris of 300 connections
//! from one address must not take `/healthz`, `/metrics`, the API or the dashboard from other
//! addresses (per-source share, `admin.max_connections_per_source`); a flood of wrong dashboard
//! logins is throttled with 429 + `Retry-After`, does not flood the audit trail, and the right
//! token works once the wait is over.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use crate::support::gateway::gatewayd;
use crate::support::{curl, GatewayOptions, GatewayProcess, Origin};

/// A TCP connection from a chosen loopback address (the kernel accepts any 127/8 source).
fn connect_from(runtime: &tokio::runtime::Runtime, source: [u8; 4], to: SocketAddr) -> TcpStream {
    runtime.block_on(async {
        let socket = tokio::net::TcpSocket::new_v4().unwrap();
        socket
            .bind(SocketAddr::from((source, 0)))
            .expect("bind a 127/8 source address");
        socket.connect(to).await.unwrap().into_std().unwrap()
    })
}

fn admin_token(gw: &GatewayProcess) -> String {
    let (code, out, err) = gatewayd(
        gw,
        &[
            "admin", "token", "create", "--role", "admin", "--name", "sec",
        ],
    );
    assert_eq!(code, 0, "{err}");
    out.lines().last().unwrap().trim().to_string()
}

#[test]
fn a_slowloris_from_one_address_leaves_the_admin_port_to_everyone_else() {
    let dir = tempfile::tempdir().unwrap();
    let origin = Origin::start(dir.path());
    // Default limits: 256 admin connections, 32 per address.
    let gw = GatewayProcess::start(&origin, GatewayOptions::default());
    let token = admin_token(&gw);

    // The attacker, at 127.0.0.2, opens 300 connections and sends a header line now and then.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let mut held = Vec::new();
    let mut refused = 0;
    for _ in 0..300 {
        let mut stream = connect_from(&runtime, [127, 0, 0, 2], gw.admin);
        stream.set_nonblocking(false).unwrap();
        stream
            .write_all(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n")
            .unwrap();
        held.push(stream);
    }
    for stream in &mut held {
        stream
            .set_read_timeout(Some(Duration::from_millis(200)))
            .unwrap();
        let _ = stream.write_all(b"X-Slow: 1\r\n");
        let mut answer = String::new();
        let _ = stream.read_to_string(&mut answer);
        if answer.starts_with("HTTP/1.1 429") {
            assert!(
                answer.contains("x-warden-rule: admin.max_connections_per_source"),
                "{answer}"
            );
            refused += 1;
        }
    }
    assert_eq!(refused, 300 - 32, "all but the address's share are refused");

    // Everyone else is served while the attack holds its share: health, metrics, API, pages.
    let base = format!("http://{}", gw.admin);
    let started = Instant::now();
    let health = curl(&["-m", "3", &format!("{base}/healthz")]);
    assert_eq!(health.status, 200, "{}", health.stderr);
    assert!(started.elapsed() < Duration::from_secs(3));
    let metrics = curl(&["-m", "3", &format!("{base}/metrics")]);
    assert_eq!(metrics.status, 200);
    assert!(metrics
        .body_text()
        .contains("warden_connections_rejected_total{limit=\"admin.max_connections_per_source\"}"));
    let api = curl(&[
        "-m",
        "3",
        "-H",
        &format!("Authorization: Bearer {token}"),
        &format!("{base}/api/v1/apps"),
    ]);
    assert_eq!(api.status, 200);
    let login = curl(&["-m", "3", &format!("{base}/login")]);
    assert_eq!(login.status, 200);
    // And another machine, too.
    let other = curl(&[
        "-m",
        "3",
        "--interface",
        "127.0.0.3",
        &format!("{base}/healthz"),
    ]);
    assert_eq!(other.status, 200, "{}", other.stderr);
    drop(held);
}

#[test]
fn a_flood_of_wrong_dashboard_logins_is_throttled_and_the_right_token_works_afterwards() {
    let dir = tempfile::tempdir().unwrap();
    let origin = Origin::start(dir.path());
    let gw = GatewayProcess::start(&origin, GatewayOptions::default());
    let token = admin_token(&gw);
    let base = format!("http://{}", gw.admin);
    let login = |token: &str, source: &str| {
        curl(&[
            "--interface",
            source,
            "-H",
            &format!("Origin: {base}"),
            "--data-urlencode",
            &format!("token={token}"),
            &format!("{base}/login"),
        ])
    };

    let mut statuses = Vec::new();
    let mut retry_after = None;
    for n in 0..100 {
        let answer = login(&format!("wdn_wrong{n}"), "127.0.0.1");
        if answer.status == 429 {
            retry_after = answer.header("retry-after").map(str::to_string);
            assert!(answer.body_text().contains("Too many failed logins"));
        }
        statuses.push(answer.status);
    }
    let unauthorized = statuses.iter().filter(|s| **s == 401).count();
    let throttled = statuses.iter().filter(|s| **s == 429).count();
    assert!(
        unauthorized <= 12 && throttled >= 85,
        "401 x{unauthorized}, 429 x{throttled}: {statuses:?}"
    );
    assert!(statuses[..5].iter().all(|s| *s == 401), "typos are free");
    let wait: u64 = retry_after.expect("Retry-After").parse().unwrap();
    assert!((1..=300).contains(&wait));

    // Another address is not held back by this one's failures.
    assert_eq!(login("wdn_typo", "127.0.0.2").status, 401);

    // The audit trail got a handful of lines, one of them counting the refused attempts.
    let audit = std::fs::read_to_string(gw.dir.path().join("state/admin-audit.jsonl")).unwrap();
    let lines = audit.lines().count();
    assert!(
        lines <= 15,
        "{lines} audit lines for 101 failures:\n{audit}"
    );
    assert!(
        audit.contains("login_throttled") && audit.contains("failed logins from 127.0.0.1"),
        "{audit}"
    );
    assert!(!audit.contains("wdn_wrong"), "no token in the audit trail");

    // Once the wait is over, the right token logs in.
    let deadline = Instant::now() + Duration::from_secs(320);
    loop {
        let answer = login(&token, "127.0.0.1");
        if answer.status == 303 {
            break;
        }
        assert_eq!(answer.status, 429, "{}", answer.body_text());
        assert!(Instant::now() < deadline, "still throttled");
        let wait: u64 = answer.header("retry-after").unwrap().parse().unwrap();
        std::thread::sleep(Duration::from_secs(wait));
    }
}

#[test]
fn brute_forcing_api_bearer_tokens_is_throttled_per_source_and_audited_in_aggregate() {
    let dir = tempfile::tempdir().unwrap();
    let origin = Origin::start(dir.path());
    let gw = GatewayProcess::start(&origin, GatewayOptions::default());
    let token = admin_token(&gw);
    let base = format!("http://{}", gw.admin);
    let call = |token: &str, source: &str| {
        curl(&[
            "--interface",
            source,
            "-H",
            &format!("Authorization: Bearer {token}"),
            &format!("{base}/api/v1/apps"),
        ])
    };

    // The running gateway picks up the token the CLI just wrote within a second or so.
    let deadline = Instant::now() + Duration::from_secs(10);
    while call(&token, "127.0.0.3").status != 200 {
        assert!(Instant::now() < deadline, "the new token never worked");
        std::thread::sleep(Duration::from_millis(100));
    }

    let mut statuses = Vec::new();
    let mut retry_after = None;
    for n in 0..60 {
        let answer = call(&format!("wdn_guess{n:08}"), "127.0.0.1");
        if answer.status == 429 {
            retry_after = answer.header("retry-after").map(str::to_string);
            assert!(
                answer.body_text().contains("too many invalid tokens"),
                "{}",
                answer.body_text()
            );
        }
        statuses.push(answer.status);
    }
    assert!(statuses[..5].iter().all(|s| *s == 401), "{statuses:?}");
    let throttled = statuses.iter().filter(|s| **s == 429).count();
    assert!(throttled >= 45, "429 x{throttled}: {statuses:?}");
    let wait: u64 = retry_after.expect("Retry-After").parse().unwrap();
    assert!((1..=300).contains(&wait));
    // While the source waits, even the right token is not checked from there (one more
    // guess first: a wait that ran out meanwhile starts again, and longer)...
    assert_ne!(call("wdn_guess_last", "127.0.0.1").status, 200);
    assert_eq!(call(&token, "127.0.0.1").status, 429);
    // ...but another address is not held back.
    assert_eq!(call(&token, "127.0.0.2").status, 200);
    assert_eq!(call("wdn_typo", "127.0.0.2").status, 401);

    // A handful of audit lines, one counting the attempts refused while waiting; no token.
    let audit = std::fs::read_to_string(gw.dir.path().join("state/admin-audit.jsonl")).unwrap();
    let lines = audit.lines().count();
    assert!(lines <= 15, "{lines} audit lines for 61 failures:\n{audit}");
    assert!(
        audit.contains("api_token_throttled")
            && audit.contains("failed bearer tokens from 127.0.0.1"),
        "{audit}"
    );
    assert!(!audit.contains("wdn_guess"), "no token in the audit trail");
}
