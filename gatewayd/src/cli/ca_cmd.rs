//! `gatewayd ca init | show | export`: create the CA, describe it, and hand its root to
//! administrators for installation on devices.

use std::io::Write;
use std::path::PathBuf;

use anyhow::Context;
use clap::Subcommand;

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
    let (authority, created) = open_authority(config)?;
    match command {
        CaCommand::Init => {
            let summary = authority.summary()?;
            if created {
                println!("created Warden CA in {}", summary.dir.display());
            } else {
                println!("Warden CA already present in {}", summary.dir.display());
            }
            println!(
                "root SHA-256 fingerprint: {}",
                summary.root.sha256_fingerprint
            );
        }
        CaCommand::Show => {
            let summary = authority.summary()?;
            println!("directory: {}", summary.dir.display());
            for (label, cert) in [
                ("root", &summary.root),
                ("intermediate", &summary.intermediate),
            ] {
                println!("{label}:");
                println!("  subject: {}", cert.subject);
                println!("  valid: {} .. {}", cert.not_before, cert.not_after);
                println!("  sha256 fingerprint: {}", cert.sha256_fingerprint);
                println!("  spki sha256 (base64): {}", cert.spki_sha256_base64);
            }
        }
        CaCommand::Export { der, out } => {
            let bytes: Vec<u8> = if *der {
                authority.root_der().to_vec()
            } else {
                authority.root_pem().as_bytes().to_vec()
            };
            match out {
                Some(path) => std::fs::write(path, &bytes)
                    .with_context(|| format!("writing {}", path.display()))?,
                None => std::io::stdout().write_all(&bytes)?,
            }
        }
    }
    Ok(())
}
