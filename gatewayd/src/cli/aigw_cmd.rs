//! `gatewayd aigw keys ...`: the AI gateway's virtual keys. `create` shows the key once
//! (stdout, nothing else there) and stores only its hash; `list` never shows a key or a hash;
//! `revoke` takes effect on the running gateway's next call. Every change is in the admin
//! audit trail. `gatewayd aigw prices` lists the price table in force (shipped + config);
//! `gatewayd aigw budgets` what budgets and limits stand at (`aigw_budgets_cmd`).

use std::process::ExitCode;

use aigw::vkeys::{NewKey, VirtualKeys};
use clap::Subcommand;
use config::{Config, ConfigDuration};

use super::output::line;
use super::state::{actor, existing_state, unix_ms_text};

#[derive(Debug, Subcommand)]
pub enum AigwCommand {
    /// Virtual keys: what callers of the AI gateway present.
    Keys {
        #[command(subcommand)]
        command: AigwKeysCommand,
    },
    /// The price table calls are costed with: the shipped one and `[[aigw.prices]]`, in US
    /// dollars per million tokens, with the date each price was checked.
    Prices {
        #[arg(long)]
        json: bool,
    },
    /// Budgets and rate limits as the running gateway last wrote them (every 2 s): each
    /// one's spend, what calls in flight reserve, what remains and when it resets.
    Budgets {
        #[arg(long)]
        json: bool,
    },
    /// Which deployment of a route (`[[aigw.routes]]`) would serve a model name for a virtual
    /// key, and why.
    Explain {
        #[arg(long)]
        model: String,
        /// A virtual key's id or name (its allowed models); none: a key allowed everything.
        #[arg(long)]
        key: Option<String>,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum AigwKeysCommand {
    /// Create a key (printed once on stdout; only its hash is kept).
    Create {
        #[arg(long)]
        name: String,
        /// Who the key stands for (logged with every call).
        #[arg(long)]
        user: String,
        #[arg(long)]
        team: Option<String>,
        /// Models it may use, comma-separated (names, aliases, `provider/model` or
        /// `provider/*`); all configured models when omitted.
        #[arg(long, value_delimiter = ',')]
        models: Vec<String>,
        /// How long it is valid, e.g. 30d or 12h; forever when omitted.
        #[arg(long)]
        expires: Option<String>,
        /// A label every call with this key carries into `ai_requests` (repeatable).
        #[arg(long = "tag")]
        tags: Vec<String>,
    },
    /// List keys: id, name, user, team, models, dates (never a key).
    List {
        #[arg(long)]
        json: bool,
    },
    /// Revoke a key by id (or name): refused by the running gateway from the next call.
    Revoke { id: String },
}

/// Runs an `aigw` subcommand; returns the exit code.
pub fn run_aigw(config: &Config, command: &AigwCommand) -> anyhow::Result<ExitCode> {
    let command = match command {
        AigwCommand::Keys { command } => command,
        AigwCommand::Prices { json } => return prices(config, *json),
        AigwCommand::Budgets { json } => return super::aigw_budgets_cmd::budgets(config, *json),
        AigwCommand::Explain { model, key, json } => {
            return super::aigw_explain_cmd::explain(config, model, key.as_deref(), *json)
        }
    };
    let state = existing_state(config)?;
    match command {
        AigwKeysCommand::Create {
            name,
            user,
            team,
            models,
            expires,
            tags,
        } => {
            let ttl = match expires.as_deref().map(ConfigDuration::parse).transpose() {
                Ok(ttl) => ttl.map(|d| d.0),
                Err(error) => {
                    eprintln!("gatewayd: --expires: {error}");
                    return Ok(ExitCode::from(2));
                }
            };
            let models: Vec<String> = models
                .iter()
                .map(|m| m.trim().to_string())
                .filter(|m| !m.is_empty())
                .collect();
            if let Err(error) = crate::key_checks::known_models(&config.aigw, &models) {
                eprintln!("gatewayd: --models: {error}");
                return Ok(ExitCode::from(2));
            }
            let new = NewKey {
                name,
                user,
                team: team.as_deref(),
                models: models.clone(),
                tags: tags.clone(),
                ttl,
            };
            let (id, key) = match crate::key_ops::create_virtual_key(state, &actor(), &new) {
                Ok(created) => created,
                Err(error) => {
                    eprintln!("gatewayd: {error}");
                    return Ok(ExitCode::from(2));
                }
            };
            line(format_args!("{key}"));
            eprintln!("created virtual key {id} ({name}, user {user}); it is shown only this once");
        }
        AigwKeysCommand::List { json } => {
            let keys = VirtualKeys::load(state).map_err(anyhow::Error::msg)?.list();
            if *json {
                for key in &keys {
                    line(format_args!("{}", serde_json::to_string(key)?));
                }
            } else {
                line(format_args!(
                    "{:<13} {:<20} {:<16} {:<12} {:<24} {:<23}  EXPIRES",
                    "ID", "NAME", "USER", "TEAM", "MODELS", "CREATED"
                ));
                for key in &keys {
                    line(format_args!(
                        "{:<13} {:<20} {:<16} {:<12} {:<24} {:<23}  {}",
                        key.id,
                        key.name,
                        key.user,
                        key.team.as_deref().unwrap_or("-"),
                        if key.models.is_empty() {
                            "*".to_string()
                        } else {
                            key.models.join(",")
                        },
                        unix_ms_text(key.created_unix_ms),
                        match key.expires_unix_ms {
                            None => "never".to_string(),
                            Some(_) if key.expired => "expired".to_string(),
                            Some(at) => unix_ms_text(at),
                        }
                    ));
                }
            }
        }
        AigwKeysCommand::Revoke { id } => {
            match crate::key_ops::revoke_virtual_key(state, &actor(), id) {
                Ok(name) => {
                    eprintln!("revoked {name}");
                }
                Err(error) => {
                    eprintln!("gatewayd: {error}");
                    return Ok(ExitCode::from(1));
                }
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `gatewayd aigw prices`: one line (or JSON object) per priced model.
fn prices(config: &Config, json: bool) -> anyhow::Result<ExitCode> {
    let table = match aigw::prices::PriceTable::new(&config.aigw) {
        Ok(table) => table,
        Err(error) => {
            eprintln!("gatewayd: {error}");
            return Ok(ExitCode::from(2));
        }
    };
    // Picodollars per token are dollars per million tokens times a million.
    let usd = |pico: u64| pico as f64 / 1e6;
    let rows = table.rows();
    if json {
        for row in &rows {
            let p = &row.price;
            line(format_args!(
                "{}",
                serde_json::json!({
                    "provider": row.provider,
                    "model": row.model,
                    "input": usd(p.input),
                    "cached_input": usd(p.cached_input),
                    "cache_write": usd(p.cache_write),
                    "output": usd(p.output),
                    "reasoning": usd(p.reasoning),
                    "per_request": p.per_request as f64 / 1e12,
                    "checked": p.checked,
                    "origin": p.origin,
                    "unit": "USD per million tokens (per_request: USD per call)",
                })
            ));
        }
        return Ok(ExitCode::SUCCESS);
    }
    line(format_args!(
        "{:<10} {:<24} {:>8} {:>8} {:>8} {:>8} {:>8} {:>8}  {:<10} ORIGIN",
        "PROVIDER",
        "MODEL",
        "INPUT",
        "CACHED",
        "C.WRITE",
        "OUTPUT",
        "REASON",
        "PER-CALL",
        "CHECKED"
    ));
    for row in &rows {
        let p = &row.price;
        line(format_args!(
            "{:<10} {:<24} {:>8} {:>8} {:>8} {:>8} {:>8} {:>8}  {:<10} {}",
            row.provider,
            row.model,
            usd(p.input),
            usd(p.cached_input),
            usd(p.cache_write),
            usd(p.output),
            usd(p.reasoning),
            p.per_request as f64 / 1e12,
            p.checked,
            p.origin
        ));
    }
    eprintln!("US dollars per million tokens (PER-CALL: dollars per call); models not listed have no known cost");
    Ok(ExitCode::SUCCESS)
}
