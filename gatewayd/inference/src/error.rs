//! Errors of the engine: every way a model file, a prompt or a request can be refused.
//!
//! Messages name what was wrong and where (offset, key, tensor) so an operator can tell a
//! truncated download from an unsupported model; they never echo prompt text.

/// Anything the engine refuses.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The file is not well-formed GGUF (truncated, bad magic, inconsistent sizes).
    #[error("malformed GGUF at byte {offset}: {reason}")]
    Malformed { offset: u64, reason: String },
    /// Well-formed, but uses something this engine does not implement.
    #[error("unsupported model: {0}")]
    Unsupported(String),
    /// A metadata key or tensor the model needs is absent or of the wrong kind.
    #[error("model is missing {0}")]
    Missing(String),
    /// A caller passed something out of range (a token id past the vocabulary, a full cache).
    #[error("invalid input: {0}")]
    Invalid(String),
    /// The model's chat template does not compile or failed while rendering (bounded: a
    /// template that runs too long or renders too much is refused).
    #[error("chat template: {0}")]
    Template(String),
    /// Reading the file failed.
    #[error("reading the model file: {0}")]
    Io(#[from] std::io::Error),
}

/// Result with the engine's [`Error`].
pub type Result<T> = std::result::Result<T, Error>;
