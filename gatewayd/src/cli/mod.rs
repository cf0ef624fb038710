//! The `gatewayd` command line: one binary, one subcommand per task an operator performs.

#[macro_use]
pub mod output;

mod admin_cmd;
mod aigw_budgets_cmd;
mod aigw_cmd;
mod aigw_explain_cmd;
mod ca_cmd;
mod catalog_cmd;
mod catalog_update_cmd;
mod check;
mod devices_cmd;
mod discovered_cmd;
mod dlp_cmd;
mod keys_cmd;
mod report_cmd;
mod requests_cmd;
mod schema_cmd;
mod state;

use std::path::PathBuf;

use clap::{Parser, Subcommand};

pub use admin_cmd::{run_admin, run_apps, AdminCommand, AppsCommand};
pub use aigw_cmd::{run_aigw, AigwCommand, AigwKeysCommand};
pub use ca_cmd::{run_ca, CaCommand};
pub use catalog_cmd::{run_catalog, run_catalog_offline, CatalogCommand};
pub use check::run_check;
pub use devices_cmd::{run_devices, DevicesCommand};
pub use discovered_cmd::{run_discovered, DiscoveredCommand};
pub use dlp_cmd::{run_dlp, DlpCommand};
pub use keys_cmd::{run_keys, KeysCommand};
pub use report_cmd::{run_report, ReportArgs};
pub use requests_cmd::{run_access_requests, AccessRequestsCommand};
pub use schema_cmd::{run_schema, SchemaCommand};

/// Warden's secure web gateway.
#[derive(Debug, Parser)]
#[command(
    name = "gatewayd",
    version,
    about = "Warden secure web gateway for AI traffic"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

/// `--config FILE`, accepted by every subcommand.
#[derive(Debug, clap::Args)]
pub struct ConfigArg {
    /// The config file `gatewayd run` uses (embedded defaults when omitted).
    #[arg(long, value_name = "FILE", global = true)]
    pub config: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the gateway.
    Run(ConfigArg),
    /// Validate the configuration; exit 0 when valid, 2 when not.
    Check(ConfigArg),
    /// Manage the interception CA.
    Ca {
        #[command(subcommand)]
        command: CaCommand,
        #[command(flatten)]
        config: ConfigArg,
    },
    /// Look up the AI app catalog.
    Catalog {
        #[command(subcommand)]
        command: CatalogCommand,
        #[command(flatten)]
        config: ConfigArg,
    },
    /// Approval statuses of AI apps.
    Apps {
        #[command(subcommand)]
        command: AppsCommand,
        #[command(flatten)]
        config: ConfigArg,
    },
    /// Shadow AI outside the catalog: list discovered hosts, add one to the catalog, block it,
    /// or mark it not AI.
    Discovered {
        #[command(subcommand)]
        command: DiscoveredCommand,
        #[command(flatten)]
        config: ConfigArg,
    },
    /// Employees' access requests: list them, approve one (the app becomes approved) or deny it.
    AccessRequests {
        #[command(subcommand)]
        command: AccessRequestsCommand,
        #[command(flatten)]
        config: ConfigArg,
    },
    /// Admin API access.
    Admin {
        #[command(subcommand)]
        command: AdminCommand,
        #[command(flatten)]
        config: ConfigArg,
    },
    /// ClickHouse schema migrations.
    Schema {
        #[command(subcommand)]
        command: SchemaCommand,
        #[command(flatten)]
        config: ConfigArg,
    },
    /// Data-loss prevention tools.
    Dlp {
        #[command(subcommand)]
        command: DlpCommand,
        #[command(flatten)]
        config: ConfigArg,
    },
    /// The Shadow AI report: overview, apps, app ID, errors (all apps or one), users, dlp,
    /// unapproved, anomalies.
    Report {
        #[command(flatten)]
        args: Box<ReportArgs>,
        #[command(flatten)]
        config: ConfigArg,
    },
    /// Device agents: enrollment tokens, enrolled devices, revocation.
    Devices {
        #[command(subcommand)]
        command: DevicesCommand,
        #[command(flatten)]
        config: ConfigArg,
    },
    /// The AI providers' keys, encrypted at rest: add, list, rotate, delete, rewrap.
    Keys {
        #[command(subcommand)]
        command: KeysCommand,
        #[command(flatten)]
        config: ConfigArg,
    },
    /// The AI gateway: virtual keys (create, list, revoke), prices, budgets, route explain.
    Aigw {
        #[command(subcommand)]
        command: AigwCommand,
        #[command(flatten)]
        config: ConfigArg,
    },
    /// Manage proxy users.
    Users {
        #[command(subcommand)]
        command: UsersCommand,
        #[command(flatten)]
        config: ConfigArg,
    },
}

#[derive(Debug, Subcommand)]
pub enum UsersCommand {
    /// Read a password from stdin and print its argon2id hash for the users file.
    HashPassword,
    /// Read a bearer token from stdin and print its SHA-256 for the users file.
    HashToken,
}
