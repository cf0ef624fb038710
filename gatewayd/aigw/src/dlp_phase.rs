//! The DLP phase: the whole request a caller sends — every string and every number at any
//! depth, object keys included (messages, system, tools and their descriptions and schemas,
//! `metadata`, `user`, `stop`, `prediction`, unknown fields, Anthropic text documents) —
//! scanned with `[aigw] dlp_profile` by the proxy's engine, before anything leaves. Whatever
//! is forwarded is scanned: a field this phase does not know is not a way around it.
//! Base64 payloads are decoded and scanned when their media type is text; images and other
//! binary payloads (base64 `data`, `data:` URLs) are scanned when their bytes decode to
//! printable text whatever media type they declare (a card labelled `image/png` is still
//! text); real images are not readable text and are not scanned (documented limit).
//!
//! `block` refuses the call naming the detectors; `redact` masks each finding inside the
//! string that holds it and scans the result again: a finding that spans two strings, or
//! sits where a mask cannot go (a key, a number), is blocked instead — redact never sends
//! what it found.
//!
//! Never: put what was found (or any prompt text) in an error, a log line or an event; only
//! detector ids leave this module.

use std::collections::BTreeSet;

use base64::Engine as _;
use config::AigwOnMatch;
use dlp::DlpEngine;
use serde_json::Value;

use crate::error::CallError;
use crate::response_dlp::Tally;

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
    /// Scans all of `body`; redacts it in place, or refuses it.
    pub fn check(&self, body: &mut Value) -> Result<Outcome, CallError> {
        self.check_tallied(body, &mut Tally::default())
    }

    /// [`Self::check`], counting the findings of the detectors that matched into `tally`.
    pub fn check_tallied(&self, body: &mut Value, tally: &mut Tally) -> Result<Outcome, CallError> {
        let detectors = self.detectors(body, Some(tally))?;
        if detectors.is_empty() {
            return Ok(Outcome {
                detectors,
                action: None,
            });
        }
        match self.on_match {
            AigwOnMatch::Block => Err(CallError::DlpBlocked(detectors)),
            AigwOnMatch::Redact => {
                let mut redacted = body.clone();
                self.redact(&mut redacted)?;
                // What is left after masking (a finding across two strings, in a key or a
                // number) cannot be redacted: the call is refused instead.
                let left = self.detectors(&redacted, None)?;
                if !left.is_empty() {
                    return Err(CallError::DlpBlocked(left));
                }
                *body = redacted;
                Ok(Outcome {
                    detectors,
                    action: Some("redact"),
                })
            }
        }
    }

    /// The detectors that match anywhere in `body`.
    fn detectors(
        &self,
        body: &Value,
        mut tally: Option<&mut Tally>,
    ) -> Result<Vec<String>, CallError> {
        let (mut prose, mut rest) = (Vec::new(), Vec::new());
        collect(body, &mut prose, &mut rest);
        // PDFs and Office files: their text, or a refusal when they cannot be read.
        let docs = crate::documents::documents(body);
        if docs.unscannable {
            return Err(CallError::DlpBlocked(vec!["unscannable_document".into()]));
        }
        prose.extend(docs.texts);
        let mut found = BTreeSet::new();
        for (texts, is_prose) in [(prose, true), (rest, false)] {
            let result = self
                .engine
                .scan_profile(&self.profile, &texts.join("\n"))
                .map_err(|e| CallError::Internal(format!("DLP: {e}")))?;
            let matched: Vec<&str> = result
                .counts
                .iter()
                // A list of JSON keys and markers one per line reads like code to the
                // source-code detector (a tool's schema would be "code"); it is judged
                // on the prose only.
                .filter(|c| c.matched && (is_prose || c.detector != "source_code"))
                .map(|c| c.detector.as_str())
                .collect();
            if let Some(tally) = tally.as_deref_mut() {
                for finding in &result.findings {
                    if matched.contains(&&*finding.detector) {
                        tally.add(finding);
                    }
                }
            }
            found.extend(matched.into_iter().map(str::to_string));
        }
        Ok(found.into_iter().collect())
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
                // A base64 text document cannot be masked in place: its decoded text is what
                // `detectors` reads again afterwards, so a finding there blocks the call.
                for (_, item) in map.iter_mut() {
                    self.redact(item)?;
                }
            }
            _ => {}
        }
        Ok(())
    }
}

