//! `gatewayd run`: open the state directory and CA, bind the listeners, serve, reload on
//! SIGHUP, and drain connections on SIGTERM or Ctrl-C.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

use anyhow::Context;
use ca::{Authority, LeafCache, LeafIssuer};
use tokio::net::TcpListener;
use tokio::signal::unix::{signal, SignalKind};
use tokio::task::JoinHandle;

use crate::logging::init_logging;
use config::{load_config, Config};
use proxy::gateway::{Gateway, Snapshot};

/// Creates the state directory (0700) if needed.
pub fn ensure_state_dir(dir: &Path) -> anyhow::Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    if !dir.exists() {
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .with_context(|| format!("creating state dir {}", dir.display()))?;
    }
    Ok(())
}

/// Makes state files written world-readable by older releases private (0600).
fn tighten_state_files(state_dir: &Path) {
    let (changed, failed) = state_files::modes::tighten(state_dir);
    for path in changed {
        tracing::info!(file = %path.display(), "state file was readable by others; now 0600");
    }
    for (path, error) in failed {
        tracing::warn!(file = %path.display(), %error, "state file is readable by others and could not be made private; run chmod 600 on it");
    }
}

/// Loads (or on first run creates) the CA in the state directory.
pub fn open_authority(config: &Config) -> anyhow::Result<(Authority, bool)> {
    ensure_state_dir(&config.state.dir)?;
    Authority::load_or_create(&config.state.dir.join("ca")).map_err(Into::into)
}

