//! Coaching and access requests, the employee's side of a policy: the state behind a `warn`
//! page's "Continue" and a block page's "Request access".
//!
//! - [`tickets`]: single-use, unguessable form tickets minted with each page, bound to the
//!   person, the app and the host the page was shown on (the CSRF token of those forms).
//! - [`passes`]: what "Continue" grants: a time-limited pass for one person and one app,
//!   held only here (no cookie or header a client could set or replay).
//! - [`requests`]: access requests, deduplicated, rate-limited per person, bounded, kept in
//!   `<state>/access-requests.json` for the security team.
//!
//! Nothing here trusts a client's word for who it is: the holder is the identity the proxy
//! established for the connection (proxy credentials, device certificate, or the source).

pub mod passes;
pub mod requests;
pub mod tickets;

use std::net::IpAddr;
use std::path::Path;

use crate::identity::Identity;

pub use passes::{Pass, Passes};
pub use requests::{AccessRequests, RequestRefused};
pub use tickets::{Ticket, TicketRefused, Tickets};

/// Who a pass or ticket belongs to, as the proxy knows them. A person (proxy credentials, a
/// device) is their user name and device; an identity many people share (anonymous, a
/// source range) is narrowed to the client address, so one person's pass is not everyone's.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Holder {
    pub user: String,
    pub device: String,
    /// Set only for identities that stand for many people.
    pub address: Option<IpAddr>,
}

impl Holder {
    pub fn of(identity: &Identity, client: IpAddr) -> Self {
        Self {
            user: identity.user.clone(),
            device: identity
                .device
                .as_ref()
                .map(|d| d.id.clone())
                .unwrap_or_default(),
            address: (!identity.is_person()).then(|| client.to_canonical()),
        }
    }
}

/// The gateway's coaching state, kept across reloads.
pub struct Coaching {
    pub tickets: Tickets,
    pub passes: Passes,
    pub requests: AccessRequests,
}

impl Coaching {
    /// Opens the access requests in `state_dir` (an empty book when there is none yet; a
    /// corrupt file is logged and set aside, never a reason not to start).
    pub fn open(state_dir: &Path) -> Self {
        Self {
            tickets: Tickets::default(),
            passes: Passes::default(),
            requests: AccessRequests::open(state_dir),
        }
    }
}
