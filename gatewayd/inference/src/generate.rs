//! One completion: prompt tokens in, text out, streamed piece by piece as it becomes final.
//!
//! Ends at the model's end-of-turn tokens, at a stop string (never sent: text that could still
//! become a stop string is held back until it cannot), at `max_tokens`, or when the caller's
//! callback says stop (a client that went away). Text is emitted only as whole UTF-8
//! characters; a token that ends inside a character waits for the next one.

use crate::error::{Error, Result};
use crate::gguf::Value;
use crate::model::Model;
use crate::sample::{Sampler, SamplerConfig};
use crate::tokenizer::Tokenizer;

/// How one completion runs.
#[derive(Debug, Clone, PartialEq)]
pub struct GenerateParams {
    pub max_tokens: usize,
    pub sampler: SamplerConfig,
    /// Strings that end the completion (not included in it).
    pub stop: Vec<String>,
    /// How many of the last tokens the repetition penalty looks at.
    pub repeat_last_n: usize,
}

impl Default for GenerateParams {
    fn default() -> Self {
        Self {
            max_tokens: 256,
            sampler: SamplerConfig::default(),
            stop: Vec::new(),
            repeat_last_n: 64,
        }
    }
}

/// Why a completion ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FinishReason {
    /// An end-of-turn token or a stop string.
    Stop,
    /// `max_tokens` reached.
    Length,
    /// The callback asked to stop.
    Cancelled,
}

/// What a completion produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Completion {
    pub text: String,
    pub prompt_tokens: usize,
    pub completion_tokens: usize,
    pub finish: FinishReason,
}

/// The model's end-of-turn tokens (end of sequence, end of turn), from the file's metadata.
pub fn end_tokens(model: &Model) -> Vec<u32> {
    let g = model.gguf();
    ["tokenizer.ggml.eos_token_id", "tokenizer.ggml.eot_token_id"]
        .iter()
        .filter_map(|k| g.get(k).and_then(Value::as_u64))
        .filter_map(|id| u32::try_from(id).ok())
        .collect()
}

/// Runs one completion of `prompt`; `on_text` gets each final piece of text and returns
/// false to stop.
pub fn generate(
    model: &Model,
    tokenizer: &Tokenizer,
    prompt: &[u32],
    params: &GenerateParams,
    mut on_text: impl FnMut(&str) -> bool,
) -> Result<Completion> {
    if prompt.is_empty() {
        return Err(Error::Invalid("the prompt has no tokens".into()));
    }
    let n_ctx = prompt.len().saturating_add(params.max_tokens);
    let mut session = model.session(n_ctx)?;
    let ends = end_tokens(model);
    let mut sampler = Sampler::new(params.sampler.clone());
    let mut logits = Vec::new();
    for &t in prompt {
        logits.clear();
        logits.extend_from_slice(session.step(t)?);
    }
    let mut history: Vec<u32> = prompt.to_vec();
    let mut text = StopText::new(&params.stop);
    let mut completion_tokens = 0;
    let finish = loop {
        if completion_tokens >= params.max_tokens {
            break FinishReason::Length;
        }
        let recent = &history[history.len().saturating_sub(params.repeat_last_n)..];
        let next = sampler.sample_after(&logits, recent);
        if ends.contains(&next) {
            break FinishReason::Stop;
        }
        completion_tokens += 1;
        history.push(next);
        let (piece, stopped) = text.push(&tokenizer.token_bytes(next, false));
        if !piece.is_empty() && !on_text(&piece) {
            break FinishReason::Cancelled;
        }
        if stopped {
            break FinishReason::Stop;
        }
        logits.clear();
        logits.extend_from_slice(session.step(next)?);
    };
    if finish != FinishReason::Cancelled {
        // Text held back for a stop string that never came is final now.
        let rest = text.flush();
        if !rest.is_empty() {
            on_text(&rest);
        }
    }
    Ok(Completion {
        text: text.into_text(),
        prompt_tokens: prompt.len(),
        completion_tokens,
        finish,
    })
}

/// The completion's text as it grows: whole characters only, stop strings found across token
/// boundaries, and what could still start a stop string held back.
struct StopText<'a> {
    stop: &'a [String],
    bytes: Vec<u8>,
    text: String,
    sent: usize,
}

impl<'a> StopText<'a> {
    fn new(stop: &'a [String]) -> Self {
        Self {
            stop,
            bytes: Vec::new(),
            text: String::new(),
            sent: 0,
        }
    }

    /// Adds a token's bytes; returns the text that became final and whether a stop string
    /// was reached (the text then ends before it).
    fn push(&mut self, token: &[u8]) -> (String, bool) {
        self.bytes.extend_from_slice(token);
        let valid = match std::str::from_utf8(&self.bytes) {
            Ok(_) => self.bytes.len(),
            // An error past the end means a character still being completed; one inside is
            // bytes that will never be UTF-8 (replaced, as a decoder would).
            Err(e) if e.error_len().is_none() => e.valid_up_to(),
            Err(_) => self.bytes.len(),
        };
        let done: Vec<u8> = self.bytes.drain(..valid).collect();
        self.text.push_str(&String::from_utf8_lossy(&done));
        let search_from = self.sent.saturating_sub(self.longest_stop());
        let search_from = floor_char(&self.text, search_from);
        if let Some(at) = self
            .stop
            .iter()
            .filter(|s| !s.is_empty())
            .filter_map(|s| self.text[search_from..].find(s.as_str()))
            .min()
        {
            self.text.truncate(search_from + at);
            let piece = self.text[self.sent.min(self.text.len())..].to_string();
            self.sent = self.text.len();
            return (piece, true);
        }
        let hold = self.held_back_len();
        let until = floor_char(&self.text, self.text.len() - hold);
        let piece = self.text[self.sent.min(until)..until].to_string();
        self.sent = self.sent.max(until);
        (piece, false)
    }

    /// The longest suffix of the text that is a prefix of some stop string.
    fn held_back_len(&self) -> usize {
        let mut hold = 0;
        for s in self.stop {
            for len in (1..s.len()).rev() {
                if len > hold && s.is_char_boundary(len) && self.text.ends_with(&s[..len]) {
                    hold = len;
                    break;
                }
            }
        }
        hold
    }

    fn longest_stop(&self) -> usize {
        self.stop.iter().map(String::len).max().unwrap_or(0)
    }

    fn flush(&mut self) -> String {
        // A character the last token left unfinished will not be finished.
        let tail: Vec<u8> = self.bytes.drain(..).collect();
        self.text.push_str(&String::from_utf8_lossy(&tail));
        let rest = self.text[self.sent.min(self.text.len())..].to_string();
        self.sent = self.text.len();
        rest
    }

    fn into_text(self) -> String {
        self.text
    }
}

fn floor_char(s: &str, mut i: usize) -> usize {
    i = i.min(s.len());
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

#[cfg(test)]
#[path = "generate/tests.rs"]
mod tests;
