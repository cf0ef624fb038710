//! The `[telemetry.otlp]` section: optional OpenTelemetry trace export (OTLP/HTTP, JSON) of
//! the request and tunnel spans to a collector. Off by default.
//!
//! What this module must never do: print a header value (they are credentials: `Debug` shows
//! only the names), accept an endpoint with credentials in it (URLs end up in logs), or allow
//! an unbounded queue or batch.

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;

use serde::Deserialize;

use crate::ConfigDuration;

/// Telemetry sent elsewhere than the logs and `/metrics`.
#[derive(Debug, Clone, Deserialize, Default, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct TelemetryConfig {
    pub otlp: OtlpConfig,
}

/// Trace export over OTLP/HTTP with JSON encoding.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct OtlpConfig {
    /// Export at all. Off: no span is recorded for export and no connection is made.
    pub enabled: bool,
    /// The collector's traces URL, used as is (`http://collector:4318/v1/traces`).
    pub endpoint: String,
    /// Extra request headers (an API key, a tenant). Credentials: never logged.
    pub headers: OtlpHeaders,
    /// The `service.name` resource attribute.
    pub service_name: String,
    /// Fraction of traces exported (0.0 to 1.0), decided once per trace from its id.
    pub sample_ratio: f64,
    /// Export the user name and client address with each span (off: privacy by default).
    pub export_user: bool,
    /// Spans sent in one request at most.
    pub max_batch: usize,
    /// Spans waiting for export at most; more are dropped (and counted), never waited for.
    pub max_queue: usize,
    /// How often a partial batch is sent.
    pub flush_interval: ConfigDuration,
    /// One export (connect, send, answer) at most; slower ones fail and their spans are dropped.
    pub export_timeout: ConfigDuration,
    /// PEM roots trusted for an `https` endpoint besides the public ones.
    pub ca_file: Option<PathBuf>,
}

impl Default for OtlpConfig {
    fn default() -> Self {
        Self {
            enabled: false,
            endpoint: "http://127.0.0.1:4318/v1/traces".to_string(),
            headers: OtlpHeaders::default(),
            service_name: "gatewayd".to_string(),
            sample_ratio: 1.0,
            export_user: false,
            max_batch: 512,
            max_queue: 2048,
            flush_interval: ConfigDuration::secs(5),
            export_timeout: ConfigDuration::secs(10),
            ca_file: None,
        }
    }
}

/// Header name → value; `Debug` prints the names only.
#[derive(Clone, Deserialize, Default, PartialEq, Eq)]
#[serde(transparent)]
pub struct OtlpHeaders(pub BTreeMap<String, String>);

impl fmt::Debug for OtlpHeaders {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map()
            .entries(self.0.keys().map(|k| (k, "<redacted>")))
            .finish()
    }
}

/// Headers the exporter sets itself or that belong to the connection.
const RESERVED_HEADERS: &[&str] = &[
    "host",
    "content-type",
    "content-length",
    "transfer-encoding",
    "connection",
    "keep-alive",
    "te",
    "upgrade",
    "trailer",
    "proxy-connection",
];

