//! `agent`: parse the command line and dispatch; the work lives in the library.

// clippy.toml's tracked-spawner rule is the gateway's: the agent has no drain to protect (its
// local clients reconnect through the next agent process), so it spawns with tokio directly.
#![allow(clippy::disallowed_methods)]

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use agent::config::AgentConfig;
use agent::listen::route::Router;
use agent::split::SplitTunnel;
use agent::status::{Status, StatusFile};
use agent::tunnel::Tunnel;
use clap::{Parser, Subcommand};

/// Warden's device agent.
#[derive(Debug, Parser)]
#[command(name = "agent", version, about = "Warden device agent")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Enroll this device with a gateway, using a token from `gatewayd devices enroll-token`.
    Enroll {
        /// The gateway's tunnel port: https://HOST:PORT
        #[arg(long)]
        gateway: String,
        #[arg(long)]
        token: String,
        /// SHA-256 fingerprint of the Warden root (`gatewayd ca show`), hex with or without colons.
        #[arg(long)]
        ca_fingerprint: Option<String>,
        /// Also add the Warden root to the system trust store (Linux), or print how.
        #[arg(long)]
        install_ca: bool,
        #[arg(long)]
        state_dir: Option<PathBuf>,
    },
    /// Run the local proxy and the tunnel to the gateway.
    Run {
        /// Local proxy address (default 127.0.0.1:3129, or `listen` in agent.toml).
        #[arg(long)]
        listen: Option<std::net::SocketAddr>,
        #[arg(long)]
        state_dir: Option<PathBuf>,
        /// Let client connections go direct while the gateway is unreachable.
        #[arg(long)]
        fail_open: bool,
        /// Split tunnel: comma-separated hosts, *.suffixes and ranges that go direct.
        #[arg(long, value_delimiter = ',')]
        direct: Vec<String>,
        /// JSON object of posture fields overriding what the agent collects.
        #[arg(long)]
        posture_file: Option<PathBuf>,
        /// A signed posture envelope an MDM writes for this device ({document, signature});
        /// forwarded unchanged to the gateway, which verifies it.
        #[arg(long)]
        signed_posture_file: Option<PathBuf>,
        /// Seconds between posture collections.
        #[arg(long)]
        posture_interval: Option<u64>,
        /// Threads that relay client connections (default 2 with 4 or more cores, else 1; or
        /// `threads` in agent.toml).
        #[arg(long)]
        threads: Option<usize>,
    },
    /// Show the gateway, the connection, the device id and the last posture.
    Status {
        #[arg(long)]
        state_dir: Option<PathBuf>,
        #[arg(long)]
        json: bool,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(false)
        .with_writer(std::io::stderr)
        .init();
    let job = match cli.command {
        Command::Run {
            listen,
            state_dir,
            fail_open,
            direct,
            posture_file,
            signed_posture_file,
            posture_interval,
            threads,
        } => {
            let dir = state_dir.unwrap_or_else(agent::state::default_dir);
            let mut config = match AgentConfig::load(&dir) {
                Ok(config) => config,
                Err(error) => {
                    eprintln!("agent: {error:#}");
                    return ExitCode::from(1);
                }
            };
            if let Some(listen) = listen {
                config.listen = listen;
            }
            config.fail_open |= fail_open;
            config.direct.extend(direct);
            if posture_file.is_some() {
                config.posture_file = posture_file;
            }
            if signed_posture_file.is_some() {
                config.signed_posture_file = signed_posture_file;
            }
            if let Some(secs) = posture_interval {
                config.posture_interval_secs = secs;
            }
            if let Some(threads) = threads {
                config.threads = threads;
            }
            if let Err(error) = config.validate() {
                eprintln!("agent: {error:#}");
                return ExitCode::from(2);
            }
            Job::Run(dir, config)
        }
        command => Job::Once(command),
    };
    // `run` relays on `threads` threads; the one-shot commands need one.
    let threads = match &job {
        Job::Run(_, config) => config.threads,
        Job::Once(_) => 1,
    };
    let runtime = match runtime(threads) {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("agent: {error}");
            return ExitCode::from(1);
        }
    };
    let result = runtime.block_on(async {
        match job {
            Job::Run(dir, config) => run(dir, config).await.map(|()| ExitCode::SUCCESS),
            Job::Once(command) => dispatch(command).await,
        }
    });
    match result {
        Ok(code) => code,
        Err(error) => {
            eprintln!("agent: {error:#}");
            ExitCode::from(1)
        }
    }
}

/// What `main` runs once the runtime is up.
enum Job {
    Run(PathBuf, AgentConfig),
    Once(Command),
}

