//! The on-box model (`[inference]`), when a `kind = "local"` AI gateway provider uses it:
//! loaded before serving starts (a file that cannot be loaded stops the start, saying why),
//! served on a loopback port of its own, and handed to the AI gateway as that provider's base
//! URL and per-start token.

use std::sync::Arc;

use anyhow::Context;
use config::{Config, ProviderKind};
use local_model::{LocalModel, LocalModelOptions};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// A loaded model and the loopback listener it will serve on.
pub struct LocalModelSetup {
    pub model: Arc<LocalModel>,
    listener: TcpListener,
    base_url: String,
}

/// Loads `[inference]` when a local provider uses it.
pub async fn load(config: &Config) -> anyhow::Result<Option<LocalModelSetup>> {
    let Some(path) = config.inference.model.clone() else {
        return Ok(None);
    };
    if !config
        .aigw
        .providers
        .iter()
        .any(|p| p.kind == ProviderKind::Local)
    {
        tracing::warn!(model = %path.display(), "inference.model is set but no [[aigw.providers]] with kind = \"local\" uses it: not loaded");
        return Ok(None);
    }
    let inference = &config.inference;
    let threads = match inference.threads {
        0 => std::thread::available_parallelism().map_or(1, usize::from),
        n => n,
    };
    let options = LocalModelOptions {
        path: path.clone(),
        name: inference.name.clone(),
        threads,
        max_queue: inference.max_queue,
        max_tokens: inference.max_tokens,
        context: inference.context,
    };
    let started = std::time::Instant::now();
    let model = tokio::task::spawn_blocking(move || LocalModel::load(options))
        .await
        .context("loading the on-box model")?
        .map_err(|e| anyhow::anyhow!("inference.model: {e}"))?;
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .context("the on-box model's loopback listener")?;
    let addr = listener.local_addr()?;
    tracing::info!(model = %path.display(), name = %inference.name, threads, load_ms = started.elapsed().as_millis() as u64, "local model listening on {addr}");
    Ok(Some(LocalModelSetup {
        model: Arc::new(model),
        listener,
        base_url: format!("http://{addr}/v1"),
    }))
}

impl LocalModelSetup {
    /// `config` with every local provider pointed at this model.
    pub fn configured(&self, config: &Config) -> Config {
        let mut config = config.clone();
        for p in &mut config.aigw.providers {
            if p.kind == ProviderKind::Local {
                p.base_url = self.base_url.clone();
            }
        }
        config
    }

    /// Serves until `shutdown`, on `tasks`.
    pub fn spawn(self, tasks: &TaskTracker, shutdown: CancellationToken) {
        tasks.spawn(local_model::serve(
            self.listener,
            self.model,
            tasks.clone(),
            shutdown,
        ));
    }
}
