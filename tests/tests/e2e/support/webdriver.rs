//! A small W3C WebDriver client over Debian's chromedriver driving headless Chromium: enough
//! to log in, click, type, read the page and take screenshots. Plain HTTP/1.1 to a loopback
//! driver, so no client library is needed.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine;
use serde_json::{json, Value};

use super::tools::{free_port, require};

/// The W3C key of an element reference.
const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

/// A chromedriver process with one browser session.
pub struct Browser {
    driver: Child,
    addr: SocketAddr,
    session: String,
    _profile: tempfile::TempDir,
}

/// One HTTP exchange with the driver: status and JSON body. chromedriver keeps the
/// connection open whatever the request says, so the body is read by its Content-Length.
fn exchange(addr: SocketAddr, method: &str, path: &str, body: Option<&Value>) -> (u16, Value) {
    let mut stream = TcpStream::connect(addr).expect("chromedriver answers");
    stream
        .set_read_timeout(Some(Duration::from_secs(90)))
        .unwrap();
    let payload = body.map(|b| b.to_string()).unwrap_or_default();
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{payload}",
        payload.len()
    );
    stream.write_all(request.as_bytes()).unwrap();
    let mut raw = Vec::new();
    let mut chunk = [0u8; 16 * 1024];
    let (head_end, length) = loop {
        let n = stream.read(&mut chunk).expect("chromedriver replies");
        assert!(n > 0, "chromedriver closed the connection");
        raw.extend_from_slice(&chunk[..n]);
        if let Some(at) = raw.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&raw[..at]).to_ascii_lowercase();
            let length = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .and_then(|v| v.trim().parse::<usize>().ok())
                .unwrap_or(0);
            break (at + 4, length);
        }
    };
    while raw.len() < head_end + length {
        let n = stream.read(&mut chunk).expect("chromedriver replies");
        assert!(n > 0, "chromedriver closed the connection mid-body");
        raw.extend_from_slice(&chunk[..n]);
    }
    let head = String::from_utf8_lossy(&raw[..head_end]);
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let body = &raw[head_end..head_end + length];
    (status, serde_json::from_slice(body).unwrap_or(Value::Null))
}

impl Browser {
    /// Starts chromedriver and a headless Chromium session, with `proxy` if given.
    pub fn start(proxy: Option<&str>) -> Self {
        Self::start_with(proxy, None)
    }

    /// [`Browser::start`], saving downloads into `downloads` without asking.
    pub fn start_with(proxy: Option<&str>, downloads: Option<&Path>) -> Self {
        Self::start_args(proxy, downloads, &[])
    }

    /// [`Browser::start_with`] with more Chromium arguments (for example the SPKI list that
    /// trusts a gateway's root when browsing through it).
    pub fn start_args(proxy: Option<&str>, downloads: Option<&Path>, extra: &[String]) -> Self {
        let driver_binary = require("chromedriver", "apt-get install -y chromium-driver");
        let chromium = require("chromium", "apt-get install -y chromium");
        let port = free_port();
        let addr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
        let driver = Command::new(driver_binary)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts");
        let deadline = Instant::now() + Duration::from_secs(20);
        while TcpStream::connect(addr).is_err() {
            assert!(Instant::now() < deadline, "chromedriver did not listen");
            std::thread::sleep(Duration::from_millis(100));
        }
        let profile = tempfile::tempdir().unwrap();
        let mut args = vec![
            "--headless".to_string(),
            "--no-sandbox".into(),
            "--disable-gpu".into(),
            "--disable-dev-shm-usage".into(),
            "--no-first-run".into(),
            "--disable-background-networking".into(),
            "--disable-component-update".into(),
            "--window-size=1400,1000".into(),
            format!("--user-data-dir={}", profile.path().display()),
        ];
        if let Some(proxy) = proxy {
            args.push(format!("--proxy-server={proxy}"));
        }
        args.extend(extra.iter().cloned());
        let (status, value) = exchange(
            addr,
            "POST",
            "/session",
            Some(&json!({
                "capabilities": { "alwaysMatch": {
                    "browserName": "chrome",
                    "goog:chromeOptions": {
                        "binary": chromium,
                        "args": args,
                        "prefs": downloads.map(|dir| json!({
                            "download.default_directory": dir.display().to_string(),
                            "download.prompt_for_download": false,
                        })).unwrap_or(json!({})),
                    },
                }}
            })),
        );
        assert_eq!(status, 200, "new WebDriver session: {value}");
        let session = value["value"]["sessionId"]
            .as_str()
            .expect("a session id")
            .to_string();
        Self {
            driver,
            addr,
            session,
            _profile: profile,
        }
    }

