//! The `[siem]` section: where security events (and optionally every transaction) are sent
//! for a SIEM — syslog over TCP or TLS, Splunk's HTTP Event Collector, a signed HTTPS webhook.
//! Off (no sink) by default.
//!
//! What this module must never do: hold a token or secret itself (they are named here by a
//! file or an environment variable and read when the daemon starts, never printed), accept a
//! URL with credentials in it (URLs end up in logs), or allow an unbounded queue or spool.

use std::path::PathBuf;

use serde::Deserialize;

use crate::ConfigDuration;

/// SIEM export.
#[derive(Debug, Clone, Deserialize, Default, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct SiemConfig {
    /// The HOSTNAME of syslog messages and `host` of HEC events; empty: the machine's name.
    pub hostname: String,
    /// One entry per destination (`[[siem.sinks]]`).
    pub sinks: Vec<SiemSink>,
}

/// The transport and payload of a sink.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum SiemKind {
    /// RFC 5424 messages, octet-counted (RFC 6587), over `tcp://` or `tls://`.
    Syslog,
    /// Splunk HTTP Event Collector: batched JSON, `Authorization: Splunk <token>`.
    Hec,
    /// Batched JSON, HMAC-SHA256 signed over the timestamp and the body.
    Webhook,
}

/// The payload of a syslog message.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "snake_case")]
pub enum SiemFormat {
    #[default]
    Json,
    /// ArcSight Common Event Format.
    Cef,
}

/// Which events a sink receives.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq, Hash)]
#[serde(rename_all = "snake_case")]
pub enum SiemStream {
    /// Blocks, DLP findings (masked snippets only), admin actions (approvals, key
    /// operations), budget breaches.
    Security,
    /// Every transaction and AI gateway call, blocked or not.
    Transactions,
}

/// One destination.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct SiemSink {
    /// Names the sink in metrics, logs and its spool directory (`a-z0-9_-`, 1 to 64).
    pub name: String,
    pub kind: SiemKind,
    /// `tcp://host:port` or `tls://host:port` (syslog); `https://...` (or `http://` for a
    /// receiver on loopback) for HEC (the full collector URL) and webhooks.
    pub url: String,
    #[serde(default = "default_streams")]
    pub events: Vec<SiemStream>,
    /// Syslog payload.
    #[serde(default)]
    pub format: SiemFormat,
    /// The HEC token or webhook secret from a file (first line, whitespace trimmed) ...
    #[serde(default)]
    pub secret_file: Option<PathBuf>,
    /// ... or from an environment variable.
    #[serde(default)]
    pub secret_env: Option<String>,
    /// PEM roots trusted for `tls://` and `https://` besides the public ones.
    #[serde(default)]
    pub ca_file: Option<PathBuf>,
    /// Events sent in one batch (one HTTP request, one write) at most.
    #[serde(default = "default_max_batch")]
    pub max_batch: usize,
    /// Events waiting in memory at most; past it they are counted and dropped, never waited for.
    #[serde(default = "default_queue")]
    pub queue: usize,
    /// How often a partial batch is sent.
    #[serde(default = "default_flush")]
    pub flush_interval: ConfigDuration,
    /// One delivery (connect, send, answer) at most.
    #[serde(default = "default_timeout")]
    pub timeout: ConfigDuration,
    /// How long after a failed delivery the spool is tried again.
    #[serde(default = "default_retry")]
    pub retry_interval: ConfigDuration,
    /// Bytes of the sink's disk spool at most; past it the oldest events are dropped (counted).
    #[serde(default = "default_spool_max")]
    pub spool_max_bytes: u64,
}

fn default_streams() -> Vec<SiemStream> {
    vec![SiemStream::Security]
}
fn default_max_batch() -> usize {
    100
}
fn default_queue() -> usize {
    10_000
}
fn default_flush() -> ConfigDuration {
    ConfigDuration::secs(1)
}
fn default_timeout() -> ConfigDuration {
    ConfigDuration::secs(10)
}
fn default_retry() -> ConfigDuration {
    ConfigDuration::secs(5)
}
fn default_spool_max() -> u64 {
    256 * 1024 * 1024
}

