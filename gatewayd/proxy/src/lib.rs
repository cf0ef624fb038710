//! `proxy`: Warden's data path. A forward proxy that terminates TLS with certificates it
//! mints, forwards over verified TLS, and runs every request through an explicit pipeline of
//! phases (identify, decide, inspect, forward, log). It reads its configuration from crate
//! `config`, writes events through crate `events` and never imports the admin plane or the
//! reports: the daemon (`gatewayd`) wires them together. See ARCHITECTURE.md for the map.

pub mod apps;
pub mod catalog_bundle;
pub mod coaching;
pub mod config_diff;
pub mod crypto;
pub mod dlp_engine;
pub mod gateway;
pub mod identity;
pub mod inspect;
pub mod intercept;
pub mod io;
pub mod listen;
pub mod outcome;
pub mod pipeline;
pub mod policy_files;
pub mod respond;
pub mod serve;
pub mod telemetry;
pub mod tenant;
pub mod upstream;
