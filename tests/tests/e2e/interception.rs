//! "I point curl at Warden and browse HTTPS sites": interception with minted certificates,
//! HTTP/1.1 and HTTP/2 on each side, and the cases where Warden must not or cannot intercept.

use crate::support::{curl, GatewayOptions, GatewayProcess, Origin};

fn setup(options: GatewayOptions) -> (tempfile::TempDir, Origin, GatewayProcess) {
    let dir = tempfile::tempdir().unwrap();
    let origin = Origin::start(dir.path());
    let gateway = GatewayProcess::start(&origin, options);
    (dir, origin, gateway)
}

#[test]
fn curl_http1_round_trips_through_an_interception_by_the_warden_ca() {
    let (_dir, _origin, gw) = setup(GatewayOptions::default());
    let root = gw.root_pem.display().to_string();
    let result = curl(&[
        "-v",
        "--http1.1",
        "-x",
        &gw.proxy_url(),
        "--cacert",
        &root,
        "-X",
        "POST",
        "--data-binary",
        "hello through warden",
        "https://chat.test/echo",
    ]);
    assert_eq!(result.exit, 0, "{}", result.stderr);
    assert_eq!(result.status, 200);
    assert_eq!(result.body_text(), "hello through warden");
    assert_eq!(result.http_version, "1.1");
    assert!(
        result.stderr.contains("Warden Intercept CA"),
        "curl should see a leaf issued by the Warden CA:\n{}",
        result.stderr
    );
    let id = result
        .header("x-warden-request-id")
        .expect("request id header");
    assert_eq!(id.len(), 36);
    assert_eq!(result.header("x-origin-saw-proxy-auth"), Some("no"));
    assert!(
        gw.wait_for_log(id, std::time::Duration::from_secs(5)),
        "transaction logged with its id"
    );
}

#[test]
fn curl_http2_is_served_http2_and_multiplexed_on_one_tunnel() {
    let (_dir, _origin, gw) = setup(GatewayOptions::default());
    let root = gw.root_pem.display().to_string();
    let before = gw.metric("warden_tunnels_total{outcome=\"intercepted\"}");
    let proxy = gw.proxy_url();
    let mut command = std::process::Command::new("curl");
    command.args([
        "-sS",
        "--http2",
        "-x",
        &proxy,
        "--cacert",
        &root,
        "--parallel",
    ]);
    command.args([
        "--parallel-max",
        "20",
        "-w",
        "%{http_code} %{http_version}\n",
    ]);
    for i in 0..20 {
        command
            .arg(format!("https://chat.test/bytes/{}", 1000 + i))
            .args(["-o", "/dev/null"]);
    }
    let output = command.output().expect("curl runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(
        stdout.lines().filter(|l| *l == "200 2").count(),
        20,
        "{stdout}"
    );
    let tunnels = gw.metric("warden_tunnels_total{outcome=\"intercepted\"}") - before;
    assert!(
        tunnels <= 2.0,
        "20 requests should share a multiplexed tunnel, used {tunnels}"
    );
    assert!(gw.metric("warden_requests_total") >= 20.0);
}

#[test]
fn http2_client_to_http1_only_upstream_and_back() {
    // The origin speaks both; curl asks h2 of Warden while Warden picks independently.
    let (_dir, _origin, gw) = setup(GatewayOptions::default());
    let root = gw.root_pem.display().to_string();
    let result = curl(&[
        "--http2",
        "-x",
        &gw.proxy_url(),
        "--cacert",
        &root,
        "https://api.test/echo",
    ]);
    assert_eq!(result.status, 200, "{}", result.stderr);
    assert_eq!(result.http_version, "2");
    assert_eq!(result.header("x-origin-host"), Some("api.test"));
    let result = curl(&[
        "--http1.1",
        "-x",
        &gw.proxy_url(),
        "--cacert",
        &root,
        "https://api.test/echo",
    ]);
    assert_eq!(result.http_version, "1.1");
    assert_eq!(
        result.header("x-origin-version"),
        Some("HTTP/2.0"),
        "upstream side negotiated h2 on its own"
    );
}

#[test]
fn plain_http_absolute_form_goes_through_the_pipeline() {
    let (_dir, _origin, gw) = setup(GatewayOptions::default());
    let result = curl(&[
        "-x",
        &gw.proxy_url(),
        "-d",
        "plain body",
        "http://plain.test/echo",
    ]);
    assert_eq!(result.status, 200, "{}", result.stderr);
    assert_eq!(result.body_text(), "plain body");
    assert!(result.header("x-warden-request-id").is_some());
}

#[test]
fn alt_svc_h3_advertisements_are_stripped() {
    let (_dir, _origin, gw) = setup(GatewayOptions::default());
    let root = gw.root_pem.display().to_string();
    let result = curl(&[
        "-x",
        &gw.proxy_url(),
        "--cacert",
        &root,
        "https://chat.test/alt-svc",
    ]);
    assert_eq!(result.status, 200);
    assert_eq!(result.header("alt-svc"), Some("h2=\"alt.test:443\""));
}