/// Runs the daemon until it is told to stop: start, serve until SIGTERM or Ctrl-C (reloading
/// on SIGHUP), drain.
pub async fn run(config_path: Option<&Path>) -> anyhow::Result<()> {
    let (config, source) = load_config(config_path)?;
    let otlp = init_logging(&config.log, &config.telemetry.otlp)?;
    let leaves = open_leaf_cache(&config)?;
    let listeners = Listeners::bind(&config).await?;
    let drain = config.timeouts.shutdown_drain.0;
    let state_dir =
        std::path::absolute(&config.state.dir).unwrap_or_else(|_| config.state.dir.clone());
    tighten_state_files(&state_dir);
    let statuses = proxy::apps::StatusStore::open(&state_dir)?;
    let tokens = admin::tokens::TokenStore::load(&state_dir).map_err(anyhow::Error::msg)?;
    let geoip = open_geoip(&config)?;
    let mut events = EventsPath::start(&config).await?;
    let siem = crate::siem_setup::start(
        &config,
        &state_dir,
        events.writer.as_mut().map(|w| &mut w.sink),
    )?;
    // The AI gateway is built before serving starts: a missing master key or provider key
    // fails the start, not the first call.
    let local_model = match listeners.aigw {
        Some(_) => crate::local_model_setup::load(&config).await?,
        None => None,
    };
    let ai_gateway = match listeners.aigw {
        Some(_) => {
            let with_local = local_model.as_ref().map(|m| m.configured(&config));
            let mut ai = aigw::AiGateway::new(
                with_local.as_ref().unwrap_or(&config),
                &state_dir,
                events.writer.as_ref().map(|w| w.sink.clone()),
            )
            .map_err(anyhow::Error::msg)?;
            if let Some(local) = &local_model {
                ai.set_local_secret(local.model.secret());
            }
            Some(Arc::new(ai))
        }
        None => None,
    };
    let aigw_tls = aigw_tls(&config)?;
    if let Some(governor) = ai_gateway.as_ref().and_then(|ai| ai.budgets.as_ref()) {
        if config.events.enabled {
            crate::budgets_setup::rebuild(governor, &config.clickhouse).await;
        }
    }
    let retention = config.retention.clone();
    let snapshot = load_snapshot(config)?;
    let gateway = Arc::new(Gateway::new(
        snapshot,
        config_path.map(Path::to_path_buf),
        leaves,
        statuses,
        events.writer.as_ref().map(|w| w.sink.clone()),
        geoip,
    ));
    if let Some(siem) = &siem {
        gateway.spawn_service(crate::siem_audit::follow(siem.clone(), state_dir.clone()));
    }
    // The AI key inventory: a corrupt fingerprint secret stops the start.
    let fingerprints = crate::key_inventory::open(&gateway.snapshot().config, &state_dir)?;
    let _ = gateway.key_fingerprints.set(fingerprints);
    if let Some(ai_gateway) = &ai_gateway {
        // `aigw.host` on the proxy and agent paths is served by the AI gateway in-process.
        let service = crate::aigw_host::AiService {
            gateway: ai_gateway.clone(),
            shutdown: gateway.shutdown.clone(),
            tasks: gateway.tasks.clone(),
        };
        let _ = gateway.local_service.set(Arc::new(service));
    }
    let admin_state = Arc::new(admin::state::AdminState::new(tokens, &state_dir));
    spawn_background(
        &gateway,
        &admin_state,
        &state_dir,
        events.background,
        events.clickhouse,
        retention,
    );
    let agent_task = match listeners.agent {
        Some(listener) => Some(start_agent_port(&gateway, listener, &state_dir)?),
        None => None,
    };
    let addrs = listeners.addrs;
    write_listen_file(&state_dir, addrs)?;
    if let Some(local) = local_model {
        local.spawn(&gateway.tasks, gateway.shutdown.clone());
    }
    let aigw_task = match (listeners.aigw, ai_gateway.clone()) {
        (Some(listener), Some(ai_gateway)) => {
            Some(gateway.tasks.spawn(aigw::server::serve_listener(
                listener,
                ai_gateway,
                aigw_tls,
                gateway.tasks.clone(),
                gateway.shutdown.clone(),
            )))
        }
        _ => None,
    };
    if let Some(governor) = ai_gateway.as_ref().and_then(|ai| ai.budgets.clone()) {
        crate::budgets_setup::keep_file(
            governor,
            &state_dir,
            &gateway.tasks,
            gateway.shutdown.clone(),
        );
    }
    let proxy_task = gateway
        .tasks
        .spawn(proxy::listen::serve_proxy(listeners.proxy, gateway.clone()));
    let admin_task = gateway.tasks.spawn(crate::admin_host::serve_admin(
        listeners.admin,
        gateway.clone(),
        admin_state,
        ai_gateway.clone(),
        otlp.as_ref().map(|o| o.stats.clone()),
    ));
    let tunnel = addrs
        .agent
        .map_or_else(|| "off".to_string(), |a| a.to_string());
    let ai = addrs
        .aigw
        .map_or_else(|| "off".to_string(), |a| a.to_string());
    tracing::info!(proxy = %addrs.proxy, admin = %addrs.admin, %tunnel, aigw = %ai, state = %state_dir.display(), config = %source, "gatewayd ready");

    serve_until_stopped(&gateway, ai_gateway.as_deref()).await?;
    tracing::info!(
        drain_seconds = drain.as_secs(),
        "shutting down: no new connections, draining open ones"
    );
    gateway.shutdown.cancel();
    let _ = tokio::join!(proxy_task, admin_task);
    if let Some(task) = agent_task {
        let _ = task.await;
    }
    if let Some(task) = aigw_task {
        let _ = task.await;
    }
    drain_connections(&gateway, drain).await;
    // Every connection is closed: the queue holds the last records. Insert or spool them.
    // The AI gateway holds a sender of the queue too; both go before the writer finishes.
    drop(gateway);
    drop(ai_gateway);
    if let Some(writer) = events.writer {
        writer.finish().await;
    }
    if let Some(siem) = siem {
        siem.finish(drain.max(std::time::Duration::from_secs(5)))
            .await;
    }
    if let Some(otlp) = otlp {
        otlp.finish().await;
    }
    tracing::info!("gatewayd stopped");
    Ok(())
}

/// The AI gateway listener's TLS (`[aigw.tls]`), when configured: its certificates are
/// minted or read now, so a bad pair fails the start.
pub fn aigw_tls(config: &Config) -> anyhow::Result<Option<Arc<rustls::ServerConfig>>> {
    let Some(tls) = &config.aigw.tls else {
        return Ok(None);
    };
    let authority = if tls.names.is_empty() {
        None
    } else {
        Some(open_authority(config)?.0)
    };
    aigw::tls::server_config(tls, authority)
        .map(Some)
        .map_err(anyhow::Error::msg)
}

/// The CA (created on first run) behind a leaf cache.
fn open_leaf_cache(config: &Config) -> anyhow::Result<LeafCache> {
    let (authority, created) = open_authority(config)?;
    if created {
        // Absolute and without `./` (a config's `state.dir = "."` gave `warden-state/./ca`).
        let dir = std::path::absolute(config.state.dir.join("ca"))
            .map(|p| p.components().collect::<std::path::PathBuf>())
            .unwrap_or_else(|_| config.state.dir.join("ca"));
        tracing::info!(dir = %dir.display(), "created a new Warden root CA; install it on devices with `gatewayd ca export`");
    }
    Ok(LeafCache::new(
        LeafIssuer::new(authority),
        config.intercept.leaf_cache_size,
    ))
}

