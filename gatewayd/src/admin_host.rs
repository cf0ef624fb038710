//! The daemon's side of the admin plane (crate `admin`): the admin listener's accept loop and
//! HTTP serving, and [`AdminHost`], which implements `admin::view::ProxyView` over the gateway
//! — the configuration in force, the catalog, the approval statuses, the discovered apps and
//! the metrics text. The admin plane sees nothing else of the proxy.

use std::convert::Infallible;
use std::sync::Arc;

use admin::state::AdminState;
use admin::view::{ProxyView, Settings, ViewError};
use policies::discovery::DiscoveredApp;
use policies::status::StatusChange;
use policies::{AppStatus, Catalog, StatusBook};
use tokio::net::TcpListener;

use proxy::gateway::Gateway;
use proxy::listen::{accept_loop, Admitted, Port};
use proxy::serve::{serve_http, Protocol};
use proxy::telemetry::{Limit, Listener};

/// The gateway (and the AI gateway, when it runs), as the admin plane sees it.
pub struct AdminHost(pub Arc<Gateway>, pub Option<Arc<aigw::AiGateway>>);

impl ProxyView for AdminHost {
    fn settings(&self) -> Settings {
        let snapshot = self.0.snapshot();
        let config = &snapshot.config;
        let admin = &config.admin;
        Settings {
            state_dir: config.state.dir.clone(),
            clickhouse: config.clickhouse.clone(),
            session_ttl: admin.session_ttl.0,
            query_timeout: admin.query_timeout.0,
            query_max_rows: admin.query_max_rows,
            query_max_bytes: admin.query_max_bytes,
            query_concurrency: admin.query_concurrency,
            allowed_hosts: admin.allowed_hosts.clone(),
            public_url: admin.public_url.clone(),
        }
    }

    fn catalog(&self) -> Arc<Catalog> {
        self.0.snapshot().catalog.clone()
    }

    fn status_book(&self) -> Arc<StatusBook> {
        self.0.statuses.book()
    }

    fn set_status(
        &self,
        app_id: &str,
        status: AppStatus,
        actor: &str,
    ) -> Result<StatusChange, ViewError> {
        Ok(self.0.statuses.set(app_id, status, actor)?)
    }

    fn status_changes(&self) -> Result<Vec<StatusChange>, ViewError> {
        Ok(self.0.statuses.changes()?)
    }

    fn discovered(&self) -> Vec<DiscoveredApp> {
        self.0.discovered.list()
    }

    fn metrics(&self) -> String {
        let gateway = &self.0;
        let events = gateway.events.as_ref().map(|e| &*e.stats);
        let mut text = proxy::telemetry::render(
            &gateway.metrics,
            gateway.leaves.len(),
            &gateway.auth,
            events,
        );
        if let Some(ai) = &self.1 {
            text.push_str(&ai_metrics(&ai.ledger.metrics));
        }
        text
    }
}

/// Serves admin requests until shutdown, through the proxy port's accept loop (a connection
/// limit, accept-error backoff, counts and logs).
pub async fn serve_admin(
    listener: TcpListener,
    gateway: Arc<Gateway>,
    state: Arc<AdminState>,
    ai: Option<Arc<aigw::AiGateway>>,
) {
    let host = Arc::new(AdminHost(gateway.clone(), ai));
    let port = Port {
        listener: Listener::Admin,
        limit: Limit::Admin,
        max: gateway.snapshot().config.admin.max_connections,
    };
    let for_serve = gateway.clone();
    let serve = move |stream, _peer, admitted: Admitted<()>| {
        let (gateway, host, state) = (for_serve.clone(), host.clone(), state.clone());
        async move {
            let config = gateway.snapshot().config.clone();
            let stream = proxy::io::IdleTimeout::new(stream, config.timeouts.idle.0);
            let shutdown = gateway.shutdown.clone();
            serve_http(stream, Protocol::Http1, &config, shutdown, move |request| {
                let (host, state) = (host.clone(), state.clone());
                async move { Ok::<_, Infallible>(admin::route(&*host, &state, request).await) }
            })
            .await;
            drop(admitted);
        }
    };
    accept_loop(listener, gateway, port, |_| Ok(()), serve).await;
}

/// The AI gateway's metric families, through the proxy's one Prometheus writer.
fn ai_metrics(metrics: &aigw::telemetry::AiMetrics) -> String {
    let mut out = proxy::telemetry::Exposition::default();
    for family in metrics.families() {
        out.multi_labelled(
            family.name,
            proxy::telemetry::Kind::Counter,
            family.help,
            family.samples.iter().map(|(labels, value)| {
                let labels: Vec<(&str, &str)> =
                    labels.iter().map(|(k, v)| (*k, v.as_str())).collect();
                (labels, *value)
            }),
        );
    }
    out.finish()
}
