//! The `[aigw]` section: the AI gateway's listener, the providers it calls (their keys named
//! in the key store, never written here), the models callers may ask for, DLP on prompts,
//! and price overrides (`[[aigw.prices]]`) over the table shipped with the binary. Off unless
//! `listen` is set.
//!
//! What this module must never do: hold or accept a provider key's value (only its name in
//! the key store), or let a non-loopback listener through without an explicit opt-in.

use std::net::SocketAddr;

use serde::Deserialize;

pub use crate::aigw_access::{AigwIdentity, AigwTls};
use crate::ConfigDuration;

/// The AI gateway (`gatewayd/aigw`): an OpenAI- and Anthropic-compatible endpoint.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct AigwConfig {
    /// Where the AI gateway listens (plain HTTP, or TLS with `[aigw.tls]`); off when unset.
    pub listen: Option<SocketAddr>,
    /// A non-loopback `listen` without TLS must be asked for explicitly: virtual keys travel
    /// in clear.
    pub allow_remote: bool,
    /// TLS on `listen` (`aigw_access`).
    pub tls: Option<AigwTls>,
    /// The name (e.g. `ai.warden.internal`) under which the proxy and the agent tunnel serve
    /// the AI gateway in-process: never resolved, never dialled.
    pub host: Option<String>,
    /// More names the AI gateway's port answers to (`Host`), besides `host`, IP addresses and
    /// `localhost`: a name that points at it, e.g. `ai-gateway.corp.example`.
    pub allowed_hosts: Vec<String>,
    /// Who may call through `host` with only their proxy or device identity.
    pub identity: AigwIdentity,
    /// The sanctioned chat page at `https://<host>/chat` (`aigw_chat`).
    pub chat: crate::AigwChat,
    /// Connections open at once on the AI gateway's port; one more is answered 503.
    pub max_connections: usize,
    /// Largest request body a caller may send.
    pub max_body_bytes: usize,
    /// Memory that request bodies being read and parsed may hold at once, gateway-wide
    /// (their bytes and the JSON tree they parse into); a body that finds none within 2 s is
    /// answered 503.
    pub max_body_memory: usize,
    /// Largest non-streamed answer read from a provider.
    pub max_response_bytes: usize,
    /// Time to reach a provider (TCP and TLS).
    pub connect_timeout: ConfigDuration,
    /// Time for a provider to start its answer.
    pub response_timeout: ConfigDuration,
    /// Longest silence inside a streamed answer before it is cut.
    pub stream_idle_timeout: ConfigDuration,
    /// The DLP profile prompts are scanned with (the profiles of `policies/dlp/profiles.toml`: default, financial, national_ids, credentials, source_code); unset: no scan.
    pub dlp_profile: Option<String>,
    /// What a prompt that matches `dlp_profile` gets.
    pub on_match: AigwOnMatch,
    /// DLP on answers (whole and streamed), with `response_dlp_profile` or else `dlp_profile`.
    pub response_dlp: AigwResponseDlp,
    /// The profile answers are scanned with; unset: `dlp_profile`.
    pub response_dlp_profile: Option<String>,
    pub providers: Vec<AigwProvider>,
    pub models: Vec<AigwModel>,
    /// Prices that replace (or add to) the shipped table for one provider's model.
    pub prices: Vec<AigwPrice>,
    /// Spending budgets (`[[aigw.budgets]]`, crate::aigw_budgets).
    pub budgets: Vec<crate::AigwBudget>,
    /// Rate limits and concurrency caps (`[[aigw.limits]]`).
    pub limits: Vec<crate::AigwLimit>,
    /// The output cap assumed (and sent) for a call that sets none while a budget or token
    /// limit applies to it, so that its reservation bounds what it can cost.
    pub default_max_output_tokens: u64,
    /// Model names served by several deployments, with fallbacks (`[[aigw.routes]]`).
    pub routes: Vec<crate::AigwRoute>,
    /// The circuit breaker of routes' deployments (`[aigw.breaker]`).
    pub breaker: crate::AigwBreaker,
    /// Counters shared by every replica (`[aigw.shared]`, Redis); unset: in this process.
    pub shared: crate::AigwShared,
    /// Tokens reserved for each document given by URL (a PDF is billed per page, up to
    /// about 300k tokens for 100 pages) while a budget or token limit applies.
    pub url_document_reserve_tokens: u64,
    /// Let callers switch on provider-side tools (web search/fetch, MCP servers, file
    /// search, code execution, computer use): paid per use, not counted by budgets, and
    /// they make the provider fetch URLs the caller chooses. Off: refused with 400.
    pub allow_server_tools: bool,
    /// Connections open at once from one address on the AI gateway's port (its share of
    /// `max_connections`); one more is answered 503.
    pub max_connections_per_source: usize,
    /// How long a connection may take to send its request's headers (counted from when it
    /// opens); a silent one is closed.
    pub header_read_timeout: ConfigDuration,
}

