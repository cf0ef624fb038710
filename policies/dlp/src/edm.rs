//! Exact data match: a CSV of sensitive values (customer names, account numbers) kept only as
//! salted SHA-256 hashes of their normalised form, matched by hashing word n-grams of the text.
//!
//! Normalising splits on anything that is not a letter or digit and lower-cases, so
//! `078-05-1120`, `078 05 1120` and `078.05.1120` are one value, and so are `ACME Corp` and
//! `acme corp`. Only the hashes, the salt, and which word counts and byte lengths occur are
//! kept (the last two let a scan skip hashing n-grams that cannot match); the values are not.

use super::error::DlpError;
use super::finding::Confidence;
use sha2::{Digest, Sha256};
use std::collections::HashSet;
use std::fmt;

mod csv;
mod norm;

pub(crate) use norm::normalize;

/// Most words in one value; longer values are skipped.
pub const MAX_WORDS: usize = 8;
/// Longest normalised value in bytes; longer values are skipped.
pub const MAX_VALUE_LEN: usize = 256;

/// How a CSV becomes an [`EdmSet`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EdmOptions {
    /// The first row names the columns (and is not data).
    pub has_header: bool,
    /// Only these columns (by header name); every column when `None`.
    pub columns: Option<Vec<String>>,
    /// Values shorter than this (in normalised characters) are skipped as too generic.
    pub min_chars: usize,
    pub confidence: Confidence,
}

impl Default for EdmOptions {
    fn default() -> Self {
        EdmOptions {
            has_header: true,
            columns: None,
            min_chars: 4,
            confidence: Confidence::High,
        }
    }
}

/// A set of sensitive values, stored as salted hashes only.
#[derive(Clone)]
pub struct EdmSet {
    id: String,
    salt: Vec<u8>,
    hashes: HashSet<[u8; 32]>,
    word_counts: [bool; MAX_WORDS + 1],
    lengths: Vec<bool>,
    confidence: Confidence,
    skipped: usize,
}

impl fmt::Debug for EdmSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EdmSet")
            .field("id", &self.id)
            .field("values", &self.hashes.len())
            .finish_non_exhaustive()
    }
}

impl EdmSet {
    /// Reads the values of a CSV (see [`EdmOptions`]) into a set named `id`.
    pub fn from_csv(
        id: &str,
        text: &str,
        salt: &[u8],
        opts: &EdmOptions,
    ) -> Result<Self, DlpError> {
        let rows = csv::parse(text).map_err(|(line, message)| DlpError::Edm {
            id: id.to_owned(),
            line,
            message,
        })?;
        let mut rows = rows.into_iter();
        let wanted: Option<Vec<usize>> = match (&opts.columns, opts.has_header) {
            (None, true) => {
                rows.next();
                None
            }
            (None, false) => None,
            (Some(_), false) => {
                return Err(DlpError::Edm {
                    id: id.to_owned(),
                    line: 1,
                    message: "columns need a header row".into(),
                })
            }
            (Some(names), true) => {
                let header = rows.next().unwrap_or_default();
                let mut idx = Vec::new();
                for name in names {
                    let i = header
                        .iter()
                        .position(|h| h.trim() == name)
                        .ok_or_else(|| DlpError::Edm {
                            id: id.to_owned(),
                            line: 1,
                            message: format!("no column `{name}` in the header"),
                        })?;
                    idx.push(i);
                }
                Some(idx)
            }
        };
        let values = rows.flat_map(|row| {
            row.into_iter()
                .enumerate()
                .filter(|(i, _)| wanted.as_ref().is_none_or(|w| w.contains(i)))
                .map(|(_, v)| v)
        });
        Self::from_values(id, values, salt, opts)
    }

    /// A set from values given directly.
    pub fn from_values<S: AsRef<str>>(
        id: &str,
        values: impl IntoIterator<Item = S>,
        salt: &[u8],
        opts: &EdmOptions,
    ) -> Result<Self, DlpError> {
        if salt.len() < 16 {
            return Err(DlpError::Edm {
                id: id.to_owned(),
                line: 0,
                message: "the salt must be at least 16 bytes".into(),
            });
        }
        let mut set = EdmSet {
            id: id.to_owned(),
            salt: salt.to_vec(),
            hashes: HashSet::new(),
            word_counts: [false; MAX_WORDS + 1],
            lengths: vec![false; MAX_VALUE_LEN + 1],
            confidence: opts.confidence,
            skipped: 0,
        };
        for v in values {
            let Some((norm, words)) = normalize(v.as_ref()) else {
                continue;
            };
            if words > MAX_WORDS
                || norm.len() > MAX_VALUE_LEN
                || norm.chars().count() < opts.min_chars
            {
                set.skipped += 1;
                continue;
            }
            set.word_counts[words] = true;
            set.lengths[norm.len()] = true;
            let h = set.hash(&norm);
            set.hashes.insert(h);
        }
        Ok(set)
    }

    pub fn id(&self) -> &str {
        &self.id
    }

    /// Distinct values held.
    pub fn len(&self) -> usize {
        self.hashes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.hashes.is_empty()
    }

    /// Values left out: too short, too long or too many words.
    pub fn skipped(&self) -> usize {
        self.skipped
    }

    pub fn confidence(&self) -> Confidence {
        self.confidence
    }

    fn hash(&self, normalized: &str) -> [u8; 32] {
        let mut h = Sha256::new();
        h.update(&self.salt);
        h.update([0u8]);
        h.update(normalized.as_bytes());
        h.finalize().into()
    }
}

#[cfg(test)]
mod tests;
