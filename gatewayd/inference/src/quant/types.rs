//! The ggml tensor element types this engine knows, with their block geometry.
//!
//! A quantised tensor is a run of fixed-size blocks, each holding `block_len` values in
//! `block_bytes` bytes; every size computed from a file goes through the checked helpers here.

use crate::{Error, Result};

/// Elements per super-block of the K-quants.
pub const QK_K: usize = 256;

/// A ggml element type (the numbers are the file format's).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GgmlType {
    F32,
    F16,
    Q4_0,
    Q4_1,
    Q8_0,
    Q4K,
    Q5K,
    Q6K,
    BF16,
}

impl GgmlType {
    /// The type for a file's type number; types this engine does not implement are refused
    /// with their number and, where known, their name.
    pub fn from_id(id: u32) -> Result<Self> {
        Ok(match id {
            0 => Self::F32,
            1 => Self::F16,
            2 => Self::Q4_0,
            3 => Self::Q4_1,
            8 => Self::Q8_0,
            12 => Self::Q4K,
            13 => Self::Q5K,
            14 => Self::Q6K,
            30 => Self::BF16,
            other => {
                let name = match other {
                    6 => "Q5_0",
                    7 => "Q5_1",
                    9 => "Q8_1",
                    10 => "Q2_K",
                    11 => "Q3_K",
                    15 => "Q8_K",
                    16..=23 => "an IQ quantisation",
                    24 => "I8",
                    25 => "I16",
                    26 => "I32",
                    27 => "I64",
                    28 => "F64",
                    _ => "unknown",
                };
                return Err(Error::Unsupported(format!(
                    "tensor type {other} ({name}) is not implemented"
                )));
            }
        })
    }

    /// The file format's number for this type.
    pub fn id(self) -> u32 {
        match self {
            Self::F32 => 0,
            Self::F16 => 1,
            Self::Q4_0 => 2,
            Self::Q4_1 => 3,
            Self::Q8_0 => 8,
            Self::Q4K => 12,
            Self::Q5K => 13,
            Self::Q6K => 14,
            Self::BF16 => 30,
        }
    }

    /// Values per block.
    pub fn block_len(self) -> usize {
        match self {
            Self::F32 | Self::F16 | Self::BF16 => 1,
            Self::Q4_0 | Self::Q4_1 | Self::Q8_0 => 32,
            Self::Q4K | Self::Q5K | Self::Q6K => QK_K,
        }
    }

    /// Bytes per block.
    pub fn block_bytes(self) -> usize {
        match self {
            Self::F32 => 4,
            Self::F16 | Self::BF16 => 2,
            Self::Q4_0 => 18,
            Self::Q4_1 => 20,
            Self::Q8_0 => 34,
            Self::Q4K => 144,
            Self::Q5K => 176,
            Self::Q6K => 210,
        }
    }

    /// Bytes of a row of `n` values, refused when `n` is not a whole number of blocks.
    pub fn row_bytes(self, n: u64) -> Result<u64> {
        let len = self.block_len() as u64;
        if !n.is_multiple_of(len) {
            return Err(Error::Unsupported(format!(
                "a row of {n} {self:?} values is not a whole number of {len}-value blocks"
            )));
        }
        (n / len)
            .checked_mul(self.block_bytes() as u64)
            .ok_or_else(|| Error::Invalid(format!("row of {n} values overflows")))
    }
}
