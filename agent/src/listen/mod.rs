//! The local proxy (default 127.0.0.1:3129): one port for HTTP (CONNECT, absolute-form,
//! `/proxy.pac`) and SOCKS5, told apart by the first byte. Only loopback clients, or those in
//! `allow_sources`, are served: the agent is never an open proxy.

mod http;
mod pac;
pub mod route;
mod socks;

use std::sync::Arc;
use std::time::Duration;

use ipnet::IpNet;
use tokio::net::{TcpListener, TcpStream};

pub use pac::pac_file;
use route::Router;

/// Accepts client connections forever.
pub async fn serve(listener: TcpListener, router: Arc<Router>, allow: Vec<IpNet>) {
    let local = listener
        .local_addr()
        .map(|a| a.to_string())
        .unwrap_or_default();
    let pac: Arc<str> = Arc::from(pac_file(&local, &router.split, router.fail_open));
    loop {
        let (stream, peer) = match listener.accept().await {
            Ok(pair) => pair,
            Err(error) => {
                tracing::warn!(%error, "accept failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let ip = peer.ip().to_canonical();
        if !ip.is_loopback() && !allow.iter().any(|n| n.contains(&ip)) {
            tracing::warn!(%peer, "client refused: not loopback and not in allow_sources");
            continue;
        }
        let _ = stream.set_nodelay(true);
        tokio::spawn(serve_client(stream, router.clone(), pac.clone()));
    }
}

async fn serve_client(stream: TcpStream, router: Arc<Router>, pac: Arc<str>) {
    let mut first = [0u8; 1];
    let peeked = tokio::time::timeout(Duration::from_secs(30), stream.peek(&mut first)).await;
    match peeked {
        Ok(Ok(1)) if first[0] == 0x05 => socks::serve(stream, &router).await,
        Ok(Ok(1)) => http::serve(stream, router, pac).await,
        _ => {}
    }
}
