//! The daemon's side of the admin plane (crate `admin`): the admin listener's accept loop and
//! HTTP serving, and [`AdminHost`], which implements `admin::view::ProxyView` over the gateway
//! — the configuration in force, the catalog, the approval statuses, the discovered apps and
//! the decisions about them, the access requests and the metrics text. The admin plane sees
//! nothing else of the proxy.

use std::convert::Infallible;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use admin::state::AdminState;
use admin::view::{ProxyView, Settings, ViewError};
use policies::access::AccessRequest;
use policies::catalog::Category;
use policies::discovery::decision::{Decided, DecisionFault, DecisionRequest, HostDecision};
use policies::discovery::DiscoveredApp;
use policies::rules::{AppFacts, Facts};
use policies::status::StatusChange;
use policies::{AppStatus, Catalog, StatusBook};
use tokio::net::TcpListener;

use proxy::gateway::Gateway;
use proxy::listen::{accept_loop, Admitted, Counter, Port, Rejection, Slot};
use proxy::serve::{serve_http, Protocol};
use proxy::telemetry::{Limit, Listener};

/// The gateway, the AI gateway when it runs, and trace export's counters when it is on, as
/// the admin plane sees them.
pub struct AdminHost(
    pub Arc<Gateway>,
    pub Option<Arc<aigw::AiGateway>>,
    pub Option<Arc<otlp::ExportStats>>,
);

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

    fn decisions(&self) -> Vec<HostDecision> {
        let dir = self.0.snapshot().config.state.dir.clone();
        proxy::apps::decisions::read(&dir).unwrap_or_else(|error| {
            tracing::error!(%error, "discovered-host decisions unreadable");
            Vec::new()
        })
    }

    fn decide_discovered(
        &self,
        request: &DecisionRequest,
        actor: &str,
    ) -> Result<Decided, (DecisionFault, String)> {
        let gateway = &self.0;
        let snapshot = gateway.snapshot();
        let decided = proxy::apps::decide(
            &snapshot.config.state.dir,
            &snapshot.catalog,
            &gateway.statuses,
            request,
            actor,
        )
        .map_err(|e| (e.fault(), e.to_string()))?;
        // Applied now rather than at the watcher's next look; a reload refused (a broken
        // config file) keeps the decision on file, applied by the next good reload.
        if let Err(error) = gateway.reload() {
            tracing::error!(%error, "decision recorded; it applies once the configuration reloads");
        }
        Ok(decided)
    }

    fn status_blocks(&self, app_id: &str, status: AppStatus) -> bool {
        let snapshot = self.0.snapshot();
        let app = snapshot.catalog.app(app_id);
        let host = app
            .and_then(|a| a.hosts.first().or(a.api_hosts.first()))
            .map_or("", |h| h.host());
        let mut facts = Facts::new(host);
        facts.app = Some(AppFacts {
            id: app_id,
            category: app.map_or(Category::Other, |a| a.category),
            status,
        });
        facts.path = Some("/");
        facts.method = Some("GET");
        snapshot.policy.decide(&facts).blocked
    }

    fn metrics(&self) -> String {
        let gateway = &self.0;
        let events = gateway.events.as_ref().map(|e| &*e.stats);
        let mut text = proxy::telemetry::render(
            &gateway.metrics,
            gateway.leaves.len(),
            &gateway.auth,
            events,
            self.2.as_deref(),
        );
        if let Some(ai) = &self.1 {
            text.push_str(&ai_metrics(ai.metric_families()));
        }
        text.push_str(&crate::siem_setup::metrics());
        text
    }

    fn ai_budgets(&self) -> Option<serde_json::Value> {
        let governor = self.1.as_ref()?.budgets.as_ref()?;
        serde_json::to_value(aigw::budget::view::rows(governor)).ok()
    }

    fn health_notes(&self) -> Vec<String> {
        let shared = self
            .1
            .as_ref()
            .and_then(|ai| ai.budgets.as_ref())
            .and_then(|g| g.store.shared_health());
        match shared {
            Some(h) if !h.up => vec![
                "aigw shared counters: Redis unreachable; budgets and limits follow their on_redis_down".into(),
            ],
            _ => Vec::new(),
        }
    }

    fn ai_keys(&self) -> Option<&dyn admin::ai_keys::AiKeys> {
        Some(self)
    }

    fn ai_explain(
        &self,
        model: &str,
        key: Option<&str>,
    ) -> Option<Result<serde_json::Value, String>> {
        Some(self.1.as_ref()?.explain(model, key))
    }

    fn access_requests(&self) -> Vec<AccessRequest> {
        self.0.coaching.requests.list()
    }

    fn decide_access_request(
        &self,
        id: &str,
        approve: bool,
        actor: &str,
    ) -> Result<AccessRequest, ViewError> {
        Ok(self.0.coaching.requests.decide(id, approve, actor)?)
    }
}

/// Serves admin requests until shutdown, through the proxy port's accept loop (a per-source
/// and a port-wide connection limit, accept-error backoff, counts and logs).
pub async fn serve_admin(
    listener: TcpListener,
    gateway: Arc<Gateway>,
    state: Arc<AdminState>,
    ai: Option<Arc<aigw::AiGateway>>,
    otlp: Option<Arc<otlp::ExportStats>>,
) {
    let host = Arc::new(AdminHost(gateway.clone(), ai, otlp));
    let port = Port {
        listener: Listener::Admin,
        limit: Limit::Admin,
        max: gateway.snapshot().config.admin.max_connections,
    };
    // One address's share is taken before a port-wide slot, so a slowloris from one source
    // fills only its share and health checks, scrapers and the dashboard from elsewhere
    // keep being served (hyper's header deadline, `timeouts.header_read`, frees the rest).
    let per_source: Arc<Counter<IpAddr>> = Arc::default();
    let for_admit = gateway.clone();
    let admit = move |peer: SocketAddr| {
        let max = for_admit.snapshot().config.admin.max_connections_per_source;
        per_source
            .try_take(peer.ip().to_canonical(), max)
            .ok_or(Rejection {
                limit: Limit::AdminSource,
                max,
            })
    };
    let for_serve = gateway.clone();
    let serve =
        move |stream, peer: SocketAddr, admitted: Admitted<Slot<IpAddr>>| {
            let (gateway, host, state) = (for_serve.clone(), host.clone(), state.clone());
            async move {
                let config = gateway.snapshot().config.clone();
                let stream = proxy::io::IdleTimeout::new(stream, config.timeouts.idle.0);
                let shutdown = gateway.shutdown.clone();
                serve_http(stream, Protocol::Http1, &config, shutdown, move |mut request| {
                let (host, state) = (host.clone(), state.clone());
                // The client's address, for the login throttle.
                request.extensions_mut().insert(admin::Peer(peer.ip().to_canonical()));
                async move { Ok::<_, Infallible>(admin::route(&*host, &state, request).await) }
            })
            .await;
                drop(admitted);
            }
        };
    accept_loop(listener, gateway, port, admit, serve).await;
}

/// The AI gateway's metric families, through the proxy's one Prometheus writer.
fn ai_metrics(families: Vec<aigw::telemetry::Family>) -> String {
    let mut out = proxy::telemetry::Exposition::default();
    for family in families {
        // Every AI family counts, but for the one state (`_up`: 1 or 0).
        let kind = if family.name.ends_with("_up") {
            proxy::telemetry::Kind::Gauge
        } else {
            proxy::telemetry::Kind::Counter
        };
        out.multi_labelled(
            family.name,
            kind,
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
