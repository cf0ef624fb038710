//! One agent connection's HTTP/2, served with the `h2` crate directly: the settings, the
//! accept loop that drives the connection, and the keep-alive.
//!
//! The accept loop is the connection's only driver: it must keep polling, so it never waits
//! on a stream. `routes` answers refusals at once and gives anything that reads a body or
//! carries a tunnel its own task; a CONNECT stream becomes an [`AgentStream`] with no task
//! or channel of h2's own in between.
//!
//! [`AgentStream`]: super::stream::AgentStream

use std::time::Duration;

use bytes::Bytes;
use h2::server::Builder;
use h2::{Ping, PingPong};
use tokio::io::{AsyncRead, AsyncWrite};

use super::host::Settings;
use super::routes::{self, Agent};
use super::LOCAL_ERROR_RESETS;

/// How often the gateway pings an agent, and how long it waits for the answer before it
/// gives the connection up (a laptop that slept or lost its network leaves no FIN behind).
const KEEP_ALIVE_INTERVAL: Duration = Duration::from_secs(20);
const KEEP_ALIVE_TIMEOUT: Duration = Duration::from_secs(20);

/// Why an agent connection ended other than by the agent closing it (logged only).
#[derive(Debug, thiserror::Error)]
pub enum ConnectionError {
    #[error("no HTTP/2 preface within {0:?}")]
    HandshakeTimeout(Duration),
    #[error("no answer to a keep-alive ping within {KEEP_ALIVE_TIMEOUT:?}")]
    KeepAliveTimeout,
    #[error(transparent)]
    Http2(#[from] h2::Error),
}

/// Serves the agent's streams until the connection ends or the agent stops answering pings.
/// Revocation, shutdown and the enrollment visit's end are the caller's to select against.
pub async fn serve<T>(io: T, agent: Agent) -> Result<(), ConnectionError>
where
    T: AsyncRead + AsyncWrite + Unpin,
{
    // Read once: a connection that lives for days must not pin an old snapshot.
    let (builder, handshake) = {
        let now = agent.host.settings();
        let builder = match agent.session {
            Some(_) => settings(&now),
            None => enrollment_settings(&now),
        };
        (builder, now.handshake)
    };
    let mut connection = tokio::time::timeout(handshake, builder.handshake::<_, Bytes>(io))
        .await
        .map_err(|_| ConnectionError::HandshakeTimeout(handshake))??;
    let keep_alive = keep_alive(connection.ping_pong());
    let accept = async {
        while let Some(next) = connection.accept().await {
            let (request, respond) = next?;
            routes::route(&agent, request, respond);
        }
        Ok(())
    };
    tokio::select! {
        result = accept => result,
        error = keep_alive => Err(error),
    }
}

/// Settings for a device's connection: big windows and frames for bulk streams, the
/// configured stream and header limits, and the large reset allowance a long-lived tunnel
/// needs (only a device that proved its certificate gets it).
pub(super) fn settings(config: &Settings) -> Builder {
    let mut builder = Builder::new();
    builder
        .max_concurrent_streams(config.max_streams_per_connection)
        .max_header_list_size(u32::try_from(config.max_header_bytes).unwrap_or(u32::MAX))
        .initial_window_size(4 * 1024 * 1024)
        .initial_connection_window_size(32 * 1024 * 1024)
        .max_frame_size(64 * 1024)
        // h2 counts, over a connection's whole life, the streams it resets because the peer
        // sent on a stream already closed here; past 1024 it ends the connection. An agent's
        // tunnel lives for days and thousands of CONNECT streams close while the other side
        // still has a TLS close_notify in flight: a legitimate race, not an attack. The bound
        // stays (a device cannot make the gateway reset streams without limit) but is sized
        // for a long-lived multiplexed connection.
        .max_local_error_reset_streams(Some(LOCAL_ERROR_RESETS));
    builder
}

/// Settings for a connection without a device certificate: anyone on the network can open
/// one, and all it may do is one small `POST /v1/enroll`. Two streams, windows and buffers
/// of a few kilobytes, few headers, and h2's smallest reset allowances, so that a stranger's
/// connection costs the gateway little memory however many streams it tries to open: streams
/// past the second are refused (`REFUSED_STREAM`), and a client that keeps trying is sent
/// `GOAWAY(ENHANCE_YOUR_CALM)`.
pub(super) fn enrollment_settings(config: &Settings) -> Builder {
    let mut builder = Builder::new();
    builder
        .max_concurrent_streams(ENROLL_STREAMS)
        .max_header_list_size(
            u32::try_from(config.max_header_bytes)
                .unwrap_or(u32::MAX)
                .min(ENROLL_HEADER_BYTES),
        )
        .initial_window_size(ENROLL_WINDOW)
        .initial_connection_window_size(2 * ENROLL_WINDOW)
        .max_frame_size(16 * 1024)
        .max_send_buffer_size(16 * 1024)
        .max_concurrent_reset_streams(ENROLL_RESETS)
        .max_pending_accept_reset_streams(ENROLL_RESETS)
        .max_local_error_reset_streams(Some(ENROLL_RESETS));
    builder
}

/// Concurrent streams on a connection without a device certificate.
pub(super) const ENROLL_STREAMS: u32 = 2;
/// Stream window on such a connection: an enrollment request (token, CSR, host name) is
/// about a kilobyte.
const ENROLL_WINDOW: u32 = 16 * 1024;
const ENROLL_HEADER_BYTES: u32 = 8 * 1024;
/// Resets of each kind h2 tolerates on such a connection before it sends `GOAWAY`.
const ENROLL_RESETS: usize = 8;

/// Pings the agent every [`KEEP_ALIVE_INTERVAL`]; returns once a ping goes unanswered. The
/// PONG arrives only while the accept loop drives the connection, which it always does.
async fn keep_alive(pings: Option<PingPong>) -> ConnectionError {
    // `ping_pong` is taken once per connection, right after the handshake: never `None` here.
    let Some(mut pings) = pings else {
        return std::future::pending().await;
    };
    loop {
        tokio::time::sleep(KEEP_ALIVE_INTERVAL).await;
        match tokio::time::timeout(KEEP_ALIVE_TIMEOUT, pings.ping(Ping::opaque())).await {
            Ok(Ok(_pong)) => {}
            Ok(Err(error)) => return error.into(),
            Err(_) => return ConnectionError::KeepAliveTimeout,
        }
    }
}