/// The rules types cannot say, as (sink index, key, message).
pub(crate) fn validate(c: &SiemConfig) -> Result<(), (usize, &'static str, String)> {
    let mut names = std::collections::HashSet::new();
    for (i, s) in c.sinks.iter().enumerate() {
        let fail = |key, message: String| Err((i, key, message));
        let name_ok = (1..=64).contains(&s.name.len())
            && s.name
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_');
        if !name_ok {
            return fail(
                "name",
                format!(
                    "siem.sinks name {:?} must be 1 to 64 of a-z 0-9 - _",
                    s.name
                ),
            );
        }
        if !names.insert(s.name.as_str()) {
            return fail(
                "name",
                format!("siem.sinks name {:?} is used twice", s.name),
            );
        }
        let n = &s.name;
        if let Err(m) = url(s.kind, &s.url) {
            return fail("url", format!("siem sink {n}: url {m}"));
        }
        if s.events.is_empty() {
            return fail("events", format!("siem sink {n}: events must name at least one of \"security\", \"transactions\""));
        }
        if s.kind != SiemKind::Syslog && s.format != SiemFormat::Json {
            return fail(
                "format",
                format!("siem sink {n}: format applies to syslog sinks only"),
            );
        }
        let secrets = usize::from(s.secret_file.is_some()) + usize::from(s.secret_env.is_some());
        match s.kind {
            SiemKind::Syslog if secrets > 0 => {
                return fail("secret_file", format!("siem sink {n}: a syslog sink takes no secret"))
            }
            SiemKind::Hec | SiemKind::Webhook if secrets != 1 => {
                return fail(
                    "secret_file",
                    format!("siem sink {n}: set exactly one of secret_file, secret_env (the HEC token or the webhook's HMAC secret)"),
                )
            }
            _ => {}
        }
        if let Some(var) = &s.secret_env {
            if var.is_empty() || !var.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
                return fail(
                    "secret_env",
                    format!("siem sink {n}: secret_env {var:?} is not a variable name"),
                );
            }
        }
        if s.queue == 0 || s.queue > 1_000_000 {
            return fail("queue", format!("siem sink {n}: queue must be 1..=1000000"));
        }
        if s.max_batch == 0 || s.max_batch > 10_000 || s.max_batch > s.queue {
            return fail(
                "max_batch",
                format!("siem sink {n}: max_batch must be 1..=10000 and at most queue"),
            );
        }
        if !(64 * 1024..=64 * 1024 * 1024 * 1024).contains(&s.spool_max_bytes) {
            return fail(
                "spool_max_bytes",
                format!("siem sink {n}: spool_max_bytes must be 64 KiB to 64 GiB"),
            );
        }
        let ms = std::time::Duration::from_millis;
        for (key, value, min, max) in [
            ("flush_interval", s.flush_interval.0, ms(10), ms(60_000)),
            ("timeout", s.timeout.0, ms(100), ms(120_000)),
            ("retry_interval", s.retry_interval.0, ms(100), ms(3_600_000)),
        ] {
            if value < min || value > max {
                return fail(
                    key,
                    format!("siem sink {n}: {key} must be between {min:?} and {max:?}"),
                );
            }
        }
    }
    Ok(())
}

