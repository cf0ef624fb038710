//! DLP on answers (`[aigw] response_dlp`): the prompt's engine and profiles, run over what a
//! provider answers before the caller gets it. A whole answer is scanned at once here
//! ([`ResponseScanner::whole`]); a stream is scanned as it passes by
//! [`crate::response_stream`] (every dialect's stream, tool-call arguments included). `monitor` records and passes, `redact` masks what was found,
//! `block` refuses a whole answer with an error in the caller's dialect naming the detectors
//! (a stream ends with an error event). What was found is tallied per detector ([`Tally`]) for
//! the call's `ai_requests` row and its `dlp_findings` rows.
//!
//! A detector acts once its findings reach the profile's `min_matches` (an email address
//! alone does not match `default`; three do), counted over the whole answer.
//!
//! Never: put what was found in an error, a log line or an event — only detector ids, counts
//! and the engine's masked snippets leave this module; send a whole answer it could not mask.

use std::collections::BTreeMap;

use bytes::Bytes;
use config::AigwResponseDlp;
use dlp::{Confidence, DlpEngine, Finding};
use serde_json::Value;

use crate::call_log::CallRecord;
use crate::dialect::Dialect;
use crate::error::CallError;
use crate::pipeline::Reply;
use crate::response_stream::{Events, StreamGuard};
use crate::translate::stream::StreamTranslator;
use crate::AiGateway;

/// The answer scanner of a gateway, when `response_dlp` is not `off`.
#[derive(Debug)]
pub struct ResponseScanner {
    pub engine: DlpEngine,
    pub profile: String,
    pub mode: AigwResponseDlp,
    /// Detector id → findings that make it match (the profile's `min_matches`).
    min_matches: BTreeMap<String, usize>,
}

/// What one detector found in one answer: how often, how sure, and a masked example.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Seen {
    pub count: u32,
    pub confidence: Confidence,
    /// The engine's masked snippet of the first finding (never the data).
    pub snippet: String,
}

/// Findings per detector, in detector order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tally(pub BTreeMap<String, Seen>);

impl Tally {
    pub fn add(&mut self, finding: &Finding) {
        let seen = self
            .0
            .entry(finding.detector.to_string())
            .or_insert_with(|| Seen {
                count: 0,
                confidence: finding.confidence,
                snippet: finding.snippet.to_string(),
            });
        seen.count = seen.count.saturating_add(1);
        seen.confidence = seen.confidence.max(finding.confidence);
    }

    pub fn count(&self, detector: &str) -> usize {
        self.0.get(detector).map_or(0, |s| s.count as usize)
    }

    pub fn detectors(&self) -> Vec<String> {
        self.0.keys().cloned().collect()
    }

    pub fn total(&self) -> u32 {
        self.0.values().fold(0, |n, s| n.saturating_add(s.count))
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Counts `other`'s findings of the same text again: each detector keeps the larger
    /// count (a `.done` event repeats what its deltas already counted).
    pub fn merge_max(&mut self, other: &Tally) {
        for (detector, seen) in &other.0 {
            let mine = self
                .0
                .entry(detector.clone())
                .or_insert_with(|| seen.clone());
            mine.count = mine.count.max(seen.count);
            mine.confidence = mine.confidence.max(seen.confidence);
        }
    }
}

impl ResponseScanner {
    /// The scanner for `[aigw]`, or `None` when `response_dlp` is off.
    pub fn new(aigw: &config::AigwConfig) -> Result<Option<Self>, String> {
        if aigw.response_dlp == AigwResponseDlp::Off {
            return Ok(None);
        }
        let profile = aigw
            .response_dlp_profile
            .clone()
            .or_else(|| aigw.dlp_profile.clone())
            .ok_or("aigw.response_dlp needs response_dlp_profile or dlp_profile")?;
        let engine = DlpEngine::shipped().map_err(|e| format!("DLP engine: {e}"))?;
        let min_matches = engine
            .profile(&profile)
            .ok_or_else(|| format!("aigw: {profile:?} is not a DLP profile"))?
            .detectors
            .iter()
            .map(|(id, t)| (id.clone(), t.min_matches.max(1)))
            .collect();
        Ok(Some(Self {
            engine,
            profile,
            mode: aigw.response_dlp,
            min_matches,
        }))
    }

