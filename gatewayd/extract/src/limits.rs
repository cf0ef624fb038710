//! The caps every extraction runs under. They bound memory and time whatever the input claims:
//! no size read from a header is ever trusted for an allocation, only these numbers.

/// Bytes a decoder may produce before its expansion ratio is checked: small, very repetitive
/// files (a column of zeros) are legitimate, so the ratio only bites past this.
pub const RATIO_GRACE_BYTES: u64 = 1 << 20;

/// The deepest nesting any caller can ask for: recursion stays far from the stack's end.
pub const DEPTH_CEILING: u32 = 16;

/// Caps for one call of [`crate::extract`] or [`crate::decode_content`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest input accepted at all (the body or upload as received). Default 10 MiB.
    pub max_input_bytes: u64,
    /// Most text returned in total (and most bytes `decode_content` returns). Default 20 MiB.
    pub max_output_bytes: u64,
    /// Most archives nested inside one another (zip in tar.gz counts 3). Default 3.
    pub max_depth: u32,
    /// Most bytes a compressed stream may expand to per byte it consumed, and the whole
    /// extraction per byte of input. Default 100.
    pub max_ratio: u64,
    /// Most archive entries across the whole extraction. Default 10,000.
    pub max_entries: u64,
    /// Largest single file read into memory (an archive entry, a document part). Default 20 MiB.
    pub max_entry_bytes: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_input_bytes: 10 << 20,
            max_output_bytes: 20 << 20,
            max_depth: 3,
            max_ratio: 100,
            max_entries: 10_000,
            max_entry_bytes: 20 << 20,
        }
    }
}

impl Limits {
    /// Total bytes all decoders together may produce for an input of `input_len` bytes: the
    /// ratio applied to the whole input, never less than the grace a single stream gets.
    pub fn expansion_budget(&self, input_len: u64) -> u64 {
        input_len
            .saturating_mul(self.max_ratio.max(1))
            .max(RATIO_GRACE_BYTES)
    }

    /// The nesting limit actually used: the configured one, clamped to [`DEPTH_CEILING`].
    pub fn depth(&self) -> u32 {
        self.max_depth.min(DEPTH_CEILING)
    }
}
