//! `extract`: bounded extraction of the text inside request bodies and uploaded files, for
//! Warden's DLP detectors.
//!
//! Two entry points, both synchronous, pure (no I/O, no network) and safe on hostile input —
//! the daemon calls them from `spawn_blocking`:
//! - [`decode_content`] undoes an HTTP `Content-Encoding` (gzip, deflate, br, zstd, chains).
//! - [`extract`] tells a file's type from its bytes (never its name) and returns its text:
//!   plain text, CSV, JSON, code, docx, xlsx, pptx, OpenDocument, PDF, and zip / tar / gzip /
//!   zstd archives of them, nested; other binaries are reported by type only.
//!
//! Every call runs under [`Limits`]: input size, total text, nesting depth, expansion ratio,
//! entry count and per-file size. Decompression is streamed through meters that stop the
//! moment a limit is crossed, so a bomb costs at most the limits, never its expanded size;
//! no size an archive declares is ever used to allocate.
//!
//! This crate must never panic on any input, never read or write files, and never log content.

mod codec;
mod decode;
mod error;
mod extraction;
mod kind;
mod limits;
mod meter;
mod office;
mod pdf;
mod tar;
mod text;
mod walk;
mod zip;
mod zstd;

use std::panic::{catch_unwind, AssertUnwindSafe};

pub use decode::decode_content;
pub use error::ExtractError;
pub use extraction::{Extraction, Part, Refusal, RefusalKind};
pub use kind::FileKind;
pub use limits::{Limits, DEPTH_CEILING, RATIO_GRACE_BYTES};

/// The kind of `bytes` told from its first bytes (magic numbers), as [`extract`] tells it:
/// `Text` when it has no magic and reads as text. For callers that must decide what a body
/// is (a file or an API payload) whatever its declared type says.
pub fn sniff(bytes: &[u8]) -> FileKind {
    kind::sniff(&bytes[..bytes.len().min(kind::SNIFF_BYTES)])
}

/// Extracts the text of `bytes`, an uploaded file or a request body.
///
/// `name_hint` (a file name) names the top part and, with `content_type`, only breaks ties
/// between text subtypes: the type is always told from the content. The result holds the text
/// found, every file seen, and a [`Refusal`] when something was not inspected (a bomb, too deep,
/// too many entries, too large, encrypted, corrupt). After a refusal that crossed a limit the
/// walk stops at once; the text found before it is kept.
pub fn extract(
    name_hint: Option<&str>,
    content_type: Option<&str>,
    bytes: &[u8],
    limits: &Limits,
) -> Extraction {
    let path = name_hint.filter(|n| !n.is_empty()).unwrap_or("upload");
    // The walk is written not to panic; this is a second wall around third-party decoders, so
    // that a bug there becomes a refusal (policy decides) instead of a lost request.
    let walked = catch_unwind(AssertUnwindSafe(|| {
        walk_input(path, content_type, bytes, limits)
    }));
    walked.unwrap_or_else(|_| Extraction {
        refused: Some(Refusal {
            kind: RefusalKind::Corrupt,
            path: path.to_string(),
            reason: "internal error while reading the file".to_string(),
        }),
        ..Extraction::default()
    })
}

fn walk_input(path: &str, content_type: Option<&str>, bytes: &[u8], limits: &Limits) -> Extraction {
    let len = bytes.len() as u64;
    let mut walker = walk::Walker::new(limits, len, content_type);
    if len > limits.max_input_bytes {
        walker.add_part(path, FileKind::Binary, len, 0);
        let max = limits.max_input_bytes;
        let _stopped = walker.stop(
            RefusalKind::TooLarge,
            path,
            format!("input of {len} bytes is over the {max}-byte limit"),
        );
        return walker.finish();
    }
    // A stop is already recorded in the extraction's refusal.
    let _flow = walker.visit(path, 0, Box::new(bytes), Some(len));
    walker.finish()
}
