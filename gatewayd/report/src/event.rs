//! One transaction by its request id (`X-Warden-Request-Id`): who, from which device with
//! which posture, the app and its status, the deciding rule and action, and the DLP findings
//! with their masked snippets.
//!
//! The audited prompt (`audit_prompt`) is read only when the caller says the reader may see
//! it; otherwise the query does not select it at all and only says whether one exists. The
//! id reaches SQL only through `sql::quote`.

use serde_json::{json, Value};

use super::fetch as table;
use super::sql::{datetime, quote};
use super::{app_meta, ReportError, ReportInputs};

/// The longest request id looked up.
const MAX_ID: usize = 128;
/// A UUIDv7 id names its own millisecond: the event is looked for within this many seconds
/// of it, so the lookup reads a few day partitions, not the whole table.
const UUID_WINDOW_SECS: i64 = 86_400;

/// The event's columns, every one but the prompt.
const COLUMNS: &str = "toString(ts) AS time, request_id, user, groups, device_id, \
    device_posture, src_ip, country, city, host, app_id, app_name, category, app_status, \
    discovered, method, path, status, action, blocked, rule_id, policy_version, detail, upload, \
    file_names, prompt_length, model, dlp_detectors, dlp_finding_count, bytes_up, bytes_down, \
    latency_ms, tenant";

/// One transaction as the API and the event page show it.
#[derive(Debug, Clone)]
pub struct EventView {
    pub json: Value,
    /// Whether the event holds an audited prompt (whether or not it was read).
    pub has_prompt: bool,
    /// The prompt, when it was asked for and exists.
    pub prompt: Option<String>,
}

/// Checks a request id from a URL: not empty, bounded, printable ASCII.
pub fn check_id(id: &str) -> Result<(), ReportError> {
    if id.is_empty() || id.len() > MAX_ID || !id.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(ReportError::NotFound(
            "no such event: a request id is 1 to 128 printable characters".into(),
        ));
    }
    Ok(())
}

/// The Unix seconds a UUIDv7 text id was made at (its first 48 bits are milliseconds).
fn uuid_v7_secs(id: &str) -> Option<i64> {
    let bytes = id.as_bytes();
    let shape =
        bytes.len() == 36 && [8, 13, 18, 23].iter().all(|&i| bytes[i] == b'-') && bytes[14] == b'7';
    if !shape {
        return None;
    }
    let hex: String = id[..8].chars().chain(id[9..13].chars()).collect();
    let ms = i64::from_str_radix(&hex, 16).ok()?;
    Some(ms / 1000)
}

/// The conditions that find request `id` (and its findings).
pub(crate) fn where_id(id: &str) -> String {
    match uuid_v7_secs(id) {
        Some(at) => format!(
            "request_id = {} AND ts >= {} AND ts < {}",
            quote(id),
            datetime(at - UUID_WINDOW_SECS),
            datetime(at + UUID_WINDOW_SECS)
        ),
        None => format!("request_id = {}", quote(id)),
    }
}

/// Event `id`, with its prompt only when `read_prompt`.
pub async fn event(
    inputs: ReportInputs<'_>,
    id: &str,
    read_prompt: bool,
) -> Result<EventView, ReportError> {
    check_id(id)?;
    let condition = where_id(id);
    let prompt = if read_prompt {
        "audit_prompt AS prompt_text"
    } else {
        // Not even selected: an alias named like the column would shadow it in ClickHouse.
        "'' AS prompt_text"
    };
    let event_sql = format!(
        "SELECT {COLUMNS}, audit_prompt != '' AS has_audit_prompt, {prompt} \
         FROM http_events WHERE {condition} ORDER BY ts LIMIT 1"
    );
    let findings_sql = format!(
        "SELECT detector, finding_count, confidence, action, snippet FROM dlp_findings \
         WHERE {condition} ORDER BY finding_count DESC, detector"
    );
    let (event, findings) =
        tokio::try_join!(table(inputs, &event_sql), table(inputs, &findings_sql))?;
    let Some(Value::Object(mut event)) = event.objects().into_iter().next() else {
        return Err(ReportError::NotFound(format!(
            "no event with request id {id:?} (events are kept for retention.raw_days)"
        )));
    };
    let has_prompt = super::number(&event.remove("has_audit_prompt").unwrap_or(Value::Null)) == 1;
    let text = event
        .remove("prompt_text")
        .and_then(|v| v.as_str().map(str::to_string))
        .filter(|_| read_prompt && has_prompt);
    let app_id = event.get("app_id").and_then(Value::as_str).unwrap_or("");
    let app = (!app_id.is_empty()).then(|| app_meta(inputs, app_id));
    let json = json!({
        "event": event,
        "app": app,
        "findings": findings.objects(),
        "audit_prompt": {
            "present": has_prompt,
            "readable": read_prompt,
            "text": text,
        },
    });
    Ok(EventView {
        json,
        has_prompt,
        prompt: text,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_checked_and_uuid_v7_ids_narrow_the_search() {
        assert!(check_id("req-1").is_ok());
        assert!(check_id("").is_err());
        assert!(check_id("a b").is_err());
        assert!(check_id("x\u{0}").is_err());
        assert!(check_id(&"x".repeat(129)).is_err());
        assert!(check_id("'; DROP TABLE http_events --").is_err());
        assert!(check_id("'or'1'='1").is_ok(), "printable, and quoted below");
        assert_eq!(where_id("'or'1'='1"), "request_id = '\\'or\\'1\\'=\\'1'");
        let id = "0190f3a2-b1c4-7abc-8def-0123456789ab";
        let at = 0x0190_f3a2_b1c4_i64 / 1000;
        assert_eq!(uuid_v7_secs(id), Some(at));
        assert!(where_id(id).contains(&datetime(at - UUID_WINDOW_SECS)));
        assert_eq!(uuid_v7_secs("0190f3a2-b1c4-4abc-8def-0123456789ab"), None);
    }
}
