//! A real `gatewayd run` process on ephemeral ports, configured to send the test host names to
//! the test origin and to trust the origin's CA. Its log is kept for failure reports.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::origin::{Origin, ORIGIN_NAMES};
use super::tools::gatewayd_binary;

/// Extra configuration for a scenario.
#[derive(Default, Clone)]
pub struct GatewayOptions {
    /// Lines added inside `[proxy]`.
    pub proxy: String,
    /// Whole extra sections (`[intercept]`, `[timeouts]`, `[limits]` ...).
    pub sections: String,
    /// Lines added inside `[admin]`.
    pub admin: String,
    /// Overrides `proxy.listen` (default 127.0.0.1:0).
    pub listen: Option<String>,
    /// Extra `upstream.connect_to` entries ("host:port", "addr:port"): the explicit way past
    /// the egress policy to a loopback server.
    pub connect_to: Vec<(String, String)>,
}

pub struct GatewayProcess {
    child: Child,
    pub dir: tempfile::TempDir,
    pub proxy: SocketAddr,
    pub admin: SocketAddr,
    /// The agent tunnel port, when `[tunnel] listen` is configured.
    pub tunnel: Option<SocketAddr>,
    pub config_path: PathBuf,
    pub log_path: PathBuf,
    pub root_pem: PathBuf,
}

impl GatewayProcess {
    /// Starts gatewayd in front of `origin`.
    pub fn start(origin: &Origin, options: GatewayOptions) -> Self {
        let dir = tempfile::Builder::new()
            .prefix("warden-e2e-")
            .tempdir()
            .unwrap();
        let config_path = dir.path().join("gatewayd.toml");
        std::fs::write(&config_path, config_text(dir.path(), origin, &options)).unwrap();
        Self::spawn(dir, config_path)
    }

    fn spawn(dir: tempfile::TempDir, config_path: PathBuf) -> Self {
        let log_path = dir.path().join("gatewayd.log");
        let log = std::fs::File::create(&log_path).unwrap();
        let child = Command::new(gatewayd_binary())
            .args(["run", "--config"])
            .arg(&config_path)
            .env("RUST_LOG", "info")
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("gatewayd starts");
        let listen_file = dir.path().join("state/listen.json");
        let deadline = Instant::now() + Duration::from_secs(20);
        let mut this = Self {
            child,
            proxy: "0.0.0.0:0".parse().unwrap(),
            admin: "0.0.0.0:0".parse().unwrap(),
            tunnel: None,
            root_pem: dir.path().join("state/ca/root.crt.pem"),
            dir,
            config_path,
            log_path,
        };
        loop {
            if let Ok(text) = std::fs::read_to_string(&listen_file) {
                let value: serde_json::Value = serde_json::from_str(&text).unwrap();
                this.proxy = value["proxy"].as_str().unwrap().parse().unwrap();
                this.admin = value["admin"].as_str().unwrap().parse().unwrap();
                this.tunnel = value["tunnel"].as_str().and_then(|t| t.parse().ok());
                if http_get(this.admin, "/healthz").is_some_and(|(s, _)| s == 200) {
                    return this;
                }
            }
            if let Ok(Some(status)) = this.child.try_wait() {
                panic!(
                    "gatewayd exited with {status} before it was ready:\n{}",
                    this.log()
                );
            }
            assert!(
                Instant::now() < deadline,
                "gatewayd not ready in 20 s:\n{}",
                this.log()
            );
            std::thread::sleep(Duration::from_millis(25));
        }
    }

