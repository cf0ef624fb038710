//! Rewriting a body with its DLP findings masked (`dlp` rules with `on_match = "redact"`):
//! inside each string of a JSON body, or across a text body.
//!
//! It never returns a body it could not rewrite whole: forms, multipart and binary bodies,
//! JSON nested past the depth limit and unparsable text are `None`, which the caller blocks.

use dlp::redact;

use super::context::ConnectionContext;

/// The body with every finding of `profile` replaced by `[REDACTED:detector]`: inside each
/// string of a JSON body, or across a text body. `None` for bodies that cannot be rewritten
/// safely (forms, multipart, binary): the caller blocks those instead.
pub(super) fn redact_body(
    conn: &ConnectionContext,
    content_type: &str,
    body: &[u8],
    profile: &str,
) -> Option<Vec<u8>> {
    let dlp = &conn.snapshot.dlp;
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    let redact_text = |text: &str| -> Option<String> {
        let result = dlp.scan_profile(profile, text).ok()?;
        Some(if result.findings.is_empty() {
            text.to_string()
        } else {
            redact(text, &result.findings)
        })
    };
    if essence.ends_with("json") || (essence.is_empty() && body.first() == Some(&b'{')) {
        let mut value: serde_json::Value = serde_json::from_slice(body).ok()?;
        redact_strings(&mut value, &redact_text, 0)?;
        return serde_json::to_vec(&value).ok();
    }
    if essence.is_empty() || essence.starts_with("text/") {
        let text = std::str::from_utf8(body).ok()?;
        return redact_text(text).map(String::into_bytes);
    }
    None
}

fn redact_strings(
    value: &mut serde_json::Value,
    redact_text: &dyn Fn(&str) -> Option<String>,
    depth: usize,
) -> Option<()> {
    if depth > 64 {
        return None;
    }
    match value {
        serde_json::Value::String(s) => *s = redact_text(s)?,
        serde_json::Value::Number(n) => {
            // A card sent as a JSON number is masked as a string.
            let digits = n.to_string();
            let redacted = redact_text(&digits)?;
            if redacted != digits {
                *value = serde_json::Value::String(redacted);
            }
        }
        serde_json::Value::Array(items) => {
            for item in items {
                redact_strings(item, redact_text, depth + 1)?;
            }
        }
        serde_json::Value::Object(map) => {
            for item in map.values_mut() {
                redact_strings(item, redact_text, depth + 1)?;
            }
        }
        _ => {}
    }
    Some(())
}
