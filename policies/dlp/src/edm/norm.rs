//! Normalisation (letter-or-digit runs, lower-cased, joined by one space) and the n-gram
//! search that hashes runs of text words only when their word count and byte length occur in
//! the set.

use super::{EdmSet, MAX_VALUE_LEN, MAX_WORDS};

impl EdmSet {
    /// Byte spans of `text` whose normalised words are a value of the set.
    pub(crate) fn find(&self, text: &[u8]) -> Vec<(usize, usize)> {
        let mut out = Vec::new();
        let Ok(text) = std::str::from_utf8(text) else {
            return out;
        };
        let words = words(text);
        let mut buf = String::new();
        for i in 0..words.len() {
            buf.clear();
            for n in 1..=MAX_WORDS.min(words.len() - i) {
                let (s, e) = words[i + n - 1];
                if n > 1 {
                    buf.push(' ');
                }
                buf.extend(text[s..e].chars().flat_map(char::to_lowercase));
                if buf.len() > MAX_VALUE_LEN {
                    break;
                }
                if self.word_counts[n]
                    && self.lengths[buf.len()]
                    && self.hashes.contains(&self.hash(&buf))
                {
                    out.push((words[i].0, e));
                }
            }
        }
        out
    }
}

/// Byte spans of the letter-or-digit runs of `text`.
pub(super) fn words(text: &str) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut start = None;
    for (i, c) in text.char_indices() {
        match (c.is_alphanumeric(), start) {
            (true, None) => start = Some(i),
            (false, Some(s)) => {
                out.push((s, i));
                start = None;
            }
            _ => {}
        }
    }
    if let Some(s) = start {
        out.push((s, text.len()));
    }
    out
}

/// The normalised form of a value and its word count; `None` when it has no words.
pub(crate) fn normalize(value: &str) -> Option<(String, usize)> {
    let spans = words(value);
    if spans.is_empty() {
        return None;
    }
    let norm = spans
        .iter()
        .map(|(s, e)| {
            value[*s..*e]
                .chars()
                .flat_map(char::to_lowercase)
                .collect::<String>()
        })
        .collect::<Vec<_>>()
        .join(" ");
    Some((norm, spans.len()))
}
