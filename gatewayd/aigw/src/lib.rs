//! `aigw`: Warden's AI gateway. One endpoint, OpenAI- and Anthropic-compatible
//! (`POST /v1/chat/completions`, `POST /v1/messages`, `POST /v1/responses`,
//! `POST /v1/embeddings`, `GET /v1/models`), in front of the AI
//! providers the organisation configured (`[aigw]`), reached with the keys it holds in the
//! key store (`keystore`), used by callers who present a virtual key (`vkeys`). Every call
//! runs the phases of [`pipeline`] (authenticate → parse → route → DLP → forward → account →
//! log, with budgets and rate limits between route and DLP: [`budget`]) and is accounted once ([`call_log`]): priced by one code path ([`cost`], from the
//! usage the provider reported and the shipped [`prices`] with the operator's overrides),
//! logged with its metrics ([`telemetry`]) and written to ClickHouse's `ai_requests`.
//!
//! Map: `server` (listener, endpoints, request ids), `tls` (TLS on the listener), `access`
//! (how a call arrived: direct, or in-process from the proxy or the agent with the identity
//! they established), `pipeline` (the phases), `endpoints` (responses, embeddings, the models
//! a key may use), `dialect`
//! (wire formats, usage rules), `translate` (OpenAI ⇄ Anthropic requests, answers, streams),
//! `sse` (incremental event parsing), `body` (answer bodies, the stream relay),
//! `upstream` (the provider client), `endpoint` (provider URLs and key headers), `routes`, `fallback` (routes' fallbacks, retries, breakers, explain), `vkeys`, `provider_keys`, `dlp_phase`,
//! `error` (errors in the caller's dialect), `call_log`, `cost`, `prices`, `telemetry`,
//! `chat` (the sanctioned chat page at `/chat`, its calls through the same pipeline).
//!
//! Never: send a provider key anywhere but to its provider (not to callers, logs, errors or
//! events); forward a caller's credentials upstream; send a prompt DLP refused.

pub mod access;
pub mod body;
pub mod body_share;
pub mod budget;
pub mod call_log;
pub mod chat;
pub mod conn_guard;
pub mod cost;
pub mod dialect;
pub mod dlp_phase;
mod documents;
pub mod endpoint;
pub mod endpoints;
pub mod error;
pub mod eventstream;
pub mod fallback;
mod files;
mod hangup;
pub mod hosts;
pub mod images;
pub mod intake;
pub mod knobs;
pub mod pipeline;
pub mod prices;
pub mod provider_keys;
pub mod response_dlp;
pub mod response_stream;
pub mod routes;
pub mod server;
pub mod sigv4;
pub mod sse;
pub mod telemetry;
pub mod tls;
pub mod translate;
pub mod unreachable;
pub mod upstream;
pub mod vkeys;

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

pub use server::serve;

use crate::call_log::Ledger;
use crate::dlp_phase::PromptScanner;
use crate::error::CallError;
use crate::provider_keys::ProviderKeys;
use crate::response_dlp::ResponseScanner;
use crate::routes::RouteTable;
use crate::upstream::UpstreamClient;
use crate::vkeys::LiveKeys;

/// The limits a call runs under (from `[aigw]`).
#[derive(Debug, Clone)]
pub struct Options {
    pub max_connections: usize,
    pub max_body_bytes: usize,
    pub max_response_bytes: usize,
    pub response_timeout: Duration,
    pub stream_idle_timeout: Duration,
    /// `aigw.allow_server_tools` ([`knobs`]).
    pub allow_server_tools: bool,
}

/// The AI gateway's state, shared by every call: built once at start.
pub struct AiGateway {
    pub options: Options,
    pub routes: RouteTable,
    pub keys: LiveKeys,
    provider_keys: Option<ProviderKeys>,
    pub client: UpstreamClient,
    pub dlp: Option<PromptScanner>,
    /// DLP on answers (`response_dlp`), when on.
    pub response_dlp: Option<Arc<ResponseScanner>>,
    /// Prices, metrics and the events path: where finished calls are accounted.
    pub ledger: Arc<Ledger>,
    /// Who may call through the proxy or the agent without a virtual key.
    pub identity: access::IdentityPolicy,
    /// Budgets and rate limits; `None` when none are configured.
    pub budgets: Option<Arc<budget::Governor>>,
    /// The sanctioned chat page (`[aigw.chat]`); `None` when off.
    pub chat: Option<chat::ChatPage>,
    /// Routes with fallbacks and their deployments' circuit breakers (`[[aigw.routes]]`).
    pub fallbacks: fallback::Fallbacks,
    /// Memory request bodies may hold while read and parsed (`aigw.max_body_memory`).
    pub body_budget: intake::BodyBudget,
    /// The names the listener answers to (`Host`), besides its own address.
    pub hosts: hosts::HostNames,
    /// Fetches images given by URL for providers that take only bytes (Gemini, Bedrock).
    pub images: images::ImageFetcher,
    /// The on-box model's per-start token (`kind = "local"` providers), set by the daemon.
    local_secret: Option<String>,
    /// Per-source connection cap and the silent-connection deadline of the port.
    pub connections: Arc<conn_guard::ConnGuard>,
}

