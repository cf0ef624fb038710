//! `[inference]`: the on-box model the AI gateway's `local` provider serves (a Llama-family
//! GGUF file, loaded at start; a file that cannot be loaded stops the start).

use std::path::PathBuf;

use serde::Deserialize;

/// The on-box model. Off unless `model` is set.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, default)]
pub struct InferenceConfig {
    /// The GGUF file (relative paths are taken from the config file's directory).
    pub model: Option<PathBuf>,
    /// The name the local server answers with (the `model` field of its answers).
    pub name: String,
    /// Threads one completion uses; 0 = every core.
    pub threads: usize,
    /// Calls that may wait while one runs; more are answered 503 with `retry-after`.
    pub max_queue: usize,
    /// Longest completion, in tokens (a caller's larger `max_tokens` is lowered to it).
    pub max_tokens: usize,
    /// Longest prompt plus completion, in tokens (at most the model's training context).
    pub context: usize,
}

impl Default for InferenceConfig {
    fn default() -> Self {
        Self {
            model: None,
            name: "local".into(),
            threads: 0,
            max_queue: 8,
            max_tokens: 512,
            context: 2048,
        }
    }
}

impl InferenceConfig {
    /// What a loadable configuration needs beyond its types.
    pub fn validate(&self) -> Result<(), (&'static str, String)> {
        if self.max_tokens == 0 || self.max_tokens > 32_768 {
            return Err(("max_tokens", "inference.max_tokens must be 1-32768".into()));
        }
        if self.context < 64 || self.context > 131_072 {
            return Err(("context", "inference.context must be 64-131072".into()));
        }
        if self.max_queue > 4096 || self.threads > 1024 {
            return Err((
                "max_queue",
                "inference.max_queue must be at most 4096 and inference.threads at most 1024"
                    .into(),
            ));
        }
        Ok(())
    }
}
