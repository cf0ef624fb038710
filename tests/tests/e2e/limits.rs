//! "One client cannot exhaust the gateway": forty clients trickling 10 MiB bodies to a
//! DLP-scanned app get a bounded share of memory and a clear refusal (never a hang); one
//! address or one user over its connection share is refused while others still get
//! through; an HTTP/2 connection kept "alive" only with PINGs is closed after the idle time.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::support::{curl, GatewayOptions, GatewayProcess, Origin};

const MIB: usize = 1024 * 1024;

#[test]
fn forty_large_trickled_bodies_stay_within_the_inspection_budget() {
    let dir = tempfile::tempdir().unwrap();
    let origin = Origin::start(dir.path());
    let gw = GatewayProcess::start(
        &origin,
        GatewayOptions {
            sections: format!(
                "[inspect]\nmax_body_bytes = {}\nmax_buffered_bytes = {}\nbudget_wait = \"2s\"\n\
                 body_timeout = \"60s\"\n[log]\nlevel = \"info,proxy::pipeline=error\"\n",
                10 * MIB,
                24 * MIB
            ),
            ..Default::default()
        },
    );
    // 10 MiB of harmless prose, sent as a prompt to an app the default policy scans.
    let body_path = dir.path().join("prompt.txt");
    let sentence = b"The quarterly planning notes are ready for review by the team. ";
    let mut body = Vec::with_capacity(10 * MIB);
    while body.len() + sentence.len() <= 10 * MIB {
        body.extend_from_slice(sentence);
    }
    body.resize(10 * MIB, b' ');
    std::fs::write(&body_path, &body).unwrap();
    drop(body);
    let baseline = gw.memory_kib("VmRSS");

    let started = Instant::now();
    let clients: Vec<_> = (0..40)
        .map(|_| {
            let proxy = gw.proxy_url();
            let root = gw.root_pem.display().to_string();
            let data = format!("@{}", body_path.display());
            std::thread::spawn(move || {
                curl(&[
                    "-x",
                    &proxy,
                    "--cacert",
                    &root,
                    "-H",
                    "Content-Type: text/plain",
                    "-H",
                    "Accept: application/json",
                    "--limit-rate",
                    "4M",
                    "--data-binary",
                    &data,
                    "https://claude.ai/api/organizations/o/chat_conversations/c/completion",
                ])
            })
        })
        .collect();
    let mut peak = 0;
    while !clients.iter().all(|c| c.is_finished()) {
        peak = peak.max(gw.memory_kib("VmRSS"));
        assert!(
            started.elapsed() < Duration::from_secs(90),
            "clients still waiting after 90 s: a hang"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let results: Vec<_> = clients.into_iter().map(|c| c.join().unwrap()).collect();
    let scanned = results.iter().filter(|r| r.status == 200).count();
    let refused: Vec<_> = results
        .iter()
        .filter(|r| r.status == 503 && r.header("x-warden-rule") == Some("inspect.budget"))
        .collect();
    for r in &results {
        assert!(
            r.status == 200 || r.status == 503,
            "every client gets the upstream's answer or the budget refusal: {} {}",
            r.status,
            r.stderr
        );
    }
    assert!(
        scanned >= 2,
        "some bodies fit the budget and were scanned: {scanned}"
    );
    assert!(
        refused.len() >= 20,
        "bodies over the budget are refused: {} of 40",
        refused.len()
    );
    let json: serde_json::Value = serde_json::from_slice(&refused[0].body).unwrap();
    assert_eq!(json["error"]["rule"], "inspect.budget", "{json}");
    assert!(gw.metric("warden_inspect_budget_exhausted_total") >= refused.len() as f64);
    let growth_mib = peak.saturating_sub(baseline) / 1024;
    eprintln!(
        "40 x 10 MiB: {scanned} scanned, {} refused, RSS {} -> peak {} MiB (+{growth_mib}) in {:?}",
        refused.len(),
        baseline / 1024,
        peak / 1024,
        started.elapsed()
    );
    // Unbounded, forty 10 MiB bodies raised RSS by ~400 MB; with a 24 MiB budget the growth
    // is that budget, scanning copies of the bodies that fit, and per-connection buffers.
    assert!(
        growth_mib < 200,
        "RSS grew {growth_mib} MiB (budget 24 MiB, 400 MiB offered)"
    );
}

#[test]
fn declaring_huge_bodies_and_trickling_them_cannot_starve_another_user() {
    let dir = tempfile::tempdir().unwrap();
    let origin = Origin::start(dir.path());
    let gw = GatewayProcess::start(
        &origin,
        GatewayOptions {
            sections: format!(
                "[inspect]\nmax_body_bytes = {}\nmax_buffered_bytes = {}\n\
                 max_buffered_bytes_per_user = {}\nbudget_wait = \"2s\"\n",
                10 * MIB,
                24 * MIB,
                12 * MIB
            ),
            ..Default::default()
        },
    );
    let url = "https://claude.ai/api/organizations/o/chat_conversations/c/completion";
    let big = dir.path().join("declared.txt");
    std::fs::write(&big, vec![b'a'; 10 * MIB]).unwrap();
    // Thirty connections from one address each declare 10 MiB and send 2 KB a second: before,
    // their declared lengths took the whole budget; now they are one owner with a share.
    let hogs: Vec<_> = (0..30)
        .map(|_| {
            let (proxy, root) = (gw.proxy_url(), gw.root_pem.display().to_string());
            let data = format!("@{}", big.display());
            std::thread::spawn(move || {
                curl(&[
                    "-x",
                    &proxy,
                    "--cacert",
                    &root,
                    "-H",
                    "Content-Type: text/plain",
                    "--limit-rate",
                    "2k",
                    "--max-time",
                    "8",
                    "--data-binary",
                    &data,
                    url,
                ])
            })
        })
        .collect();
    std::thread::sleep(Duration::from_secs(3));
    let held = gw.metric("warden_inspect_buffered_bytes");
    assert!(
        held <= (12 * MIB) as f64,
        "one owner holds at most its share, not the 300 MiB it declared: {held}"
    );
    // Another user, from another address, sends a 5 MiB prompt meanwhile: it is scanned.
    let prompt = dir.path().join("prompt.txt");
    std::fs::write(
        &prompt,
        b"Summarise the planning notes. ".repeat(5 * MIB / 30),
    )
    .unwrap();
    let alice = curl(&[
        "-x",
        &gw.proxy_url(),
        "--interface",
        "127.0.0.2",
        "--cacert",
        &gw.root_pem.display().to_string(),
        "-H",
        "Content-Type: text/plain",
        "--data-binary",
        &format!("@{}", prompt.display()),
        url,
    ]);
    assert_eq!(alice.status, 200, "{} {}", alice.stderr, alice.body_text());
    for hog in hogs {
        let result = hog.join().unwrap();
        assert_ne!(
            result.status, 200,
            "a 10 MiB body at 2 KB/s never completes in 8 s"
        );
    }
}

/// Opens a raw TCP connection to the proxy from `source` (any 127/8 address) and sends
/// `CONNECT origin.test:443`, returning the socket and the response head.
fn connect_from(
    gw: &GatewayProcess,
    source: [u8; 4],
    credentials: Option<&str>,
) -> (TcpStream, String) {
    let socket = std::net::TcpStream::connect_timeout(&gw.proxy, Duration::from_secs(5));
    let mut stream = if source == [127, 0, 0, 1] {
        socket.unwrap()
    } else {
        bound_connect(source, gw.proxy)
    };
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let auth = credentials
        .map(|c| format!("Proxy-Authorization: Basic {c}\r\n"))
        .unwrap_or_default();
    write!(
        stream,
        "CONNECT origin.test:443 HTTP/1.1\r\nHost: origin.test:443\r\n{auth}\r\n"
    )
    .unwrap();
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        match stream.read(&mut byte) {
            Ok(1) => head.push(byte[0]),
            _ => break,
        }
    }
    (stream, String::from_utf8_lossy(&head).into_owned())
}

/// A TCP connection from a chosen loopback address (the kernel accepts any 127/8 source).
fn bound_connect(source: [u8; 4], to: SocketAddr) -> TcpStream {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let socket = tokio::net::TcpSocket::new_v4().unwrap();
        socket
            .bind(SocketAddr::from((source, 0)))
            .expect("bind a 127/8 source address");
        socket.connect(to).await.unwrap().into_std().unwrap()
    })
}

