//! `gatewayd apps requests`: the employees' access requests in the state directory, as the
//! dashboard's Access requests page shows them. Read-only: the running daemon owns the file
//! (decisions go through the dashboard or `POST /api/v1/access-requests/{id}/approve|deny`),
//! and reading never creates, moves or rewrites anything.

use super::state::{existing_state, unix_ms_text};
use config::Config;
use policies::access::AccessBook;

pub fn run_requests(config: &Config, json: bool) -> anyhow::Result<u8> {
    let path = existing_state(config)?.join(proxy::coaching::requests::FILE);
    let book = match std::fs::read_to_string(&path) {
        Ok(text) => {
            AccessBook::from_json(&text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => AccessBook::default(),
        Err(e) => return Err(anyhow::anyhow!("{}: {e}", path.display())),
    };
    if json {
        for request in book.requests() {
            out!("{}", serde_json::to_string(request)?);
        }
        return Ok(0);
    }
    out!(
        "{:<12}  {:<23}  {:<8}  {:<20} {:<20} {:>5}  REASON",
        "ID",
        "REQUESTED",
        "STATE",
        "USER",
        "APP",
        "ASKED"
    );
    for r in book.requests() {
        out!(
            "{:<12}  {:<23}  {:<8}  {:<20} {:<20} {:>5}  {}",
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
