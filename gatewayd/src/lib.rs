//! `gatewayd`: Warden's secure web gateway. A forward proxy that terminates TLS with
//! certificates it mints, forwards over verified TLS, and runs every request through an
//! explicit pipeline of phases. See ARCHITECTURE.md for the map.

pub mod admin_host;
pub mod agent_host;
pub mod apps;
pub mod catalog_bundle;
pub mod cli;
pub mod cpu;
pub mod daemon;
pub mod dlp_engine;
pub mod events_setup;
pub mod gateway;
pub mod identity;
pub mod inspect;
pub mod intercept;
pub mod io;
pub mod listen;
pub mod pipeline;
pub mod policy_files;
pub mod respond;
pub mod serve;
pub mod telemetry;
pub mod upstream;
