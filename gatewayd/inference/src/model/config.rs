//! Hyper-parameters from the GGUF metadata, and the refusal of what is not supported.

use crate::gguf::{Gguf, Value};
use crate::{Error, Result};

/// Decoder families computed here.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Arch {
    /// Llama 1/2/3, SmolLM2, Mistral 7B (stored as `llama`): RoPE on adjacent pairs.
    Llama,
    /// Qwen2 / Qwen2.5: Q/K/V biases, RoPE on the two halves of each head ("NeoX" style).
    Qwen2,
}

/// How RoPE frequencies are scaled for long contexts.
#[derive(Debug, Clone, PartialEq)]
pub enum RopeScaling {
    None,
    /// Positions multiplied by 1/factor.
    Linear {
        factor: f32,
    },
}

/// The decoder's shape and constants.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    pub arch: Arch,
    pub n_embd: usize,
    pub n_layer: usize,
    pub n_ff: usize,
    pub n_head: usize,
    pub n_head_kv: usize,
    pub head_dim: usize,
    pub n_ctx_train: usize,
    pub rms_eps: f32,
    pub rope_base: f32,
    /// Dimensions of each head that RoPE rotates (the first ones).
    pub rope_dims: usize,
    pub rope_scaling: RopeScaling,
}

/// Sizes beyond these are refused as implausible before anything is allocated for them.
const MAX_DIM: u64 = 1 << 20;
const MAX_LAYERS: u64 = 1024;

impl Config {
    /// Reads and checks the hyper-parameters.
    pub fn from_gguf(g: &Gguf) -> Result<Self> {
        let arch_name = g
            .get("general.architecture")
            .and_then(Value::as_str)
            .ok_or_else(|| Error::Missing("general.architecture".into()))?;
        let arch = match arch_name {
            // Mistral 7B and SmolLM2 files say "llama" too.
            "llama" => Arch::Llama,
            "qwen2" => Arch::Qwen2,
            other => {
                return Err(Error::Unsupported(format!(
                    "architecture {other:?} is not a Llama-family decoder this engine runs (llama, qwen2)"
                )))
            }
        };
        let p = arch_name;
        let uint = |key: &str| -> Result<Option<u64>> {
            let full = format!("{p}.{key}");
            match g.get(&full) {
                None => Ok(None),
                Some(Value::Array(_)) => Err(Error::Unsupported(format!(
                    "{full} varies per layer; only one value for all layers is supported"
                ))),
                Some(v) => match v.as_u64() {
                    Some(n) if n <= MAX_DIM => Ok(Some(n)),
                    _ => Err(Error::Unsupported(format!(
                        "{full} = {v:?} is out of range"
                    ))),
                },
            }
        };
        let need = |key: &str| -> Result<u64> {
            uint(key)?.ok_or_else(|| Error::Missing(format!("metadata {p}.{key}")))
        };
        let float = |key: &str| -> Option<f32> {
            g.get(&format!("{p}.{key}"))
                .and_then(Value::as_f64)
                .map(|v| v as f32)
        };

        let n_embd = need("embedding_length")?;
        let n_layer = need("block_count")?;
        if n_layer == 0 || n_layer > MAX_LAYERS {
            return Err(Error::Unsupported(format!("{n_layer} layers")));
        }
        let n_head = need("attention.head_count")?;
        let n_head_kv = uint("attention.head_count_kv")?.unwrap_or(n_head);
        if n_head == 0 || n_head_kv == 0 || n_head % n_head_kv != 0 {
            return Err(Error::Unsupported(format!(
                "{n_head} query heads cannot share {n_head_kv} key/value heads evenly"
            )));
        }
        let head_dim = match uint("attention.key_length")? {
            Some(k) => k,
            None if n_embd % n_head == 0 => n_embd / n_head,
            None => {
                return Err(Error::Unsupported(format!(
                    "embedding {n_embd} not divisible by {n_head} heads"
                )))
            }
        };
        if let Some(v) = uint("attention.value_length")? {
            if v != head_dim {
                return Err(Error::Unsupported(format!(
                    "value length {v} differs from key length {head_dim}"
                )));
            }
        }
        let rope_dims = uint("rope.dimension_count")?.unwrap_or(head_dim);
        if rope_dims > head_dim || rope_dims % 2 != 0 || head_dim % 2 != 0 {
            return Err(Error::Unsupported(format!(
                "RoPE over {rope_dims} of {head_dim} head dimensions"
            )));
        }
        let rms_eps = float("attention.layer_norm_rms_epsilon").ok_or_else(|| {
            Error::Missing(format!("metadata {p}.attention.layer_norm_rms_epsilon"))
        })?;
        let rope_scaling = match g.get(&format!("{p}.rope.scaling.type")).and_then(Value::as_str) {
            None | Some("none") => match float("rope.scale_linear") {
                Some(f) if f != 1.0 => RopeScaling::Linear { factor: f },
                _ => RopeScaling::None,
            },
            Some("linear") => match float("rope.scaling.factor") {
                Some(f) if f > 0.0 && f.is_finite() => RopeScaling::Linear { factor: f },
                Some(0.0) => RopeScaling::None,
                other => return Err(Error::Unsupported(format!("linear RoPE scaling factor {other:?}"))),
            },
            Some(other) => {
                return Err(Error::Unsupported(format!("RoPE scaling {other:?} (none and linear are supported, with Llama 3 frequency factors)")))
            }
        };
        Ok(Self {
            arch,
            n_embd: n_embd as usize,
            n_layer: n_layer as usize,
            n_ff: need("feed_forward_length")? as usize,
            n_head: n_head as usize,
            n_head_kv: n_head_kv as usize,
            head_dim: head_dim as usize,
            n_ctx_train: need("context_length")? as usize,
            rms_eps,
            rope_base: float("rope.freq_base").unwrap_or(10_000.0),
            rope_dims: rope_dims as usize,
            rope_scaling,
        })
    }
}
