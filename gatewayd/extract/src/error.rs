//! Errors of [`crate::decode_content`]. Each says whose fault it was: the client sent something
//! we will not expand (bomb, too large) or cannot read (unknown coding, corrupt stream). None is
//! worth retrying with the same bytes.

use thiserror::Error;

/// Why a body could not be decoded.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum ExtractError {
    /// The input is larger than `Limits::max_input_bytes`.
    #[error("input of {len} bytes is over the {limit}-byte limit")]
    InputTooLarge { len: u64, limit: u64 },
    /// A Content-Encoding this gateway does not decode (`compress`, a typo, ...).
    #[error("unsupported content encoding {0:?}")]
    UnknownEncoding(String),
    /// The stream expanded past the ratio or budget limits: a decompression bomb. Decoding
    /// stopped as soon as the limit was crossed.
    #[error("decompression bomb refused in {encoding}: {reason}")]
    Bomb { encoding: String, reason: String },
    /// The decoded body is larger than `Limits::max_output_bytes`, at an ordinary ratio.
    #[error("decoded body is over the {limit}-byte limit")]
    OutputTooLarge { limit: u64 },
    /// The stream is truncated or not valid for its coding.
    #[error("corrupt {encoding} stream: {detail}")]
    Corrupt { encoding: String, detail: String },
}