#[test]
fn one_source_over_its_share_is_refused_while_another_gets_through() {
    let dir = tempfile::tempdir().unwrap();
    let origin = Origin::start(dir.path());
    let gw = GatewayProcess::start(
        &origin,
        GatewayOptions {
            sections: "[limits]\nmax_connections_per_source = 4\n".into(),
            ..Default::default()
        },
    );
    let mut held = Vec::new();
    for _ in 0..4 {
        let (stream, head) = connect_from(&gw, [127, 0, 0, 1], None);
        assert!(head.starts_with("HTTP/1.1 200"), "{head}");
        held.push(stream);
    }
    let (mut over, head) = connect_from(&gw, [127, 0, 0, 1], None);
    assert!(
        head.starts_with("HTTP/1.1 429"),
        "the fifth is refused: {head}"
    );
    assert!(
        head.contains("x-warden-rule: limits.max_connections_per_source"),
        "{head}"
    );
    let mut rest = String::new();
    let _ = over.read_to_string(&mut rest);
    assert!(
        rest.contains("Too many connections from your address"),
        "{rest}"
    );
    assert_eq!(
        gw.metric("warden_connections_rejected_total{limit=\"limits.max_connections_per_source\"}"),
        1.0
    );

    // Another address (another machine behind the same gateway) is unaffected.
    let other = curl(&[
        "-x",
        &gw.proxy_url(),
        "--interface",
        "127.0.0.2",
        "--cacert",
        &gw.root_pem.display().to_string(),
        "https://origin.test/hello",
    ]);
    assert_eq!(other.status, 200, "{}", other.stderr);

    // Closing a connection gives its slot back.
    drop(held.pop());
    std::thread::sleep(Duration::from_millis(300));
    let (_again, head) = connect_from(&gw, [127, 0, 0, 1], None);
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
}