/// The URL's scheme fits the kind, it has a host and a port, and no credentials.
fn url(kind: SiemKind, url: &str) -> Result<(), String> {
    let (scheme, rest) = url.split_once("://").ok_or("has no scheme")?;
    let allowed: &[&str] = match kind {
        SiemKind::Syslog => &["tcp", "tls"],
        SiemKind::Hec | SiemKind::Webhook => &["https", "http"],
    };
    if !allowed.contains(&scheme) {
        return Err(format!("must start with {}://", allowed.join(":// or ")));
    }
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    if authority.contains('@') {
        return Err("must not carry credentials (use secret_file or secret_env)".into());
    }
    if authority.is_empty() || authority.starts_with(':') {
        return Err("has no host".into());
    }
    if kind == SiemKind::Syslog {
        if rest.len() != authority.len() {
            return Err("is host:port only".into());
        }
        let port = authority.rsplit_once(':').map(|(_, p)| p).unwrap_or("");
        if port.parse::<u16>().map_or(true, |p| p == 0) {
            return Err(
                "needs a port (syslog has no default here: 514, 601 or 6514 are usual)".into(),
            );
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sink(kind: &str, url: &str, extra: &str) -> Result<(), String> {
        let text = format!("[[sinks]]\nname = \"s\"\nkind = \"{kind}\"\nurl = \"{url}\"\n{extra}");
        let c: SiemConfig = toml::from_str(&text).map_err(|e| e.to_string())?;
        validate(&c).map_err(|(_, _, m)| m)
    }

    /// The commented sinks of the example file, uncommented, are a valid section.
    #[test]
    fn the_documented_example_sinks_are_valid() {
        let text = include_str!("../../../deploy/gatewayd.example.toml");
        let start = text.find("# [siem]\n").unwrap();
        let end = start + text[start..].find("\n[policies]").unwrap();
        let section: String = text[start..end]
            .lines()
            .filter_map(|l| l.strip_prefix("# "))
            .filter(|l| l.starts_with('[') || l.contains(" = "))
            .map(|l| format!("{l}\n"))
            .collect();
        let config: crate::Config = toml::from_str(&section).unwrap();
        assert_eq!(config.siem.sinks.len(), 3);
        validate(&config.siem).unwrap();
        assert_eq!(
            config.siem.sinks[1].secret_env.as_deref(),
            Some("WARDEN_HEC_TOKEN")
        );
    }

    #[test]
    fn sinks_are_checked_for_what_types_cannot_say() {
        assert!(sink("syslog", "tcp://127.0.0.1:514", "").is_ok());
        assert!(sink("syslog", "tls://siem.example:6514", "format = \"cef\"").is_ok());
        assert!(sink("syslog", "tcp://127.0.0.1", "")
            .unwrap_err()
            .contains("port"));
        assert!(sink("syslog", "https://x:1", "")
            .unwrap_err()
            .contains("tcp://"));
        assert!(
            sink("hec", "https://splunk:8088/services/collector/event", "")
                .unwrap_err()
                .contains("secret")
        );
        assert!(sink("hec", "https://splunk:8088/x", "secret_env = \"HEC_TOKEN\"").is_ok());
        assert!(sink(
            "webhook",
            "https://u:p@hook.example/x",
            "secret_env = \"S\""
        )
        .unwrap_err()
        .contains("credentials"));
        assert!(sink(
            "webhook",
            "https://h/x",
            "secret_env = \"S\"\nformat = \"cef\""
        )
        .unwrap_err()
        .contains("syslog"));
        assert!(sink("syslog", "tcp://h:1", "events = []")
            .unwrap_err()
            .contains("events"));
        assert!(sink("syslog", "tcp://h:1", "events = [\"everything\"]").is_err());
        assert!(sink("syslog", "tcp://h:1", "queue = 0")
            .unwrap_err()
            .contains("queue"));
        let twice = "[[sinks]]\nname = \"a\"\nkind = \"syslog\"\nurl = \"tcp://h:1\"\n\
                     [[sinks]]\nname = \"a\"\nkind = \"syslog\"\nurl = \"tcp://h:2\"\n";
        let c: SiemConfig = toml::from_str(twice).unwrap();
        assert!(validate(&c).unwrap_err().2.contains("twice"));
    }
}