impl Default for AigwConfig {
    fn default() -> Self {
        Self {
            listen: None,
            allow_remote: false,
            tls: None,
            host: None,
            allowed_hosts: Vec::new(),
            identity: AigwIdentity::default(),
            chat: crate::AigwChat::default(),
            max_connections: 4096,
            max_body_bytes: 8 * 1024 * 1024,
            max_body_memory: 256 * 1024 * 1024,
            max_response_bytes: 16 * 1024 * 1024,
            connect_timeout: ConfigDuration::secs(10),
            response_timeout: ConfigDuration::secs(300),
            stream_idle_timeout: ConfigDuration::secs(300),
            dlp_profile: None,
            on_match: AigwOnMatch::Block,
            response_dlp: AigwResponseDlp::Off,
            response_dlp_profile: None,
            providers: Vec::new(),
            models: Vec::new(),
            prices: Vec::new(),
            budgets: Vec::new(),
            limits: Vec::new(),
            default_max_output_tokens: 4096,
            routes: Vec::new(),
            breaker: crate::AigwBreaker::default(),
            shared: crate::AigwShared::default(),
            url_document_reserve_tokens: 300_000,
            allow_server_tools: false,
            max_connections_per_source: 32,
            header_read_timeout: ConfigDuration::secs(30),
        }
    }
}

/// What happens to a prompt DLP matched.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum AigwOnMatch {
    /// Refuse the call, naming the detectors (never the data).
    Block,
    /// Mask what was found and send the rest.
    Redact,
}

/// What DLP does to answers on their way back to the caller.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum AigwResponseDlp {
    /// Answers are not scanned.
    Off,
    /// Scanned and recorded (`dlp_findings`, the call's row); passed unchanged.
    Monitor,
    /// What was found is masked; the rest of the answer goes on.
    Redact,
    /// The answer is refused (a stream ends with an error event), naming the detectors.
    Block,
}

/// The wire format a provider speaks.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum ProviderKind {
    /// api.openai.com (or a base URL speaking exactly its API).
    Openai,
    /// Any server with OpenAI's chat completions API: vLLM, Ollama, Groq, Mistral ...
    OpenaiCompatible,
    /// api.anthropic.com's Messages API.
    Anthropic,
    /// Google's Gemini API (`generativelanguage.googleapis.com/v1beta`): `generateContent`
    /// and `streamGenerateContent?alt=sse`, its key in `x-goog-api-key`.
    Gemini,
    /// Azure OpenAI: `{base_url}/openai/deployments/{deployment}/chat/completions?api-version=`,
    /// its key in `api-key`; the model sent upstream is the deployment's name.
    AzureOpenai,
    /// AWS Bedrock's Converse API: `{base_url}/model/{modelId}/converse` and
    /// `/converse-stream` (AWS event-stream framing), signed with SigV4 for `region`; the key
    /// store entry holds `ACCESS_KEY_ID:SECRET_ACCESS_KEY[:SESSION_TOKEN]`.
    Bedrock,
    /// The on-box model (`[inference]`), served by gatewayd itself on loopback; no base_url
    /// or key (the daemon sets both).
    Local,
}

impl ProviderKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Openai => "openai",
            Self::OpenaiCompatible => "openai-compatible",
            Self::Anthropic => "anthropic",
            Self::Gemini => "gemini",
            Self::AzureOpenai => "azure-openai",
            Self::Bedrock => "bedrock",
            Self::Local => "local",
        }
    }
}

