//! `gatewayd devices`: enrollment tokens for new devices, the list of enrolled devices, and
//! revocation (a revoked device is refused on its next stream; its open tunnels close).

use std::process::ExitCode;

use clap::Subcommand;

use super::state::{existing_state, unix_text};
use crate::daemon::ensure_state_dir;
use config::{Config, ConfigDuration};
use devices::{tokens, DeviceRegistry};
use state_files::StateLock;

#[derive(Debug, Subcommand)]
pub enum DevicesCommand {
    /// Print a one-time token that enrolls one device for USER (alone on the last line).
    EnrollToken {
        #[arg(long)]
        user: String,
        /// Comma-separated groups the device's traffic acts for.
        #[arg(long, value_delimiter = ',')]
        groups: Vec<String>,
        /// How long the token may be used (ms, s, m or h).
        #[arg(long, default_value = "1h")]
        ttl: String,
    },
    /// List enrolled devices.
    List {
        #[arg(long)]
        json: bool,
    },
    /// Revoke a device: its certificate is refused from now on.
    Revoke { id: String },
}

/// Runs a `devices` subcommand; returns the exit code.
pub fn run_devices(config: &Config, command: &DevicesCommand) -> anyhow::Result<ExitCode> {
    let dir = &config.state.dir;
    match command {
        DevicesCommand::EnrollToken { user, groups, ttl } => {
            let ttl = match ConfigDuration::parse(ttl) {
                Ok(ttl) => ttl.0,
                Err(error) => {
                    eprintln!("gatewayd: --ttl: {error}");
                    return Ok(ExitCode::from(2));
                }
            };
            if user.trim().is_empty() {
                eprintln!("gatewayd: --user must not be empty");
                return Ok(ExitCode::from(2));
            }
            ensure_state_dir(dir)?;
            let groups: Vec<String> = groups
                .iter()
                .map(|g| g.trim().to_owned())
                .filter(|g| !g.is_empty())
                .collect();
            let _lock = StateLock::acquire(dir)?;
            let token =
                tokens::create(dir, user, &groups, ttl.as_secs()).map_err(anyhow::Error::msg)?;
            eprintln!(
                "enrollment token for {user} (valid {}s, one use); on the device run:\n  {}",
                ttl.as_secs(),
                enroll_command(config, &token)
            );
            out!("{token}");
            Ok(ExitCode::SUCCESS)
        }
        DevicesCommand::List { json } => {
            let registry =
                DeviceRegistry::load(existing_state(config)?).map_err(anyhow::Error::msg)?;
            if *json {
                out!("{}", serde_json::to_string_pretty(&registry.devices)?);
                return Ok(ExitCode::SUCCESS);
            }
            out!(
                "{:<22} {:<16} {:<20} {:<23} {:<20} STATUS",
                "ID",
                "USER",
                "GROUPS",
                "ENROLLED",
                "HOSTNAME"
            );
            for d in &registry.devices {
                let status = match d.revoked_unix {
                    Some(at) => format!("revoked at {}", unix_text(at)),
                    None if d.cert_not_after_unix < devices::now_unix() => "expired".into(),
                    None => "active".into(),
                };
                out!(
                    "{:<22} {:<16} {:<20} {:<23} {:<20} {status}",
                    d.id,
                    d.user,
                    d.groups.join(","),
                    super::state::unix_text(d.enrolled_unix),
                    d.hostname
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        DevicesCommand::Revoke { id } => {
            if devices::revoke(existing_state(config)?, id).map_err(anyhow::Error::msg)? {
                out!("revoked {id}");
                Ok(ExitCode::SUCCESS)
            } else {
                eprintln!("gatewayd: no device {id:?} (see `gatewayd devices list`)");
                Ok(ExitCode::from(1))
            }
        }
    }
}

/// The `agent enroll` line for this gateway, filled with what it knows: the tunnel's name and
/// port and the root's fingerprint. What it cannot know yet (no `[tunnel] listen`, no CA)
/// stays a placeholder that says where to get it.
fn enroll_command(config: &Config, token: &str) -> String {
    let tunnel = &config.tunnel;
    let gateway = match tunnel.listen {
        Some(listen) => format!(
            "{}:{}",
            devices::agent_port::server_name(tunnel.server_name.as_deref(), Some(listen)),
            tunnel_port(config, listen.port())
        ),
        None => "GATEWAY:TUNNEL_PORT".to_string(),
    };
    let fingerprint = ca::Authority::load(&config.state.dir.join("ca"))
        .and_then(|authority| authority.summary())
        .map(|summary| summary.root.sha256_fingerprint)
        .unwrap_or_else(|_| "ROOT_SHA256".to_string());
    let mut line = format!(
        "agent enroll --gateway https://{gateway} --token {token} --ca-fingerprint {fingerprint}"
    );
    if tunnel.listen.is_none() {
        line.push_str("\n(GATEWAY:TUNNEL_PORT: set [tunnel] listen; agents dial that port)");
    }
    if fingerprint == "ROOT_SHA256" {
        line.push_str(
            "\n(ROOT_SHA256: the root's fingerprint from `gatewayd ca show` once the CA exists)",
        );
    }
    line
}

/// The tunnel's port: the configured one, or, when that is 0, the one the running daemon
/// bound (its `listen.json`).
fn tunnel_port(config: &Config, configured: u16) -> u16 {
    if configured != 0 {
        return configured;
    }
    std::fs::read_to_string(config.state.dir.join("listen.json"))
        .ok()
        .and_then(|text| serde_json::from_str::<serde_json::Value>(&text).ok())
        .and_then(|v| v["tunnel"].as_str()?.parse::<std::net::SocketAddr>().ok())
        .map_or(0, |addr| addr.port())
}
