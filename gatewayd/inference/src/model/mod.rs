//! The Llama-family decoder on the CPU: hyper-parameters from GGUF metadata, weights as
//! views into the file's bytes, and a forward pass one token at a time over a KV cache.
//!
//! Loading refuses, with the reason, any architecture or option this code does not compute
//! exactly (YaRN and LongRoPE scaling, per-layer head counts, missing tensors, shapes that
//! disagree with the metadata), so a model either runs as llama.cpp would run it or not at all.

mod config;
mod forward;
mod ops;
mod weights;

pub use config::{Arch, Config, RopeScaling};
pub use forward::{Model, Session};
pub use weights::Matrix;
