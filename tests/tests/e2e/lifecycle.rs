//! "I operate Warden": reload on SIGHUP (keeping the last good config), graceful shutdown
//! that lets requests in flight finish, health and metrics on the admin port.

use std::time::Duration;

use crate::support::gateway::http_get;
use crate::support::{curl, GatewayOptions, GatewayProcess, Origin};

#[test]
fn sighup_applies_a_good_config_and_keeps_the_last_good_one_on_errors() {
    let dir = tempfile::tempdir().unwrap();
    let origin = Origin::start(dir.path());
    let gw = GatewayProcess::start(&origin, GatewayOptions::default());
    let root = gw.root_pem.display().to_string();
    let fetch = || {
        curl(&[
            "-x",
            &gw.proxy_url(),
            "--cacert",
            &root,
            "https://blocked.test/echo",
        ])
        .status
    };
    assert_eq!(fetch(), 200);

    let original = std::fs::read_to_string(&gw.config_path).unwrap();
    std::fs::write(
        &gw.config_path,
        format!("{original}\n[intercept]\nblock = [\"blocked.test\"]\n"),
    )
    .unwrap();
    gw.signal("HUP");
    assert!(
        gw.wait_for_log("configuration reloaded", Duration::from_secs(5)),
        "{}",
        gw.log()
    );
    assert_eq!(
        fetch(),
        403,
        "the new block list applies to new connections"
    );

    std::fs::write(
        &gw.config_path,
        format!("{original}\n[intercept]\nblok = [\"x\"]\n"),
    )
    .unwrap();
    gw.signal("HUP");
    assert!(gw.wait_for_log("reload refused", Duration::from_secs(5)));
    assert!(
        gw.log().contains("unknown field `blok`"),
        "the error names the problem"
    );
    assert!(
        gw.log().contains("gatewayd.toml:"),
        "the error names the file and position"
    );
    assert_eq!(fetch(), 403, "the last good configuration stays in force");
    assert_eq!(
        gw.metric("warden_config_reloads_total{outcome=\"refused\"}"),
        1.0
    );
}

#[test]
fn sigterm_drains_requests_in_flight_then_exits() {
    let dir = tempfile::tempdir().unwrap();
    let origin = Origin::start(dir.path());
    let mut gw = GatewayProcess::start(&origin, GatewayOptions::default());
    let root = gw.root_pem.display().to_string();
    let proxy = gw.proxy_url();
    let slow = std::thread::spawn(move || {
        curl(&["-x", &proxy, "--cacert", &root, "https://chat.test/slow"])
    });
    std::thread::sleep(Duration::from_millis(500));
    gw.signal("TERM");
    let result = slow.join().unwrap();
    assert_eq!(result.status, 200);
    assert_eq!(
        result.body_text().lines().count(),
        10,
        "the slow response finished: {}",
        result.body_text()
    );
    assert!(
        gw.wait_exit(Duration::from_secs(10)),
        "gatewayd exits after draining"
    );
    assert!(gw.log().contains("gatewayd stopped"));
}

#[test]
fn health_and_metrics_on_the_admin_port() {
    let dir = tempfile::tempdir().unwrap();
    let origin = Origin::start(dir.path());
    let gw = GatewayProcess::start(&origin, GatewayOptions::default());
    assert_eq!(
        http_get(gw.admin, "/healthz").unwrap(),
        (200, "ok\n".into())
    );
    let root = gw.root_pem.display().to_string();
    curl(&[
        "-x",
        &gw.proxy_url(),
        "--cacert",
        &root,
        "https://chat.test/bytes/5000",
    ]);
    let (status, metrics) = http_get(gw.admin, "/metrics").unwrap();
    assert_eq!(status, 200);
    assert!(metrics.contains("# TYPE warden_requests_total counter"));
    assert!(gw.metric("warden_bytes_total{direction=\"down\"}") >= 5000.0);
    assert_eq!(gw.metric("warden_leaf_cache_entries"), 1.0);
}

#[test]
fn sigterm_drains_an_open_websocket_for_shutdown_drain_then_exits() {
    use futures_util::{SinkExt, StreamExt};
    use tokio_tungstenite::tungstenite::Message;

    let dir = tempfile::tempdir().unwrap();
    let origin = Origin::start(dir.path());
    let mut gw = GatewayProcess::start(
        &origin,
        GatewayOptions {
            sections: "[timeouts]\nshutdown_drain = \"3s\"\n".into(),
            ..Default::default()
        },
    );
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let mut ws = crate::streaming::websocket_through(&gw, "ws.test").await;
        let mut echo = async |text: &str| {
            ws.send(Message::text(text)).await.unwrap();
            let echoed = tokio::time::timeout(Duration::from_secs(5), ws.next())
                .await
                .expect("an answer through the relay")
                .expect("the relay is open")
                .expect("a message");
            assert_eq!(echoed.into_text().unwrap().as_str(), text);
        };
        echo("before").await;
        gw.signal("TERM");
        let terminated = std::time::Instant::now();
        assert!(gw.wait_for_log("shutting down", Duration::from_secs(5)));
        std::thread::sleep(Duration::from_millis(500));
        echo("during the drain").await;

        assert!(
            gw.wait_exit(Duration::from_secs(15)),
            "gatewayd exits once shutdown_drain has passed, open WebSocket or not"
        );
        let waited = terminated.elapsed();
        assert!(
            waited >= Duration::from_millis(2500),
            "gatewayd waited for the open WebSocket only {waited:?}"
        );
        assert!(gw.log().contains("drain timeout reached"), "{}", gw.log());
        let after = tokio::time::timeout(Duration::from_secs(5), ws.next())
            .await
            .expect("the client sees its relay end");
        assert!(!matches!(after, Some(Ok(Message::Text(_)))), "{after:?}");
    });
}
