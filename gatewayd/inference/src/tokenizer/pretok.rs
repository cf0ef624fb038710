//! Pre-tokenizers: how text is cut into words before byte-pair merging, per the model's
//! `tokenizer.ggml.pre`. Written by hand because GPT-2's pattern needs a look-ahead
//! (`\s+(?!\S)`) the `regex` crate does not have; Unicode classes come from `regex`.
//!
//! GPT-2: `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`.
//! SmolLM (`smollm`): every digit its own piece first, then GPT-2's pattern on the rest.

use regex::Regex;

use crate::{Error, Result};

/// The pre-tokenizers implemented.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PreTokenizer {
    Gpt2,
    SmolLm,
}

impl PreTokenizer {
    /// The pre-tokenizer a `tokenizer.ggml.pre` value names.
    pub fn from_name(name: &str) -> Result<Self> {
        match name {
            "gpt-2" | "gpt2" | "default" => Ok(Self::Gpt2),
            "smollm" => Ok(Self::SmolLm),
            other => Err(Error::Unsupported(format!(
                "pre-tokenizer {other:?} (gpt-2 and smollm are implemented)"
            ))),
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Class {
    Letter,
    Number,
    Space,
    Other,
    /// Unassigned code points: llama.cpp matches them with no class, so they stand alone.
    Unassigned,
}

pub(crate) struct Splitter {
    classes: Regex,
}

impl Splitter {
    pub(crate) fn new() -> Result<Self> {
        let classes = Regex::new(r"(?s)(\p{L}+)|(\p{N}+)|(\s+)|(\p{Cn}+)|.")
            .map_err(|e| Error::Invalid(format!("pre-tokenizer classes: {e}")))?;
        Ok(Self { classes })
    }

    fn classify(&self, text: &str) -> Vec<(usize, char, Class)> {
        let mut out = Vec::with_capacity(text.len());
        for caps in self.classes.captures_iter(text) {
            let class = if caps.get(1).is_some() {
                Class::Letter
            } else if caps.get(2).is_some() {
                Class::Number
            } else if caps.get(3).is_some() {
                Class::Space
            } else if caps.get(4).is_some() {
                Class::Unassigned
            } else {
                Class::Other
            };
            if let Some(m) = caps.get(0) {
                for (i, c) in m.as_str().char_indices() {
                    out.push((m.start() + i, c, class));
                }
            }
        }
        out
    }

    /// Cuts `text` into words (byte ranges, in order, covering all of it).
    pub(crate) fn split(&self, pre: PreTokenizer, text: &str) -> Vec<(usize, usize)> {
        let chars = self.classify(text);
        let mut out = Vec::new();
        match pre {
            PreTokenizer::Gpt2 => gpt2(&chars, text.len(), &mut out),
            PreTokenizer::SmolLm => {
                let mut start = 0;
                for i in 0..chars.len() {
                    if chars[i].2 == Class::Number {
                        gpt2(&chars[start..i], chars[i].0, &mut out);
                        out.push((chars[i].0, chars[i].0 + chars[i].1.len_utf8()));
                        start = i + 1;
                    }
                }
                gpt2(&chars[start..], text.len(), &mut out);
            }
        }
        out
    }
}

/// GPT-2's pattern over one chunk; `end` is the chunk's end byte.
fn gpt2(chars: &[(usize, char, Class)], end: usize, out: &mut Vec<(usize, usize)>) {
    let n = chars.len();
    let at = |i: usize| if i < n { chars[i].0 } else { end };
    let class = |i: usize| chars.get(i).map(|c| c.2);
    let ch = |i: usize| chars.get(i).map(|c| c.1);
    let mut pos = 0;
    while pos < n {
        let start = pos;
        let c = chars[pos].1;
        // 's 't 're 've 'm 'll 'd (lower case only, as in GPT-2).
        if c == '\'' {
            match (ch(pos + 1), ch(pos + 2)) {
                (Some('s' | 't' | 'm' | 'd'), _) => pos += 2,
                (Some('r'), Some('e')) | (Some('v'), Some('e')) | (Some('l'), Some('l')) => {
                    pos += 3
                }
                _ => {}
            }
            if pos != start {
                out.push((at(start), at(pos)));
                continue;
            }
        }
        // An optional space joins the run after it.
        let lead = usize::from(c == ' ');
        let run = class(pos + lead);
        let joinable = match run {
            Some(Class::Letter) | Some(Class::Number) | Some(Class::Other) => run,
            _ => None,
        };
        if let Some(k) = joinable {
            pos += lead;
            while class(pos) == Some(k) {
                pos += 1;
            }
            out.push((at(start), at(pos)));
            continue;
        }
        let mut spaces = 0;
        while class(pos + spaces) == Some(Class::Space) {
            spaces += 1;
        }
        if spaces > 1 && pos + spaces < n {
            // \s+(?!\S): leave the last space to join the word after it.
            pos += spaces - 1;
        } else if spaces > 0 {
            pos += spaces;
        } else {
            pos += 1;
        }
        out.push((at(start), at(pos)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(pre: PreTokenizer, text: &str) -> Vec<String> {
        let s = Splitter::new().unwrap();
        s.split(pre, text)
            .into_iter()
            .map(|(a, b)| text[a..b].to_string())
            .collect()
    }

    #[test]
    fn gpt2_pattern() {
        assert_eq!(
            words(PreTokenizer::Gpt2, "Hello world's  3.14 don't!!\n\n  x  "),
            [
                "Hello", " world", "'s", " ", " 3", ".", "14", " don", "'t", "!!", "\n\n ", " x",
                "  "
            ]
        );
        assert_eq!(words(PreTokenizer::Gpt2, "  a"), [" ", " a"]);
        assert_eq!(words(PreTokenizer::Gpt2, "\na"), ["\n", "a"]);
    }

    #[test]
    fn smollm_isolates_digits() {
        assert_eq!(
            words(PreTokenizer::SmolLm, "ab 123x"),
            ["ab", " ", "1", "2", "3", "x"]
        );
    }
}
