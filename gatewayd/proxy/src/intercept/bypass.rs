//! Do-not-inspect tunnels: the client's exact bytes go to the origin and back, untouched, so
//! pinned apps keep working and the client sees the origin's own certificate.
//!
//! The splice dials only the name the tunnel decided on (never a name the client could swap
//! in later), through the upstream connector and so through the egress policy, and writes one
//! event per tunnel: host, user, bytes each way, duration, action `bypass`.

use std::sync::atomic::Ordering::Relaxed;
use std::time::Instant;

use bytes::Bytes;
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};

use super::Tunnel;
use crate::io::Counted;
use crate::pipeline::{egress_refusal, TunnelEvent, TunnelOutcome};
use crate::telemetry::events::{EgressCheck, EgressRefused, InternalEvent};
use crate::upstream::ConnectError;

/// Connects to `host` (the checked name) on the tunnel's port, replays the peeked bytes, and
/// copies both ways until either side closes. `rule` says why the tunnel is not inspected.
pub async fn splice<S>(tunnel: &Tunnel, host: &str, rule: &str, prefix: Bytes, client: S)
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let event = TunnelEvent {
        request_id: uuid::Uuid::now_v7().to_string(),
        gateway: &tunnel.gateway,
        snapshot: &tunnel.snapshot,
        identity: &tunnel.identity,
        client: tunnel.client,
        host,
        port: tunnel.port,
        started: Instant::now(),
    };
    let connector = &tunnel.snapshot.upstream.upgrade_connector;
    let mut origin = match connector.connect_tcp(host, tunnel.port).await {
        Ok(origin) => origin,
        Err(ConnectError::Egress { refusal, .. }) => {
            EgressRefused {
                at: EgressCheck::Bypass,
                host,
                port: Some(tunnel.port),
                rule: refusal.rule(),
                detail: None,
            }
            .emit(&tunnel.gateway.metrics);
            event.finish(TunnelOutcome::Refused(&egress_refusal(host, refusal)));
            return;
        }
        Err(error) => {
            tracing::info!(%host, %error, "bypass tunnel could not reach the origin");
            event.finish(TunnelOutcome::Failed {
                rule,
                detail: error.to_string(),
            });
            return;
        }
    };
    let (mut client, counts) = Counted::new(client);
    let ended = async {
        origin.write_all(&prefix).await?;
        tokio::io::copy_bidirectional(&mut client, &mut origin).await
    }
    .await;
    if let Err(error) = ended {
        tracing::debug!(%host, %error, "bypass tunnel ended with an error");
    }
    event.finish(TunnelOutcome::Bypassed {
        rule,
        up: counts.read.load(Relaxed) + prefix.len() as u64,
        down: counts.written.load(Relaxed),
    });
}
