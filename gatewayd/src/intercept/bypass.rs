//! Do-not-inspect tunnels: the client's exact bytes go to the origin and back, untouched, so
//! pinned apps keep working and the client sees the origin's own certificate.

use bytes::Bytes;
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};

use super::Tunnel;

/// Connects to the origin, replays the peeked bytes, and copies both ways until either side
/// closes.
pub async fn splice<S>(tunnel: &Tunnel, host: &str, prefix: Bytes, mut client: S)
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let connector = &tunnel.snapshot.upstream.upgrade_connector;
    let mut origin = match connector.connect_tcp(host, tunnel.port).await {
        Ok(origin) => origin,
        Err(error) => {
            tracing::info!(%host, %error, "bypass tunnel could not reach the origin");
            return;
        }
    };
    if let Err(error) = origin.write_all(&prefix).await {
        tracing::debug!(%host, %error, "bypass tunnel write failed");
        return;
    }
    match tokio::io::copy_bidirectional(&mut client, &mut origin).await {
        Ok((up, down)) => tracing::info!(
            target: "warden::tunnel",
            %host,
            port = tunnel.port,
            user = %tunnel.identity.user,
            bytes_up = up + prefix.len() as u64,
            bytes_down = down,
            action = "do_not_inspect",
            "tunnel closed"
        ),
        Err(error) => tracing::debug!(%host, %error, "bypass tunnel ended"),
    }
}
