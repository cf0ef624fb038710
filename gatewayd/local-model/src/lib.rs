//! The on-box model (crate `inference`) served over OpenAI's chat completions API on a loopback
//! port, so the AI gateway's `local` provider reaches it like any OpenAI-compatible server and
//! everything the gateway does — virtual keys, budgets, DLP, routes, logging, the Anthropic
//! dialect — applies to it unchanged.
//!
//! Only the AI gateway may call it: every request must carry the per-start secret
//! ([`LocalModel::secret`]) as its bearer token. One completion runs at a time (it uses every
//! configured thread); up to `max_queue` more wait, and past that a call is answered 503 with
//! `retry-after` instead of queueing without bound. A caller that goes away stops its
//! completion at the next token.
//!
//! Never: listen beyond loopback, log prompts or completions, or panic on a request.

pub mod request;
mod response;
mod server;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use inference::chat::ChatTemplate;
use inference::gguf::Gguf;
use inference::model::Model;
use inference::tokenizer::Tokenizer;
use tokio::sync::Semaphore;

pub use server::serve;

/// How the model is loaded and served.
#[derive(Debug, Clone)]
pub struct LocalModelOptions {
    /// The GGUF file.
    pub path: PathBuf,
    /// The name callers use (`local/NAME`) and the answers carry.
    pub name: String,
    /// Threads one completion uses.
    pub threads: usize,
    /// Calls that may wait while one runs.
    pub max_queue: usize,
    /// Longest completion, in tokens.
    pub max_tokens: usize,
    /// Longest prompt plus completion, in tokens (at most the model's training context).
    pub context: usize,
}

/// Why the model could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("{path}: {source}")]
    Model {
        path: String,
        source: inference::Error,
    },
    #[error("{path}: the model has no chat template (tokenizer.chat_template)")]
    NoTemplate { path: String },
}

/// A loaded model ready to serve.
pub struct LocalModel {
    pub(crate) options: LocalModelOptions,
    pub(crate) model: Model,
    pub(crate) tokenizer: Tokenizer,
    pub(crate) template: ChatTemplate,
    /// One permit per call allowed in (running + waiting).
    pub(crate) admitted: Arc<Semaphore>,
    /// The one running completion.
    pub(crate) running: Arc<Semaphore>,
    secret: String,
}

impl LocalModel {
    /// Loads the file (every malformed or unsupported part is an error naming it).
    pub fn load(options: LocalModelOptions) -> Result<Self, LoadError> {
        let path = options.path.display().to_string();
        let model_error = |source| LoadError::Model {
            path: path.clone(),
            source,
        };
        let gguf = Gguf::open(Path::new(&options.path)).map_err(model_error)?;
        let model = Model::load(gguf, options.threads.max(1)).map_err(model_error)?;
        let tokenizer = Tokenizer::from_gguf(model.gguf()).map_err(model_error)?;
        let template = ChatTemplate::from_gguf(model.gguf(), &tokenizer)
            .map_err(model_error)?
            .ok_or_else(|| LoadError::NoTemplate { path: path.clone() })?;
        let context = options.context.min(model.config.n_ctx_train).max(16);
        Ok(Self {
            options: LocalModelOptions {
                context,
                ..options.clone()
            },
            model,
            tokenizer,
            template,
            admitted: Arc::new(Semaphore::new(options.max_queue.saturating_add(1))),
            running: Arc::new(Semaphore::new(1)),
            secret: state_files::new_secret("wlm_"),
        })
    }

    /// The bearer token the AI gateway sends; nothing else may call the model.
    pub fn secret(&self) -> &str {
        &self.secret
    }

    /// The name callers use.
    pub fn name(&self) -> &str {
        &self.options.name
    }
}
