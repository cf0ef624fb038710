//! The identify phase: who is behind a connection. Proxy authentication (Basic, against a
//! users file), an allowed source range, or loopback on a loopback listener; everyone else is
//! refused, so the gateway is never an open proxy.

mod access;
mod users;

pub use access::{check_access, Access};
pub use users::{hash_password, hex_sha256, UserDirectory};

/// The user (and groups) a connection acts for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    pub user: String,
    pub groups: Vec<String>,
    /// How the user was established: `proxy_auth`, `source` or `anonymous`.
    pub method: &'static str,
}

impl Identity {
    pub fn anonymous() -> Self {
        Self {
            user: "anonymous".into(),
            groups: Vec::new(),
            method: "anonymous",
        }
    }
}