/// The listening sockets, bound before anything is served so a taken port fails the start.
struct Listeners {
    proxy: TcpListener,
    admin: TcpListener,
    agent: Option<TcpListener>,
    aigw: Option<TcpListener>,
    addrs: ListenAddrs,
}

/// Where the listeners are bound (port 0 resolved).
#[derive(Clone, Copy)]
struct ListenAddrs {
    proxy: SocketAddr,
    admin: SocketAddr,
    agent: Option<SocketAddr>,
    aigw: Option<SocketAddr>,
}

impl Listeners {
    async fn bind(config: &Config) -> anyhow::Result<Self> {
        let proxy = bind("proxy.listen", config.proxy.listen).await?;
        let admin = bind("admin.listen", config.admin.listen).await?;
        let agent = match config.tunnel.listen {
            Some(addr) => Some(bind("tunnel.listen", addr).await?),
            None => None,
        };
        let aigw = match config.aigw.listen {
            Some(addr) => Some(bind("aigw.listen", addr).await?),
            None => None,
        };
        let addrs = ListenAddrs {
            proxy: proxy.local_addr()?,
            admin: admin.local_addr()?,
            agent: agent.as_ref().map(TcpListener::local_addr).transpose()?,
            aigw: aigw.as_ref().map(TcpListener::local_addr).transpose()?,
        };
        Ok(Self {
            proxy,
            admin,
            agent,
            aigw,
            addrs,
        })
    }
}

async fn bind(key: &str, addr: SocketAddr) -> anyhow::Result<TcpListener> {
    TcpListener::bind(addr)
        .await
        .with_context(|| format!("binding {key} {addr}"))
}

fn open_geoip(config: &Config) -> anyhow::Result<Option<geoip::GeoIpHandle>> {
    let Some(path) = &config.geoip.database else {
        return Ok(None);
    };
    let handle = geoip::GeoIpHandle::open(path)
        .with_context(|| format!("geoip.database {}", path.display()))?;
    Ok(Some(handle))
}

/// The events path, when `events.enabled`: the writer, the ClickHouse client and the
/// background work the start left.
struct EventsPath {
    writer: Option<events::WriterHandle>,
    clickhouse: Option<schema::clickhouse::Client>,
    background: Vec<crate::events_setup::BackgroundTask>,
}

impl EventsPath {
    async fn start(config: &Config) -> anyhow::Result<Self> {
        if !config.events.enabled {
            tracing::warn!("events.enabled = false: transactions are not recorded in ClickHouse");
            return Ok(Self {
                writer: None,
                clickhouse: None,
                background: Vec::new(),
            });
        }
        let (writer, client, background) = crate::events_setup::start(config).await?;
        Ok(Self {
            writer: Some(writer),
            clickhouse: Some(client),
            background,
        })
    }
}

/// The first snapshot (catalog, policy, upstreams), its warnings logged.
fn load_snapshot(config: Config) -> anyhow::Result<Snapshot> {
    let snapshot = Snapshot::build(config, 1).map_err(anyhow::Error::msg)?;
    for warning in &snapshot.policy_warnings {
        tracing::warn!("{warning}");
    }
    tracing::info!(
        apps = snapshot.catalog.apps().len(),
        hosts = snapshot.catalog.host_count(),
        policy = %snapshot.policy.version(),
        "catalog and policy loaded"
    );
    Ok(snapshot)
}

/// The loops that run beside the listeners: policy-file and token watchers, the events
/// path's background work, retention and status-change export. Every task goes through the
/// tracked spawner (clippy.toml forbids tokio::spawn): these loops end when shutdown starts,
/// and the drain waits for them like for connections.
fn spawn_background(
    gateway: &Arc<Gateway>,
    admin_state: &Arc<admin::state::AdminState>,
    state_dir: &Path,
    background: Vec<crate::events_setup::BackgroundTask>,
    clickhouse: Option<schema::clickhouse::Client>,
    retention: config::RetentionConfig,
) {
    gateway
        .tasks
        .spawn(proxy::gateway::watch_files(gateway.clone()));
    gateway.tasks.spawn(admin::state::watch_tokens(
        admin_state.clone(),
        state_dir.to_path_buf(),
        gateway.shutdown.clone(),
    ));
    for task in background {
        gateway.spawn_service(task);
    }
    if let Some(client) = clickhouse {
        gateway.tasks.spawn(crate::events_setup::retention_task(
            client.clone(),
            retention,
            gateway.shutdown.clone(),
        ));
        gateway
            .tasks
            .spawn(crate::events_setup::status_changes_task(
                client,
                gateway.clone(),
            ));
    }
}

