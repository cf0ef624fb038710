//! The bytes on the wire: RFC 5424 syslog messages framed by octet counting (RFC 6587) with a
//! JSON or CEF payload, Splunk HEC batches, and signed webhook batches.
//!
//! What this module must never do: let an event's text break the framing (lengths are
//! counted in bytes after escaping; structured-data values and CEF fields are escaped), or
//! put a secret anywhere but the signature it computes.

use aws_lc_rs::hmac;
use config::SiemFormat;

use crate::event::SiemEvent;

/// The private enterprise number of RFC 5612's documentation examples, for the SD-ID.
const SD_ID: &str = "warden@32473";

/// `ts_ms` as RFC 3339 UTC with milliseconds (`2026-12-07T17:32:30.123Z`).
pub fn rfc3339(ts_ms: u64) -> String {
    let nanos = i128::from(ts_ms) * 1_000_000;
    match time::OffsetDateTime::from_unix_timestamp_nanos(nanos) {
        Ok(t) => format!(
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
            t.year(),
            u8::from(t.month()),
            t.day(),
            t.hour(),
            t.minute(),
            t.second(),
            t.millisecond()
        ),
        Err(_) => "1970-01-01T00:00:00.000Z".into(),
    }
}

/// Syslog severity (RFC 5424 numbering) from the event's 0–10 scale.
fn syslog_severity(severity: u8) -> u8 {
    match severity {
        9.. => 2,   // critical
        7..=8 => 3, // error
        5..=6 => 4, // warning
        3..=4 => 5, // notice
        _ => 6,     // informational
    }
}

/// An RFC 5424 header field: printable US-ASCII without spaces, `-` when empty.
fn header_field(text: &str, max: usize) -> String {
    let clean: String = text
        .chars()
        .filter(|c| c.is_ascii_graphic())
        .take(max)
        .collect();
    if clean.is_empty() {
        "-".into()
    } else {
        clean
    }
}

/// A structured-data parameter value: `"`, `\` and `]` escaped (RFC 5424 6.3.3).
fn sd_value(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '"' | '\\' | ']') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// One octet-counted RFC 5424 message (`LEN SP <PRI>1 TIMESTAMP HOST APP PROCID MSGID SD MSG`).
/// Facility 13 (log audit).
pub fn syslog_frame(event: &SiemEvent, hostname: &str, format: SiemFormat, out: &mut Vec<u8>) {
    let pri = 13 * 8 + u16::from(syslog_severity(event.severity));
    let payload = match format {
        SiemFormat::Json => serde_json::to_string(event).unwrap_or_default(),
        SiemFormat::Cef => cef(event),
    };
    let message = format!(
        "<{pri}>1 {} {} warden {} {} [{SD_ID} id=\"{}\" kind=\"{}\" security=\"{}\"] {payload}",
        rfc3339(event.ts_ms),
        header_field(hostname, 255),
        std::process::id(),
        header_field(&event.kind, 32),
        sd_value(&event.id),
        sd_value(&event.kind),
        event.security,
    );
    out.extend_from_slice(message.len().to_string().as_bytes());
    out.push(b' ');
    out.extend_from_slice(message.as_bytes());
}

/// CEF header field: `\` and `|` escaped, no line breaks.
fn cef_header(text: &str) -> String {
    text.replace('\\', "\\\\")
        .replace('|', "\\|")
        .replace(['\r', '\n'], " ")
}

/// CEF extension value: `\` and `=` escaped, line breaks as `\n`.
fn cef_value(text: &str) -> String {
    text.replace('\\', "\\\\")
        .replace('=', "\\=")
        .replace("\r\n", "\\n")
        .replace(['\n', '\r'], "\\n")
}

/// `CEF:0|Warden|gatewayd|VERSION|kind|name|severity|extension`.
pub fn cef(e: &SiemEvent) -> String {
    let name = match e.kind.as_str() {
        "block" => "Request blocked",
        "dlp" => "Sensitive data detected",
        "budget" => "AI budget exceeded",
        "approval" => "App approval changed",
        "key" => "Key operation",
        "admin" => "Admin action",
        "ai_call" => "AI gateway call",
        _ => "Transaction",
    };
    let mut ext: Vec<(&str, String)> =
        vec![("rt", e.ts_ms.to_string()), ("externalId", e.id.clone())];
    for (key, value) in [
        ("act", &e.action),
        ("suser", &e.user),
        ("src", &e.src_ip),
        ("dhost", &e.host),
        ("requestMethod", &e.method),
        ("request", &e.path),
        ("msg", &e.detail),
    ] {
        if !value.is_empty() {
            ext.push((key, value.clone()));
        }
    }
    if e.status != 0 {
        ext.push(("outcome", e.status.to_string()));
    }
    let labelled = [
        ("cs1", "app", e.app_id.clone()),
        ("cs2", "rule", e.rule_id.clone()),
        (
            "cs3",
            "detectors",
            e.findings
                .iter()
                .map(|f| f.detector.as_str())
                .collect::<Vec<_>>()
                .join(","),
        ),
        (
            "cs4",
            "snippets",
            e.findings
                .iter()
                .map(|f| f.snippet.as_str())
                .filter(|s| !s.is_empty())
                .collect::<Vec<_>>()
                .join(" "),
        ),
        ("cs5", "model", e.model.clone()),
        ("cs6", "device", e.device_id.clone()),
    ];
    let mut text = format!(
        "CEF:0|Warden|gatewayd|{}|{}|{}|{}|",
        env!("CARGO_PKG_VERSION"),
        cef_header(&e.kind),
        cef_header(name),
        e.severity.min(10)
    );
    let mut parts: Vec<String> = ext
        .into_iter()
        .map(|(k, v)| format!("{k}={}", cef_value(&v)))
        .collect();
    for (key, label, value) in labelled {
        if !value.is_empty() {
            parts.push(format!("{key}Label={label} {key}={}", cef_value(&value)));
        }
    }
    text.push_str(&parts.join(" "));
    text
}

