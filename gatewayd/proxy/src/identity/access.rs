//! Who may use the proxy port: never an open proxy.
//!
//! A client is let in when it sends valid proxy credentials, when its address is in
//! `proxy.allow_sources`, or when both the listener and the client are on loopback. Invalid
//! credentials are refused even from an allowed address: whoever sent them expects to be
//! someone.

use std::net::SocketAddr;

use http::HeaderMap;

use super::guard::{AuthGuard, AuthOutcome};
use super::Identity;
use crate::gateway::Snapshot;

/// The outcome of the access check.
#[derive(Debug)]
pub enum Access {
    Allowed(Identity),
    /// Credentials are required (or were wrong): answer 407 with a challenge.
    NeedsAuth,
    /// No way in from this address.
    Denied,
    /// Too many failed logins from this source or for this name: 429 with `Retry-After`.
    Throttled(std::time::Duration),
    /// Password checking is saturated: 503 with `Retry-After`.
    Busy,
}

/// Decides whether `client` may use the proxy, and as whom.
/// `peer` is the connected address (what access rules apply to); `client` is the client's own
/// address when a trusted forwarder reported it (what names the source, and what failed
/// logins are counted against).
pub async fn check_access(
    snapshot: &Snapshot,
    guard: &AuthGuard,
    peer: SocketAddr,
    client: SocketAddr,
    headers: &HeaderMap,
) -> Access {
    let credentials = headers
        .get("proxy-authorization")
        .and_then(|v| v.to_str().ok());
    if let (Some(users), Some(credentials)) = (snapshot.users.as_ref(), credentials) {
        let source = client.ip().to_canonical();
        return match guard.authenticate(users, source, credentials).await {
            AuthOutcome::Verified(identity) => Access::Allowed(identity),
            AuthOutcome::Failed => Access::NeedsAuth,
            AuthOutcome::Throttled(wait) => Access::Throttled(wait),
            AuthOutcome::Busy => Access::Busy,
        };
    }
    let ip = peer.ip().to_canonical();
    let client_ip = client.ip().to_canonical();
    let config = &snapshot.config.proxy;
    let local = config.listen.ip().is_loopback() && ip.is_loopback();
    let allowed_range = config.allow_sources.iter().any(|net| net.contains(&ip));
    if local || allowed_range {
        let named = snapshot
            .config
            .identity
            .sources
            .iter()
            .find(|s| s.cidr.contains(&client_ip));
        return Access::Allowed(match named {
            Some(source) => Identity {
                user: source.user.clone(),
                groups: source.groups.clone(),
                method: "source",
                device: None,
            },
            None => Identity {
                method: if allowed_range { "source" } else { "anonymous" },
                ..Identity::anonymous()
            },
        });
    }
    if snapshot.users.is_some() {
        Access::NeedsAuth
    } else {
        Access::Denied
    }
}