#[test]
fn do_not_inspect_hosts_show_the_origins_own_certificate() {
    let (_dir, origin, gw) = setup(GatewayOptions {
        sections: "[intercept]\ndo_not_inspect = [\"pinned.test\"]\n".into(),
        ..Default::default()
    });
    let origin_ca = origin.ca_pem.display().to_string();
    let result = curl(&[
        "-v",
        "-x",
        &gw.proxy_url(),
        "--cacert",
        &origin_ca,
        "https://pinned.test/echo",
        "-d",
        "x",
    ]);
    assert_eq!(result.exit, 0, "{}", result.stderr);
    assert_eq!(result.status, 200);
    assert!(
        result.stderr.contains("Test Origin CA"),
        "{}",
        result.stderr
    );
    assert!(
        result.header("x-warden-request-id").is_none(),
        "bypassed traffic is not touched"
    );
    assert_eq!(gw.metric("warden_tunnels_total{outcome=\"bypassed\"}"), 1.0);
}

#[test]
fn an_invalid_upstream_certificate_gets_a_502_block_page() {
    let dir = tempfile::tempdir().unwrap();
    let untrusted = Origin::start_untrusted(dir.path());
    let gw = GatewayProcess::start(&untrusted, GatewayOptions::default());
    let root = gw.root_pem.display().to_string();
    let result = curl(&[
        "-x",
        &gw.proxy_url(),
        "--cacert",
        &root,
        "-H",
        "Accept: text/html",
        "https://chat.test/echo",
    ]);
    assert_eq!(result.status, 502);
    assert_eq!(result.header("x-warden-action"), Some("block"));
    assert_eq!(result.header("x-warden-rule"), Some("upstream.certificate"));
    let page = result.body_text();
    assert!(page.contains("certificate is not valid"), "{page}");
    assert!(page.contains("unknown issuer"), "{page}");
    let json = curl(&[
        "-x",
        &gw.proxy_url(),
        "--cacert",
        &root,
        "-H",
        "Accept: application/json",
        "https://chat.test/echo",
    ]);
    let value: serde_json::Value = serde_json::from_slice(&json.body).unwrap();
    assert_eq!(value["error"]["rule"], "upstream.certificate");
    assert_eq!(gw.metric("warden_upstream_certificate_invalid_total"), 2.0);
}

#[test]
fn blocked_hosts_get_the_block_page_over_tls() {
    let (_dir, _origin, gw) = setup(GatewayOptions {
        sections: "[intercept]\nblock = [\"blocked.test\"]\n".into(),
        ..Default::default()
    });
    let root = gw.root_pem.display().to_string();
    let result = curl(&[
        "-x",
        &gw.proxy_url(),
        "--cacert",
        &root,
        "https://blocked.test/echo",
    ]);
    assert_eq!(result.status, 403);
    assert_eq!(result.header("x-warden-rule"), Some("intercept.block"));
    assert!(result.body_text().contains("blocked"));
}

#[test]
fn a_request_for_another_host_inside_a_tunnel_is_refused() {
    let (_dir, _origin, gw) = setup(GatewayOptions::default());
    let root = gw.root_pem.display().to_string();
    let result = curl(&[
        "-x",
        &gw.proxy_url(),
        "--cacert",
        &root,
        "-H",
        "Host: api.test",
        "https://chat.test/echo",
    ]);
    assert_eq!(result.status, 421);
    assert_eq!(
        result.header("x-warden-rule"),
        Some("request.host_mismatch")
    );
}

#[test]
fn connect_to_an_ip_without_sni_is_intercepted_with_an_ip_certificate() {
    let dir = tempfile::tempdir().unwrap();
    let origin = Origin::start(dir.path());
    // The origin is on loopback, which the egress policy refuses unless mapped explicitly.
    let target = origin.tls_addr.to_string();
    let gw = GatewayProcess::start(
        &origin,
        GatewayOptions {
            connect_to: vec![(target.clone(), target)],
            ..Default::default()
        },
    );
    let root = gw.root_pem.display().to_string();
    let url = format!("https://127.0.0.1:{}/echo", origin.tls_addr.port());
    let result = curl(&[
        "-x",
        &gw.proxy_url(),
        "--cacert",
        &root,
        "-d",
        "no sni",
        &url,
    ]);
    assert_eq!(result.exit, 0, "{}", result.stderr);
    assert_eq!(result.body_text(), "no sni");
}

#[test]
fn many_concurrent_clients_are_all_served() {
    let (_dir, _origin, gw) = setup(GatewayOptions::default());
    let root = gw.root_pem.display().to_string();
    let proxy = gw.proxy_url();
    let handles: Vec<_> = (0..40)
        .map(|i| {
            let (root, proxy) = (root.clone(), proxy.clone());
            std::thread::spawn(move || {
                let body = format!("client {i}");
                let http = if i % 2 == 0 { "--http2" } else { "--http1.1" };
                let r = curl(&[
                    http,
                    "-x",
                    &proxy,
                    "--cacert",
                    &root,
                    "-d",
                    &body,
                    "https://chat.test/echo",
                ]);
                (r.status, r.body_text() == body)
            })
        })
        .collect();
    for handle in handles {
        assert_eq!(handle.join().unwrap(), (200, true));
    }
    assert_eq!(
        gw.metric("warden_leaves_minted_total"),
        1.0,
        "one mint for one host"
    );
}
