//! The wire contract between Warden's device agent and gatewayd's agent port, written once so
//! the two sides cannot drift: the request paths, the enrollment bodies, the error body, the
//! posture report's limits, and the `x-warden-*` header names the gateway's refusals carry
//! (which the agent reads to tell its user why).
//!
//! The agent port is HTTP/2 over mutual TLS: `POST` [`ENROLL_PATH`] with an [`EnrollRequest`]
//! (the only request a connection without a device certificate may make) answered by
//! [`Enrolled`]; then `POST` [`POSTURE_PATH`] with a flat JSON object (see [`posture`]) and
//! `POST` [`SIGNED_POSTURE_PATH`] with the MDM's signed document, forwarded as it is; and
//! `CONNECT host:port` per client connection. A refusal is an [`ErrorBody`].
//!
//! Types and constants only: this crate does no I/O, and it depends on no other Warden crate
//! (the agent must not pull in the gateway's code).

use serde::{Deserialize, Serialize};

/// Enrollment: a one-time token and a CSR for the device's key.
pub const ENROLL_PATH: &str = "/v1/enroll";
/// The device's posture, as a flat JSON object (see [`posture`]).
pub const POSTURE_PATH: &str = "/v1/posture";
/// An MDM-signed posture document, forwarded unchanged.
pub const SIGNED_POSTURE_PATH: &str = "/v1/posture/signed";

/// The body of `POST` [`ENROLL_PATH`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnrollRequest {
    /// The one-time enrollment token from `gatewayd devices token`. Secret: never logged.
    pub token: String,
    /// PEM certificate signing request for the key the agent made on the device.
    pub csr: String,
    /// The device's hostname, for the operator's device list; may be empty.
    #[serde(default)]
    pub hostname: String,
}

/// The answer to a successful enrollment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Enrolled {
    pub device_id: String,
    /// The user the token was issued to, and their groups: policy applies to them.
    pub user: String,
    #[serde(default)]
    pub groups: Vec<String>,
    /// The device certificate, PEM, signed by the gateway's device CA.
    pub certificate: String,
}

/// Every refusal on the agent port: a sentence the agent shows its user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    pub error: String,
}

/// Limits of a posture report. The gateway refuses a report outside them as a whole; the agent
/// collects well within them.
pub mod posture {
    /// A posture report: field name to value.
    pub type Posture = std::collections::BTreeMap<String, String>;

    /// Fields in one report.
    pub const MAX_FIELDS: usize = 64;
    /// Bytes of a field name.
    pub const MAX_KEY_LEN: usize = 64;
    /// Bytes of a value (strings; booleans and numbers are sent as JSON and read as text).
    pub const MAX_VALUE_LEN: usize = 256;
    /// Bytes of the body of a posture report.
    pub const MAX_BODY: usize = 16 * 1024;
    /// Bytes of a signed posture document.
    pub const MAX_SIGNED_BODY: usize = 32 * 1024;
    /// The field only the gateway writes (whether the posture in force was signed): a report
    /// that sets it is refused.
    pub const RESERVED_FIELD: &str = "posture_signed";

    /// Whether one field may be reported: a name of 1 to [`MAX_KEY_LEN`] bytes and a value of
    /// at most [`MAX_VALUE_LEN`], neither holding `;`, CR or LF (the gateway joins fields into
    /// a `k=v;` summary for events and logs), and not [`RESERVED_FIELD`].
    pub fn field_ok(key: &str, value: &str) -> bool {
        let clean = |s: &str| !s.contains([';', '\n', '\r']);
        !key.is_empty()
            && key.len() <= MAX_KEY_LEN
            && clean(key)
            && key != RESERVED_FIELD
            && value.len() <= MAX_VALUE_LEN
            && clean(value)
    }
}

/// Headers on every answer the gateway gives itself (block pages, refusals, failures), which
/// the agent reads to explain a refusal. Lower case, as HTTP/2 sends them.
pub mod header {
    /// `block` for decisions, `error` for failures, `deny` for access control.
    pub const ACTION: &str = "x-warden-action";
    /// The rule or check that decided, e.g. `intercept.block`.
    pub const RULE: &str = "x-warden-rule";
    /// The request's id, to find its event.
    pub const REQUEST_ID: &str = "x-warden-request-id";
}

#[cfg(test)]
mod tests;
