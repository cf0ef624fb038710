//! `gatewayd catalog match URL [--json]` and `gatewayd catalog list [--json]`: what the
//! gateway thinks a URL is, and every app it knows; `update`, `sign` and `keygen` for signed
//! catalog bundles (see `catalog_update_cmd`).

use std::path::PathBuf;

use clap::Subcommand;
use serde_json::json;

use super::catalog_update_cmd;

use config::Config;
use proxy::policy_files::load_policy;

#[derive(Debug, Subcommand)]
pub enum CatalogCommand {
    /// Which AI app a URL belongs to (exit 1 when none).
    Match {
        url: String,
        #[arg(long)]
        json: bool,
    },
    /// Every app in the catalog.
    List {
        #[arg(long)]
        json: bool,
    },
    /// Verify a signed catalog bundle (policies.catalog_update_keys) and install it; the
    /// running gateway reloads it. Exit 1 when refused.
    Update { file: PathBuf },
    /// Sign catalog files (or folders of *.toml) into a bundle (vendor side).
    Sign {
        /// Ed25519 private key (PKCS#8 PEM).
        #[arg(long)]
        key: PathBuf,
        /// Where to write the bundle.
        #[arg(long)]
        out: PathBuf,
        /// Issue time (unix seconds); default now. A gateway refuses bundles older than the
        /// one it has.
        #[arg(long)]
        issued_at: Option<i64>,
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Write a new Ed25519 signing key pair: PREFIX.key.pem and PREFIX.pub.pem.
    Keygen { prefix: PathBuf },
}

/// The catalog commands that need no gateway configuration (the vendor side); `None` for
/// the others.
pub fn run_catalog_offline(command: &CatalogCommand) -> Option<anyhow::Result<u8>> {
    match command {
        CatalogCommand::Sign {
            key,
            out,
            issued_at,
            files,
        } => Some(catalog_update_cmd::sign(key, out, files, *issued_at)),
        CatalogCommand::Keygen { prefix } => Some(catalog_update_cmd::keygen(prefix)),
        _ => None,
    }
}

/// Runs a catalog command; returns the exit code.
pub fn run_catalog(config: &Config, command: &CatalogCommand) -> anyhow::Result<u8> {
    match command {
        CatalogCommand::Update { file } => return catalog_update_cmd::update(config, file),
        CatalogCommand::Sign { .. } | CatalogCommand::Keygen { .. } => {
            return run_catalog_offline(command).unwrap_or(Ok(2))
        }
        CatalogCommand::Match { .. } | CatalogCommand::List { .. } => {}
    }
    let loaded = load_policy(config).map_err(anyhow::Error::msg)?;
    let catalog = loaded.catalog.clone();
    match command {
        CatalogCommand::Match { url, json } => {
            let parsed: http::Uri = match url.parse() {
                Ok(uri) => uri,
                Err(e) => {
                    eprintln!("gatewayd: {url:?} is not a URL: {e}");
                    return Ok(2);
                }
            };
            let Some(host) = parsed.host() else {
                eprintln!("gatewayd: {url:?} has no host (write https://host/path)");
                return Ok(2);
            };
            let path = parsed.path();
            let Some(found) = catalog.match_url(host, path) else {
                if *json {
                    out!("{}", json!({ "url": url, "app": null }));
                } else {
                    out!("{host}: no app in the catalog");
                }
                return Ok(1);
            };
            let endpoint = found.endpoint("POST", path).map(|e| match e {
                policies::catalog::Endpoint::Prompt(_) => "prompt",
                policies::catalog::Endpoint::Upload(_) => "upload",
            });
            let kind = found.kind.as_str();
            if *json {
                out!(
                    "{}",
                    json!({
                        "url": url,
                        "app": {
                            "id": found.app.id,
                            "name": found.app.name,
                            "vendor": found.app.vendor,
                            "category": found.app.category.as_str(),
                            "risk": found.app.risk,
                        },
                        "host_kind": kind,
                        "pattern": found.pattern,
                        "post_endpoint": endpoint,
                    })
                );
            } else {
                out!(
                    "{host}: {} ({}) — {}, risk {}, {kind} host via {}{}",
                    found.app.name,
                    found.app.id,
                    found.app.category,
                    found.app.risk,
                    found.pattern,
                    endpoint
                        .map(|e| format!(", POST is a {e} endpoint"))
                        .unwrap_or_default()
                );
            }
            Ok(0)
        }
        CatalogCommand::Update { .. }
        | CatalogCommand::Sign { .. }
        | CatalogCommand::Keygen { .. } => Ok(2),
        CatalogCommand::List { json } => {
            if *json {
                out!("{}", serde_json::to_string(catalog.apps())?);
            } else {
                for app in catalog.apps() {
                    out!(
                        "{:<32} {:<8} risk {}  {}",
                        app.id,
                        app.category.as_str(),
                        app.risk,
                        app.name
                    );
                }
                let source = match &loaded.bundle {
                    Some(b) => format!("signed bundle issued at {}", b.issued_at),
                    None => "shipped catalog".to_owned(),
                };
                eprintln!(
                    "{} apps, {} hosts ({source})",
                    catalog.apps().len(),
                    catalog.host_count()
                );
            }
            Ok(0)
        }
    }
}