/// One provider the gateway calls.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct AigwProvider {
    /// The provider's name in model names (`NAME/model`) and logs.
    pub name: String,
    pub kind: ProviderKind,
    /// e.g. `https://api.openai.com/v1`, `https://api.anthropic.com/v1`. Left out for
    /// `kind = "local"` (the daemon fills it in).
    #[serde(default)]
    pub base_url: String,
    /// The name of its key in the key store (`gatewayd keys add NAME`), never the key itself.
    /// May be left out for a local server that needs none.
    pub key: Option<String>,
    /// Azure OpenAI only (and required there): the `api-version` query every call carries,
    /// e.g. `2024-10-21`.
    #[serde(default)]
    pub api_version: Option<String>,
    /// Bedrock only (and required there): the AWS region requests are signed for, e.g.
    /// `us-east-1`.
    #[serde(default)]
    pub region: Option<String>,
    /// OpenAI-style providers: ask for usage on streams (`stream_options.include_usage`).
    /// Set false for a server that refuses the field; its streamed calls then have no
    /// reported usage (unpriced), and callers that ask for usage get a 400 naming it.
    #[serde(default = "yes")]
    pub stream_usage: bool,
}

fn yes() -> bool {
    true
}

/// A model callers may ask for by `name` (or any of `aliases`), served by `provider` as
/// `model`.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct AigwModel {
    pub name: String,
    pub provider: String,
    /// The provider's name for it; defaults to `name`.
    pub model: Option<String>,
    #[serde(default)]
    pub aliases: Vec<String>,
}

impl AigwModel {
    /// The model name sent to the provider.
    pub fn upstream(&self) -> &str {
        self.model.as_deref().unwrap_or(&self.name)
    }
}

/// A price for one model of one configured provider, in US dollars per million tokens (per
/// call for `per_request`). Unset optional prices follow the main ones: cached input and
/// cache writes cost `input`, reasoning costs `output`.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct AigwPrice {
    /// A `[[aigw.providers]]` name.
    pub provider: String,
    /// The provider's model name (what is sent upstream, or what it says served).
    pub model: String,
    pub input: f64,
    pub output: f64,
    pub cached_input: Option<f64>,
    pub cache_write: Option<f64>,
    pub reasoning: Option<f64>,
    pub per_request: Option<f64>,
    /// When the price was checked, `YYYY-MM-DD`.
    pub checked: Option<String>,
}

/// The highest price accepted, in dollars per million tokens (or per call): far above any
/// published price, low enough that no cost can overflow.
pub const MAX_PRICE_USD: f64 = 100_000.0;

impl AigwPrice {
    /// Every price it sets, by key.
    pub fn fields(&self) -> [(&'static str, Option<f64>); 6] {
        [
            ("input", Some(self.input)),
            ("output", Some(self.output)),
            ("cached_input", self.cached_input),
            ("cache_write", self.cache_write),
            ("reasoning", self.reasoning),
            ("per_request", self.per_request),
        ]
    }
}

/// Whether `text` is a `YYYY-MM-DD` date.
pub fn is_date(text: &str) -> bool {
    let b = text.as_bytes();
    b.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && b.iter()
            .enumerate()
            .all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit())
}

/// Checks `[[aigw.prices]]`: returns the index of the entry, the key and the message. A
/// negative, NaN or infinite price would make every cost after it a lie; it never loads.
pub(crate) fn validate_prices(config: &AigwConfig) -> Result<(), (usize, &'static str, String)> {
    let mut seen = std::collections::BTreeSet::new();
    for (i, price) in config.prices.iter().enumerate() {
        if !config.providers.iter().any(|p| p.name == price.provider) {
            return Err((
                i,
                "provider",
                format!(
                    "aigw.prices: provider {:?} is not in aigw.providers",
                    price.provider
                ),
            ));
        }
        let model_ok = !price.model.is_empty()
            && price.model.len() <= 200
            && price.model.bytes().all(|b| b.is_ascii_graphic());
        if !model_ok {
            return Err((
                i,
                "model",
                format!(
                    "aigw.prices model {:?} must be printable ASCII without spaces",
                    price.model
                ),
            ));
        }
        if !seen.insert((price.provider.as_str(), price.model.as_str())) {
            return Err((
                i,
                "model",
                format!(
                    "aigw.prices: {}/{} is priced twice",
                    price.provider, price.model
                ),
            ));
        }
        for (key, value) in price.fields() {
            let Some(value) = value else { continue };
            if !value.is_finite() || !(0.0..=MAX_PRICE_USD).contains(&value) {
                return Err((
                    i,
                    key,
                    format!(
                        "aigw.prices {}/{}: {key} = {value} is not a price: it must be a \
                         number of US dollars from 0 to {MAX_PRICE_USD} (per million tokens{})",
                        price.provider,
                        price.model,
                        if key == "per_request" {
                            ", per call here"
                        } else {
                            ""
                        }
                    ),
                ));
            }
        }
        if let Some(checked) = &price.checked {
            if !is_date(checked) {
                return Err((
                    i,
                    "checked",
                    format!("aigw.prices: checked {checked:?} must be a date, YYYY-MM-DD"),
                ));
            }
        }
    }
    Ok(())
}