#[test]
fn one_user_over_its_share_is_refused_while_another_user_gets_through() {
    let dir = tempfile::tempdir().unwrap();
    let origin = Origin::start(dir.path());
    let users = users_file(dir.path(), &["alice", "bob"]);
    let gw = GatewayProcess::start(
        &origin,
        GatewayOptions {
            proxy: format!("users_file = \"{users}\"\n"),
            sections: "[limits]\nmax_connections_per_user = 3\n".into(),
            ..Default::default()
        },
    );
    use base64::Engine;
    let alice = base64::engine::general_purpose::STANDARD.encode("alice:correct horse");
    let mut tunnels = Vec::new();
    for _ in 0..3 {
        let (stream, head) = connect_from(&gw, [127, 0, 0, 1], Some(&alice));
        assert!(head.starts_with("HTTP/1.1 200"), "{head}");
        tunnels.push(stream);
    }
    let (_over, head) = connect_from(&gw, [127, 0, 0, 1], Some(&alice));
    assert!(head.starts_with("HTTP/1.1 429"), "alice's fourth: {head}");
    assert!(
        head.contains("x-warden-rule: limits.max_connections_per_user"),
        "{head}"
    );
    assert!(
        head.to_ascii_lowercase().contains("connection: close"),
        "{head}"
    );

    let bob = curl(&[
        "-x",
        &gw.proxy_url(),
        "--proxy-user",
        "bob:correct horse",
        "--cacert",
        &gw.root_pem.display().to_string(),
        "https://origin.test/hello",
    ]);
    assert_eq!(bob.status, 200, "bob is unaffected: {}", bob.stderr);
    assert_eq!(
        gw.metric("warden_connections_rejected_total{limit=\"limits.max_connections_per_user\"}"),
        1.0
    );
}

/// A users file where each of `names` has the password "correct horse".
fn users_file(dir: &std::path::Path, names: &[&str]) -> String {
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
    assert!(output.status.success());
    let stdout = String::from_utf8(output.stdout).unwrap();
    let hash = stdout.lines().last().unwrap();
    let text: String = names
        .iter()
        .map(|name| format!("[[user]]\nname = \"{name}\"\npassword_hash = \"{hash}\"\n"))
        .collect();
    let path = dir.join("users.toml");
    std::fs::write(&path, text).unwrap();
    path.display().to_string()
}

#[test]
fn an_http2_connection_with_only_pings_is_closed_after_the_idle_time() {
    let dir = tempfile::tempdir().unwrap();
    let origin = Origin::start(dir.path());
    let gw = GatewayProcess::start(
        &origin,
        GatewayOptions {
            sections: "[timeouts]\nidle = \"2s\"\n".into(),
            ..Default::default()
        },
    );
    // A long response in flight is not idle, however long it runs (the origin's /slow sends
    // ten chunks over two seconds).
    let slow = curl(&[
        "-x",
        &gw.proxy_url(),
        "--http2",
        "--cacert",
        &gw.root_pem.display().to_string(),
        "https://origin.test/slow",
    ]);
    assert_eq!(slow.status, 200, "{}", slow.stderr);
    assert!(slow.body_text().contains("chunk9"), "{}", slow.body_text());

    let runtime = tokio::runtime::Runtime::new().unwrap();
    let lived = runtime.block_on(ping_only_connection(&gw));
    assert!(
        lived >= Duration::from_millis(1500) && lived < Duration::from_secs(10),
        "the ping-only connection lived {lived:?} (idle timeout 2 s, a PING every 300 ms)"
    );
}

