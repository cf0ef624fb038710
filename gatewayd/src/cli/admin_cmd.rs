//! `gatewayd apps list | set-status | history | requests` and `gatewayd admin token create | list | revoke`: the security
//! team's decisions and API access from the shell. Secrets are printed alone on the last
//! line, and only by `create`; `list` never shows a secret or a hash.

use clap::Subcommand;

use super::state::{actor, existing_state, unix_ms_text};
use crate::daemon::ensure_state_dir;
use admin::tokens::{Role, TokenStore};
use config::{Config, ConfigDuration};
use proxy::apps::StatusStore;
use proxy::policy_files::load_policy;

#[derive(Debug, Subcommand)]
pub enum AppsCommand {
    /// List the catalog's apps with their approval status (what `set-status` changed).
    List {
        /// Only apps with this status: approved, unapproved, in_review, unreviewed.
        #[arg(long)]
        status: Option<String>,
        /// One JSON object per line.
        #[arg(long)]
        json: bool,
    },
    /// Set an app's approval status: approved, unapproved, in_review, unreviewed.
    SetStatus { id: String, status: String },
    /// Show the recorded status changes (who, when, old → new).
    History {
        id: Option<String>,
        /// One JSON object per line (times in unix milliseconds).
        #[arg(long)]
        json: bool,
    },
    /// List employees' access requests (decide with `gatewayd access-requests`).
    Requests {
        /// One JSON object per line (times in unix milliseconds).
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum AdminCommand {
    /// Manage admin API tokens.
    Token {
        #[command(subcommand)]
        command: TokenCommand,
    },
}

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Create a token; it is printed once and only its hash is stored.
    Create {
        #[arg(long)]
        role: String,
        #[arg(long)]
        name: String,
        /// Refuse the token after this long (`12h`, `30d`); without it, until revoked.
        #[arg(long)]
        expires: Option<String>,
    },
    /// List tokens: id, name, role, created, expiry (no secrets).
    List {
        /// One JSON object per line.
        #[arg(long)]
        json: bool,
    },
    /// Remove a token by id (or name); its dashboard sessions end within a second.
    Revoke { id: String },
}

pub fn run_apps(config: &Config, command: &AppsCommand) -> anyhow::Result<u8> {
    let store = || StatusStore::open(existing_state(config)?).map_err(anyhow::Error::from);
    match command {
        AppsCommand::Requests { json } => super::requests_cmd::run_requests(config, *json),
        AppsCommand::List { status, json } => {
            list_apps(config, &store()?, status.as_deref(), *json)
        }
        AppsCommand::SetStatus { id, status } => {
            let store = store()?;
            let status = match status.parse() {
                Ok(status) => status,
                Err(e) => {
                    eprintln!("gatewayd: {e}");
                    return Ok(2);
                }
            };
            let loaded = load_policy(config).map_err(anyhow::Error::msg)?;
            if loaded.catalog.app(id).is_none() {
                eprintln!("gatewayd: no app {id:?} in the catalog (see `gatewayd catalog list`)");
                return Ok(2);
            }
            let change = store.set(id, status, &actor())?;
            out!("{id}: {} -> {}", change.old, change.new);
            Ok(0)
        }
        AppsCommand::History { id, json } => {
            let changes = store()?.changes()?;
            let shown = changes
                .iter()
                .filter(|c| id.as_deref().is_none_or(|id| id == c.app_id));
            if *json {
                for change in shown {
                    out!("{}", serde_json::to_string(change)?);
                }
                return Ok(0);
            }
            out!("{:<23}  {:<24} {:<26} BY", "WHEN", "APP", "CHANGE");
            for change in shown {
                out!(
                    "{:<23}  {:<24} {:<26} {}",
                    unix_ms_text(change.at_unix_ms),
                    change.app_id,
                    format!("{} -> {}", change.old, change.new),
                    change.actor
                );
            }
            Ok(0)
        }
    }
}

/// `gatewayd apps list`: every catalog app, its category, risk and approval status.
fn list_apps(
    config: &Config,
    store: &StatusStore,
    wanted: Option<&str>,
    json: bool,
) -> anyhow::Result<u8> {
    let wanted: Option<policies::AppStatus> = match wanted.map(str::parse).transpose() {
        Ok(wanted) => wanted,
        Err(e) => {
            eprintln!("gatewayd: --status: {e}");
            return Ok(2);
        }
    };
    let loaded = load_policy(config).map_err(anyhow::Error::msg)?;
    let book = store.book();
    let shown = loaded
        .catalog
        .apps()
        .iter()
        .map(|app| (app, book.status(&app.id)))
        .filter(|(_, status)| wanted.is_none_or(|w| w == *status));
    if json {
        for (app, status) in shown {
            let row = serde_json::json!({
                "id": app.id,
                "name": app.name,
                "category": app.category.as_str(),
                "risk": app.risk,
                "status": status.as_str(),
            });
            out!("{row}");
        }
        return Ok(0);
    }
    out!(
        "{:<24} {:<30} {:<18} {:<4} STATUS",
        "APP",
        "NAME",
        "CATEGORY",
        "RISK"
    );
    for (app, status) in shown {
        out!(
            "{:<24} {:<30} {:<18} {:<4} {}",
            app.id,
            app.name,
            app.category.as_str(),
            app.risk,
            status.as_str()
        );
    }
    Ok(0)
}

pub fn run_admin(config: &Config, command: &AdminCommand) -> anyhow::Result<u8> {
    let AdminCommand::Token { command } = command;
    let state_dir = &config.state.dir;
    match command {
        TokenCommand::Create {
            role,
            name,
            expires,
        } => {
            let role: Role = match role.parse() {
                Ok(role) => role,
                Err(e) => {
                    eprintln!("gatewayd: {e}");
                    return Ok(2);
                }
            };
            let ttl = match expires.as_deref().map(ConfigDuration::parse).transpose() {
                Ok(ttl) => ttl.map(|d| d.0),
                Err(e) => {
                    eprintln!("gatewayd: --expires: {e}");
                    return Ok(2);
                }
            };
            ensure_state_dir(state_dir)?;
            match TokenStore::create(state_dir, name, role, ttl) {
                Ok((id, token)) => {
                    let until = ttl.map_or("until revoked".to_string(), |ttl| {
                        format!("for {}", humantime_secs(ttl.as_secs()))
                    });
                    eprintln!(
                        "created {} token {name:?} (id {id}, valid {until}); it is shown once, store it now:",
                        role.as_str()
                    );
                    out!("{token}");
                    Ok(0)
                }
                Err(e) => {
                    eprintln!("gatewayd: {e}");
                    Ok(2)
                }
            }
        }
        TokenCommand::List { json } => {
            let store = TokenStore::load(existing_state(config)?).map_err(anyhow::Error::msg)?;
            for token in store.list() {
                if *json {
                    out!("{}", serde_json::to_string(&token)?);
                } else {
                    let expires = match (token.expires_unix_ms, token.expired) {
                        (_, true) => "expired".to_string(),
                        (Some(at), false) => format!("expires {}", unix_ms_text(at)),
                        (None, false) => "never expires".to_string(),
                    };
                    out!(
                        "{}  {:<8} {}  created {}  {expires}",
                        token.id,
                        token.role.as_str(),
                        token.name,
                        unix_ms_text(token.created_unix_ms),
                    );
                }
            }
            Ok(0)
        }
        TokenCommand::Revoke { id } => match TokenStore::revoke(existing_state(config)?, id) {
            Ok(name) => {
                eprintln!(
                    "revoked token {id} ({name:?}); a running gatewayd refuses it, and ends its \
                     dashboard sessions, within a second"
                );
                Ok(0)
            }
            Err(e) => {
                eprintln!("gatewayd: {e}");
                Ok(2)
            }
        },
    }
}

fn humantime_secs(secs: u64) -> String {
    match secs {
        s if s >= 86_400 && s % 86_400 == 0 => format!("{}d", s / 86_400),
        s if s >= 3_600 && s % 3_600 == 0 => format!("{}h", s / 3_600),
        s => format!("{s}s"),
    }
}
