//! "An origin that recycles its connections never shows me an error": nginx over HTTP/2
//! closing every connection after 10 requests (GOAWAY), hundreds of GETs and POSTs through
//! the gateway, every one answered 200 — the gateway retries requests nginx did not process
//! on a fresh connection instead of turning the GOAWAY into a 502.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair};

use crate::support::tools::{free_port, require};
use crate::support::{GatewayOptions, GatewayProcess, Origin};

/// nginx serving HTTP/2 over TLS for `nginx.test`, closing connections after 10 requests.
struct Nginx {
    child: Child,
    port: u16,
}

impl Drop for Nginx {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts nginx with a leaf for `nginx.test` signed by a fresh CA, whose PEM is appended to
/// `trust` (the file the gateway reads as `upstream.extra_roots`).
fn start_nginx(dir: &Path, trust: &Path) -> Nginx {
    let nginx = require("nginx", "apt-get install -y nginx");
    let ca_key = KeyPair::generate().unwrap();
    let mut ca = CertificateParams::default();
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.distinguished_name.push(DnType::CommonName, "nginx CA");
    let ca_cert = ca.self_signed(&ca_key).unwrap();
    let issuer = Issuer::new(ca, ca_key);
    let leaf_key = KeyPair::generate().unwrap();
    let leaf = CertificateParams::new(vec!["nginx.test".to_string()])
        .unwrap()
        .signed_by(&leaf_key, &issuer)
        .unwrap();
    let mut roots = std::fs::read_to_string(trust).unwrap();
    roots.push_str(&ca_cert.pem());
    std::fs::write(trust, roots).unwrap();
    std::fs::write(dir.join("nginx.crt"), leaf.pem()).unwrap();
    std::fs::write(dir.join("nginx.key"), leaf_key.serialize_pem()).unwrap();
    let port = free_port();
    let d = dir.display();
    let conf = format!(
        "worker_processes 1;\npid {d}/nginx.pid;\nerror_log {d}/nginx-error.log;\n\
         events {{ worker_connections 1024; }}\n\
         http {{\n  access_log off;\n  keepalive_requests 10;\n\
           client_body_temp_path {d}/body;\n  proxy_temp_path {d}/proxy;\n\
           fastcgi_temp_path {d}/fastcgi;\n  uwsgi_temp_path {d}/uwsgi;\n  scgi_temp_path {d}/scgi;\n\
           server {{\n    listen 127.0.0.1:{port} ssl http2;\n\
             ssl_certificate {d}/nginx.crt;\n    ssl_certificate_key {d}/nginx.key;\n\
             location / {{ return 200 \"ok\\n\"; }}\n  }}\n}}\n"
    );
    std::fs::write(dir.join("nginx.conf"), conf).unwrap();
    let mut child = Command::new(nginx)
        .args(["-p"])
        .arg(dir)
        .arg("-c")
        .arg(dir.join("nginx.conf"))
        .args(["-g", "daemon off;"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("nginx starts");
    for _ in 0..100 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return Nginx { child, port };
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = child.kill();
    let _ = child.wait();
    panic!(
        "nginx did not listen on {port}: {}",
        std::fs::read_to_string(dir.join("nginx-error.log")).unwrap_or_default()
    );
}

/// Runs one curl with `count` requests to `url` over one proxy connection, printing each
/// status on its own line; returns the statuses.
fn statuses(gw: &GatewayProcess, url: &str, count: usize, post: bool) -> Vec<String> {
    let curl = require("curl", "apt-get install -y curl");
    let mut command = Command::new(curl);
    command
        .args([
            "-sS",
            "--max-time",
            "120",
            "-x",
            &gw.proxy_url(),
            "--cacert",
        ])
        .arg(&gw.root_pem)
        .args(["-w", "%{http_code}\\n"]);
    if post {
        command.args(["-d", "order=42&note=retry-me"]);
    }
    for _ in 0..count {
        command.args(["-o", "/dev/null", url]);
    }
    let output = command.output().expect("curl runs");
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(str::to_owned)
        .collect()
}

#[test]
fn goaway_from_an_upstream_never_becomes_a_user_visible_error() {
    let dir = tempfile::tempdir().unwrap();
    let origin = Origin::start(dir.path());
    let nginx = start_nginx(dir.path(), &origin.ca_pem);
    let gw = GatewayProcess::start(
        &origin,
        GatewayOptions {
            connect_to: vec![("nginx.test:443".into(), format!("127.0.0.1:{}", nginx.port))],
            ..Default::default()
        },
    );
    // Ten clients at once, half of them POSTing (not idempotent), 50 requests each over one
    // kept-alive proxy connection: 500 requests across ~50 upstream connections.
    let results: Vec<Vec<String>> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..10)
            .map(|i| {
                let gw = &gw;
                scope.spawn(move || {
                    statuses(gw, &format!("https://nginx.test/item/{i}"), 50, i % 2 == 1)
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let all: Vec<&String> = results.iter().flatten().collect();
    assert_eq!(all.len(), 500, "every request answered: {results:?}");
    let failures: Vec<&&String> = all.iter().filter(|s| s.as_str() != "200").collect();
    assert!(
        failures.is_empty(),
        "{} of 500 requests were not 200: {failures:?}\n{}",
        failures.len(),
        gw.log()
    );
    // nginx closed ~50 connections under the gateway; some of those requests were retried.
    eprintln!(
        "retried on a fresh connection: {}",
        gw.metric("warden_upstream_retries_total")
    );
    assert_eq!(gw.metric("warden_upstream_errors_total"), 0.0);
}