    /// The action's name in the call's row and its `dlp_findings`.
    pub fn action(&self) -> &'static str {
        match self.mode {
            AigwResponseDlp::Off | AigwResponseDlp::Monitor => "log",
            AigwResponseDlp::Redact => "redact",
            AigwResponseDlp::Block => "block",
        }
    }

    /// Whether `detector`'s findings so far (`tally`) make it match.
    pub fn matches(&self, tally: &Tally, detector: &str) -> bool {
        let needed = self.min_matches.get(detector).copied().unwrap_or(1);
        tally.count(detector) >= needed
    }

    /// The findings of the profile in `text`. A scan that cannot run is never a clean one.
    pub fn findings(&self, text: &str) -> Result<Vec<Finding>, CallError> {
        self.engine
            .scan_profile(&self.profile, text)
            .map(|r| r.findings)
            .map_err(|e| CallError::Internal(format!("DLP on the answer: {e}")))
    }

    /// Scans a whole answer in the caller's dialect: passes it (monitor, or nothing found),
    /// masks what was found (redact), or refuses it (block, or a finding redact cannot mask:
    /// one split across two fields). The findings go into `record`.
    pub fn whole(
        &self,
        ingress: Dialect,
        bytes: Bytes,
        record: &mut CallRecord,
    ) -> Result<Bytes, CallError> {
        let Ok(mut answer) = serde_json::from_slice::<Value>(&bytes) else {
            return Err(CallError::BadGateway(
                "the provider's answer could not be read for DLP".into(),
            ));
        };
        let mut tally = Tally::default();
        for finding in self.findings(&joined(&mut answer, ingress))? {
            tally.add(&finding);
        }
        let matched: Vec<String> = tally
            .detectors()
            .into_iter()
            .filter(|d| self.matches(&tally, d))
            .collect();
        if matched.is_empty() {
            return Ok(bytes);
        }
        tally.0.retain(|d, _| matched.contains(d));
        record.response_dlp_action = Some(self.action());
        record.response_findings = tally;
        match self.mode {
            AigwResponseDlp::Off | AigwResponseDlp::Monitor => Ok(bytes),
            AigwResponseDlp::Block => Err(CallError::ResponseDlpBlocked(matched)),
            AigwResponseDlp::Redact => {
                for text in texts(&mut answer, ingress) {
                    let found: Vec<Finding> = self
                        .findings(text)?
                        .into_iter()
                        .filter(|f| matched.iter().any(|d| *d == f.detector))
                        .collect();
                    if !found.is_empty() {
                        *text = dlp::redact(text, &found);
                    }
                }
                // Token log probabilities spell the answer out again, token by token: they
                // go with a redacted answer.
                if let Some(choices) = answer.get_mut("choices").and_then(Value::as_array_mut) {
                    for choice in choices {
                        if choice.get("logprobs").is_some_and(|l| !l.is_null()) {
                            choice["logprobs"] = Value::Null;
                        }
                    }
                }
                let left: Vec<String> = self
                    .findings(&joined(&mut answer, ingress))?
                    .iter()
                    .filter(|f| matched.iter().any(|d| *d == f.detector))
                    .map(|f| f.detector.to_string())
                    .collect();
                if !left.is_empty() {
                    record.response_dlp_action = Some("block");
                    return Err(CallError::ResponseDlpBlocked(matched));
                }
                Ok(Bytes::from(answer.to_string()))
            }
        }
    }
}

/// The response DLP phase, after forward: a whole answer is scanned here; a stream gets
/// its guard when its body starts ([`stream_guard`]).
pub fn check(
    gw: &AiGateway,
    ingress: Dialect,
    reply: Reply,
    record: &mut CallRecord,
) -> Result<Reply, CallError> {
    match (&gw.response_dlp, reply) {
        (Some(scanner), Reply::Whole(bytes)) => {
            let result = scanner.whole(ingress, bytes, record);
            if let Err(CallError::ResponseDlpBlocked(_)) = &result {
                record.response_dlp_action = Some("block");
            }
            result.map(Reply::Whole)
        }
        (_, reply) => Ok(reply),
    }
}

