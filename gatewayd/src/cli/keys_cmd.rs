//! `gatewayd keys ...`: the provider key store. Values come in on stdin or from a file, never
//! on the command line (where `ps` and shell history would keep them), and never go out:
//! `list` shows names, providers and fingerprints. Every change is in the admin audit trail
//! (`crate::key_ops`, which the dashboard's key pages run too).

use std::io::Read;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::Subcommand;
use config::{Config, ConfigDuration};
use keystore::{KeyStore, MasterKey, MasterKeySource, MAX_SECRET_BYTES, PROVIDERS};
use zeroize::Zeroizing;

use super::output::line;
use super::state::{actor, existing_state, unix_ms_text};
use crate::key_ops;

#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Store a provider's key (the value on stdin, or --from-file).
    Add {
        name: String,
        /// openai, anthropic, gemini, azure-openai, bedrock or openai-compatible.
        #[arg(long)]
        provider: String,
        /// Read the value from this file instead of stdin.
        #[arg(long, value_name = "FILE")]
        from_file: Option<PathBuf>,
    },
    /// List the keys: name, provider, fingerprint, dates (never a value).
    List {
        #[arg(long)]
        json: bool,
    },
    /// Replace a key's value; the old one stays usable for --grace (default 24h).
    Rotate {
        name: String,
        #[arg(long, default_value = "24h")]
        grace: String,
        #[arg(long, value_name = "FILE")]
        from_file: Option<PathBuf>,
    },
    /// Remove a key and every version of it (refused while a configured provider uses it,
    /// unless --force).
    Delete {
        name: String,
        /// Delete it even though configured providers use it (their calls fail at once).
        #[arg(long)]
        force: bool,
    },
    /// Wrap every data key with a new master key (then point keys.master_key at it).
    Rewrap {
        /// Where the new master key is: env:NAME, file:PATH or systemd:NAME.
        #[arg(long, value_name = "SOURCE")]
        new_master_key: String,
    },
    /// Print a fresh random master key (base64) to put where keys.master_key points.
    MasterKey,
}

/// Runs a `keys` subcommand; returns the exit code.
pub fn run_keys(config: &Config, command: &KeysCommand) -> anyhow::Result<ExitCode> {
    if let KeysCommand::MasterKey = command {
        let key = MasterKey::generate_text()?;
        line(format_args!("{}", key.as_str()));
        return Ok(ExitCode::SUCCESS);
    }
    // Adding the first key is the first thing a new AI gateway user does (README, step 1):
    // it makes the state directory, as `admin token create` does; the others only read or
    // change a store that must already be there.
    if let KeysCommand::Add { .. } = command {
        crate::daemon::ensure_state_dir(&config.state.dir)?;
    }
    let state = existing_state(config)?;
    let source = MasterKeySource::parse(&config.keys.master_key)?;
    let master = KeyStore::master_for(state, &source)?;
    let mut store = KeyStore::open(state, master)?;
    let actor = actor();
    match command {
        KeysCommand::Add {
            name,
            provider,
            from_file,
        } => {
            if !PROVIDERS.contains(&provider.as_str()) {
                eprintln!(
                    "gatewayd: --provider {provider:?}: one of {}",
                    PROVIDERS.join(", ")
                );
                return Ok(ExitCode::from(2));
            }
            let value = read_value(from_file.as_ref())?;
            let info = key_ops::add_provider_key(&mut store, state, &actor, name, provider, &value)
                .map_err(anyhow::Error::msg)?;
            eprintln!(
                "stored {} ({}), {}",
                info.name, info.provider, info.fingerprint
            );
        }
        KeysCommand::List { json } => {
            let keys = store.list();
            if *json {
                for key in &keys {
                    line(format_args!("{}", serde_json::to_string(key)?));
                }
            } else {
                line(format_args!(
                    "{:<24} {:<18} {:<20} {:>3}  {:<23}  ROTATED",
                    "NAME", "PROVIDER", "FINGERPRINT", "V", "CREATED"
                ));
                for key in &keys {
                    line(format_args!(
                        "{:<24} {:<18} {:<20} {:>3}  {:<23}  {}",
                        key.name,
                        key.provider,
                        key.fingerprint,
                        key.version,
                        unix_ms_text(key.created_unix_ms),
                        key.rotated_unix_ms.map_or("never".into(), unix_ms_text)
                    ));
                }
            }
        }
        KeysCommand::Rotate {
            name,
            grace,
            from_file,
        } => {
            let grace: Duration = match ConfigDuration::parse(grace) {
                Ok(grace) => grace.0,
                Err(error) => {
                    eprintln!("gatewayd: --grace: {error}");
                    return Ok(ExitCode::from(2));
                }
            };
            let value = read_value(from_file.as_ref())?;
            let info = key_ops::rotate_provider_key(&mut store, state, &actor, name, &value, grace)
                .map_err(anyhow::Error::msg)?;
            eprintln!(
                "rotated {} to version {} ({}); the previous value stays usable for {}",
                info.name,
                info.version,
                info.fingerprint,
                humantime(grace)
            );
        }
        KeysCommand::Delete { name, force } => {
            let users = crate::key_checks::providers_using(&config.aigw, name);
            if !users.is_empty() && !force {
                eprintln!(
                    "gatewayd: {}; pass --force to delete it anyway",
                    crate::key_checks::in_use_text(name, &users)
                );
                return Ok(ExitCode::from(2));
            }
            key_ops::delete_provider_key(&mut store, state, &actor, name)
                .map_err(anyhow::Error::msg)?;
            eprintln!("deleted {name}");
        }
        KeysCommand::Rewrap { new_master_key } => {
            let new = MasterKey::load(&MasterKeySource::parse(new_master_key)?)?;
            let id = new.id();
            let count = store.rewrap(new)?;
            admin::audit::record(
                state,
                &actor,
                "provider_key.rewrap",
                &format!("data_keys={count} master={id}"),
            );
            eprintln!(
                "rewrapped {count} data keys with master key {id}; set keys.master_key = \"{new_master_key}\""
            );
        }
        KeysCommand::MasterKey => {}
    }
    Ok(ExitCode::SUCCESS)
}

/// The key's value from `file` or stdin: one line or the whole input, surrounding space
/// trimmed, at most the store's limit.
fn read_value(file: Option<&PathBuf>) -> anyhow::Result<Zeroizing<String>> {
    let mut text = Zeroizing::new(String::new());
    let limit = MAX_SECRET_BYTES as u64 + 1;
    match file {
        Some(path) => {
            std::fs::File::open(path)
                .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?
                .take(limit)
                .read_to_string(&mut text)?;
        }
        None => {
            std::io::stdin().take(limit).read_to_string(&mut text)?;
        }
    }
    let trimmed = Zeroizing::new(text.trim().to_string());
    if trimmed.is_empty() {
        anyhow::bail!(
            "no key on {}",
            if file.is_some() { "the file" } else { "stdin" }
        );
    }
    Ok(trimmed)
}

fn humantime(d: Duration) -> String {
    let s = d.as_secs();
    match s {
        0 => "no time at all".into(),
        s if s % 3600 == 0 => format!("{}h", s / 3600),
        s if s % 60 == 0 => format!("{}m", s / 60),
        s => format!("{s}s"),
    }
}