    fn call(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        let full = format!("/session/{}{path}", self.session);
        let (status, value) = exchange(self.addr, method, &full, body.as_ref());
        assert_eq!(status, 200, "{method} {path}: {value}");
        value["value"].clone()
    }

    /// Loads `url` and waits for it.
    pub fn goto(&self, url: &str) {
        self.call("POST", "/url", Some(json!({ "url": url })));
    }

    pub fn url(&self) -> String {
        self.call("GET", "/url", None)
            .as_str()
            .unwrap_or("")
            .to_string()
    }

    /// The page's HTML as it is now.
    /// Waits until the page source contains `needle` (a form post that lands on the same URL
    /// gives no other sign that the new page has arrived); returns the source.
    pub fn wait_for_source(&self, needle: &str, limit: std::time::Duration) -> String {
        let deadline = std::time::Instant::now() + limit;
        loop {
            let source = self.source();
            if source.contains(needle) || std::time::Instant::now() >= deadline {
                return source;
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
    }

    pub fn source(&self) -> String {
        self.call("GET", "/source", None)
            .as_str()
            .unwrap_or("")
            .to_string()
    }

    /// The first element matching CSS `selector`, waiting up to 10 s for it.
    pub fn find(&self, selector: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let full = format!("/session/{}/element", self.session);
            let (status, value) = exchange(
                self.addr,
                "POST",
                &full,
                Some(&json!({ "using": "css selector", "value": selector })),
            );
            if status == 200 {
                return value["value"][ELEMENT]
                    .as_str()
                    .unwrap_or_else(|| panic!("no element id in {value}"))
                    .to_string();
            }
            assert!(
                Instant::now() < deadline,
                "no element {selector:?} on {}:\n{}",
                self.url(),
                self.source()
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    /// Signs in on `admin`'s login page with `token` and waits until the form's answer has
    /// arrived: a `goto` issued while the login post is still in flight would be overridden by
    /// its redirect.
    pub fn login(&self, admin: &str, token: &str) {
        self.goto(&format!("http://{admin}/login"));
        self.fill("#token", token);
        self.click("#login");
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while self.url().ends_with("/login") {
            assert!(std::time::Instant::now() < deadline, "login did not finish");
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    pub fn click(&self, selector: &str) {
        let element = self.find(selector);
        self.call(
            "POST",
            &format!("/element/{element}/click"),
            Some(json!({})),
        );
    }

    /// Replaces the text of an input or textarea.
    pub fn fill(&self, selector: &str, text: &str) {
        let element = self.find(selector);
        self.call(
            "POST",
            &format!("/element/{element}/clear"),
            Some(json!({})),
        );
        self.call(
            "POST",
            &format!("/element/{element}/value"),
            Some(json!({ "text": text })),
        );
    }

    /// The visible text of an element.
    pub fn text(&self, selector: &str) -> String {
        let element = self.find(selector);
        self.call("GET", &format!("/element/{element}/text"), None)
            .as_str()
            .unwrap_or("")
            .to_string()
    }

    /// Runs `script` in the page (WebDriver's own injection, which the page's CSP does not
    /// govern) and returns its value: for measuring layout, never for acting on the page.
    pub fn execute(&self, script: &str) -> Value {
        self.call(
            "POST",
            "/execute/sync",
            Some(json!({ "script": script, "args": [] })),
        )
    }

    /// Saves a PNG screenshot as `name.png` under the artifacts directory; returns its path.
    pub fn screenshot(&self, name: &str) -> PathBuf {
        let data = self.call("GET", "/screenshot", None);
        let png = base64::engine::general_purpose::STANDARD
            .decode(data.as_str().unwrap_or(""))
            .expect("screenshot is base64");
        let dir = artifacts_dir();
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(format!("{name}.png"));
        std::fs::write(&path, png).unwrap();
        path
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = exchange(
            self.addr,
            "DELETE",
            &format!("/session/{}", self.session),
            None,
        );
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

/// Where test artifacts go: `$WARDEN_ARTIFACTS`, else `<target>/e2e-artifacts`.
pub fn artifacts_dir() -> PathBuf {
    if let Ok(dir) = std::env::var("WARDEN_ARTIFACTS") {
        return PathBuf::from(dir);
    }
    let exe = std::env::current_exe().expect("test binary path");
    exe.ancestors()
        .nth(3)
        .map(Path::to_path_buf)
        .unwrap_or_else(std::env::temp_dir)
        .join("e2e-artifacts")
}