/// The rules types cannot say, as (key, message). Messages never quote a header value.
pub(crate) fn validate(c: &OtlpConfig) -> Result<(), (&'static str, String)> {
    endpoint(&c.endpoint).map_err(|m| ("endpoint", format!("telemetry.otlp.endpoint {m}")))?;
    for (name, value) in &c.headers.0 {
        let token = !name.is_empty()
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b));
        if !token {
            return Err((
                "headers",
                format!("telemetry.otlp.headers: {name:?} is not a header name"),
            ));
        }
        if RESERVED_HEADERS.contains(&name.to_ascii_lowercase().as_str()) {
            return Err((
                "headers",
                format!("telemetry.otlp.headers: {name} is set by the exporter itself"),
            ));
        }
        if value.is_empty()
            || !value
                .bytes()
                .all(|b| b == b'\t' || (b' '..=b'~').contains(&b))
        {
            return Err((
                "headers",
                format!(
                    "telemetry.otlp.headers: the value of {name} must be printable ASCII \
                     (the value is not shown)"
                ),
            ));
        }
    }
    if c.service_name.trim().is_empty() || c.service_name.len() > 256 {
        return Err((
            "service_name",
            "telemetry.otlp.service_name must be 1 to 256 characters".into(),
        ));
    }
    if !(0.0..=1.0).contains(&c.sample_ratio) {
        return Err((
            "sample_ratio",
            "telemetry.otlp.sample_ratio must be between 0.0 and 1.0".into(),
        ));
    }
    if c.max_queue == 0 || c.max_queue > 1_000_000 {
        return Err((
            "max_queue",
            "telemetry.otlp.max_queue must be 1..=1000000".into(),
        ));
    }
    if c.max_batch == 0 || c.max_batch > c.max_queue || c.max_batch > 10_000 {
        return Err((
            "max_batch",
            "telemetry.otlp.max_batch must be 1..=10000 and at most max_queue".into(),
        ));
    }
    let ms = std::time::Duration::from_millis;
    for (key, value, min, max) in [
        ("flush_interval", c.flush_interval.0, ms(10), ms(60_000)),
        ("export_timeout", c.export_timeout.0, ms(100), ms(60_000)),
    ] {
        if value < min || value > max {
            return Err((
                key,
                format!("telemetry.otlp.{key} must be between {min:?} and {max:?}"),
            ));
        }
    }
    Ok(())
}

/// An `http` or `https` URL with a host and no credentials; the path is the collector's.
fn endpoint(url: &str) -> Result<(), String> {
    let rest = url
        .strip_prefix("http://")
        .or_else(|| url.strip_prefix("https://"))
        .ok_or("must start with http:// or https://")?;
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    if authority.contains('@') {
        return Err("must not hold credentials: put them in telemetry.otlp.headers".into());
    }
    if authority.is_empty() || authority.starts_with(':') {
        return Err("needs a host".into());
    }
    if url.contains(['#', ' ']) || url.chars().any(char::is_control) {
        return Err("is not a valid URL".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid_and_off() {
        let c = OtlpConfig::default();
        assert!(!c.enabled);
        assert!(validate(&c).is_ok());
    }

    #[test]
    fn endpoints_are_checked() {
        for bad in [
            "collector:4318",
            "ftp://c/v1/traces",
            "http:///v1/traces",
            "https://user:pw@c/v1/traces",
            "http://c/v1 traces",
        ] {
            let c = OtlpConfig {
                endpoint: bad.into(),
                ..OtlpConfig::default()
            };
            assert_eq!(validate(&c).unwrap_err().0, "endpoint", "{bad}");
        }
        let good = OtlpConfig {
            endpoint: "https://otel.example.com:4318/v1/traces".into(),
            ..OtlpConfig::default()
        };
        assert!(validate(&good).is_ok());
    }

    #[test]
    fn header_values_are_never_shown() {
        let mut headers = BTreeMap::new();
        headers.insert("authorization".to_string(), "Bearer s3cr3t\n".to_string());
        let c = OtlpConfig {
            headers: OtlpHeaders(headers),
            ..OtlpConfig::default()
        };
        let (key, message) = validate(&c).unwrap_err();
        assert_eq!(key, "headers");
        assert!(!message.contains("s3cr3t"), "{message}");
        assert!(!format!("{c:?}").contains("s3cr3t"));
        let mut reserved = BTreeMap::new();
        reserved.insert("Content-Type".to_string(), "text/plain".to_string());
        let c = OtlpConfig {
            headers: OtlpHeaders(reserved),
            ..OtlpConfig::default()
        };
        assert_eq!(validate(&c).unwrap_err().0, "headers");
    }

    #[test]
    fn bounds_are_checked() {
        let c = OtlpConfig {
            sample_ratio: 1.5,
            ..OtlpConfig::default()
        };
        assert_eq!(validate(&c).unwrap_err().0, "sample_ratio");
        let c = OtlpConfig {
            max_batch: 4096,
            ..OtlpConfig::default()
        };
        assert_eq!(validate(&c).unwrap_err().0, "max_batch");
        let c = OtlpConfig {
            flush_interval: ConfigDuration(std::time::Duration::from_millis(1)),
            ..OtlpConfig::default()
        };
        assert_eq!(validate(&c).unwrap_err().0, "flush_interval");
    }
}