/// Opens an intercepted HTTP/2 connection, makes one request, then only sends PINGs; returns
/// how long the connection lived after the request.
async fn ping_only_connection(gw: &GatewayProcess) -> Duration {
    let mut tcp = tokio::net::TcpStream::connect(gw.proxy).await.unwrap();
    tcp.write_all(b"CONNECT origin.test:443 HTTP/1.1\r\nHost: origin.test:443\r\n\r\n")
        .await
        .unwrap();
    let mut head = Vec::new();
    while !head.ends_with(b"\r\n\r\n") {
        head.push(tcp.read_u8().await.unwrap());
    }
    let mut roots = rustls::RootCertStore::empty();
    let pem = std::fs::read(&gw.root_pem).unwrap();
    for cert in rustls_pki_types::pem::PemObject::pem_slice_iter(&pem) {
        roots.add(cert.unwrap()).unwrap();
    }
    let mut config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::aws_lc_rs::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(roots)
    .with_no_client_auth();
    config.alpn_protocols = vec![b"h2".to_vec()];
    let tls = tokio_rustls::TlsConnector::from(Arc::new(config))
        .connect("origin.test".try_into().unwrap(), tcp)
        .await
        .unwrap();
    let (mut client, mut connection) = h2::client::handshake(tls).await.unwrap();
    let mut ping_pong = connection.ping_pong().expect("ping_pong is available once");
    let driver = tokio::spawn(connection);

    let request = http::Request::get("https://origin.test/hello")
        .body(())
        .unwrap();
    let (response, _) = client.send_request(request, true).unwrap();
    let response = response.await.unwrap();
    assert_eq!(response.status(), 200);
    let mut body = response.into_body();
    while let Some(chunk) = body.data().await {
        chunk.unwrap();
    }
    // `client` stays alive: an h2 client with no handle left would close the connection itself.
    let quiet = Instant::now();
    let pinger = tokio::spawn(async move {
        let _client = client;
        while ping_pong.ping(h2::Ping::opaque()).await.is_ok() {
            tokio::time::sleep(Duration::from_millis(300)).await;
        }
    });
    let _ = tokio::time::timeout(Duration::from_secs(20), driver).await;
    let lived = quiet.elapsed();
    pinger.abort();
    lived
}

#[test]
fn a_connection_flood_on_the_admin_port_is_capped_and_counted() {
    let dir = tempfile::tempdir().unwrap();
    let origin = Origin::start(dir.path());
    let gw = GatewayProcess::start(
        &origin,
        GatewayOptions {
            admin: "max_connections = 3\n".into(),
            ..Default::default()
        },
    );
    // An attacker (or a runaway dashboard tab) opens connections and sends nothing.
    let mut held: Vec<TcpStream> = (0..3)
        .map(|_| TcpStream::connect(gw.admin).unwrap())
        .collect();
    let mut over = TcpStream::connect(gw.admin).unwrap();
    over.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let mut answer = String::new();
    let _ = over.read_to_string(&mut answer);
    assert!(answer.starts_with("HTTP/1.1 503"), "{answer}");
    assert!(
        answer.contains("x-warden-rule: admin.max_connections"),
        "{answer}"
    );

    // Once one closes, the port serves again, and the refusal was counted and logged.
    held.pop();
    let deadline = Instant::now() + Duration::from_secs(5);
    let metrics = loop {
        match crate::support::gateway::http_get(gw.admin, "/metrics") {
            Some((200, body)) => break body,
            _ if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(50)),
            other => panic!("the admin port stayed full: {other:?}"),
        }
    };
    // At least the flood's fourth connection (a scrape that raced the freed slot counts too).
    let rejected: f64 = metrics
        .lines()
        .find_map(|l| {
            l.strip_prefix("warden_connections_rejected_total{limit=\"admin.max_connections\"} ")
        })
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no admin rejections counted: {metrics}"));
    assert!(rejected >= 1.0, "{metrics}");
    assert!(metrics.contains("warden_connections_open{listener=\"admin\"} 3\n"));
    assert!(gw.wait_for_log(
        "connection refused: admin.max_connections",
        Duration::from_secs(5)
    ));
    drop(held);
}
