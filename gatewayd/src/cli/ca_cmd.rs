//! `gatewayd ca init | show | export`: create the CA, describe it, and hand its root to
//! administrators for installation on devices.

use std::path::PathBuf;

use anyhow::Context;
use clap::Subcommand;

use ca::Authority;

use super::state::{absolute, existing_state};
use crate::daemon::open_authority;
use config::Config;

#[derive(Debug, Subcommand)]
pub enum CaCommand {
    /// Create the root and intermediate CA in the state dir (no-op when present).
    Init,
    /// Describe the root and intermediate: subject, validity, fingerprints.
    Show,
    /// Write the root certificate (PEM by default) for installation on devices.
    Export {
        /// DER instead of PEM.
        #[arg(long)]
        der: bool,
        /// Write to this file instead of stdout.
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
    },
}

pub fn run_ca(config: &Config, command: &CaCommand) -> anyhow::Result<()> {
    match command {
        CaCommand::Init => init(config),
        CaCommand::Show => show(&existing_authority(config)?),
        CaCommand::Export { der, out } => {
            let authority = existing_authority(config)?;
            let bytes: Vec<u8> = if *der {
                authority.root_der().to_vec()
            } else {
                authority.root_pem().as_bytes().to_vec()
            };
            match out {
                Some(path) => std::fs::write(path, &bytes)
                    .with_context(|| format!("writing {}", path.display()))?,
                None => super::output::bytes(&bytes),
            }
            Ok(())
        }
    }
}

fn init(config: &Config) -> anyhow::Result<()> {
    let (authority, created) = open_authority(config)?;
    let summary = authority.summary()?;
    if created {
        out!("created Warden CA in {}", absolute(&summary.dir).display());
    } else {
        out!(
            "Warden CA already present in {}",
            absolute(&summary.dir).display()
        );
    }
    out!(
        "root SHA-256 fingerprint: {}",
        summary.root.sha256_fingerprint
    );
    Ok(())
}

/// The CA a reading command describes. Never creates one: a CA minted here, in whatever
/// directory the command ran from, would be one no device trusts.
fn existing_authority(config: &Config) -> anyhow::Result<Authority> {
    let dir = existing_state(config)?.join("ca");
    Authority::load(&dir).with_context(|| {
        format!(
            "no Warden CA in {} (`gatewayd ca init` or `gatewayd run` creates it)",
            absolute(&dir).display()
        )
    })
}

fn show(authority: &Authority) -> anyhow::Result<()> {
    let summary = authority.summary()?;
    out!("directory: {}", absolute(&summary.dir).display());
    for (label, cert) in [
        ("root", &summary.root),
        ("intermediate", &summary.intermediate),
    ] {
        out!("{label}:");
        out!("  subject: {}", cert.subject);
        out!("  valid: {} .. {}", cert.not_before, cert.not_after);
        out!("  sha256 fingerprint: {}", cert.sha256_fingerprint);
        out!("  spki sha256 (base64): {}", cert.spki_sha256_base64);
    }
    Ok(())
}
