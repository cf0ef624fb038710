//! Running the real curl and reading what it saw: status, headers, body, verbose output.

use std::process::Command;

use super::tools::require;

/// What one curl invocation returned.
#[derive(Debug)]
pub struct CurlResult {
    pub exit: i32,
    pub status: u16,
    pub http_version: String,
    /// Headers of the final response, names lowercased.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    pub stderr: String,
}

impl CurlResult {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    pub fn body_text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// Runs `curl -sS` with `args`, capturing the final response.
pub fn curl(args: &[&str]) -> CurlResult {
    let binary = require("curl", "apt-get install -y curl");
    let dir = tempfile::tempdir().unwrap();
    let headers_path = dir.path().join("headers");
    let body_path = dir.path().join("body");
    let output = Command::new(binary)
        .args(["-sS", "--max-time", "60", "-D"])
        .arg(&headers_path)
        .arg("-o")
        .arg(&body_path)
        .args(["-w", "%{http_code} %{http_version}"])
        .args(args)
        .output()
        .expect("curl runs");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let mut parts = stdout.split_whitespace();
    let status = parts.next().and_then(|s| s.parse().ok()).unwrap_or(0);
    let http_version = parts.next().unwrap_or("").to_string();
    let raw_headers = std::fs::read_to_string(&headers_path).unwrap_or_default();
    let last_block = raw_headers
        .split("\r\n\r\n")
        .filter(|b| b.starts_with("HTTP/"))
        .last()
        .unwrap_or("");
    let headers = last_block
        .lines()
        .skip(1)
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    CurlResult {
        exit: output.status.code().unwrap_or(-1),
        status,
        http_version,
        headers,
        body: std::fs::read(&body_path).unwrap_or_default(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

/// Runs `sql` against ClickHouse's HTTP interface at `url` (the answer is TSV).
pub fn clickhouse_sql(url: &str, sql: &str) -> CurlResult {
    curl(&["-G", "--data-urlencode", &format!("query={sql}"), url])
}
