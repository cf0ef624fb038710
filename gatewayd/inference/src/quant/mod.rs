//! Tensor element formats: block geometry, dequantisation and quantised dot products.
//!
//! Everything here is safe, allocation-free code over byte slices whose lengths the callers
//! have checked (the GGUF reader checks every tensor's size); the inner loops are written
//! over fixed-size arrays so the compiler vectorises them (the workspace builds for AVX2).

mod dequant;
mod dot;
pub mod half;
mod types;

pub use dequant::{dequantize, dequantize_row};
pub use dot::{dot_f32, dot_row, quantize_q8_0, Q8_0Vec};
pub use types::{GgmlType, QK_K};
