//! What an extraction returns: all the text found (bounded), every file seen with its type, and
//! why extraction stopped or skipped something, if it did. A refused extraction still carries
//! the text found before the refusal, so a secret seen early is still caught.

use crate::kind::FileKind;

/// The result of [`crate::extract`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Extraction {
    /// All text found, each file's text followed by a newline, at most
    /// `Limits::max_output_bytes` bytes.
    pub text: String,
    /// Every file seen, outermost first, in the order met.
    pub parts: Vec<Part>,
    /// Why some content was not inspected; `None` when everything was.
    pub refused: Option<Refusal>,
}

impl Extraction {
    /// True when every byte was inspected: nothing refused, skipped or unreadable.
    pub fn is_complete(&self) -> bool {
        self.refused.is_none()
    }

    /// The innermost file whose text holds byte `offset` of [`Extraction::text`]: where a
    /// finding came from.
    pub fn part_at(&self, offset: usize) -> Option<&Part> {
        self.parts.iter().rev().find(|p| {
            let len = usize::try_from(p.text_bytes).unwrap_or(usize::MAX);
            p.text_bytes > 0 && offset >= p.text_start && offset - p.text_start < len
        })
    }
}

/// One file: the input itself, or a file inside it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Part {
    /// Where it is: the input's name, then one segment per archive entry
    /// (`report.zip/notes/secret.docx`).
    pub path: String,
    /// Its type, from its content.
    pub kind: FileKind,
    /// Its size: bytes read, or the size its archive declared when it was not read in full.
    pub bytes: u64,
    /// Bytes of text it added to [`Extraction::text`].
    pub text_bytes: u64,
    /// Where its text starts in [`Extraction::text`].
    pub text_start: usize,
    /// How many archives it is nested in (0 for the input itself).
    pub depth: u32,
}

/// Why something was not inspected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// The class of reason, for policy decisions and metrics.
    pub kind: RefusalKind,
    /// The part it concerns.
    pub path: String,
    /// A sentence for people ("zip entry expands more than 100x").
    pub reason: String,
}

/// The class of a [`Refusal`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RefusalKind {
    /// A decompression bomb: expansion ratio, total expansion or overlapping zip entries.
    Bomb,
    /// Archives nested deeper than `Limits::max_depth`.
    TooDeep,
    /// More archive entries than `Limits::max_entries`.
    TooManyEntries,
    /// The input, a file inside it, or the text found is over its size limit.
    TooLarge,
    /// Encrypted content (a password-protected zip entry, an encrypted PDF).
    Encrypted,
    /// Truncated or malformed content.
    Corrupt,
    /// A compression method this gateway does not open (bzip2 inside zip, ...).
    Unsupported,
}

impl RefusalKind {
    /// A stable lower-case name for events and logs.
    pub fn as_str(self) -> &'static str {
        match self {
            RefusalKind::Bomb => "bomb",
            RefusalKind::TooDeep => "too_deep",
            RefusalKind::TooManyEntries => "too_many_entries",
            RefusalKind::TooLarge => "too_large",
            RefusalKind::Encrypted => "encrypted",
            RefusalKind::Corrupt => "corrupt",
            RefusalKind::Unsupported => "unsupported",
        }
    }
}
