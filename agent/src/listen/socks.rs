//! SOCKS5 (RFC 1928): no authentication, the CONNECT command, IPv4, IPv6 and domain targets.
//! Everything else gets the protocol's refusal. The handshake is bounded in time and size.

use std::net::{Ipv4Addr, Ipv6Addr};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;

use super::route::{OpenError, Router};

const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// A parsed CONNECT request.
#[derive(Debug, PartialEq, Eq)]
pub struct Target {
    pub host: String,
    pub port: u16,
}

/// Reply codes.
const SUCCEEDED: u8 = 0x00;
const GENERAL_FAILURE: u8 = 0x01;
const NOT_ALLOWED: u8 = 0x02;
const COMMAND_NOT_SUPPORTED: u8 = 0x07;
const ADDRESS_NOT_SUPPORTED: u8 = 0x08;

pub async fn serve(mut client: TcpStream, router: &Router) {
    let target = match tokio::time::timeout(HANDSHAKE_TIMEOUT, handshake(&mut client)).await {
        Ok(Ok(target)) => target,
        Ok(Err(code)) => {
            if let Some(code) = code {
                let _ = reply(&mut client, code).await;
            }
            return;
        }
        Err(_) => return,
    };
    match router.open(&target.host, target.port).await {
        Ok(mut upstream) => {
            if reply(&mut client, SUCCEEDED).await.is_err() {
                return;
            }
            let _ = tokio::io::copy_bidirectional(&mut client, &mut upstream).await;
        }
        Err(error) => {
            tracing::info!(host = %target.host, port = target.port, %error, "SOCKS connect refused");
            let code = match error {
                OpenError::Refused(_) => NOT_ALLOWED,
                OpenError::Unavailable(_) => GENERAL_FAILURE,
            };
            let _ = reply(&mut client, code).await;
        }
    }
}

async fn reply(client: &mut TcpStream, code: u8) -> std::io::Result<()> {
    client
        .write_all(&[0x05, code, 0x00, 0x01, 0, 0, 0, 0, 0, 0])
        .await
}

/// Reads the greeting and the request; `Err(Some(code))` asks for a reply before closing.
async fn handshake<S: AsyncRead + AsyncWrite + Unpin>(
    client: &mut S,
) -> Result<Target, Option<u8>> {
    let mut head = [0u8; 2];
    client.read_exact(&mut head).await.map_err(|_| None)?;
    if head[0] != 0x05 {
        return Err(None);
    }
    let mut methods = vec![0u8; usize::from(head[1])];
    client.read_exact(&mut methods).await.map_err(|_| None)?;
    if !methods.contains(&0x00) {
        let _ = client.write_all(&[0x05, 0xff]).await;
        return Err(None);
    }
    client.write_all(&[0x05, 0x00]).await.map_err(|_| None)?;
    let mut request = [0u8; 4];
    client.read_exact(&mut request).await.map_err(|_| None)?;
    if request[0] != 0x05 {
        return Err(None);
    }
    if request[1] != 0x01 {
        return Err(Some(COMMAND_NOT_SUPPORTED));
    }
    let host = match request[3] {
        0x01 => {
            let mut ip = [0u8; 4];
            client.read_exact(&mut ip).await.map_err(|_| None)?;
            Ipv4Addr::from(ip).to_string()
        }
        0x04 => {
            let mut ip = [0u8; 16];
            client.read_exact(&mut ip).await.map_err(|_| None)?;
            Ipv6Addr::from(ip).to_string()
        }
        0x03 => {
            let mut len = [0u8; 1];
            client.read_exact(&mut len).await.map_err(|_| None)?;
            let mut name = vec![0u8; usize::from(len[0])];
            client.read_exact(&mut name).await.map_err(|_| None)?;
            let name = String::from_utf8(name).map_err(|_| Some(ADDRESS_NOT_SUPPORTED))?;
            if name.is_empty()
                || !name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'))
            {
                return Err(Some(ADDRESS_NOT_SUPPORTED));
            }
            name
        }
        _ => return Err(Some(ADDRESS_NOT_SUPPORTED)),
    };
    let mut port = [0u8; 2];
    client.read_exact(&mut port).await.map_err(|_| None)?;
    let port = u16::from_be_bytes(port);
    if port == 0 {
        return Err(Some(GENERAL_FAILURE));
    }
    Ok(Target { host, port })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    async fn run(bytes: &[u8]) -> (Result<Target, Option<u8>>, Vec<u8>) {
        let (mut ours, mut theirs) = tokio::io::duplex(1024);
        theirs.write_all(bytes).await.unwrap();
        theirs.shutdown().await.unwrap(); // the client sends nothing more
        let result = handshake(&mut ours).await;
        drop(ours);
        let mut replies = Vec::new();
        theirs.read_to_end(&mut replies).await.unwrap();
        (result, replies)
    }

    #[tokio::test]
    async fn connect_by_name_ipv4_and_ipv6() {
        let (t, reply) = run(b"\x05\x01\x00\x05\x01\x00\x03\x0bchatgpt.com\x01\xbb").await;
        assert_eq!(
            t,
            Ok(Target {
                host: "chatgpt.com".into(),
                port: 443
            })
        );
        assert_eq!(reply, [5, 0]);
        let (t, _) = run(b"\x05\x01\x00\x05\x01\x00\x01\x7f\x00\x00\x01\x00\x50").await;
        assert_eq!(
            t,
            Ok(Target {
                host: "127.0.0.1".into(),
                port: 80
            })
        );
        let mut v6 = b"\x05\x01\x00\x05\x01\x00\x04".to_vec();
        v6.extend_from_slice(&[0; 15]);
        v6.extend_from_slice(&[1, 0x01, 0xbb]);
        let (t, _) = run(&v6).await;
        assert_eq!(
            t,
            Ok(Target {
                host: "::1".into(),
                port: 443
            })
        );
    }

    #[tokio::test]
    async fn refusals_follow_the_protocol() {
        // No acceptable method (only username/password offered).
        let (t, reply) = run(b"\x05\x01\x02").await;
        assert_eq!(t, Err(None));
        assert_eq!(reply, [5, 0xff]);
        // BIND is not supported.
        let (t, _) = run(b"\x05\x01\x00\x05\x02\x00\x01\x7f\x00\x00\x01\x00\x50").await;
        assert_eq!(t, Err(Some(COMMAND_NOT_SUPPORTED)));
        // A name with characters no host name has.
        let (t, _) = run(b"\x05\x01\x00\x05\x01\x00\x03\x03a b\x00\x50").await;
        assert_eq!(t, Err(Some(ADDRESS_NOT_SUPPORTED)));
        // Not SOCKS5, or cut short.
        assert_eq!(run(b"\x04\x01").await.0, Err(None));
        assert_eq!(run(b"\x05\x01\x00\x05\x01").await.0, Err(None));
    }
}
