//! "Someone sends garbage": every malformed or hostile input gets a clear answer or a close,
//! quickly, and the gateway keeps serving everyone else.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use crate::support::{curl, GatewayOptions, GatewayProcess, Origin};

fn setup() -> (tempfile::TempDir, Origin, GatewayProcess) {
    let dir = tempfile::tempdir().unwrap();
    let origin = Origin::start(dir.path());
    let gw = GatewayProcess::start(
        &origin,
        GatewayOptions {
            sections: "[timeouts]\nheader_read = \"1s\"\nhandshake = \"1s\"\n\n[limits]\nmax_header_bytes = 16384\n".into(),
            ..Default::default()
        },
    );
    (dir, origin, gw)
}

/// Sends raw bytes and returns whatever comes back before the server closes (or 5 s pass).
fn exchange(gw: &GatewayProcess, bytes: &[u8]) -> (String, Duration) {
    let started = Instant::now();
    let mut stream = TcpStream::connect(gw.proxy).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let _ = stream.write_all(bytes);
    let mut out = Vec::new();
    let _ = stream.read_to_end(&mut out);
    (
        String::from_utf8_lossy(&out).into_owned(),
        started.elapsed(),
    )
}

fn still_serving(gw: &GatewayProcess) {
    let root = gw.root_pem.display().to_string();
    let ok = curl(&[
        "-x",
        &gw.proxy_url(),
        "--cacert",
        &root,
        "-d",
        "alive",
        "https://chat.test/echo",
    ]);
    assert_eq!(
        ok.body_text(),
        "alive",
        "the gateway stopped serving: {}",
        ok.stderr
    );
}

#[test]
fn garbage_on_the_proxy_port_gets_400() {
    let (_d, _o, gw) = setup();
    let (reply, _) = exchange(&gw, b"\x00\x01\x02 not http at all\r\n\r\n");
    assert!(reply.starts_with("HTTP/1.1 400"), "{reply:?}");
    still_serving(&gw);
}

#[test]
fn malformed_connect_targets_are_refused() {
    let (_d, _o, gw) = setup();
    for target in [
        "chat.test",
        "chat.test:0",
        "chat.test:99999",
        ":443",
        "http://chat.test:443/",
    ] {
        let (reply, _) = exchange(
            &gw,
            format!("CONNECT {target} HTTP/1.1\r\nHost: x\r\n\r\n").as_bytes(),
        );
        assert!(
            reply.starts_with("HTTP/1.1 400"),
            "CONNECT {target}: {reply:?}"
        );
    }
    still_serving(&gw);
}

#[test]
fn oversized_headers_get_431() {
    let (_d, _o, gw) = setup();
    let huge = "a".repeat(64 * 1024);
    let (reply, _) = exchange(
        &gw,
        format!("GET http://plain.test/ HTTP/1.1\r\nHost: plain.test\r\nX-Big: {huge}\r\n\r\n")
            .as_bytes(),
    );
    assert!(reply.starts_with("HTTP/1.1 431"), "{:?}", reply.get(..60));
    still_serving(&gw);
}

#[test]
fn non_tls_bytes_after_connect_close_the_tunnel() {
    let (_d, _o, gw) = setup();
    let (reply, elapsed) = exchange(&gw, b"CONNECT chat.test:443 HTTP/1.1\r\nHost: chat.test:443\r\n\r\nSSH-2.0-OpenSSH_9.2\r\nmore bytes here\r\n");
    assert!(reply.starts_with("HTTP/1.1 200"), "{reply:?}");
    assert!(!reply.contains("SSH"), "nothing was relayed");
    assert!(elapsed < Duration::from_secs(4));
    assert_eq!(gw.metric("warden_tunnels_total{outcome=\"refused\"}"), 1.0);
    still_serving(&gw);
}

#[test]
fn a_malformed_client_hello_closes_the_tunnel() {
    let (_d, _o, gw) = setup();
    let mut bytes = b"CONNECT chat.test:443 HTTP/1.1\r\nHost: chat.test:443\r\n\r\n".to_vec();
    bytes.extend_from_slice(&[0x16, 0x03, 0x01, 0x00, 0x05, 0x02, 0x00, 0x00, 0x01, 0x00]);
    let (reply, elapsed) = exchange(&gw, &bytes);
    assert!(reply.starts_with("HTTP/1.1 200"));
    assert!(elapsed < Duration::from_secs(4));
    assert!(gw.wait_for_log(
        "first handshake message is not a ClientHello",
        Duration::from_secs(3)
    ));
    still_serving(&gw);
}

#[test]
fn stalled_clients_are_timed_out_while_others_are_served() {
    let (_d, _o, gw) = setup();
    // One client connects and says nothing; another opens a tunnel and sends no ClientHello.
    let silent = std::thread::spawn({
        let addr = gw.proxy;
        move || {
            let started = Instant::now();
            let mut s = TcpStream::connect(addr).unwrap();
            s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
            let mut buf = Vec::new();
            let _ = s.read_to_end(&mut buf);
            started.elapsed()
        }
    });
    let half_open = std::thread::spawn({
        let addr = gw.proxy;
        move || {
            let started = Instant::now();
            let mut s = TcpStream::connect(addr).unwrap();
            s.write_all(b"CONNECT chat.test:443 HTTP/1.1\r\nHost: chat.test:443\r\n\r\n")
                .unwrap();
            s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
            let mut buf = Vec::new();
            let _ = s.read_to_end(&mut buf);
            started.elapsed()
        }
    });
    still_serving(&gw);
    let silent = silent.join().unwrap();
    let half_open = half_open.join().unwrap();
    assert!(
        silent < Duration::from_secs(5),
        "silent client held for {silent:?}"
    );
    assert!(
        half_open < Duration::from_secs(5),
        "half-open tunnel held for {half_open:?}"
    );
}

#[test]
fn origin_form_requests_explain_that_this_is_a_proxy() {
    let (_d, _o, gw) = setup();
    let result = curl(&[&format!("http://{}/", gw.proxy)]);
    assert_eq!(result.status, 400);
    assert!(result.body_text().contains("forward proxy"));
}
