//! The tokenizer stored in a GGUF file: GPT-2 style byte-level BPE (`tokenizer.ggml.model =
//! "gpt2"`) with its merges, the model's pre-tokenizer and its special tokens.
//!
//! Encoding follows llama.cpp: special tokens are cut out first (control tokens only when the
//! caller asks, user-defined ones always), each remaining fragment is pre-tokenized into
//! words, each word's bytes become GPT-2 characters and are merged by rank. SentencePiece
//! vocabularies (`llama`, Llama 2) are refused for now with that reason.
//! Text is never logged; every step is bounded in time by the input's length.

mod bpe;
mod bytes;
mod pretok;

use std::collections::HashMap;

use crate::gguf::{Array, Gguf, Value};
use crate::{Error, Result};
pub use pretok::PreTokenizer;

/// Token types of `tokenizer.ggml.token_type`.
const TYPE_NORMAL: i32 = 1;
const TYPE_UNKNOWN: i32 = 2;
const TYPE_CONTROL: i32 = 3;
const TYPE_USER_DEFINED: i32 = 4;

/// A loaded byte-level BPE tokenizer.
pub struct Tokenizer {
    tokens: Vec<String>,
    types: Vec<i32>,
    ids: HashMap<String, u32>,
    merges: bpe::Merges,
    pre: PreTokenizer,
    splitter: pretok::Splitter,
    /// Special tokens, longest first: (text, id, is control/unknown).
    specials: Vec<(String, u32, bool)>,
    byte_char: [char; 256],
    char_id: HashMap<char, u32>,
    pub bos: Option<u32>,
    pub eos: Option<u32>,
}

fn string_array<'a>(g: &'a Gguf, key: &str) -> Result<&'a [String]> {
    match g.get(key) {
        Some(Value::Array(Array::String(v))) => Ok(v),
        Some(_) => Err(Error::Unsupported(format!("{key} is not a string array"))),
        None => Err(Error::Missing(format!("metadata {key}"))),
    }
}

impl Tokenizer {
    /// Reads the tokenizer from a model's metadata.
    pub fn from_gguf(g: &Gguf) -> Result<Self> {
        match g.get("tokenizer.ggml.model").and_then(Value::as_str) {
            Some("gpt2") => {}
            Some("llama") => {
                return Err(Error::Unsupported(
                    "SentencePiece tokenizers (tokenizer.ggml.model = \"llama\") are not implemented yet".into(),
                ))
            }
            Some(other) => return Err(Error::Unsupported(format!("tokenizer model {other:?}"))),
            None => return Err(Error::Missing("metadata tokenizer.ggml.model".into())),
        }
        let tokens = string_array(g, "tokenizer.ggml.tokens")?.to_vec();
        if tokens.is_empty() || tokens.len() > u32::MAX as usize / 2 {
            return Err(Error::Unsupported(format!(
                "a vocabulary of {} tokens",
                tokens.len()
            )));
        }
        let types = match g.get("tokenizer.ggml.token_type") {
            None => vec![TYPE_NORMAL; tokens.len()],
            Some(Value::Array(Array::I32(t))) if t.len() == tokens.len() => t.clone(),
            Some(_) => {
                return Err(Error::Unsupported(
                    "tokenizer.ggml.token_type is not one i32 per token".into(),
                ))
            }
        };
        let mut ids = HashMap::with_capacity(tokens.len());
        for (i, t) in tokens.iter().enumerate() {
            // The first of duplicate texts wins, as in llama.cpp.
            ids.entry(t.clone()).or_insert(i as u32);
        }
        let mut merges = HashMap::new();
        let merge_list = match g.get("tokenizer.ggml.merges") {
            None => &[][..],
            Some(_) => string_array(g, "tokenizer.ggml.merges")?,
        };
        for (rank, m) in merge_list.iter().enumerate() {
            let Some((a, b)) = m.split_once(' ') else {
                return Err(Error::Unsupported(format!("merge {rank} has no space")));
            };
            if let (Some(&l), Some(&r), Some(&joined)) =
                (ids.get(a), ids.get(b), ids.get(&format!("{a}{b}")))
            {
                merges.entry((l, r)).or_insert((rank as u32, joined));
            }
        }
        let pre = PreTokenizer::from_name(
            g.get("tokenizer.ggml.pre")
                .and_then(Value::as_str)
                .unwrap_or("default"),
        )?;
        let mut specials: Vec<(String, u32, bool)> = tokens
            .iter()
            .zip(&types)
            .enumerate()
            .filter(|(_, (t, ty))| {
                !t.is_empty() && matches!(**ty, TYPE_UNKNOWN | TYPE_CONTROL | TYPE_USER_DEFINED)
            })
            .map(|(i, (t, ty))| (t.clone(), i as u32, *ty != TYPE_USER_DEFINED))
            .collect();
        specials.sort_by(|a, b| b.0.len().cmp(&a.0.len()).then(a.1.cmp(&b.1)));
        let byte_char = bytes::byte_to_char();
        let char_id = byte_char
            .iter()
            .filter_map(|c| ids.get(&c.to_string()).map(|&id| (*c, id)))
            .collect();
        let id_of = |key: &str| -> Option<u32> {
            g.get(key)
                .and_then(Value::as_u64)
                .filter(|&v| (v as usize) < tokens.len())
                .map(|v| v as u32)
        };
        Ok(Self {
            bos: id_of("tokenizer.ggml.bos_token_id"),
            eos: id_of("tokenizer.ggml.eos_token_id"),
            types,
            ids,
            merges,
            pre,
            splitter: pretok::Splitter::new()?,
            specials,
            byte_char,
            char_id,
            tokens,
        })
    }