    pub fn proxy_url(&self) -> String {
        format!("http://{}", self.proxy)
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log_path).unwrap_or_default()
    }

    /// The value of a Prometheus metric (without labels).
    pub fn metric(&self, name: &str) -> f64 {
        let (_, body) = http_get(self.admin, "/metrics").expect("metrics answer");
        body.lines()
            .find_map(|l| l.strip_prefix(name).and_then(|rest| rest.strip_prefix(' ')))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or_else(|| panic!("metric {name} missing"))
    }

    /// Sends a signal by name (HUP, TERM ...).
    pub fn signal(&self, name: &str) {
        let status = Command::new("kill")
            .arg(format!("-{name}"))
            .arg(self.child.id().to_string())
            .status()
            .unwrap();
        assert!(status.success());
    }

    /// Kills the process (SIGKILL, like a crash) and starts it again on the same state dir and
    /// config; the new ports are read back.
    pub fn crash_and_restart(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_file(self.dir.path().join("state/listen.json"));
        let dir = std::mem::replace(&mut self.dir, tempfile::tempdir().unwrap());
        let config = self.config_path.clone();
        let fresh = Self::spawn(dir, config);
        // `fresh` owns the new child; the old handle keeps only a dead child and a throwaway dir.
        drop(std::mem::replace(self, fresh));
    }

    /// Waits for the process to exit; returns whether it did within `limit`.
    pub fn wait_exit(&mut self, limit: Duration) -> bool {
        let deadline = Instant::now() + limit;
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return true;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        false
    }

    /// A line of `/proc/<pid>/status` in KiB (VmRSS, VmHWM).
    pub fn memory_kib(&self, field: &str) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid())).unwrap();
        status
            .lines()
            .find_map(|l| l.strip_prefix(field))
            .and_then(|v| {
                v.trim_start_matches(':')
                    .trim()
                    .trim_end_matches("kB")
                    .trim()
                    .parse()
                    .ok()
            })
            .unwrap()
    }

    /// Waits until the log contains `needle`.
    pub fn wait_for_log(&self, needle: &str, limit: Duration) -> bool {
        let deadline = Instant::now() + limit;
        while Instant::now() < deadline {
            if self.log().contains(needle) {
                return true;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        false
    }
}

impl Drop for GatewayProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if std::thread::panicking() {
            eprintln!(
                "--- gatewayd log ({}) ---\n{}",
                self.log_path.display(),
                self.log()
            );
            // Keep the artifacts of a failed scenario.
            let kept = std::mem::replace(&mut self.dir, tempfile::tempdir().unwrap()).keep();
            eprintln!("artifacts kept in {}", kept.display());
        }
    }
}

/// The ClickHouse of a test gateway that has none: port 1 on loopback, where nothing listens
/// and nothing unprivileged can, so a query fails at once instead of reaching a real server.
pub const NO_CLICKHOUSE: &str = "http://127.0.0.1:1";

fn config_text(dir: &std::path::Path, origin: &Origin, options: &GatewayOptions) -> String {
    let mut connect_to = String::new();
    for name in ORIGIN_NAMES {
        connect_to.push_str(&format!("\"{name}:443\" = \"{}\"\n", origin.tls_addr));
        connect_to.push_str(&format!("\"{name}:80\" = \"{}\"\n", origin.plain_addr));
    }
    for (from, to) in &options.connect_to {
        connect_to.push_str(&format!("\"{from}\" = \"{to}\"\n"));
    }
    // A test touches nothing outside its temp dir and its own ports: without these, gatewayd's
    // defaults would write events into (and the dashboard read from) a ClickHouse the user
    // runs on 127.0.0.1:8123. A scenario that wants events names its own.
    let mut own_sections = String::new();
    if !options.sections.contains("[clickhouse]") {
        own_sections.push_str(&format!("[clickhouse]\nurl = \"{NO_CLICKHOUSE}\"\n\n"));
    }
    if !options.sections.contains("[events]") {
        own_sections.push_str("[events]\nenabled = false\n\n");
    }
    format!(
        "[proxy]\nlisten = \"{listen}\"\n{proxy}\n\
         [admin]\nlisten = \"127.0.0.1:0\"\n{admin}\n\
         [state]\ndir = \"{state}\"\n\n\
         [upstream]\nextra_roots = [{ca}]\n\n\
         [upstream.connect_to]\n{connect_to}\n\
         {own_sections}{sections}\n",
        listen = options.listen.as_deref().unwrap_or("127.0.0.1:0"),
        proxy = options.proxy,
        admin = options.admin,
        state = dir.join("state").display(),
        ca = if origin.trusted {
            format!("\"{}\"", origin.ca_pem.display())
        } else {
            String::new()
        },
        sections = options.sections,
    )
}

/// `gatewayd ARGS --config <gw's config>`: exit code, stdout, stderr.
pub fn gatewayd(gw: &GatewayProcess, args: &[&str]) -> (i32, String, String) {
    let output = Command::new(gatewayd_binary())
        .args(args)
        .arg("--config")
        .arg(&gw.config_path)
        .output()
        .expect("gatewayd runs");
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// A minimal HTTP/1.1 GET over a fresh connection: (status, body).
pub fn http_get(addr: SocketAddr, path: &str) -> Option<(u16, String)> {
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(2)).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    let mut response = String::new();
    stream.read_to_string(&mut response).ok()?;
    let status = response.split_whitespace().nth(1)?.parse().ok()?;
    let body = response
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())?;
    Some((status, body))
}