/// A Splunk HEC batch: one `{"time","host","source","sourcetype","event"}` object per event,
/// concatenated (HEC's batch form).
pub fn hec_body(events: &[SiemEvent], hostname: &str) -> Vec<u8> {
    let mut body = Vec::new();
    for e in events {
        let sourcetype = if e.security {
            "warden:security"
        } else {
            "warden:transaction"
        };
        let object = serde_json::json!({
            "time": e.ts_ms as f64 / 1000.0,
            "host": hostname,
            "source": "warden-gatewayd",
            "sourcetype": sourcetype,
            "event": e,
        });
        if let Ok(bytes) = serde_json::to_vec(&object) {
            body.extend_from_slice(&bytes);
            body.push(b'\n');
        }
    }
    body
}

/// A webhook batch: `{"source":"warden","events":[...]}`.
pub fn webhook_body(events: &[SiemEvent]) -> Vec<u8> {
    serde_json::to_vec(&serde_json::json!({ "source": "warden", "events": events }))
        .unwrap_or_default()
}

/// `v1=<hex HMAC-SHA256(secret, "<timestamp>." + body)>`: the timestamp is signed with the
/// body so a receiver can refuse a replayed request (`X-Warden-Timestamp`, seconds).
pub fn webhook_signature(secret: &[u8], timestamp: u64, body: &[u8]) -> String {
    let key = hmac::Key::new(hmac::HMAC_SHA256, secret);
    let mut context = hmac::Context::with_key(&key);
    context.update(timestamp.to_string().as_bytes());
    context.update(b".");
    context.update(body);
    let tag = context.sign();
    let mut hex = String::with_capacity(67);
    hex.push_str("v1=");
    for b in tag.as_ref() {
        hex.push_str(&format!("{b:02x}"));
    }
    hex
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::Finding;

    fn event() -> SiemEvent {
        SiemEvent {
            id: "r\"1]".into(),
            ts_ms: 1_765_128_750_123,
            security: true,
            kind: "block".into(),
            severity: 7,
            action: "block".into(),
            user: "alice".into(),
            path: "/a=b|c\nd".into(),
            findings: vec![Finding {
                detector: "credit_card".into(),
                count: 1,
                snippet: "4111********1111".into(),
                ..Finding::default()
            }],
            ..SiemEvent::default()
        }
    }

    #[test]
    fn syslog_frames_are_octet_counted_rfc5424_with_escaped_structured_data() {
        let mut out = Vec::new();
        syslog_frame(&event(), "gw 1", SiemFormat::Json, &mut out);
        let text = String::from_utf8(out).unwrap();
        let (len, message) = text.split_once(' ').unwrap();
        assert_eq!(len.parse::<usize>().unwrap(), message.len());
        assert!(message.starts_with("<107>1 2025-12-07T17:32:30.123Z gw1 warden "));
        assert!(
            message.contains("[warden@32473 id=\"r\\\"1\\]\" kind=\"block\" security=\"true\"]")
        );
        let json = message.split_once("] ").unwrap().1;
        let back: SiemEvent = serde_json::from_str(json).unwrap();
        assert_eq!(back, event());
    }

    #[test]
    fn cef_escapes_extension_values_and_carries_snippets() {
        let text = cef(&event());
        assert!(text.starts_with("CEF:0|Warden|gatewayd|"));
        assert!(text.contains("|block|Request blocked|7|"));
        assert!(text.contains("request=/a\\=b|c\\nd"));
        assert!(text.contains("cs4Label=snippets cs4=4111********1111"));
        assert!(!text.contains('\n'));
    }

    #[test]
    fn hec_batches_one_object_per_event_and_the_signature_covers_timestamp_and_body() {
        let body = hec_body(&[event(), event()], "gw");
        let lines: Vec<_> = body
            .split(|b| *b == b'\n')
            .filter(|l| !l.is_empty())
            .collect();
        assert_eq!(lines.len(), 2);
        let first: serde_json::Value = serde_json::from_slice(lines[0]).unwrap();
        assert_eq!(first["sourcetype"], "warden:security");
        assert_eq!(first["event"]["id"], "r\"1]");
        let body = webhook_body(&[event()]);
        let a = webhook_signature(b"secret", 100, &body);
        assert_eq!(a.len(), 3 + 64);
        assert_ne!(a, webhook_signature(b"secret", 101, &body));
        assert_ne!(a, webhook_signature(b"other", 100, &body));
    }
}