/// The DLP guard of a stream translated by `translator` for a `caller`, when `response_dlp`
/// is on. OpenAI's and Anthropic's events are read as the provider sent them (one guard for
/// both callers); Gemini's and Bedrock's after translation, as the caller's chunks or
/// events; a Responses API stream as the caller's Responses events.
pub fn stream_guard(
    gw: &AiGateway,
    translator: &StreamTranslator,
    caller: Dialect,
) -> Option<StreamGuard> {
    let scanner = gw.response_dlp.clone()?;
    let caller_events = match caller {
        Dialect::Anthropic => Events::Messages,
        Dialect::OpenAi | Dialect::Gemini | Dialect::Bedrock => Events::Chat,
    };
    let (events, after) = match translator {
        StreamTranslator::OpenAi { .. } | StreamTranslator::OpenAiToAnthropic(_) => {
            (Events::Chat, false)
        }
        StreamTranslator::Anthropic | StreamTranslator::AnthropicToOpenAi(_) => {
            (Events::Messages, false)
        }
        StreamTranslator::Gemini(_) | StreamTranslator::Bedrock(_) => (caller_events, true),
        StreamTranslator::Responses(_) => (Events::Responses, true),
    };
    Some(StreamGuard::new(scanner, events, after))
}

/// The texts of an answer a caller reads: message content, refusals and tool arguments
/// (OpenAI), text and thinking blocks and tool inputs (Anthropic).
fn texts(answer: &mut Value, ingress: Dialect) -> Vec<&mut String> {
    let mut out = Vec::new();
    if answer.get("object").and_then(Value::as_str) == Some("response") {
        // A Responses API answer: its text, refusals and tool arguments are all under
        // `output`; every string there is read.
        if let Some(output) = answer.get_mut("output") {
            strings(output, &mut out);
        }
        return out;
    }
    match ingress {
        // Callers never speak Gemini's API; were one to, every string is read.
        Dialect::Gemini | Dialect::Bedrock => strings(answer, &mut out),
        Dialect::OpenAi => {
            for choice in answer
                .get_mut("choices")
                .and_then(Value::as_array_mut)
                .into_iter()
                .flatten()
            {
                let Some(message) = choice.get_mut("message").and_then(Value::as_object_mut) else {
                    continue;
                };
                for (key, value) in message.iter_mut() {
                    match (key.as_str(), value) {
                        ("content" | "refusal", Value::String(text)) => out.push(text),
                        ("content", content @ Value::Array(_)) => strings(content, &mut out),
                        ("tool_calls" | "function_call", calls) => strings(calls, &mut out),
                        _ => {}
                    }
                }
            }
        }
        Dialect::Anthropic => {
            for block in answer
                .get_mut("content")
                .and_then(Value::as_array_mut)
                .into_iter()
                .flatten()
            {
                let Some(block) = block.as_object_mut() else {
                    continue;
                };
                for (key, value) in block.iter_mut() {
                    if matches!(key.as_str(), "text" | "thinking" | "input" | "content") {
                        strings(value, &mut out);
                    }
                }
            }
        }
    }
    out
}

/// The texts of an answer as one, a line each: a finding split across two is seen whole.
fn joined(answer: &mut Value, ingress: Dialect) -> String {
    let texts: Vec<&str> = texts(answer, ingress)
        .into_iter()
        .map(|t| t.as_str())
        .collect();
    texts.join("\n")
}

/// Every string inside `value` (a tool's arguments or input), keys left alone.
pub(crate) fn strings<'v>(value: &'v mut Value, out: &mut Vec<&'v mut String>) {
    match value {
        Value::String(text) => out.push(text),
        Value::Array(items) => items.iter_mut().for_each(|i| strings(i, out)),
        Value::Object(map) => map.values_mut().for_each(|v| strings(v, out)),
        _ => {}
    }
}

#[cfg(test)]
pub(crate) mod tests;
