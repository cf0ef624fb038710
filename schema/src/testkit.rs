//! A private `clickhouse-server` for tests (feature `testkit`): a generated config in a temp
//! dir, free loopback ports, started from the installed binary and stopped on drop.
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! let server = schema::testkit::ClickHouseServer::start()?;
//! let client = server.migrated_client("warden").await?;
//! # Ok(()) }
//! ```
//!
//! `start` blocks until the server answers (0.1–0.5 s with 18.16 on this machine), which is
//! fine inside `#[tokio::test]`. One server can host many databases, so tests that share one
//! stay apart by database name. After `stop`/`kill` + `restart`, a client's first request may
//! still go out on a pooled connection to the old process and fail with a network error.
//!
//! The server runs as the current user, root included (18.16 does not refuse root). Its data
//! lives in the temp dir, so [`ClickHouseServer::restart`] brings the same tables back, on the
//! same ports. It never touches the system's /etc/clickhouse-server or /var/lib/clickhouse, and
//! a test that cannot find the binary fails with the install command rather than skipping.

mod config;
mod process;

use std::path::{Path, PathBuf};
use std::process::Child;
use std::time::{Duration, Instant};

use clickhouse::Client;

pub use config::{Ports, READER_PASSWORD, READER_USER};

/// How long a start may take before it is an error.
const READY_LIMIT: Duration = Duration::from_secs(30);
/// How long `stop` waits after SIGTERM before SIGKILL.
const STOP_GRACE: Duration = Duration::from_secs(10);
/// Starts retried with fresh ports when the first ones were taken meanwhile.
const START_ATTEMPTS: usize = 3;

/// Why the harness could not provide a server.
#[derive(Debug, thiserror::Error)]
pub enum TestkitError {
    #[error(
        "clickhouse-server is required: apt-get install -y clickhouse-server clickhouse-client"
    )]
    Missing,
    #[error("{context}: {source}")]
    Io {
        context: String,
        #[source]
        source: std::io::Error,
    },
    #[error("clickhouse-server on port {http_port} did not become ready: {reason}\n--- server log ({dir}) ---\n{log}")]
    NotReady {
        http_port: u16,
        reason: String,
        dir: String,
        log: String,
    },
    #[error(transparent)]
    Schema(#[from] crate::Error),
}

impl TestkitError {
    fn io(context: impl Into<String>) -> impl FnOnce(std::io::Error) -> Self {
        let context = context.into();
        move |source| TestkitError::Io { context, source }
    }
}

/// A running (or stopped) test server. Dropping it kills the server and deletes its data.
pub struct ClickHouseServer {
    dir: tempfile::TempDir,
    binary: PathBuf,
    ports: Ports,
    child: Option<Child>,
    watchdog: Option<Child>,
    last_start: Duration,
}

impl ClickHouseServer {
    /// Writes a config into a new temp dir and starts the server; returns once `/ping` answers.
    pub fn start() -> Result<Self, TestkitError> {
        Self::start_with_binary(process::find_binary()?)
    }

    /// [`Self::start`] with a given `clickhouse-server` binary.
    pub fn start_with_binary(binary: impl Into<PathBuf>) -> Result<Self, TestkitError> {
        let binary = binary.into();
        if !binary.is_file() {
            return Err(TestkitError::Missing);
        }
        let dir = tempfile::Builder::new()
            .prefix("warden-clickhouse-")
            .tempdir()
            .map_err(TestkitError::io("creating the server's temp dir"))?;
        for sub in config::DIRS {
            std::fs::create_dir_all(dir.path().join(sub))
                .map_err(TestkitError::io(format!("creating {sub}/")))?;
        }
        std::fs::write(dir.path().join("users.xml"), config::users_xml())
            .map_err(TestkitError::io("writing users.xml"))?;
        let mut server = Self {
            dir,
            binary,
            ports: Ports { http: 0, tcp: 0 },
            child: None,
            watchdog: None,
            last_start: Duration::ZERO,
        };
        let mut attempt = 1;
        loop {
            let (http, tcp) = process::free_ports()?;
            server.ports = Ports { http, tcp };
            std::fs::write(
                server.dir.path().join("config.xml"),
                config::server_xml(server.dir.path(), server.ports),
            )
            .map_err(TestkitError::io("writing config.xml"))?;
            match server.launch() {
                Err(_) if attempt < START_ATTEMPTS && server.lost_port_race() => {
                    attempt += 1;
                    for log in ["logs/server.log", "logs/server.err.log"] {
                        let _ = std::fs::remove_file(server.dir.path().join(log));
                    }
                }
                other => return other.map(|()| server),
            }
        }
    }

