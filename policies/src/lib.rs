//! Warden's decisions, as pure and synchronous functions over data.
//!
//! - [`catalog`]: which AI app a host and path belong to, and which endpoints carry prompts or
//!   uploads (the shipped catalog is embedded; extra files come in as text).
//! - [`discovery`]: heuristics that flag AI API traffic to hosts outside the catalog.
//! - [`status`]: approval statuses of apps and the book that records who changed them.
//! - [`rules`]: policy files and the per-connection and per-request verdicts.
//! - [`access`]: employees' requests for access to an app, deduplicated and bounded.
//!
//! Data-loss prevention (the detectors, profiles, masking and redaction) is its own crate,
//! `dlp`; rules here only name its profiles. This crate uses two things from it: the
//! [`Confidence`](dlp::Confidence) scale that discovery shares with DLP findings, and the
//! positioned errors of [`source`] (re-exported, so both crates report `file:line:col` alike).
//!
//! Nothing in this crate reads files, opens sockets or keeps global state: the daemon reads text
//! and hands it over, and every decision is a function of its inputs. Errors in files carry
//! `file:line:col` so `gatewayd check` can print them as compilers do.

pub mod access;
pub mod catalog;
pub mod discovery;
pub mod host;
pub mod host_list;
pub mod host_pattern;
pub mod rules;
pub mod status;
pub mod tenant;

pub use catalog::{Catalog, CatalogError, Match};
pub use dlp::source;
pub use rules::{ConnectVerdict, Facts, Policy, PolicyError, Verdict};
pub use source::{SourceError, SourceErrors};
pub use status::{AppStatus, StatusBook};
pub use tenant::TenantUse;
