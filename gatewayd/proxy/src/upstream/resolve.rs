//! Where an upstream host:port actually lives — a `upstream.connect_to` override, an IP
//! literal, or hickory-dns (system resolv.conf and hosts file) — and whether the egress policy
//! lets the gateway go there. Addresses are checked after resolution, one by one, so a name
//! cannot smuggle a forbidden address past the policy.

use std::collections::{BTreeMap, HashMap};
use std::net::{IpAddr, SocketAddr};

use hickory_resolver::name_server::TokioConnectionProvider;
use hickory_resolver::TokioResolver;

use super::egress::{EgressPolicy, EgressRefusal};
use super::{ConnectError, UpstreamConfigError};
use config::EgressConfig;
use policies::host_list::normalise_host;

/// Resolves upstream targets under the egress policy.
pub struct TargetResolver {
    overrides: HashMap<(String, u16), SocketAddr>,
    egress: EgressPolicy,
    dns: TokioResolver,
}

/// The addresses a target may be dialled at.
pub struct Resolved {
    pub addrs: Vec<SocketAddr>,
    /// From `upstream.connect_to`: configured explicitly, exempt from the egress policy.
    pub explicit: bool,
}

impl TargetResolver {
    pub fn new(
        connect_to: &BTreeMap<String, String>,
        egress: &EgressConfig,
    ) -> Result<Self, UpstreamConfigError> {
        let mut overrides = HashMap::new();
        for (from, to) in connect_to {
            let (host, port) = from
                .rsplit_once(':')
                .and_then(|(h, p)| Some((normalise_host(h), p.parse::<u16>().ok()?)))
                .ok_or_else(|| UpstreamConfigError::ConnectToKey(from.clone()))?;
            let addr: SocketAddr = to
                .parse()
                .map_err(|_| UpstreamConfigError::ConnectToValue(to.clone()))?;
            overrides.insert((host, port), addr);
        }
        let dns = match TokioResolver::builder_tokio() {
            Ok(builder) => builder.build(),
            // No usable resolv.conf: fall back to hickory's defaults rather than refusing to
            // start; connect_to and IP literals still work.
            Err(_) => TokioResolver::builder_with_config(
                Default::default(),
                TokioConnectionProvider::default(),
            )
            .build(),
        };
        Ok(Self {
            overrides,
            egress: EgressPolicy::from_config(egress)?,
            dns,
        })
    }

    fn override_for(&self, host: &str, port: u16) -> Option<SocketAddr> {
        if self.overrides.is_empty() {
            return None;
        }
        self.overrides.get(&(normalise_host(host), port)).copied()
    }

    /// What can be decided without DNS: the port, and an IP-literal host. Used at CONNECT
    /// time so a refused destination is answered before the tunnel opens.
    pub fn precheck(&self, host: &str, port: u16) -> Result<(), EgressRefusal> {
        if self.override_for(host, port).is_some() {
            return Ok(());
        }
        // The address is the more telling reason (an operator reading `egress.port` for a
        // probe of 127.0.0.1:9090 would think opening the port would help): judge it first.
        if let Ok(ip) = normalise_host(host).parse::<IpAddr>() {
            self.egress.check_addr(host, ip)?;
        }
        self.egress.check_port(port)
    }

    /// The addresses to try for `host:port`, in order, each allowed by the egress policy.
    pub async fn resolve(&self, host: &str, port: u16) -> Result<Resolved, ConnectError> {
        if let Some(addr) = self.override_for(host, port) {
            return Ok(Resolved {
                addrs: vec![addr],
                explicit: true,
            });
        }
        let target = || format!("{host}:{port}");
        let refused = |refusal| ConnectError::Egress {
            target: target(),
            refusal,
        };
        let host = normalise_host(host);
        let ips: Vec<IpAddr> = match host.parse::<IpAddr>() {
            Ok(ip) => vec![ip],
            // A name on a refused port is refused before any DNS lookup is spent on it.
            Err(_) if self.egress.check_port(port).is_err() => {
                return Err(refused(EgressRefusal::Port));
            }
            Err(_) => self
                .dns
                .lookup_ip(format!("{host}."))
                .await
                .map_err(|e| ConnectError::Resolve {
                    host: host.clone(),
                    reason: dns_reason(&e).to_string(),
                })?
                .iter()
                .collect(),
        };
        if ips.is_empty() {
            return Err(ConnectError::Resolve {
                host,
                reason: "no addresses".into(),
            });
        }
        let mut first_refusal = None;
        let addrs: Vec<SocketAddr> = ips
            .into_iter()
            .filter(|ip| match self.egress.check_addr(&host, *ip) {
                Ok(()) => true,
                Err(refusal) => {
                    first_refusal.get_or_insert(refusal);
                    false
                }
            })
            .map(|ip| SocketAddr::new(ip, port))
            .collect();
        match first_refusal {
            Some(refusal) if addrs.is_empty() => Err(refused(refusal)),
            _ => {
                self.egress.check_port(port).map_err(refused)?;
                Ok(Resolved {
                    addrs,
                    explicit: false,
                })
            }
        }
    }
}

/// What a failed lookup means, in words a user reads on an error page (the resolver's own
/// text is a debug dump of the query; it goes to the log at debug level only).
fn dns_reason(error: &hickory_resolver::ResolveError) -> &'static str {
    tracing::debug!(%error, "DNS lookup failed");
    if error.is_nx_domain() {
        "the name does not exist"
    } else if error.is_no_records_found() {
        "the name has no address records"
    } else if matches!(
        error.proto().map(hickory_resolver::proto::ProtoError::kind),
        Some(hickory_resolver::proto::ProtoErrorKind::Timeout)
    ) {
        "the DNS server did not answer in time"
    } else {
        "the DNS lookup failed"
    }
}