/// Keys whose values are identifiers and markers, not prose: read with the keys, apart from
/// the prose, so a `"role": "user"` between two messages does not break a number split
/// across them.
const MARKERS: &[&str] = &[
    "role",
    "type",
    "id",
    "tool_call_id",
    "tool_use_id",
    "media_type",
    "model",
    "detail",
    "cache_control",
    "index",
    "object",
];

/// Every text of `value`, as two texts: the prose (strings and numbers in document order,
/// and the decoded text of base64 payloads whose media type is text) and the rest (object
/// keys and marker values).
fn collect(value: &Value, prose: &mut Vec<String>, rest: &mut Vec<String>) {
    match value {
        Value::String(text) => prose.push(text.clone()),
        Value::Number(n) => prose.push(n.to_string()),
        Value::Array(items) => items.iter().for_each(|i| collect(i, prose, rest)),
        Value::Object(map) => {
            if let Some(text) = base64_text(map) {
                prose.push(text);
            }
            for (key, item) in map {
                rest.push(key.clone());
                if is_binary_payload(map, key) {
                    // Declared binary: read as text only when its bytes are text (a text
                    // media type was decoded above already).
                    let text_media = map
                        .get("media_type")
                        .and_then(Value::as_str)
                        .is_some_and(|m| m.to_ascii_lowercase().starts_with("text/"));
                    let decoded = if key == "data" && text_media {
                        None
                    } else {
                        item.as_str().and_then(printable_payload)
                    };
                    if let Some(text) = decoded {
                        prose.push(text);
                    }
                    continue;
                }
                if MARKERS.contains(&key.as_str()) {
                    collect(item, rest, &mut Vec::new());
                } else {
                    collect(item, prose, rest);
                }
            }
        }
        _ => {}
    }
}

/// The largest base64 payload decoded for scanning.
const MAX_DECODED: usize = 8 * 1024 * 1024;

/// `{"type": "base64", "media_type": "text/...", "data": "..."}` decoded.
fn base64_text(map: &serde_json::Map<String, Value>) -> Option<String> {
    if map.get("type").and_then(Value::as_str) != Some("base64") {
        return None;
    }
    let media = map.get("media_type").and_then(Value::as_str)?;
    if !media.to_ascii_lowercase().starts_with("text/") {
        return None;
    }
    let data = map.get("data").and_then(Value::as_str)?;
    if data.len() > MAX_DECODED * 4 / 3 + 4 {
        return Some(String::new());
    }
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(data.trim())
        .ok()?;
    Some(String::from_utf8_lossy(&bytes).into_owned())
}

/// The decoded bytes of a base64 payload or `data:...;base64,` URL when they are printable
/// text (a label says nothing: the bytes decide). At most [`MAX_DECODED`] bytes.
fn printable_payload(payload: &str) -> Option<String> {
    let data = match payload.strip_prefix("data:") {
        Some(url) => {
            let (head, data) = url.split_once(',')?;
            if !head.to_ascii_lowercase().ends_with(";base64") {
                return None;
            }
            data
        }
        None => payload,
    };
    if data.len() > MAX_DECODED * 4 / 3 + 4 {
        return None;
    }
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(data.trim())
        .ok()?;
    let text = String::from_utf8(bytes).ok()?;
    text.chars()
        .all(|c| !c.is_control() || c.is_whitespace())
        .then_some(text)
}