/// Checks what types cannot: returns the key to point at and the message.
pub(crate) fn validate(config: &AigwConfig) -> Result<(), (&'static str, String)> {
    if let Some(listen) = config.listen {
        if !listen.ip().is_loopback() && !config.allow_remote && config.tls.is_none() {
            return Err((
                "listen",
                format!(
                    "aigw.listen {listen} is not a loopback address: the AI gateway speaks plain \
                     HTTP (virtual keys in clear), so keep it on loopback, add [aigw.tls], or set \
                     aigw.allow_remote = true once it is only reachable from a trusted network \
                     or behind a TLS reverse proxy"
                ),
            ));
        }
    }
    crate::aigw_access::validate(config)?;
    for (key, value) in [
        ("max_connections", config.max_connections),
        (
            "max_connections_per_source",
            config.max_connections_per_source,
        ),
        ("max_body_bytes", config.max_body_bytes),
        ("max_response_bytes", config.max_response_bytes),
    ] {
        if value == 0 {
            return Err((key, format!("aigw.{key} must be at least 1")));
        }
    }
    if config.max_body_memory < config.max_body_bytes {
        return Err((
            "max_body_memory",
            format!(
                "aigw.max_body_memory ({}) must be at least aigw.max_body_bytes ({})",
                config.max_body_memory, config.max_body_bytes
            ),
        ));
    }
    if !(1..=1_000_000).contains(&config.default_max_output_tokens) {
        return Err((
            "default_max_output_tokens",
            "aigw.default_max_output_tokens must be from 1 to 1000000".into(),
        ));
    }
    let header = config.header_read_timeout.0;
    if header < std::time::Duration::from_secs(1) || header > std::time::Duration::from_secs(300) {
        return Err((
            "header_read_timeout",
            "aigw.header_read_timeout must be from 1s to 300s".into(),
        ));
    }
    if !(1..=10_000_000).contains(&config.url_document_reserve_tokens) {
        return Err((
            "url_document_reserve_tokens",
            "aigw.url_document_reserve_tokens must be from 1 to 10000000".into(),
        ));
    }
    let mut names = std::collections::BTreeSet::new();
    for p in &config.providers {
        if !plain_name(&p.name) || p.name.contains('/') {
            return Err((
                "name",
                format!(
                    "aigw.providers name {:?} must be 1-64 of a-z 0-9 . _ - (it prefixes model names)",
                    p.name
                ),
            ));
        }
        if !names.insert(p.name.as_str()) {
            return Err((
                "name",
                format!("aigw.providers name {:?} is used twice", p.name),
            ));
        }
        if p.kind == ProviderKind::Local {
            if !p.base_url.is_empty() || p.key.is_some() {
                return Err((
                    "base_url",
                    format!(
                        "aigw.providers {:?}: kind = \"local\" takes no base_url or key (gatewayd serves [inference] itself)",
                        p.name
                    ),
                ));
            }
            continue;
        }
        let url_ok = ["http://", "https://"].iter().any(|scheme| {
            p.base_url
                .strip_prefix(scheme)
                .is_some_and(|rest| !rest.is_empty() && !rest.contains(['?', '#', ' ', '@']))
        });
        if !url_ok {
            return Err((
                "base_url",
                format!(
                    "aigw.providers {:?}: base_url {:?} must be http(s)://HOST[:PORT][/PATH] \
                     (no credentials, query or fragment)",
                    p.name, p.base_url
                ),
            ));
        }
        match (p.kind, &p.api_version) {
            (ProviderKind::AzureOpenai, None) => {
                return Err((
                    "api_version",
                    format!(
                    "aigw.providers {:?}: kind = \"azure-openai\" needs api_version (e.g. \"2024-10-21\")",
                    p.name
                ),
                ))
            }
            (ProviderKind::AzureOpenai, Some(v)) if !api_version_ok(v) => {
                return Err((
                    "api_version",
                    format!(
                        "aigw.providers {:?}: api_version {v:?} must be 1-40 of A-Z a-z 0-9 . -",
                        p.name
                    ),
                ))
            }
            (ProviderKind::AzureOpenai, Some(_)) | (_, None) => {}
            (_, Some(_)) => {
                return Err((
                    "api_version",
                    format!(
                        "aigw.providers {:?}: api_version is for kind = \"azure-openai\" only",
                        p.name
                    ),
                ))
            }
        }
        bedrock(p)?;
        if !p.stream_usage
            && matches!(
                p.kind,
                ProviderKind::Anthropic | ProviderKind::Gemini | ProviderKind::Bedrock
            )
        {
            return Err((
                "stream_usage",
                format!(
                    "aigw.providers {:?}: stream_usage is for OpenAI-style providers only \
                     ({} streams always carry usage)",
                    p.name,
                    p.kind.as_str()
                ),
            ));
        }
        if let Some(key) = &p.key {
            if !plain_name(key) {
                // Never echo it: someone may have pasted the key itself here.
                return Err((
                    "key",
                    format!(
                        "aigw.providers {:?}: key must be the NAME of a key in the key store \
                         (`gatewayd keys add NAME --provider ...`), never the key itself",
                        p.name
                    ),
                ));
            }
        }
    }
    let mut model_names = std::collections::BTreeSet::new();
    for m in &config.models {
        if !names.contains(m.provider.as_str()) {
            return Err((
                "provider",
                format!(
                    "aigw.models {:?}: provider {:?} is not in aigw.providers",
                    m.name, m.provider
                ),
            ));
        }
        for name in std::iter::once(&m.name).chain(&m.aliases) {
            let valid =
                !name.is_empty() && name.len() <= 200 && name.bytes().all(|b| b.is_ascii_graphic());
            if !valid {
                return Err((
                    "name",
                    format!("aigw.models name {name:?} must be printable ASCII without spaces"),
                ));
            }
            if !model_names.insert(name.as_str()) {
                return Err(("name", format!("aigw.models name {name:?} is used twice")));
            }
        }
    }
    if config.listen.is_some() && config.providers.is_empty() {
        return Err((
            "listen",
            "aigw.listen is set but aigw.providers is empty: add a [[aigw.providers]]".into(),
        ));
    }
    Ok(())
}