    /// `http://127.0.0.1:<port>`, the HTTP interface.
    pub fn http_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.ports.http)
    }

    pub fn ports(&self) -> Ports {
        self.ports
    }

    /// The temp dir holding config, data and logs.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// The server's process id while it runs.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// How long the latest start or restart took until `/ping` answered.
    pub fn startup_time(&self) -> Duration {
        self.last_start
    }

    /// Connection options for `database` on this server.
    pub fn options(&self, database: &str) -> crate::ConnectOptions {
        crate::ConnectOptions::new(self.http_url(), database)
    }

    /// Connection options for the read-only reader ([`READER_USER`], database `warden` only).
    pub fn reader_options(&self) -> crate::ConnectOptions {
        let mut options = self.options("warden");
        options.user = Some(READER_USER.to_string());
        options.password = Some(READER_PASSWORD.to_string());
        options
    }

    /// A client for `database` (not created yet).
    pub fn client(&self, database: &str) -> Result<Client, TestkitError> {
        Ok(crate::connect(&self.options(database))?)
    }

    /// A client for `database` with every migration applied.
    pub async fn migrated_client(&self, database: &str) -> Result<Client, TestkitError> {
        let client = self.client(database)?;
        crate::Migrator::new(&client)?.migrate().await?;
        Ok(client)
    }

    /// True while the process runs and answers `/ping`.
    pub fn is_running(&mut self) -> bool {
        let alive = self
            .child
            .as_mut()
            .is_some_and(|c| matches!(c.try_wait(), Ok(None)));
        alive && process::ping(self.ports.http)
    }

    /// Graceful stop: SIGTERM, then SIGKILL after 10 s. Data stays for [`Self::restart`].
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            process::terminate(&mut child, STOP_GRACE);
        }
        self.stop_watchdog();
    }

    /// Immediate SIGKILL, as a crash would. Data stays for [`Self::restart`].
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            process::kill(&mut child);
        }
        self.stop_watchdog();
    }

    /// Stops the server if it runs and starts it again on the same data and ports.
    pub fn restart(&mut self) -> Result<(), TestkitError> {
        self.stop();
        self.launch()
    }

    /// The last `lines` lines of the server's log and error log, for failure messages.
    pub fn log_tail(&self, lines: usize) -> String {
        ["logs/server.log", "logs/server.err.log", "logs/stderr.log"]
            .iter()
            .filter_map(|name| {
                let text = std::fs::read_to_string(self.dir.path().join(name)).ok()?;
                let all: Vec<&str> = text.lines().collect();
                let tail = all[all.len().saturating_sub(lines)..].join("\n");
                (!tail.is_empty()).then(|| format!("== {name} ==\n{tail}"))
            })
            .collect::<Vec<_>>()
            .join("\n")
    }

    fn launch(&mut self) -> Result<(), TestkitError> {
        let started = Instant::now();
        let mut child = process::spawn(&self.binary, self.dir.path())?;
        let result = process::wait_ready(&mut child, self.ports.http, READY_LIMIT);
        if let Err(why) = result {
            process::kill(&mut child);
            let reason = match why {
                process::NotReady::Exited(status) => format!("the process exited ({status})"),
                process::NotReady::TimedOut => format!("no answer to /ping within {READY_LIMIT:?}"),
            };
            return Err(TestkitError::NotReady {
                http_port: self.ports.http,
                reason,
                dir: self.dir.path().display().to_string(),
                log: self.log_tail(40),
            });
        }
        self.last_start = started.elapsed();
        self.watchdog = process::spawn_watchdog(child.id());
        self.child = Some(child);
        Ok(())
    }

    fn lost_port_race(&self) -> bool {
        self.log_tail(200).contains("Address already in use")
    }

    fn stop_watchdog(&mut self) {
        if let Some(mut dog) = self.watchdog.take() {
            process::kill(&mut dog);
        }
    }
}

impl Drop for ClickHouseServer {
    fn drop(&mut self) {
        self.kill();
    }
}