/// Whether `map[key]` is a binary payload (base64 image or file data, a `data:` URL of an
/// image): not text, so not scanned as text.
fn is_binary_payload(map: &serde_json::Map<String, Value>, key: &str) -> bool {
    match key {
        "data" => map.get("type").and_then(Value::as_str) == Some("base64"),
        "url" => map
            .get("url")
            .and_then(Value::as_str)
            .is_some_and(|u| u.starts_with("data:image/") || u.starts_with("data:application/")),
        _ => false,
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

    #[test]
    fn every_field_is_scanned_not_only_the_messages() {
        let card = "4539 1488 0343 6467";
        let cases = [
            json!({"messages": [{"role": "user", "content": "hi"}], "prediction": {"type": "content", "content": card}}),
            json!({"messages": [], "tools": [{"type": "function", "function": {"name": "f", "description": card}}]}),
            json!({"messages": [], "metadata": {"note": card}}),
            json!({"messages": [], "user": card}),
            json!({"messages": [], "stop": [card]}),
            json!({"messages": [], "foo": {"k": card}}),
            json!({"messages": [{"role": "user", "name": card, "content": "x"}]}),
            json!({"messages": [], "n": 4539148803436467_u64}),
            json!({"messages": [{"role": "user", "content": [{"type": "document", "source": {"type": "text", "media_type": "text/plain", "data": card}}]}]}),
            json!({"messages": [{"role": "user", "content": [{"type": "document", "source": {"type": "base64", "media_type": "text/plain", "data": base64::engine::general_purpose::STANDARD.encode(format!("card {card}"))}}]}]}),
            json!({"messages": [{"role": "user", "content": [{"type": "text", "text": "x", "cache_control": {"note": card}}]}]}),
            json!({"messages": [], format!("key {card}"): 1}),
        ];
        for case in cases {
            let err = scanner(AigwOnMatch::Block).check(&mut case.clone());
            assert!(err.is_err(), "not blocked: {case}");
            // Redact never forwards what it found: masked in place, or refused.
            let mut redacted = case.clone();
            match scanner(AigwOnMatch::Redact).check(&mut redacted) {
                Ok(outcome) => {
                    assert_eq!(outcome.action, Some("redact"));
                    assert!(!redacted.to_string().contains("1488 0343"), "{redacted}");
                }
                Err(CallError::DlpBlocked(_)) => {}
                Err(other) => panic!("{other:?}"),
            }
        }
        // Image data is not text: not scanned, not refused.
        let mut image = json!({"messages": [{"role": "user", "content": [{"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "iVBORw0KGgo4539148803436467"}}]}]});
        assert!(scanner(AigwOnMatch::Block).check(&mut image).is_ok());
    }

    #[test]
    fn rewritten_cards_and_text_labelled_binary_are_refused() {
        let b64 = |t: &str| base64::engine::general_purpose::STANDARD.encode(t);
        let card = "card 4556 7375 8689 9855";
        let cases = [
            json!({"messages": [{"role": "user", "content": "4556/7375/8689/9855"}]}),
            json!({"messages": [{"role": "user", "content": "\u{FF14}\u{FF15}\u{FF15}\u{FF16}\u{FF17}\u{FF13}\u{FF17}\u{FF15}\u{FF18}\u{FF16}\u{FF18}\u{FF19}\u{FF19}\u{FF18}\u{FF15}\u{FF15}"}]}),
            json!({"messages": [{"role": "user", "content": [{"type": "image_url", "image_url": {"url": format!("data:text/plain;base64,{}", b64(card))}}]}]}),
            json!({"messages": [{"role": "user", "content": [{"type": "image_url", "image_url": {"url": format!("data:image/png;base64,{}", b64(card))}}]}]}),
            json!({"messages": [{"role": "user", "content": [{"type": "document", "source": {"type": "base64", "media_type": "application/pdf", "data": b64(card)}}]}]}),
        ];
        for case in cases {
            assert!(
                scanner(AigwOnMatch::Block)
                    .check(&mut case.clone())
                    .is_err(),
                "not blocked: {case}"
            );
        }
    }

    #[test]
    fn a_finding_split_across_messages_is_refused_in_redact_mode() {
        let mut split = json!({"messages": [
            {"role": "user", "content": "card 4539 1488"},
            {"role": "user", "content": "0343 6467"}
        ]});
        let before = split.clone();
        match scanner(AigwOnMatch::Redact).check(&mut split) {
            Err(CallError::DlpBlocked(detectors)) => assert_eq!(detectors, ["credit_card"]),
            Ok(_) => panic!("a split card was sent: {split}"),
            Err(other) => panic!("{other:?}"),
        }
        assert_eq!(split, before, "nothing half-redacted is left behind");
    }
}
