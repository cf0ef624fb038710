//! Access requests, the security team's side: list them, and approve or deny one. Approving
//! sets the app's approval status to `approved` for everyone (through the same status book,
//! change log and audit trail as any status change), then closes the request; denying only
//! closes it. A per-person grant would need a rule in a policy file, which the dashboard does
//! not write. Used by the API (`/api/v1/access-requests`) and the dashboard.
//!
//! What it must never do: change anything without the admin role (callers check it), or
//! close a request as approved when the status change failed.

use policies::access::{AccessRequest, AccessState};
use policies::status::StatusChange;
use policies::AppStatus;

use crate::audit;
use crate::view::{ProxyView, ViewError};

/// What a decision did.
pub struct Decided {
    pub request: AccessRequest,
    /// The status change approving made (none when the app was approved already, or denied).
    pub change: Option<StatusChange>,
}

/// Requests in the order the security team works them: open ones first (oldest first),
/// then decided ones (newest first).
pub fn listed(proxy: &dyn ProxyView, state: Option<AccessState>) -> Vec<AccessRequest> {
    let all = proxy.access_requests();
    let (open, mut decided): (Vec<_>, Vec<_>) = all
        .into_iter()
        .filter(|r| state.is_none_or(|s| r.state == s))
        .partition(|r| r.state == AccessState::Open);
    decided.reverse();
    open.into_iter().chain(decided).collect()
}

/// Approves or denies request `id` for `actor` (an admin), with the audit record.
pub fn decide(
    proxy: &dyn ProxyView,
    id: &str,
    approve: bool,
    actor: &str,
) -> Result<Decided, ViewError> {
    let request = proxy
        .access_requests()
        .into_iter()
        .find(|r| r.id == id)
        .ok_or_else(|| format!("no access request {id:?}"))?;
    if request.state != AccessState::Open {
        return Err(format!(
            "access request {id:?} was already {}",
            request.state.as_str()
        )
        .into());
    }
    let state_dir = proxy.settings().state_dir;
    let mut change = None;
    if approve && proxy.status_book().status(&request.app_id) != AppStatus::Approved {
        if proxy.catalog().app(&request.app_id).is_none() {
            return Err(format!("{} is no longer in the catalog", request.app_id).into());
        }
        let made = proxy.set_status(&request.app_id, AppStatus::Approved, actor)?;
        audit::record(
            &state_dir,
            actor,
            "set_app_status",
            &format!("{}: {} -> {}", request.app_id, made.old, made.new),
        );
        change = Some(made);
    }
    let request = proxy.decide_access_request(id, approve, actor)?;
    audit::record(
        &state_dir,
        actor,
        if approve {
            "approve_access_request"
        } else {
            "deny_access_request"
        },
        &format!("{id}: {} for {}", request.app_id, request.user),
    );
    Ok(Decided { request, change })
}