    /// Vocabulary size.
    pub fn len(&self) -> usize {
        self.tokens.len()
    }

    /// True when the vocabulary is empty (never, for a loaded tokenizer).
    pub fn is_empty(&self) -> bool {
        self.tokens.is_empty()
    }

    /// The pre-tokenizer in use.
    pub fn pre_tokenizer(&self) -> PreTokenizer {
        self.pre
    }

    /// The id of a token's exact text.
    pub fn token_id(&self, text: &str) -> Option<u32> {
        self.ids.get(text).copied()
    }

    /// Token ids for `text`; `parse_special` also turns control tokens' text (such as
    /// `<|im_start|>`) into those tokens, as for a rendered chat template.
    pub fn encode(&self, text: &str, parse_special: bool) -> Vec<u32> {
        // Fragments: Ok(text slice) still to tokenize, Err(id) a special token.
        let mut frags: Vec<std::result::Result<&str, u32>> = vec![Ok(text)];
        for (special, id, control) in &self.specials {
            if *control && !parse_special {
                continue;
            }
            let mut next = Vec::with_capacity(frags.len());
            for f in frags {
                match f {
                    Ok(mut rest) => {
                        while let Some(i) = rest.find(special.as_str()) {
                            if i > 0 {
                                next.push(Ok(&rest[..i]));
                            }
                            next.push(Err(*id));
                            rest = &rest[i + special.len()..];
                        }
                        if !rest.is_empty() {
                            next.push(Ok(rest));
                        }
                    }
                    Err(id) => next.push(Err(id)),
                }
            }
            frags = next;
        }
        let mut out = Vec::new();
        let mut syms = Vec::new();
        for f in frags {
            match f {
                Err(id) => out.push(id),
                Ok(fragment) => {
                    for (a, b) in self.splitter.split(self.pre, fragment) {
                        syms.clear();
                        syms.extend(fragment[a..b].bytes().map(|byte| {
                            let c = self.byte_char[byte as usize];
                            self.char_id.get(&c).copied().unwrap_or(u32::MAX)
                        }));
                        out.extend(
                            bpe::merge(&syms, &self.merges)
                                .into_iter()
                                .filter(|&t| t != u32::MAX),
                        );
                    }
                }
            }
        }
        out
    }

    /// The bytes a token stands for: control tokens give nothing unless `special`.
    pub fn token_bytes(&self, id: u32, special: bool) -> Vec<u8> {
        let Some(text) = self.tokens.get(id as usize) else {
            return Vec::new();
        };
        match self.types.get(id as usize).copied().unwrap_or(TYPE_NORMAL) {
            TYPE_CONTROL | TYPE_UNKNOWN if !special => Vec::new(),
            TYPE_CONTROL | TYPE_UNKNOWN | TYPE_USER_DEFINED => text.as_bytes().to_vec(),
            _ => {
                let mut out = Vec::with_capacity(text.len());
                for c in text.chars() {
                    match bytes::char_to_byte(c) {
                        Some(b) => out.push(b),
                        None => out.extend_from_slice(c.encode_utf8(&mut [0; 4]).as_bytes()),
                    }
                }
                out
            }
        }
    }

    /// Text of a run of tokens (invalid UTF-8, as from a cut-off multi-byte character, shown
    /// as U+FFFD).
    pub fn decode(&self, ids: &[u32], special: bool) -> String {
        let bytes: Vec<u8> = ids
            .iter()
            .flat_map(|&id| self.token_bytes(id, special))
            .collect();
        String::from_utf8_lossy(&bytes).into_owned()
    }
}
