//! `gatewayd discovered list | decisions | add | block | not-ai`: shadow-AI triage from the
//! shell, the same decisions as the dashboard and the API, written under the state lock and
//! recorded in the admin audit trail. A running gatewayd applies them within a second (the
//! decisions file is watched) without a restart.

use clap::Subcommand;

use super::state::{actor, existing_state, unix_ms_text};
use config::Config;
use policies::discovery::decision::{DecisionKind, DecisionRequest};
use proxy::apps::{decide, DiscoveredApps, StatusStore};
use proxy::policy_files::load_policy;

#[derive(Debug, Subcommand)]
pub enum DiscoveredCommand {
    /// Hosts outside the catalog whose traffic looks like AI, not decided yet.
    List {
        /// One JSON object per line.
        #[arg(long)]
        json: bool,
    },
    /// What was decided about discovered hosts.
    Decisions {
        /// One JSON object per line.
        #[arg(long)]
        json: bool,
    },
    /// Make a host a catalog app.
    Add {
        host: String,
        #[arg(long)]
        name: Option<String>,
        /// chat, code, image, video, audio, writing, meeting, search, api, agents, data,
        /// suite, other.
        #[arg(long)]
        category: Option<String>,
        /// approved, unapproved, in_review, unreviewed (default unreviewed).
        #[arg(long)]
        status: Option<String>,
        /// The app id (default: the host's labels joined by `-`).
        #[arg(long)]
        id: Option<String>,
    },
    /// Block a host: a catalog app with the status unapproved.
    Block {
        host: String,
        #[arg(long)]
        name: Option<String>,
    },
    /// Mark a host not AI: discovery ignores it from now on.
    NotAi { host: String },
}

pub fn run_discovered(config: &Config, command: &DiscoveredCommand) -> anyhow::Result<u8> {
    let dir = existing_state(config)?;
    let request = match command {
        DiscoveredCommand::List { json } => {
            let decided: Vec<String> = proxy::apps::decisions::read(dir)
                .map_err(anyhow::Error::msg)?
                .into_iter()
                .map(|d| d.host)
                .collect();
            let apps = DiscoveredApps::open(dir).list();
            let shown = apps.iter().filter(|a| !decided.contains(&a.host));
            if !*json {
                out!(
                    "{:<40} {:>9}  {:<7} {:<24} EVIDENCE",
                    "HOST",
                    "REQUESTS",
                    "CONF",
                    "LAST SEEN"
                );
            }
            for app in shown {
                if *json {
                    out!("{}", serde_json::to_string(app)?);
                } else {
                    out!(
                        "{:<40} {:>9}  {:<7} {:<24} {}",
                        app.host,
                        app.requests,
                        app.confidence,
                        unix_ms_text(app.last_seen_unix_ms),
                        app.evidence.join("; ")
                    );
                }
            }
            return Ok(0);
        }
        DiscoveredCommand::Decisions { json } => {
            for d in proxy::apps::decisions::read(dir).map_err(anyhow::Error::msg)? {
                if *json {
                    out!("{}", serde_json::to_string(&d)?);
                } else {
                    let what = match d.kind {
                        DecisionKind::Catalog => {
                            format!("catalog app {}", d.app_id.as_deref().unwrap_or(""))
                        }
                        DecisionKind::NotAi => "not AI".to_string(),
                    };
                    out!(
                        "{:<40} {:<32} {}  {}",
                        d.host,
                        what,
                        d.decided_by,
                        unix_ms_text(d.decided_at_unix_ms)
                    );
                }
            }
            return Ok(0);
        }
        DiscoveredCommand::Add {
            host,
            name,
            category,
            status,
            id,
        } => DecisionRequest {
            host: host.clone(),
            action: "catalog".into(),
            name: name.clone(),
            category: category.clone(),
            status: status.clone(),
            app_id: id.clone(),
        },
        DiscoveredCommand::Block { host, name } => DecisionRequest {
            host: host.clone(),
            action: "block".into(),
            name: name.clone(),
            ..Default::default()
        },
        DiscoveredCommand::NotAi { host } => DecisionRequest {
            host: host.clone(),
            action: "not_ai".into(),
            ..Default::default()
        },
    };
    let loaded = load_policy(config).map_err(anyhow::Error::msg)?;
    let statuses = StatusStore::open(dir)?;
    let who = actor();
    match decide(dir, &loaded.catalog, &statuses, &request, &who) {
        Ok(done) => {
            let d = &done.decision;
            let detail = match (&d.app_id, &done.status_change) {
                (Some(id), Some(change)) => format!(
                    "{}: {} as app {id} ({} -> {})",
                    d.host, request.action, change.old, change.new
                ),
                _ => format!("{}: {}", d.host, request.action),
            };
            admin::audit::record(dir, &who, "decide_discovered", &detail);
            out!("{detail}");
            Ok(0)
        }
        Err(e) => {
            eprintln!("gatewayd: {e}");
            Ok(2)
        }
    }
}
