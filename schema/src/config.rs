//! The `[clickhouse]` section of gatewayd's configuration: where ClickHouse is, the writer and
//! reader users, and whether migrations run at start. It lives here, beside the migrations and
//! the reader-user setup it configures, so the events path and the reports read one struct; the
//! daemon's config module composes it into the whole file (`deny_unknown_fields` and positioned
//! errors are serde's and toml's, whichever crate declares the struct).

use std::path::PathBuf;

use serde::Deserialize;

/// Where events go.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ClickHouseConfig {
    pub url: String,
    pub database: String,
    pub user: Option<String>,
    pub password: Option<String>,
    /// A file whose first line is the password, instead of `password` (for secrets mounted
    /// by systemd credentials, Docker or Kubernetes); read at start and on every reload.
    pub password_file: Option<PathBuf>,
    /// The user every report and log explorer query runs as: one that can only read the
    /// `database` (a `SELECT ON warden.*` grant, or `allow_databases` + a `readonly` profile on
    /// old servers; deploy/clickhouse/). Migrations create it where the server allows SQL
    /// users. Unset: reports run as `user`, with a warning at start and from `gatewayd check`.
    pub reader_user: Option<String>,
    pub reader_password: Option<String>,
    /// Like `password_file`, for `reader_password`.
    pub reader_password_file: Option<PathBuf>,
    /// Apply pending migrations at start (retried in the background while ClickHouse is down).
    pub migrate_on_start: bool,
}

impl Default for ClickHouseConfig {
    fn default() -> Self {
        Self {
            url: "http://127.0.0.1:8123".into(),
            database: "warden".into(),
            user: None,
            password: None,
            password_file: None,
            reader_user: None,
            reader_password: None,
            reader_password_file: None,
            migrate_on_start: true,
        }
    }
}
