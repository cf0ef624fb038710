//! Source positions for errors in text files (catalog, policy, status book, DLP profiles).
//!
//! Every error a user can fix carries `file:line:col` so `gatewayd check` can print it the way
//! compilers do. This module only maps byte offsets to positions; it never reads files.

use std::fmt;
use std::ops::Range;

/// One problem found in one text file, positioned for humans (1-based line and column).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}:{line}:{col}: {message}")]
pub struct SourceError {
    pub file: String,
    pub line: usize,
    pub col: usize,
    pub message: String,
}

impl SourceError {
    /// An error at byte `offset` of `text`.
    pub fn at(file: &str, text: &str, offset: usize, message: impl Into<String>) -> Self {
        let (line, col) = line_col(text, offset);
        SourceError {
            file: file.to_owned(),
            line,
            col,
            message: message.into(),
        }
    }

    /// An error at the start of `span` (or the top of the file when there is none).
    pub fn spanned(
        file: &str,
        text: &str,
        span: Option<Range<usize>>,
        message: impl Into<String>,
    ) -> Self {
        Self::at(file, text, span.map_or(0, |s| s.start), message)
    }

    /// Turns a TOML parse error into a positioned one.
    pub fn from_toml(file: &str, text: &str, err: &toml::de::Error) -> Self {
        Self::spanned(file, text, err.span(), err.message().trim_end())
    }
}

/// 1-based line and column (in characters) of byte `offset` in `text`; offsets past the end
/// or inside a multi-byte character are clamped to the nearest valid position.
pub fn line_col(text: &str, offset: usize) -> (usize, usize) {
    LineIndex::new(text).line_col(offset)
}

/// Line starts of one text, so that many positions in a large file cost a binary search each
/// instead of a scan from the top (a generated catalog can hold tens of thousands of apps).
#[derive(Debug, Clone)]
pub struct LineIndex<'t> {
    text: &'t str,
    starts: Vec<usize>,
}

impl<'t> LineIndex<'t> {
    pub fn new(text: &'t str) -> Self {
        let mut starts = vec![0];
        starts.extend(
            text.bytes()
                .enumerate()
                .filter(|(_, b)| *b == b'\n')
                .map(|(i, _)| i + 1),
        );
        LineIndex { text, starts }
    }

    /// See [`line_col`].
    pub fn line_col(&self, offset: usize) -> (usize, usize) {
        let mut offset = offset.min(self.text.len());
        while !self.text.is_char_boundary(offset) {
            offset -= 1;
        }
        // `starts[0] == 0`, so the partition point is at least 1.
        let line = self.starts.partition_point(|&s| s <= offset);
        let start = self.starts[line - 1];
        let col = self.text[start..offset].chars().count() + 1;
        (line, col)
    }

    /// A positioned error in `file` at byte `offset`.
    pub fn error(&self, file: &str, offset: usize, message: impl Into<String>) -> SourceError {
        let (line, col) = self.line_col(offset);
        SourceError {
            file: file.to_owned(),
            line,
            col,
            message: message.into(),
        }
    }
}

/// A list of positioned errors, displayed one per line.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SourceErrors(pub Vec<SourceError>);

impl fmt::Display for SourceErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            write!(f, "{e}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_are_one_based_and_count_characters() {
        let text = "a = 1\nbé = 2\n";
        assert_eq!(line_col(text, 0), (1, 1));
        assert_eq!(line_col(text, 6), (2, 1));
        // 'é' is two bytes but one column.
        assert_eq!(line_col(text, 9), (2, 3));
        assert_eq!(line_col(text, 8), (2, 2), "inside a character clamps back");
        assert_eq!(line_col(text, 10_000), (3, 1));
    }

    #[test]
    fn display_is_file_line_col_message() {
        let e = SourceError::at("p.toml", "x\ny", 2, "bad");
        assert_eq!(e.to_string(), "p.toml:2:1: bad");
    }
}
