//! Warden's ClickHouse schema: the one crate that owns table and column names.
//!
//! - [`migrate`]: numbered SQL migrations (embedded from `schema/migrations/`) and the runner
//!   that applies them in order, recording each in `schema_migrations`.
//! - [`rows`]: the row types written by the gateway (`http_events`, `dlp_findings`,
//!   `app_status_changes`, `ai_requests`), serialised as RowBinary by the `clickhouse` crate.
//! - [`tables`]: table names and which retention class each belongs to.
//! - [`retention`]: drops day (or month) partitions older than the configured ages.
//! - [`reader`]: creates the read-only user reports run as, where the server has SQL users.
//! - [`client`]: builds a `clickhouse::Client` that works on 18.16 and current releases.
//! - [`config`]: the `[clickhouse]` section of gatewayd's configuration ([`ClickHouseConfig`]).
//! - `testkit` (feature `testkit`): a private `clickhouse-server` for tests.
//!
//! The DDL keeps to what ClickHouse 18.16 (Debian's package, used by the tests) and current
//! releases both accept: no TTL, DateTime64, IPv6, Map or LowCardinality; retention by dropping
//! partitions. This crate never decides policy and never talks to anything but ClickHouse.

pub mod client;
pub mod config;
pub mod error;
pub mod migrate;
pub mod reader;
pub mod retention;
pub mod rows;
pub mod tables;
#[cfg(feature = "testkit")]
pub mod testkit;

pub use client::{connect, ConnectOptions};
pub use config::ClickHouseConfig;
pub use error::Error;
pub use migrate::{Migration, MigrationState, MigrationStatus, Migrator, MIGRATIONS};
pub use reader::{ensure_reader, ReaderSetup};
pub use retention::{apply_retention, DroppedPartition, RetentionPolicy};
pub use rows::{AiRequest, AppStatusChange, DlpFinding, HttpEvent};

/// Re-exported so users build rows and clients against the same version this crate uses.
pub use clickhouse;
