//! `gatewayd catalog match URL [--json]` and `gatewayd catalog list [--json]`: what the
//! gateway thinks a URL is, and every app it knows.

use clap::Subcommand;
use serde_json::json;

use crate::config::Config;
use crate::policy_files::load_policy;

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
}

/// Runs a catalog command; returns the exit code.
pub fn run_catalog(config: &Config, command: &CatalogCommand) -> anyhow::Result<u8> {
    let loaded = load_policy(&config.policies).map_err(anyhow::Error::msg)?;
    let catalog = loaded.catalog;
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
                    println!("{}", json!({ "url": url, "app": null }));
                } else {
                    println!("{host}: no app in the catalog");
                }
                return Ok(1);
            };
            let endpoint = found.endpoint("POST", path).map(|e| match e {
                policies::catalog::Endpoint::Prompt(_) => "prompt",
                policies::catalog::Endpoint::Upload(_) => "upload",
            });
            let kind = format!("{:?}", found.kind).to_ascii_lowercase();
            if *json {
                println!(
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
                println!(
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
        CatalogCommand::List { json } => {
            if *json {
                println!("{}", serde_json::to_string(catalog.apps())?);
            } else {
                for app in catalog.apps() {
                    println!(
                        "{:<32} {:<8} risk {}  {}",
                        app.id,
                        app.category.as_str(),
                        app.risk,
                        app.name
                    );
                }
                eprintln!(
                    "{} apps, {} hosts",
                    catalog.apps().len(),
                    catalog.host_count()
                );
            }
            Ok(0)
        }
    }
}
