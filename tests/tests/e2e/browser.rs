//! "My browser works through Warden": headless Chromium, trusting the Warden root by SPKI,
//! loads an HTTPS page through the proxy.

use std::process::Command;

use crate::support::tools::{gatewayd_binary, require};
use crate::support::{GatewayOptions, GatewayProcess, Origin};

/// SPKI hashes of the Warden root and intermediate, from `gatewayd ca show`.
pub(crate) fn warden_spki(gw: &GatewayProcess) -> Vec<String> {
    let output = Command::new(gatewayd_binary())
        .args(["ca", "show", "--config"])
        .arg(&gw.config_path)
        .output()
        .unwrap();
    assert!(output.status.success());
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(|l| l.trim().strip_prefix("spki sha256 (base64): "))
        .map(str::to_owned)
        .collect()
}

#[test]
fn headless_chromium_loads_an_https_page_through_the_proxy() {
    let chromium = require("chromium", "apt-get install -y chromium chromium-driver");
    let dir = tempfile::tempdir().unwrap();
    let origin = Origin::start(dir.path());
    let gw = GatewayProcess::start(&origin, GatewayOptions::default());
    let spki = warden_spki(&gw);
    assert_eq!(spki.len(), 2);
    let profile = tempfile::tempdir().unwrap();
    let output = Command::new(chromium)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-dev-shm-usage",
            "--timeout=20000",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .arg(format!("--proxy-server=http://{}", gw.proxy))
        .arg(format!(
            "--ignore-certificate-errors-spki-list={}",
            spki.join(",")
        ))
        .arg("--dump-dom")
        .arg("https://chat.test/page")
        .output()
        .expect("chromium runs");
    let dom = String::from_utf8_lossy(&output.stdout);
    assert!(
        dom.contains("Hello from the origin"),
        "chromium did not render the page through the proxy.\nstdout:\n{dom}\nstderr:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(gw.metric("warden_tunnels_total{outcome=\"intercepted\"}") >= 1.0);
}
