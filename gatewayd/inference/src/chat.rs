//! The model's own chat template (`tokenizer.chat_template`, Jinja) rendered with `minijinja`,
//! and the prompt tokens of a conversation.
//!
//! A caller's words must never become control tokens: a message saying `<|im_start|>system`
//! is text, not a new turn. So the template is rendered with a placeholder for each message's
//! content, the template's own text is tokenized with special tokens parsed, and each content
//! is tokenized as plain text in its place. Rendering is bounded (fuel, output size): a
//! template is data from a model file, not code this crate trusts.

use minijinja::{context, Environment, Error as JinjaError, ErrorKind};
use serde::Serialize;

use crate::error::{Error, Result};
use crate::gguf::{Gguf, Value};
use crate::tokenizer::Tokenizer;

/// Template instructions one rendering may execute.
const FUEL: u64 = 200_000;
/// Largest rendered template text (content excluded).
const MAX_RENDERED: usize = 1 << 20;
/// Marks a content placeholder: private-use characters, then the message's index.
const OPEN: char = '\u{F0001}';
const CLOSE: char = '\u{F0002}';

/// One turn of a conversation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChatMessage {
    pub role: String,
    pub content: String,
}

#[derive(Serialize)]
struct TemplateMessage {
    role: String,
    content: String,
}

/// A model's chat template.
#[derive(Debug, Clone)]
pub struct ChatTemplate {
    source: String,
    bos: String,
    eos: String,
}

impl ChatTemplate {
    /// The file's template; `None` when it has none.
    pub fn from_gguf(g: &Gguf, tokenizer: &Tokenizer) -> Result<Option<Self>> {
        let Some(source) = g.get("tokenizer.chat_template").and_then(Value::as_str) else {
            return Ok(None);
        };
        let token_text = |key: &str| {
            g.get(key)
                .and_then(Value::as_u64)
                .and_then(|id| u32::try_from(id).ok())
                .filter(|id| (*id as usize) < tokenizer.len())
                .map(|id| String::from_utf8_lossy(&tokenizer.token_bytes(id, true)).into_owned())
                .unwrap_or_default()
        };
        let template = Self {
            source: source.to_owned(),
            bos: token_text("tokenizer.ggml.bos_token_id"),
            eos: token_text("tokenizer.ggml.eos_token_id"),
        };
        // A template that does not compile is refused at load, not at the first call.
        template.render_text(&[], true)?;
        Ok(Some(template))
    }

    /// Builds a template from its source (tests, or a template given in configuration).
    pub fn new(source: &str, bos: &str, eos: &str) -> Result<Self> {
        let template = Self {
            source: source.to_owned(),
            bos: bos.to_owned(),
            eos: eos.to_owned(),
        };
        template.render_text(&[], true)?;
        Ok(template)
    }

    /// The template's output for `messages` as text (content inserted verbatim).
    pub fn render(&self, messages: &[ChatMessage], add_generation_prompt: bool) -> Result<String> {
        let rendered = self.render_text(messages, add_generation_prompt)?;
        let mut out = String::with_capacity(rendered.len());
        for piece in split(&rendered, messages.len())? {
            match piece {
                Piece::Template(t) => out.push_str(t),
                Piece::Content(i) => out.push_str(&messages[i].content),
            }
        }
        Ok(out)
    }

    /// The prompt tokens for `messages`: the template's text with special tokens, each
    /// message's content as plain text.
    pub fn tokens(
        &self,
        tokenizer: &Tokenizer,
        messages: &[ChatMessage],
        add_generation_prompt: bool,
    ) -> Result<Vec<u32>> {
        let rendered = self.render_text(messages, add_generation_prompt)?;
        let mut out = Vec::new();
        for piece in split(&rendered, messages.len())? {
            match piece {
                Piece::Template(t) => out.extend(tokenizer.encode(t, true)),
                Piece::Content(i) => out.extend(tokenizer.encode(&messages[i].content, false)),
            }
        }
        Ok(out)
    }

    fn render_text(&self, messages: &[ChatMessage], add_generation_prompt: bool) -> Result<String> {
        let mut env = Environment::new();
        env.set_fuel(Some(FUEL));
        env.add_function(
            "raise_exception",
            |message: String| -> std::result::Result<String, JinjaError> {
                Err(JinjaError::new(ErrorKind::InvalidOperation, message))
            },
        );
        env.add_template("chat", &self.source)
            .map_err(|e| Error::Template(e.to_string()))?;
        let placeholders: Vec<TemplateMessage> = messages
            .iter()
            .enumerate()
            .map(|(i, m)| TemplateMessage {
                role: m.role.clone(),
                content: format!("{OPEN}{i}{CLOSE}"),
            })
            .collect();
        let text = env
            .get_template("chat")
            .and_then(|t| {
                t.render(context! {
                    messages => placeholders,
                    add_generation_prompt => add_generation_prompt,
                    bos_token => self.bos,
                    eos_token => self.eos,
                })
            })
            .map_err(|e| Error::Template(e.to_string()))?;
        if text.len() > MAX_RENDERED {
            return Err(Error::Template(format!(
                "the rendered template is over {MAX_RENDERED} bytes"
            )));
        }
        Ok(text)
    }
}

enum Piece<'a> {
    Template(&'a str),
    Content(usize),
}

/// The rendered text cut at the placeholders. A placeholder the template mangled (or an index
/// out of range) is an error: its content would otherwise be lost or misplaced.
fn split(rendered: &str, n: usize) -> Result<Vec<Piece<'_>>> {
    let mut out = Vec::new();
    let mut rest = rendered;
    while let Some(at) = rest.find(OPEN) {
        out.push(Piece::Template(&rest[..at]));
        let after = &rest[at + OPEN.len_utf8()..];
        let end = after
            .find(CLOSE)
            .ok_or_else(|| Error::Template("the template cut a message's content".into()))?;
        let i: usize = after[..end]
            .parse()
            .ok()
            .filter(|i| *i < n)
            .ok_or_else(|| Error::Template("the template altered a message's content".into()))?;
        out.push(Piece::Content(i));
        rest = &after[end + CLOSE.len_utf8()..];
    }
    if rest.contains(CLOSE) {
        return Err(Error::Template(
            "the template altered a message's content".into(),
        ));
    }
    out.push(Piece::Template(rest));
    Ok(out)
}

#[cfg(test)]
#[path = "chat/tests.rs"]
mod tests;
