//! The one accept loop of the gateway's HTTP listeners (the proxy port and the admin port):
//! accept, count, admit (the listener's own check first, then a port-wide slot), answer a
//! refused client with a short HTTP error instead of letting it queue, and hand the rest to
//! the listener's serve function on the tracked spawner.
//!
//! It must never spin on accept errors (EMFILE and friends back off, up to a second), never
//! serve a connection past the port's limit, and never outlive shutdown.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::gateway::Gateway;
use crate::telemetry::events::{
    AcceptFailed, ConnectionAccepted, ConnectionRejected, InternalEvent, OpenConnection,
};
use crate::telemetry::{Limit, Listener};

/// A listener's name in metrics and logs, and its port-wide limit.
#[derive(Debug, Clone, Copy)]
pub struct Port {
    pub listener: Listener,
    /// The configuration key that sets `max`.
    pub limit: Limit,
    pub max: usize,
}

/// The listener's own check refused a connection: the limit and its value.
#[derive(Debug, Clone, Copy)]
pub struct Rejection {
    pub limit: Limit,
    pub max: usize,
}

/// What an admitted connection holds until it (and anything it handed over, such as a
/// CONNECT tunnel) has ended: its port-wide slot, what the listener's check took, and its
/// place on the open-connections gauge.
pub struct Admitted<T> {
    _port: OwnedSemaphorePermit,
    _open: OpenConnection,
    pub held: T,
}

/// Accepts on `listener` until the gateway shuts down. `admit` is the listener's own check,
/// run before a port-wide slot is taken (so a client over its share takes none); `serve`
/// runs each admitted connection.
pub async fn accept_loop<T, A, S, F>(
    listener: TcpListener,
    gateway: Arc<Gateway>,
    port: Port,
    admit: A,
    serve: S,
) where
    A: Fn(SocketAddr) -> Result<T, Rejection>,
    S: Fn(TcpStream, SocketAddr, Admitted<T>) -> F,
    F: Future<Output = ()> + Send + 'static,
{
    let slots = Arc::new(Semaphore::new(port.max));
    let metrics = &gateway.metrics;
    while let Some((stream, peer)) = next_connection(&listener, &gateway, port.listener).await {
        ConnectionAccepted {
            listener: port.listener,
            peer,
        }
        .emit(metrics);
        let rejection = match admit(peer) {
            Ok(held) => match slots.clone().try_acquire_owned() {
                Ok(permit) => Ok((held, permit)),
                Err(_) => Err(Rejection {
                    limit: port.limit,
                    max: port.max,
                }),
            },
            Err(rejection) => Err(rejection),
        };
        let (held, permit) = match rejection {
            Ok(admitted) => admitted,
            Err(Rejection { limit, max }) => {
                ConnectionRejected {
                    listener: port.listener,
                    limit,
                    max,
                    source: peer.ip().to_canonical(),
                }
                .emit(metrics);
                gateway.tasks.spawn(reject_over_limit(stream, limit));
                continue;
            }
        };
        let admitted = Admitted {
            _port: permit,
            _open: OpenConnection::new(metrics.clone(), port.listener),
            held,
        };
        gateway.tasks.spawn(serve(stream, peer, admitted));
    }
}

/// The next connection, or `None` once the gateway shuts down. Accept errors back off,
/// doubling from 10 ms to a second, so a process out of descriptors does not spin.
async fn next_connection(
    listener: &TcpListener,
    gateway: &Gateway,
    name: Listener,
) -> Option<(TcpStream, SocketAddr)> {
    let mut backoff = Duration::from_millis(10);
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            () = gateway.shutdown.cancelled() => return None,
        };
        match accepted {
            Ok(pair) => return Some(pair),
            Err(error) => {
                AcceptFailed {
                    listener: name,
                    error: &error,
                }
                .emit(&gateway.metrics);
                tokio::select! {
                    () = tokio::time::sleep(backoff) => {}
                    () = gateway.shutdown.cancelled() => return None,
                }
                backoff = (backoff * 2).min(Duration::from_secs(1));
            }
        }
    }
}

/// The answer to a connection refused at accept: its status line and explanation.
fn over_limit_text(limit: Limit) -> (&'static str, &'static str) {
    match limit {
        Limit::Source | Limit::AdminSource => (
            "429 Too Many Requests",
            "Too many connections from your address are open at the gateway; close some and try again.\n",
        ),
        Limit::User => (
            "429 Too Many Requests",
            "You have too many connections open through the gateway; close some and try again.\n",
        ),
        Limit::Port | Limit::Admin => (
            "503 Service Unavailable",
            "The gateway is at its connection limit; try again shortly.\n",
        ),
    }
}

/// Writes the refusal (bounded to two seconds) and closes.
async fn reject_over_limit(mut stream: TcpStream, limit: Limit) {
    use crate::telemetry::Label;
    let (status, text) = over_limit_text(limit);
    let response = format!(
        "HTTP/1.1 {status}\r\ncontent-type: text/plain\r\ncontent-length: {}\r\n\
         x-warden-action: error\r\nx-warden-rule: {}\r\nconnection: close\r\n\r\n{text}",
        text.len(),
        limit.as_str(),
    );
    let _ = tokio::time::timeout(Duration::from_secs(2), async {
        let _ = stream.write_all(response.as_bytes()).await;
        let _ = stream.shutdown().await;
    })
    .await;
}
