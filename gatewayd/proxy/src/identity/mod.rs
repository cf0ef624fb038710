//! The identify phase: who is behind a connection. Proxy authentication (Basic, against a
//! users file), an allowed source range, or loopback on a loopback listener; everyone else is
//! refused, so the gateway is never an open proxy. Agent tunnel connections are identified by
//! their device certificate instead (see `tunnel`).

mod access;
mod guard;
mod throttle;
mod users;
mod verified;

use std::sync::Arc;

use policies::rules::Posture;

pub use access::{check_access, Access};
pub use guard::{AuthGuard, AuthOutcome};
pub use users::{bearer_token, hash_password, hex_sha256, UserDirectory};

/// The user (and groups) a connection acts for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    pub user: String,
    pub groups: Vec<String>,
    /// How the user was established: `proxy_auth`, `proxy_token`, `source`, `device` or
    /// `anonymous`.
    pub method: &'static str,
    /// The enrolled device, for connections that came through the agent tunnel.
    pub device: Option<Arc<DeviceIdentity>>,
}

impl Identity {
    /// Whether the identity is one person (credentials or a device certificate), so per-user
    /// shares apply to it. Anonymous and source-range identities stand for many people.
    pub fn is_person(&self) -> bool {
        matches!(self.method, "proxy_auth" | "proxy_token" | "device")
    }
}

/// An enrolled device (verified by its certificate) and its posture: what the agent
/// reported, or, when `signed`, what an MDM key the gateway trusts signed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceIdentity {
    pub id: String,
    pub posture: Posture,
    pub signed: bool,
    /// `key=value;...` of the posture, as events record it (`posture_signed=true` last when
    /// signed; reported posture may not use that key).
    pub summary: String,
}

impl DeviceIdentity {
    pub fn new(id: String, posture: Posture, signed: bool) -> Self {
        let summary = devices::posture_summary(&posture, signed);
        Self {
            id,
            posture,
            signed,
            summary,
        }
    }
}

impl Identity {
    pub fn anonymous() -> Self {
        Self {
            user: "anonymous".into(),
            groups: Vec::new(),
            method: "anonymous",
            device: None,
        }
    }
}
