//! The test suite touches nothing of the user's (issue 24, bug 1): a test gateway that does
//! not ask for events writes none and reads its reports from nowhere, instead of gatewayd's
//! defaults (`127.0.0.1:8123`, where `scripts/run-gatewayd.sh` runs the user's ClickHouse).

use std::io::ErrorKind;
use std::net::TcpListener;

use crate::support::curl::curl;
use crate::support::gateway::{gatewayd, GatewayOptions, GatewayProcess, NO_CLICKHOUSE};
use crate::support::origin::Origin;

#[test]
fn a_test_gateway_never_reaches_the_users_clickhouse() {
    // Stand in for the user's ClickHouse where the port is free (when it is taken, a real
    // one may be running: the configuration check below still holds).
    let users_clickhouse = TcpListener::bind("127.0.0.1:8123").ok();
    let dir = tempfile::tempdir().unwrap();
    let origin = Origin::start(dir.path());
    let gw = GatewayProcess::start(&origin, GatewayOptions::default());

    let (code, out, err) = gatewayd(&gw, &["check"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.contains("events: off") && out.contains(NO_CLICKHOUSE),
        "a test gateway must write no events and read no reports: {out}"
    );

    // Traffic, and the admin port's report API, which reads from ClickHouse.
    let answer = curl(&[
        "-sS",
        "--proxy",
        &gw.proxy_url(),
        "--cacert",
        gw.root_pem.to_str().unwrap(),
        "https://chatgpt.com/",
    ]);
    assert_eq!(answer.status, 200, "{}", answer.body_text());
    let _ = crate::support::gateway::http_get(gw.admin, "/api/v1/reports/overview");
    std::thread::sleep(std::time::Duration::from_millis(1500));

    if let Some(listener) = users_clickhouse {
        listener.set_nonblocking(true).unwrap();
        match listener.accept() {
            Err(e) if e.kind() == ErrorKind::WouldBlock => {}
            Err(e) => panic!("watching 127.0.0.1:8123: {e}"),
            Ok((mut stream, peer)) => {
                // Show what was sent, so the culprit can be found.
                stream.set_nonblocking(false).unwrap();
                stream
                    .set_read_timeout(Some(std::time::Duration::from_secs(1)))
                    .unwrap();
                let mut head = [0u8; 512];
                let n = std::io::Read::read(&mut stream, &mut head).unwrap_or(0);
                panic!(
                    "something connected to 127.0.0.1:8123 from {peer}: {:?}",
                    String::from_utf8_lossy(&head[..n])
                );
            }
        }
    }
}