/// One thread: bytes move between sockets and the one HTTP/2 connection without cross-thread
/// wake-ups (the least CPU per request). More: a multi-thread runtime, so that relaying many
/// new connections at once is not capped at one core.
fn runtime(threads: usize) -> std::io::Result<tokio::runtime::Runtime> {
    if threads <= 1 {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
    } else {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(threads)
            .thread_name("agent-relay")
            .enable_all()
            .build()
    }
}

async fn dispatch(command: Command) -> anyhow::Result<ExitCode> {
    match command {
        Command::Enroll {
            gateway,
            token,
            ca_fingerprint,
            install_ca,
            state_dir,
        } => {
            let dir = state_dir.unwrap_or_else(agent::state::default_dir);
            let fingerprint = match ca_fingerprint.as_deref().map(agent::pin::parse_fingerprint) {
                Some(Ok(f)) => Some(f),
                Some(Err(error)) => {
                    eprintln!("agent: {error}");
                    return Ok(ExitCode::from(2));
                }
                None => None,
            };
            let enrolled = agent::enroll::enroll(agent::enroll::EnrollArgs {
                gateway: &gateway,
                token: &token,
                fingerprint,
                state_dir: &dir,
            })
            .await?;
            println!(
                "enrolled device {} for {} with {}; state in {}",
                enrolled.device_id,
                enrolled.user,
                enrolled.gateway,
                dir.display()
            );
            if install_ca {
                agent::enroll::install_ca(&dir)?;
            }
            println!("{}", enrolled.device_id);
            Ok(ExitCode::SUCCESS)
        }
        // `main` resolves `run`'s settings before the runtime exists, and runs it itself.
        Command::Run { .. } => anyhow::bail!("`run` is started by main"),
        Command::Status { state_dir, json } => {
            let dir = state_dir.unwrap_or_else(agent::state::default_dir);
            let (status, running) = agent::status::read(&dir)?;
            if json {
                let mut value = serde_json::to_value(&status)?;
                value["running"] = running.into();
                println!("{}", serde_json::to_string_pretty(&value)?);
            } else {
                println!("gateway:    {}", status.gateway);
                println!(
                    "connection: {}{}",
                    if running {
                        status.connection.as_str()
                    } else {
                        "not running"
                    },
                    status
                        .last_error
                        .as_deref()
                        .filter(|_| status.connection != "connected")
                        .map(|e| format!(" ({e})"))
                        .unwrap_or_default()
                );
                if running && status.connection == "refused" {
                    println!("            the gateway refuses this device; the agent stopped trying: enroll again with `agent enroll`");
                }
                println!("device:     {} ({})", status.device_id, status.user);
                println!("listen:     {}", status.listen);
                println!("fail open:  {}", status.fail_open);
                println!("posture:");
                for (k, v) in &status.posture {
                    println!("  {k}: {v}");
                }
            }
            Ok(if running {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            })
        }
    }
}

async fn run(dir: PathBuf, config: AgentConfig) -> anyhow::Result<()> {
    let enrollment = agent::state::read_enrollment(&dir)?;
    let tls = agent::tunnel::device_tls(&dir)?;
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .map_err(|e| anyhow::anyhow!("binding {}: {e}", config.listen))?;
    let local = listener.local_addr()?;
    let status = Arc::new(StatusFile::new(
        &dir,
        Status {
            pid: std::process::id(),
            listen: local.to_string(),
            gateway: enrollment.gateway.clone(),
            device_id: enrollment.device_id.clone(),
            user: enrollment.user.clone(),
            connection: "connecting".into(),
            since_unix: agent::state::now_unix(),
            fail_open: config.fail_open,
            ..Status::default()
        },
    ));
    let tunnel = Arc::new(Tunnel::new(
        &enrollment.gateway,
        tls,
        config.posture_file.clone(),
        config.signed_posture_file.clone(),
        Duration::from_secs(config.posture_interval_secs),
        status,
    )?);
    tokio::spawn(tunnel.clone().run());
    let router = Arc::new(Router {
        tunnel,
        split: SplitTunnel::parse(&config.direct)?,
        fail_open: config.fail_open,
        wait: Duration::from_millis(config.connect_wait_ms),
    });
    tracing::info!(listen = %local, gateway = %enrollment.gateway, device = %enrollment.device_id, "agent running");
    let serve = agent::listen::serve(listener, router, config.allow_sources.clone());
    tokio::select! {
        () = serve => {}
        _ = tokio::signal::ctrl_c() => {}
        () = terminate() => {}
    }
    tracing::info!("agent stopped");
    Ok(())
}

async fn terminate() {
    #[cfg(unix)]
    {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            s.recv().await;
            return;
        }
    }
    std::future::pending::<()>().await;
}
