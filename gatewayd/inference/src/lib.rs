//! The on-box model engine: loads a Llama-family GGUF file and runs it on the CPU.
//!
//! Layers, bottom up: [`gguf`] reads the file format (every count and length checked against
//! the bytes that are there, so a truncated or hostile file is a clear error in bounded
//! memory, never a panic), [`quant`] turns the block formats into numbers and computes
//! quantised dot products, [`model`] is the decoder (RMSNorm, RoPE, grouped-query attention
//! with a KV cache, SwiGLU) whose shape comes from the file's metadata, [`sample`] picks the
//! next token, [`tokenizer`] is the GPT-2 style byte-level BPE stored in the file, [`chat`]
//! renders the file's chat template, and [`generate`] runs a completion with stop strings and
//! streaming.
//!
//! This crate must never panic on model or prompt input, never fetch anything from a network,
//! and contains no `unsafe` code (a CUDA backend, when it comes, gets its own module with an
//! explicit, documented exception).
#![forbid(unsafe_code)]

pub mod chat;
pub mod error;
pub mod generate;
pub mod gguf;
pub mod model;
pub mod quant;
pub mod sample;
pub mod tokenizer;

pub use error::{Error, Result};
