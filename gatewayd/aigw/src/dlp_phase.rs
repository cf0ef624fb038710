//! The DLP phase: the prompt (every text a caller sends in `messages` and `system`, tool
//! results and tool call arguments included) scanned with `[aigw] dlp_profile` by the
//! proxy's engine, before anything leaves. `block` refuses the call naming the detectors;
//! `redact` masks each finding in place and lets the rest go.
//!
//! Never: put what was found (or any prompt text) in an error, a log line or an event; only
//! detector ids leave this module.

use std::collections::BTreeSet;

use config::AigwOnMatch;
use dlp::DlpEngine;
use serde_json::Value;

use crate::error::CallError;

/// Keys whose strings are not prompt text (identifiers, roles, images as data).
const NOT_TEXT: &[&str] = &[
    "role",
    "type",
    "id",
    "tool_call_id",
    "tool_use_id",
    "name",
    "media_type",
    "data",
    "url",
    "model",
    "detail",
    "cache_control",
];

/// The prompt scanner of a gateway, when `dlp_profile` is set.
#[derive(Debug)]
pub struct PromptScanner {
    pub engine: DlpEngine,
    pub profile: String,
    pub on_match: AigwOnMatch,
}

/// What the scan found and did: detector ids, and the action taken.
pub struct Outcome {
    pub detectors: Vec<String>,
    pub action: Option<&'static str>,
}

impl PromptScanner {
    /// Scans `body`'s prompt; redacts it in place, or refuses it.
    pub fn check(&self, body: &mut Value) -> Result<Outcome, CallError> {
        let mut texts = Vec::new();
        for key in ["messages", "system"] {
            if let Some(v) = body.get(key) {
                collect(v, &mut texts);
            }
        }
        let joined = texts.join("\n");
        let result = self
            .engine
            .scan_profile(&self.profile, &joined)
            .map_err(|e| CallError::Internal(format!("DLP: {e}")))?;
        if !result.matched {
            return Ok(Outcome {
                detectors: Vec::new(),
                action: None,
            });
        }
        let detectors: Vec<String> = result
            .counts
            .iter()
            .filter(|c| c.matched)
            .map(|c| c.detector.clone())
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        match self.on_match {
            AigwOnMatch::Block => Err(CallError::DlpBlocked(detectors)),
            AigwOnMatch::Redact => {
                for key in ["messages", "system"] {
                    if let Some(v) = body.get_mut(key) {
                        self.redact(v)?;
                    }
                }
                Ok(Outcome {
                    detectors,
                    action: Some("redact"),
                })
            }
        }
    }

    fn redact(&self, value: &mut Value) -> Result<(), CallError> {
        match value {
            Value::String(text) => {
                let found = self
                    .engine
                    .scan_profile(&self.profile, text)
                    .map_err(|e| CallError::Internal(format!("DLP: {e}")))?;
                if !found.findings.is_empty() {
                    *text = dlp::redact(text, &found.findings);
                }
            }
            Value::Array(items) => {
                for item in items {
                    self.redact(item)?;
                }
            }
            Value::Object(map) => {
                for (key, item) in map.iter_mut() {
                    if !NOT_TEXT.contains(&key.as_str()) {
                        self.redact(item)?;
                    }
                }
            }
            _ => {}
        }
        Ok(())
    }
}

fn collect<'a>(value: &'a Value, out: &mut Vec<&'a str>) {
    match value {
        Value::String(text) => out.push(text),
        Value::Array(items) => items.iter().for_each(|i| collect(i, out)),
        Value::Object(map) => map
            .iter()
            .filter(|(k, _)| !NOT_TEXT.contains(&k.as_str()))
            .for_each(|(_, v)| collect(v, out)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn scanner(on_match: AigwOnMatch) -> PromptScanner {
        PromptScanner {
            engine: DlpEngine::shipped().unwrap(),
            profile: "financial".into(),
            on_match,
        }
    }

    #[test]
    fn a_card_number_is_blocked_by_name_or_redacted_in_place() {
        let card = "4539 1488 0343 6467";
        let prompt = json!({"messages": [{"role": "user", "content": [{"type": "text", "text": format!("charge card {card} please")}]}]});
        let err = scanner(AigwOnMatch::Block)
            .check(&mut prompt.clone())
            .err()
            .unwrap();
        let text = err.body(crate::dialect::Dialect::OpenAi).to_string();
        assert!(
            text.contains("credit_card") && !text.contains("1488 0343"),
            "{text}"
        );
        let mut redacted = prompt.clone();
        let outcome = scanner(AigwOnMatch::Redact).check(&mut redacted).unwrap();
        assert_eq!(outcome.detectors, ["credit_card"]);
        let sent = redacted.to_string();
        assert!(
            !sent.contains(card) && sent.contains("charge card"),
            "{sent}"
        );
        let mut clean =
            json!({"system": "be nice", "messages": [{"role": "user", "content": "hello"}]});
        assert!(scanner(AigwOnMatch::Block)
            .check(&mut clean)
            .unwrap()
            .detectors
            .is_empty());
    }
}
