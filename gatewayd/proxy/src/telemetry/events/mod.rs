//! Typed internal events (vector's `internal_events`): each observable thing the gateway
//! does is a struct, and its `emit` writes the log line (where there is one) and updates the
//! metric together, so the two cannot drift apart and a call site says what happened, not
//! which atomic to bump.
//!
//! An event carries only what its log line needs, borrowed; it must never log a secret
//! (credentials, cookies, bodies) and never take a label value from request text.

mod coaching;
mod connection;
mod gateway;
mod request;
mod tunnel;

pub use coaching::Coached;
pub use connection::{
    AcceptFailed, AccessDenied, ConnectionAccepted, ConnectionRejected, OpenConnection,
    UserOverLimit,
};
pub use gateway::{AgentPortCounted, ConfigReloadRefused, ConfigReloaded};
pub use request::{
    BodyBytes, EgressCheck, EgressRefused, InspectBudgetExhausted, RequestReceived, RequestRefused,
    UpstreamFailed, UpstreamRetried,
};
pub use tunnel::{
    LeafMinted, TlsHandshakeFailed, TunnelBypassed, TunnelIntercepted, TunnelRefusal, TunnelRefused,
};

use super::Metrics;

/// Something that happened, told to the logs and the metrics at once.
pub trait InternalEvent {
    fn emit(self, metrics: &Metrics);
}
