//! Where an upstream host:port actually lives: a `upstream.connect_to` override, an IP
//! literal, or hickory-dns (system resolv.conf and hosts file).

use std::collections::{BTreeMap, HashMap};
use std::net::{IpAddr, SocketAddr};

use hickory_resolver::name_server::TokioConnectionProvider;
use hickory_resolver::TokioResolver;

use super::ConnectError;
use crate::hostmatch::normalise_host;

/// Resolves upstream targets.
pub struct TargetResolver {
    overrides: HashMap<(String, u16), SocketAddr>,
    dns: TokioResolver,
}

impl TargetResolver {
    pub fn new(connect_to: &BTreeMap<String, String>) -> Result<Self, String> {
        let mut overrides = HashMap::new();
        for (from, to) in connect_to {
            let (host, port) = from
                .rsplit_once(':')
                .and_then(|(h, p)| Some((normalise_host(h), p.parse::<u16>().ok()?)))
                .ok_or_else(|| format!("upstream.connect_to key {from:?} must be \"host:port\""))?;
            let addr: SocketAddr = to
                .parse()
                .map_err(|_| format!("upstream.connect_to value {to:?} must be \"addr:port\""))?;
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
        Ok(Self { overrides, dns })
    }

    /// The addresses to try for `host:port`, in order.
    pub async fn resolve(&self, host: &str, port: u16) -> Result<Vec<SocketAddr>, ConnectError> {
        let host = normalise_host(host);
        if let Some(addr) = self.overrides.get(&(host.clone(), port)) {
            return Ok(vec![*addr]);
        }
        if let Ok(ip) = host.parse::<IpAddr>() {
            return Ok(vec![SocketAddr::new(ip, port)]);
        }
        let lookup =
            self.dns
                .lookup_ip(format!("{host}."))
                .await
                .map_err(|e| ConnectError::Resolve {
                    host: host.clone(),
                    reason: e.to_string(),
                })?;
        let addrs: Vec<SocketAddr> = lookup.iter().map(|ip| SocketAddr::new(ip, port)).collect();
        if addrs.is_empty() {
            return Err(ConnectError::Resolve {
                host,
                reason: "no addresses".into(),
            });
        }
        Ok(addrs)
    }
}