impl AiGateway {
    /// Builds the gateway from the daemon's configuration. A provider key store that cannot
    /// be opened (missing or wrong master key), a key a provider names that is not in it, or
    /// a price that is not one fails the start, not the first call. `sink` is the events
    /// path (`None` when events are off).
    pub fn new(
        config: &config::Config,
        state_dir: &Path,
        sink: Option<events::EventSink>,
    ) -> Result<Self, String> {
        let aigw = &config.aigw;
        let provider_keys = if aigw.providers.iter().any(|p| p.key.is_some()) {
            let keys = ProviderKeys::open(state_dir, &config.keys.master_key)
                .map_err(|e| format!("aigw: the provider key store: {e}"))?;
            for p in &aigw.providers {
                if let Some(name) = &p.key {
                    keys.check(name)
                        .map_err(|e| format!("aigw.providers {:?}: {e}", p.name))?;
                }
            }
            Some(keys)
        } else {
            None
        };
        let dlp = match &aigw.dlp_profile {
            Some(profile) => Some(PromptScanner {
                engine: dlp::DlpEngine::shipped().map_err(|e| format!("DLP engine: {e}"))?,
                profile: profile.clone(),
                on_match: aigw.on_match,
            }),
            None => None,
        };
        let routes = RouteTable::new(aigw);
        let fallbacks = fallback::Fallbacks::new(aigw, &routes)?;
        Ok(Self {
            fallbacks,
            options: Options {
                max_connections: aigw.max_connections,
                max_body_bytes: aigw.max_body_bytes,
                max_response_bytes: aigw.max_response_bytes,
                response_timeout: aigw.response_timeout.0,
                stream_idle_timeout: aigw.stream_idle_timeout.0,
                allow_server_tools: aigw.allow_server_tools,
            },
            routes,
            keys: LiveKeys::open(state_dir)?,
            provider_keys,
            client: upstream::client(&config.upstream.extra_roots, aigw.connect_timeout.0)?,
            images: images::ImageFetcher::new(
                upstream::tls_config(&config.upstream.extra_roots)?,
                &config.upstream.connect_to,
            ),
            local_secret: None,
            dlp,
            budgets: budget::Governor::new(aigw)?,
            response_dlp: ResponseScanner::new(aigw)?.map(Arc::new),
            ledger: Arc::new(Ledger {
                prices: arc_swap::ArcSwap::from_pointee(prices::PriceTable::new(aigw)?),
                metrics: telemetry::AiMetrics::new(aigw),
                sink,
            }),
            identity: access::IdentityPolicy(aigw.identity.clone()),
            chat: chat::ChatPage::from_config(aigw),
            body_budget: intake::BodyBudget::new(aigw.max_body_memory),
            hosts: hosts::HostNames::new(aigw),
            connections: Arc::new(conn_guard::ConnGuard::new(
                aigw.max_connections_per_source,
                aigw.header_read_timeout.0,
            )),
        })
    }

    /// Applies what a reload (SIGHUP) of `config` may change while calls run: the price
    /// table (`[[aigw.prices]]` over the shipped one), from the next call that finishes.
    /// Virtual keys and the provider key store need no reload: they are re-read when their
    /// files change. Providers, models, routes, budgets, limits, DLP and identity keep what
    /// they were started with until a restart (budget counters live in memory). A table that
    /// cannot be built keeps the one in force and says why.
    pub fn reload(&self, config: &config::Config) -> Result<usize, String> {
        let table = prices::PriceTable::new(&config.aigw)
            .map_err(|e| format!("the AI gateway keeps its prices in force: {e}"))?;
        self.ledger.prices.store(Arc::new(table));
        Ok(config.aigw.prices.len())
    }

    /// Every metric family of the AI gateway: calls, tokens, cost, and budgets and limits.
    pub fn metric_families(&self) -> Vec<telemetry::Family> {
        let mut families = self.ledger.metrics.families();
        families.extend(self.connections.families());
        if let Some(governor) = &self.budgets {
            families.extend(governor.families());
        }
        if !self.fallbacks.plans.is_empty() {
            families.extend(self.fallbacks.families());
        }
        families
    }

    /// When each provider key was last used by a call since start (Unix ms), by name.
    pub fn provider_keys_last_used(&self) -> std::collections::HashMap<String, u64> {
        self.provider_keys
            .as_ref()
            .map(ProviderKeys::last_used)
            .unwrap_or_default()
    }

    /// Route explain ([`fallback::explain`]) for the virtual key `key` (its id or name;
    /// `None`: a caller allowed every model).
    pub fn explain(&self, model: &str, key: Option<&str>) -> Result<serde_json::Value, String> {
        let allowed = match key {
            None => Vec::new(),
            Some(key) => {
                let keys = self.keys.current().list();
                let found = keys.into_iter().find(|k| k.id == key || k.name == key);
                let found = found.ok_or_else(|| {
                    "no virtual key has that id or name (`gatewayd aigw keys list` shows them)"
                        .to_string()
                })?;
                found.models
            }
        };
        let mut out = fallback::explain::explain(&self.routes, &self.fallbacks, model, &allowed);
        if let Some(key) = key {
            out["key"] = serde_json::json!(key);
        }
        Ok(out)
    }

    /// Gives `local` providers the on-box model's per-start token.
    pub fn set_local_secret(&mut self, secret: &str) {
        self.local_secret = Some(secret.to_owned());
    }

    /// The key a call to `provider` carries: its key store entry, or for the on-box model
    /// its per-start token; `None` for a server that needs none.
    pub(crate) fn provider_secret(
        &self,
        provider: &routes::Provider,
    ) -> Result<Option<keystore::Secret>, CallError> {
        match (&provider.key, provider.kind) {
            (Some(name), _) => Ok(Some(self.provider_keys()?.secret(name)?)),
            (None, config::ProviderKind::Local) => self
                .local_secret
                .clone()
                .map(keystore::Secret::minted)
                .map(Some)
                .ok_or_else(|| CallError::Internal("the on-box model is not running".into())),
            (None, _) => Ok(None),
        }
    }

    fn provider_keys(&self) -> Result<&ProviderKeys, CallError> {
        self.provider_keys
            .as_ref()
            .ok_or_else(|| CallError::Internal("no provider key store is open".into()))
    }
}
