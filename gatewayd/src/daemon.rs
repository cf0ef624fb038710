//! `gatewayd run`: open the state directory and CA, bind the listeners, serve, reload on
//! SIGHUP, and drain connections on SIGTERM or Ctrl-C.

use std::path::Path;
use std::sync::Arc;

use anyhow::Context;
use ca::{Authority, LeafCache, LeafIssuer};
use tokio::net::TcpListener;
use tokio::signal::unix::{signal, SignalKind};

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

/// Loads (or on first run creates) the CA in the state directory.
pub fn open_authority(config: &Config) -> anyhow::Result<(Authority, bool)> {
    ensure_state_dir(&config.state.dir)?;
    Authority::load_or_create(&config.state.dir.join("ca")).map_err(Into::into)
}

/// Runs the daemon until it is told to stop.
pub async fn run(config_path: Option<&Path>) -> anyhow::Result<()> {
    let (config, source) = load_config(config_path)?;
    init_logging(&config.log);
    let (authority, created) = open_authority(&config)?;
    if created {
        tracing::info!(dir = %config.state.dir.join("ca").display(), "created a new Warden root CA; install it on devices with `gatewayd ca export`");
    }
    let leaves = LeafCache::new(LeafIssuer::new(authority), config.intercept.leaf_cache_size);
    let proxy = TcpListener::bind(config.proxy.listen)
        .await
        .with_context(|| format!("binding proxy.listen {}", config.proxy.listen))?;
    let admin = TcpListener::bind(config.admin.listen)
        .await
        .with_context(|| format!("binding admin.listen {}", config.admin.listen))?;
    let tunnel = match config.tunnel.listen {
        Some(addr) => Some(
            TcpListener::bind(addr)
                .await
                .with_context(|| format!("binding tunnel.listen {addr}"))?,
        ),
        None => None,
    };
    let (proxy_addr, admin_addr) = (proxy.local_addr()?, admin.local_addr()?);
    let tunnel_addr = tunnel.as_ref().map(TcpListener::local_addr).transpose()?;
    let drain = config.timeouts.shutdown_drain.0;
    let statuses = proxy::apps::StatusStore::open(&config.state.dir)?;
    let tokens = admin::tokens::TokenStore::load(&config.state.dir).map_err(anyhow::Error::msg)?;
    let geoip = match &config.geoip.database {
        Some(path) => Some(
            geoip::GeoIpHandle::open(path)
                .with_context(|| format!("geoip.database {}", path.display()))?,
        ),
        None => None,
    };
    let (writer, clickhouse, background) = if config.events.enabled {
        let (writer, client, background) = crate::events_setup::start(&config).await?;
        (Some(writer), Some(client), background)
    } else {
        tracing::warn!("events.enabled = false: transactions are not recorded in ClickHouse");
        (None, None, Vec::new())
    };
    let retention = config.retention.clone();
    let state_dir =
        std::path::absolute(&config.state.dir).unwrap_or_else(|_| config.state.dir.clone());
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
    let gateway = Arc::new(Gateway::new(
        snapshot,
        config_path.map(Path::to_path_buf),
        leaves,
        statuses,
        writer.as_ref().map(|w| w.sink.clone()),
        geoip,
    ));
    // Every task goes through the tracked spawner (clippy.toml forbids tokio::spawn): these
    // loops end when shutdown starts, and the drain waits for them like for connections.
    gateway
        .tasks
        .spawn(proxy::gateway::watch_files(gateway.clone()));
    let admin_state = Arc::new(admin::state::AdminState::new(tokens, &state_dir));
    gateway.tasks.spawn(admin::state::watch_tokens(
        admin_state.clone(),
        state_dir.clone(),
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
    let tunnel_task = match tunnel {
        Some(listener) => {
            let device_ca = ca::DeviceAuthority::load_or_create(&state_dir.join("ca"))?;
            let snapshot = gateway.snapshot();
            let config = &snapshot.config;
            let tunnel = &config.tunnel;
            let options = devices::agent_port::PortOptions {
                listen: tunnel.listen,
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
            Some(gateway.tasks.spawn(devices::agent_port::serve_tunnel(
                listener,
                host,
                Arc::new(port),
                tunnel.max_connections,
            )))
        }
        None => None,
    };
    write_listen_file(&state_dir, proxy_addr, admin_addr, tunnel_addr)?;

    let proxy_task = gateway
        .tasks
        .spawn(proxy::listen::serve_proxy(proxy, gateway.clone()));
    let admin_task = gateway.tasks.spawn(crate::admin_host::serve_admin(
        admin,
        gateway.clone(),
        admin_state,
    ));
    let tunnel = tunnel_addr.map_or_else(|| "off".to_string(), |a| a.to_string());
    tracing::info!(proxy = %proxy_addr, admin = %admin_addr, %tunnel, state = %state_dir.display(), config = %source, "gatewayd ready");

    let mut hangup = signal(SignalKind::hangup())?;
    let mut terminate = signal(SignalKind::terminate())?;
    let mut interrupt = signal(SignalKind::interrupt())?;
    loop {
        tokio::select! {
            _ = hangup.recv() => { let _ = gateway.reload(); }
            _ = terminate.recv() => break,
            _ = interrupt.recv() => break,
        }
    }
    tracing::info!(
        drain_seconds = drain.as_secs(),
        "shutting down: no new connections, draining open ones"
    );
    gateway.shutdown.cancel();
    let _ = tokio::join!(proxy_task, admin_task);
    if let Some(task) = tunnel_task {
        let _ = task.await;
    }
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
    // Every connection is closed: the queue holds the last records. Insert or spool them.
    drop(gateway);
    if let Some(writer) = writer {
        writer.finish().await;
    }
    tracing::info!("gatewayd stopped");
    Ok(())
}

/// Records the bound addresses (useful with port 0) in `<state>/listen.json`.
fn write_listen_file(
    dir: &Path,
    proxy: std::net::SocketAddr,
    admin: std::net::SocketAddr,
    tunnel: Option<std::net::SocketAddr>,
) -> anyhow::Result<()> {
    let text = serde_json::json!({
        "proxy": proxy.to_string(),
        "admin": admin.to_string(),
        "tunnel": tunnel.map(|t| t.to_string()),
    })
    .to_string();
    state_files::write_atomic(&dir.join("listen.json"), text.as_bytes(), false)?;
    Ok(())
}