/// Starts the agent port (crate `devices`) on its listener, with the device CA.
fn start_agent_port(
    gateway: &Arc<Gateway>,
    listener: TcpListener,
    state_dir: &Path,
) -> anyhow::Result<JoinHandle<()>> {
    let device_ca = ca::DeviceAuthority::load_or_create(&state_dir.join("ca"))?;
    let snapshot = gateway.snapshot();
    let config = &snapshot.config;
    let tunnel = &config.tunnel;
    let options = devices::agent_port::PortOptions {
        // The bound address: the same IP as `tunnel.listen`, and the real port when it was 0.
        listen: listener.local_addr().ok().or(tunnel.listen),
        server_name: tunnel.server_name.as_deref(),
        mdm_keys: &tunnel.mdm_keys,
        enroll: devices::agent_port::EnrollLimits {
            max_connections: tunnel.enroll_max_connections,
            max_in_flight: tunnel.enroll_max_in_flight,
            per_source_per_minute: tunnel.enroll_per_source_per_minute,
        },
    };
    let port = devices::agent_port::TunnelPort::new(&options, &config.state.dir, device_ca)
        .map_err(anyhow::Error::msg)?;
    let host = Arc::new(crate::agent_host::AgentHost(gateway.clone()));
    Ok(gateway.tasks.spawn(devices::agent_port::serve_tunnel(
        listener,
        host,
        Arc::new(port),
        tunnel.max_connections,
    )))
}

/// Reloads on SIGHUP until SIGTERM or SIGINT: the proxy's configuration (a bad file keeps
/// the last good one, and the log says why), then what of `[aigw]` the AI gateway takes while
/// running (`aigw::AiGateway::reload`).
async fn serve_until_stopped(
    gateway: &Gateway,
    ai: Option<&aigw::AiGateway>,
) -> anyhow::Result<()> {
    let mut hangup = signal(SignalKind::hangup())?;
    let mut terminate = signal(SignalKind::terminate())?;
    let mut interrupt = signal(SignalKind::interrupt())?;
    loop {
        tokio::select! {
            _ = hangup.recv() => {
                if gateway.reload().is_ok() {
                    if let Some(ai) = ai {
                        match ai.reload(&gateway.snapshot().config) {
                            Ok(overrides) => tracing::info!(
                                overrides,
                                "aigw: price table reloaded; providers, models, budgets and limits change at restart"
                            ),
                            Err(error) => tracing::error!(%error, "aigw reload refused"),
                        }
                    }
                }
                if let Some(fingerprints) = gateway.key_fingerprints.get() {
                    let config = &gateway.snapshot().config;
                    crate::key_inventory::refresh(fingerprints, config, &config.state.dir);
                }
            }
            _ = terminate.recv() => return Ok(()),
            _ = interrupt.recv() => return Ok(()),
        }
    }
}

/// Waits up to `drain` for every tracked task (connections, relays, flushes) to end.
async fn drain_connections(gateway: &Gateway, drain: std::time::Duration) {
    gateway.tasks.close();
    if tokio::time::timeout(drain, gateway.tasks.wait())
        .await
        .is_err()
    {
        tracing::warn!(
            open = gateway.tasks.len(),
            "drain timeout reached; closing remaining connections"
        );
    }
}

/// Records the bound addresses (useful with port 0) in `<state>/listen.json`.
fn write_listen_file(dir: &Path, addrs: ListenAddrs) -> anyhow::Result<()> {
    let text = serde_json::json!({
        "proxy": addrs.proxy.to_string(),
        "admin": addrs.admin.to_string(),
        "tunnel": addrs.agent.map(|t| t.to_string()),
        "aigw": addrs.aigw.map(|a| a.to_string()),
    })
    .to_string();
    state_files::write_atomic(&dir.join("listen.json"), text.as_bytes(), true)?;
    Ok(())
}
