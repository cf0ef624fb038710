//! What can go wrong while building a DLP engine. Every error is the operator's to fix (a
//! profile file, a custom pattern, an EDM source), says which one, and never quotes data from
//! an EDM source: only its line number.

use crate::source::SourceError;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DlpError {
    /// A profile file that does not parse or names what does not exist, positioned.
    #[error(transparent)]
    Profile(#[from] SourceError),
    #[error("unknown DLP profile `{0}`")]
    UnknownProfile(String),
    #[error("detector id `{id}` is not allowed: {reason}")]
    InvalidId { id: String, reason: &'static str },
    #[error("detector id `{0}` is defined twice")]
    DuplicateId(String),
    #[error("keyword list `{0}` has no words")]
    EmptyKeywordList(String),
    #[error("custom regex `{id}` is too big: it compiles to more than {limit} bytes; simplify it or add literal keywords and shorter repetitions")]
    RegexTooBig { id: String, limit: usize },
    #[error("custom regex `{id}` is {len} characters long; at most {max} are allowed")]
    RegexTooLong { id: String, len: usize, max: usize },
    #[error("custom regex `{id}` does not compile: {message}")]
    RegexInvalid { id: String, message: String },
    #[error("EDM set `{id}`:{line}: {message}")]
    Edm {
        id: String,
        line: usize,
        message: String,
    },
    /// The text holds encodings nested past the decode depth or budget: what it carries
    /// cannot be read, so it is not clean (the caller applies its fail-closed decision).
    #[error("the text cannot be scanned: {0}")]
    Unscannable(&'static str),
    /// A built-in pattern or automaton failed to build: a bug in this crate, not in input.
    #[error("internal DLP error: {0}")]
    Internal(String),
}

/// Custom detector ids: 1–64 of `[a-z0-9_]`, starting with a letter, not a built-in id.
pub(crate) fn check_custom_id(id: &str) -> Result<(), DlpError> {
    let bad = |reason| {
        Err(DlpError::InvalidId {
            id: id.to_owned(),
            reason,
        })
    };
    if id.is_empty() || id.len() > 64 {
        return bad("ids are 1 to 64 characters");
    }
    if !id
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
        || !id.as_bytes()[0].is_ascii_lowercase()
    {
        return bad("ids are lower-case letters, digits and `_`, starting with a letter");
    }
    if super::Detector::from_id(id).is_some() {
        return bad("it is the id of a built-in detector");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn custom_ids() {
        assert!(check_custom_id("project_names").is_ok());
        for bad in ["", "Project", "1abc", "a-b", "credit_card", &"a".repeat(65)] {
            assert!(check_custom_id(bad).is_err(), "{bad}");
        }
    }
}
