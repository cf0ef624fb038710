//! `gatewayd access-requests list | approve ID | deny ID` (and `gatewayd apps requests`, the
//! list under its older name): the employees' access requests in the state directory, as the
//! dashboard's Access requests page shows them, decided as the dashboard and
//! `POST /api/v1/access-requests/{id}/approve|deny` decide them. Approving sets the app's
//! status to `approved` (status book, change log, audit trail), then closes the request;
//! denying only closes it. Writes go under the state directory's lock and a running daemon
//! sees them on its next read; listing never creates, moves or rewrites anything.

use clap::Subcommand;

use super::state::{actor, existing_state, unix_ms_text};
use config::Config;
use policies::access::{AccessBook, AccessState};
use policies::AppStatus;
use proxy::apps::StatusStore;
use proxy::coaching::AccessRequests;
use proxy::policy_files::load_policy;

#[derive(Debug, Subcommand)]
pub enum AccessRequestsCommand {
    /// The requests: open ones first (oldest first), then decided ones.
    List {
        /// open, approved, denied or all (default all).
        #[arg(long)]
        state: Option<String>,
        /// One JSON object per line.
        #[arg(long)]
        json: bool,
    },
    /// Approve an open request: the app becomes `approved` for everyone.
    Approve { id: String },
    /// Deny an open request (nothing else changes).
    Deny { id: String },
}

pub fn run_access_requests(config: &Config, command: &AccessRequestsCommand) -> anyhow::Result<u8> {
    match command {
        AccessRequestsCommand::List { state, json } => {
            let state = match state.as_deref() {
                None | Some("all") => None,
                Some("open") => Some(AccessState::Open),
                Some("approved") => Some(AccessState::Approved),
                Some("denied") => Some(AccessState::Denied),
                Some(other) => {
                    eprintln!("gatewayd: --state {other:?}: use open, approved, denied or all");
                    return Ok(2);
                }
            };
            list(config, state, *json)
        }
        AccessRequestsCommand::Approve { id } => decide(config, id, true),
        AccessRequestsCommand::Deny { id } => decide(config, id, false),
    }
}

/// `gatewayd apps requests`: every request, as read from the file.
pub fn run_requests(config: &Config, json: bool) -> anyhow::Result<u8> {
    list(config, None, json)
}

fn list(config: &Config, state: Option<AccessState>, json: bool) -> anyhow::Result<u8> {
    let path = existing_state(config)?.join(proxy::coaching::requests::FILE);
    let book = match std::fs::read_to_string(&path) {
        Ok(text) => {
            AccessBook::from_json(&text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => AccessBook::default(),
        Err(e) => return Err(anyhow::anyhow!("{}: {e}", path.display())),
    };
    let chosen = book
        .requests()
        .iter()
        .filter(|r| state.is_none_or(|s| r.state == s));
    let (open, decided): (Vec<_>, Vec<_>) = chosen.partition(|r| r.state == AccessState::Open);
    let ordered = open.into_iter().chain(decided.into_iter().rev());
    if json {
        for request in ordered {
            out!("{}", serde_json::to_string(request)?);
        }
        return Ok(0);
    }
    // The USER column as wide as its longest name (`anonymous (127.0.0.1)` and the like), so
    // the columns after it stay aligned; a name past 64 characters still overflows.
    let ordered: Vec<_> = ordered.collect();
    let width = ordered
        .iter()
        .map(|r| r.user.chars().count())
        .max()
        .unwrap_or(0)
        .clamp(20, 64);
    out!(
        "{:<12}  {:<23}  {:<8}  {:<width$} {:<20} {:>5}  REASON",
        "ID",
        "REQUESTED",
        "STATE",
        "USER",
        "APP",
        "ASKED"
    );
    for r in ordered {
        out!(
            "{:<12}  {:<23}  {:<8}  {:<width$} {:<20} {:>5}  {}",
            r.id,
            unix_ms_text(r.requested_at_unix_ms),
            r.state.as_str(),
            r.user,
            r.app_id,
            r.repeats.saturating_add(1),
            r.reason
        );
    }
    Ok(0)
}

/// Approves or denies request `id`; exit 2 when it is unknown or already decided.
fn decide(config: &Config, id: &str, approve: bool) -> anyhow::Result<u8> {
    let dir = existing_state(config)?;
    let requests = AccessRequests::open(dir);
    let Some(request) = requests.list().into_iter().find(|r| r.id == id) else {
        eprintln!("gatewayd: no access request {id:?} (see `gatewayd access-requests list`)");
        return Ok(2);
    };
    if request.state != AccessState::Open {
        eprintln!(
            "gatewayd: access request {id:?} was already {}",
            request.state.as_str()
        );
        return Ok(2);
    }
    let who = actor();
    if approve {
        let statuses = StatusStore::open(dir)?;
        if statuses.book().status(&request.app_id) != AppStatus::Approved {
            let loaded = load_policy(config).map_err(anyhow::Error::msg)?;
            if loaded.catalog.app(&request.app_id).is_none() {
                eprintln!("gatewayd: {} is no longer in the catalog", request.app_id);
                return Ok(2);
            }
            let change = statuses.set(&request.app_id, AppStatus::Approved, &who)?;
            admin::audit::record(
                dir,
                &who,
                "set_app_status",
                &format!("{}: {} -> {}", request.app_id, change.old, change.new),
            );
            out!("{}: {} -> {}", request.app_id, change.old, change.new);
        }
    }
    let decided = match requests.decide(id, approve, &who) {
        Ok(decided) => decided,
        Err(e) => {
            eprintln!("gatewayd: {e}");
            return Ok(2);
        }
    };
    admin::audit::record(
        dir,
        &who,
        if approve {
            "approve_access_request"
        } else {
            "deny_access_request"
        },
        &format!("{id}: {} for {}", decided.app_id, decided.user),
    );
    out!(
        "access request {id} {} ({} for {})",
        decided.state.as_str(),
        decided.app_id,
        decided.user
    );
    Ok(0)
}
