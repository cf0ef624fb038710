//! Warden's device agent: keeps a laptop's web traffic going through Warden wherever it is.
//!
//! `agent enroll` trades a one-time token for a device certificate (the key never leaves the
//! device); `agent run` serves a local proxy (HTTP CONNECT, absolute-form HTTP, SOCKS5, PAC)
//! whose every client connection becomes one CONNECT stream over a single mTLS HTTP/2
//! connection to gatewayd's tunnel port, and reports the device's posture on it.
//!
//! The agent depends on no gateway crate: it speaks to gatewayd only over the tunnel
//! protocol (see `tunnel.rs`).

// clippy.toml's tracked-spawner rule is the gateway's: the agent has no drain to protect (its
// local clients reconnect through the next agent process), so it spawns with tokio directly.
#![allow(clippy::disallowed_methods)]

pub mod config;
pub mod enroll;
pub mod listen;
pub mod pin;
pub mod posture;
pub mod refusal;
pub mod split;
pub mod state;
pub mod status;
pub mod tunnel;
