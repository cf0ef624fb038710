//! `gatewayd apps set-status` and `gatewayd admin token create`: the security team's
//! decisions and API access from the shell. Secrets are printed alone on the last line.

use clap::Subcommand;

use crate::admin::tokens::{Role, TokenStore};
use crate::apps::StatusStore;
use crate::config::Config;
use crate::daemon::ensure_state_dir;
use crate::policy_files::load_policy;

#[derive(Debug, Subcommand)]
pub enum AppsCommand {
    /// Set an app's approval status: approved, unapproved, in_review, unreviewed.
    SetStatus { id: String, status: String },
    /// Show the recorded status changes (who, when, old → new).
    History { id: Option<String> },
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
    },
}

pub fn run_apps(config: &Config, command: &AppsCommand) -> anyhow::Result<u8> {
    ensure_state_dir(&config.state.dir)?;
    let store = StatusStore::open(&config.state.dir)?;
    match command {
        AppsCommand::SetStatus { id, status } => {
            let status = match status.parse() {
                Ok(status) => status,
                Err(e) => {
                    eprintln!("gatewayd: {e}");
                    return Ok(2);
                }
            };
            let loaded = load_policy(&config.policies).map_err(anyhow::Error::msg)?;
            if loaded.catalog.app(id).is_none() {
                eprintln!("gatewayd: no app {id:?} in the catalog (see `gatewayd catalog list`)");
                return Ok(2);
            }
            let actor = format!(
                "cli:{}",
                std::env::var("USER").unwrap_or_else(|_| "unknown".into())
            );
            let change = store.set(id, status, &actor)?;
            println!("{id}: {} -> {}", change.old, change.new);
            Ok(0)
        }
        AppsCommand::History { id } => {
            for change in store.changes()? {
                if id.as_deref().is_none_or(|id| id == change.app_id) {
                    println!("{}", serde_json::to_string(&change)?);
                }
            }
            Ok(0)
        }
    }
}

pub fn run_admin(config: &Config, command: &AdminCommand) -> anyhow::Result<u8> {
    let AdminCommand::Token {
        command: TokenCommand::Create { role, name },
    } = command;
    let role: Role = match role.parse() {
        Ok(role) => role,
        Err(e) => {
            eprintln!("gatewayd: {e}");
            return Ok(2);
        }
    };
    ensure_state_dir(&config.state.dir)?;
    match TokenStore::create(&config.state.dir, name, role) {
        Ok(token) => {
            eprintln!("created {role:?} token {name:?}; it is shown once, store it now:");
            println!("{token}");
            Ok(0)
        }
        Err(e) => {
            eprintln!("gatewayd: {e}");
            Ok(2)
        }
    }
}
