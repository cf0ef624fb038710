//! The AI gateway port's guard against one client holding it: at most
//! `aigw.max_connections_per_source` connections from one address (taken before a port-wide
//! slot, so a flood from one source fills only its share), and a plain connection that sends
//! no byte within `aigw.header_read_timeout` is closed (hyper's own header deadline starts
//! only once a request begins). Refusals and closes are counted for /metrics.
//!
//! Never: hold an entry for an address with no open connection (the table stays bounded by
//! the connections open), or block the accept loop.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::net::TcpStream;

use crate::telemetry::Family;

/// Per-source connection counts and what the guard refused or closed.
pub struct ConnGuard {
    open: Mutex<HashMap<IpAddr, usize>>,
    max_per_source: usize,
    /// How long a connection may stay silent before its first request's headers arrive.
    pub header_read_timeout: Duration,
    refused_per_source: AtomicU64,
    refused_port_full: AtomicU64,
    closed_silent: AtomicU64,
}

/// One connection's share of its source's cap, given back when dropped.
pub struct SourceSlot {
    guard: Arc<ConnGuard>,
    ip: IpAddr,
}

impl ConnGuard {
    pub fn new(max_per_source: usize, header_read_timeout: Duration) -> Self {
        Self {
            open: Mutex::new(HashMap::new()),
            max_per_source,
            header_read_timeout,
            refused_per_source: AtomicU64::new(0),
            refused_port_full: AtomicU64::new(0),
            closed_silent: AtomicU64::new(0),
        }
    }

    /// A slot for one more connection from `ip`, or `None` (counted) when it has its share.
    pub fn take(self: &Arc<Self>, ip: IpAddr) -> Option<SourceSlot> {
        let ip = ip.to_canonical();
        let mut open = self.open.lock().unwrap_or_else(|p| p.into_inner());
        let count = open.entry(ip).or_insert(0);
        if *count >= self.max_per_source {
            drop(open);
            self.refused_per_source.fetch_add(1, Relaxed);
            return None;
        }
        *count += 1;
        Some(SourceSlot {
            guard: self.clone(),
            ip,
        })
    }

    /// Counts a connection refused because the whole port was full.
    pub fn port_full(&self) {
        self.refused_port_full.fetch_add(1, Relaxed);
    }

    /// Whether `stream` sent a first byte within `header_read_timeout`; a silent one is
    /// counted (and then closed by the caller).
    pub async fn first_byte(&self, stream: &TcpStream) -> bool {
        let mut byte = [0u8; 1];
        let sent = matches!(
            tokio::time::timeout(self.header_read_timeout, stream.peek(&mut byte)).await,
            Ok(Ok(1))
        );
        if !sent {
            self.closed_silent.fetch_add(1, Relaxed);
        }
        sent
    }

    /// The guard's counters for /metrics.
    pub fn families(&self) -> Vec<Family> {
        vec![
            Family {
                name: "warden_aigw_connections_refused_total",
                help: "Connections to the AI gateway's port answered 503 and closed, by reason (per_source: aigw.max_connections_per_source; port_full: aigw.max_connections).",
                samples: vec![
                    (
                        vec![("reason", "per_source".to_string())],
                        self.refused_per_source.load(Relaxed),
                    ),
                    (
                        vec![("reason", "port_full".to_string())],
                        self.refused_port_full.load(Relaxed),
                    ),
                ],
            },
            Family {
                name: "warden_aigw_connections_silent_closed_total",
                help: "Connections to the AI gateway's port closed because no byte arrived within aigw.header_read_timeout.",
                samples: vec![(Vec::new(), self.closed_silent.load(Relaxed))],
            },
        ]
    }
}

impl Drop for SourceSlot {
    fn drop(&mut self) {
        let mut open = self.guard.open.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(count) = open.get_mut(&self.ip) {
            *count = count.saturating_sub(1);
            if *count == 0 {
                open.remove(&self.ip);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_source_gets_its_share_and_gives_it_back() {
        let guard = Arc::new(ConnGuard::new(2, Duration::from_secs(1)));
        let a: IpAddr = "10.0.0.1".parse().unwrap_or(IpAddr::from([0, 0, 0, 0]));
        let b: IpAddr = "::ffff:10.0.0.2"
            .parse()
            .unwrap_or(IpAddr::from([0, 0, 0, 0]));
        let first = guard.take(a);
        let second = guard.take(a);
        assert!(first.is_some() && second.is_some());
        assert!(guard.take(a).is_none(), "a third from the same source");
        assert!(guard.take(b).is_some(), "another source is served");
        drop(first);
        assert!(guard.take(a).is_some(), "a slot given back is taken again");
        drop(second);
        let open = guard.open.lock().map(|o| o.len()).unwrap_or(99);
        assert_eq!(open, 0, "no entry is left for closed connections");
        assert_eq!(guard.refused_per_source.load(Relaxed), 1);
    }
}
