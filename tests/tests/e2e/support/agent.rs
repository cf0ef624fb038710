//! A real device agent: enrolled against a real gatewayd with a one-time token, then
//! `agent run` on an ephemeral local port. Its log is printed when a scenario fails.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};

use super::gateway::GatewayProcess;
use super::tools::{agent_binary, gatewayd_binary};

pub use super::tools::free_port;

/// The SHA-256 of the gateway's root certificate, as `gatewayd ca show` prints it.
pub fn root_fingerprint(gw: &GatewayProcess) -> String {
    use rustls_pki_types::pem::PemObject;
    let der = rustls_pki_types::CertificateDer::from_pem_file(&gw.root_pem).unwrap();
    Sha256::digest(der.as_ref())
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect::<Vec<_>>()
        .join(":")
}

/// `gatewayd devices ARGS --config <the gateway's>`.
pub fn devices_cli(gw: &GatewayProcess, args: &[&str]) -> Output {
    Command::new(gatewayd_binary())
        .arg("devices")
        .args(args)
        .arg("--config")
        .arg(&gw.config_path)
        .output()
        .unwrap()
}

/// A one-time enrollment token for `user`.
pub fn enroll_token(gw: &GatewayProcess, user: &str, groups: &str) -> String {
    let out = devices_cli(gw, &["enroll-token", "--user", user, "--groups", groups]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    last_line(&out)
}

/// Runs `agent enroll`; returns its output.
pub fn agent_enroll(tunnel: SocketAddr, token: &str, fingerprint: &str, state: &Path) -> Output {
    Command::new(agent_binary())
        .args(["enroll", "--gateway"])
        .arg(format!("https://{tunnel}"))
        .args([
            "--token",
            token,
            "--ca-fingerprint",
            fingerprint,
            "--state-dir",
        ])
        .arg(state)
        .env("RUST_LOG", "warn")
        .output()
        .unwrap()
}

/// Enrolls a device for `user` into `state`; returns its device id.
pub fn enroll(
    gw: &GatewayProcess,
    tunnel: SocketAddr,
    user: &str,
    groups: &str,
    state: &Path,
) -> String {
    let token = enroll_token(gw, user, groups);
    let out = agent_enroll(tunnel, &token, &root_fingerprint(gw), state);
    assert!(
        out.status.success(),
        "agent enroll failed: {}\n{}",
        String::from_utf8_lossy(&out.stderr),
        gw.log()
    );
    last_line(&out)
}

pub struct AgentProcess {
    child: Child,
    pub state: PathBuf,
    pub listen: SocketAddr,
    log_path: PathBuf,
}

impl AgentProcess {
    /// Starts `agent run` on `state` with extra flags; waits until it listens.
    pub fn start(state: &Path, extra: &[&str]) -> Self {
        let listen: SocketAddr = format!("127.0.0.1:{}", free_port()).parse().unwrap();
        let log_path = state.with_extension("log");
        let log = std::fs::File::create(&log_path).unwrap();
        let child = Command::new(agent_binary())
            .args(["run", "--state-dir"])
            .arg(state)
            .arg("--listen")
            .arg(listen.to_string())
            .args(extra)
            .env("RUST_LOG", "info")
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap();
        let mut this = Self {
            child,
            state: state.to_path_buf(),
            listen,
            log_path,
        };
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(listen).is_err() {
            if let Ok(Some(status)) = this.child.try_wait() {
                panic!("agent exited with {status}:\n{}", this.log());
            }
            assert!(
                Instant::now() < deadline,
                "agent not listening:\n{}",
                this.log()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        this
    }

    pub fn proxy_url(&self) -> String {
        format!("http://{}", self.listen)
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log_path).unwrap_or_default()
    }

    /// `agent status --json`.
    pub fn status(&self) -> serde_json::Value {
        let out = Command::new(agent_binary())
            .args(["status", "--json", "--state-dir"])
            .arg(&self.state)
            .output()
            .unwrap();
        serde_json::from_slice(&out.stdout).unwrap_or_default()
    }

    /// Waits until the agent reports its tunnel connected.
    pub fn wait_connected(&self, limit: Duration) {
        let deadline = Instant::now() + limit;
        while self.status()["connection"] != "connected" {
            assert!(
                Instant::now() < deadline,
                "agent not connected in {limit:?}:\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for AgentProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if std::thread::panicking() {
            eprintln!(
                "--- agent log ({}) ---\n{}",
                self.log_path.display(),
                self.log()
            );
        }
    }
}

/// The last line a command printed, trimmed (where the CLI puts its answer).
fn last_line(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .last()
        .unwrap()
        .trim()
        .to_string()
}