/// Bedrock's own keys: a region (it is part of what is signed, and of the URL operators
/// write), and a key (Bedrock refuses unsigned calls); `region` on no other kind.
fn bedrock(p: &AigwProvider) -> Result<(), (&'static str, String)> {
    let name = &p.name;
    match (p.kind, &p.region) {
        (ProviderKind::Bedrock, None) => Err((
            "region",
            format!(
                "aigw.providers {name:?}: kind = \"bedrock\" needs region (e.g. \"us-east-1\")"
            ),
        )),
        (ProviderKind::Bedrock, Some(r)) if !region_ok(r) => Err((
            "region",
            format!("aigw.providers {name:?}: region {r:?} must be 1-32 of a-z 0-9 -"),
        )),
        (ProviderKind::Bedrock, Some(_)) if p.key.is_none() => Err((
            "key",
            format!(
                "aigw.providers {name:?}: kind = \"bedrock\" needs key (a key store entry holding \
                 ACCESS_KEY_ID:SECRET_ACCESS_KEY[:SESSION_TOKEN])"
            ),
        )),
        (ProviderKind::Bedrock, Some(_)) | (_, None) => Ok(()),
        (_, Some(_)) => Err((
            "region",
            format!("aigw.providers {name:?}: region is for kind = \"bedrock\" only"),
        )),
    }
}

fn region_ok(r: &str) -> bool {
    !r.is_empty()
        && r.len() <= 32
        && r.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

/// An Azure `api-version`: it goes into the query string, so only its own alphabet.
fn api_version_ok(v: &str) -> bool {
    !v.is_empty()
        && v.len() <= 40
        && v.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-.".contains(&b))
}

fn plain_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b))
        && name.as_bytes()[0].is_ascii_alphanumeric()
}
