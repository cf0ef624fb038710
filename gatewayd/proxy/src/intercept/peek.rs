//! Reading a tunnel's first bytes, bounded in time and size, to learn what it carries.

use std::io;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use tokio::io::{AsyncRead, AsyncReadExt};

use super::client_hello::{peek, ClientHelloInfo, Peeked, MAX_CLIENT_HELLO};

/// What the first bytes of a tunnel are.
#[derive(Debug)]
pub enum Detected {
    Tls(ClientHelloInfo),
    Http,
    Other,
}

/// Whether `buf` starts like an HTTP/1 request line (`METHOD SP`).
fn looks_like_http(buf: &[u8]) -> Option<bool> {
    for (i, b) in buf.iter().enumerate().take(16) {
        match b {
            b'A'..=b'Z' => {}
            b' ' if i > 0 => return Some(true),
            _ => return Some(false),
        }
    }
    if buf.len() >= 16 {
        Some(false)
    } else {
        None
    }
}

/// Reads until the tunnel's protocol is known. Returns the bytes read (to be replayed), what
/// they are, and the stream.
pub async fn peek_stream<S>(mut stream: S, limit: Duration) -> io::Result<(Bytes, Detected, S)>
where
    S: AsyncRead + Unpin,
{
    let mut buf = BytesMut::with_capacity(2048);
    let work = async {
        loop {
            if buf.len() > MAX_CLIENT_HELLO + 5 * 64 {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    "ClientHello too large",
                ));
            }
            if stream.read_buf(&mut buf).await? == 0 {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "client closed the tunnel before sending anything usable",
                ));
            }
            match peek(&buf) {
                Peeked::NeedMore => continue,
                Peeked::ClientHello(info) => return Ok(Detected::Tls(info)),
                Peeked::Malformed(reason) => {
                    return Err(io::Error::new(io::ErrorKind::InvalidData, reason))
                }
                Peeked::NotTls => match looks_like_http(&buf) {
                    Some(true) => return Ok(Detected::Http),
                    Some(false) => return Ok(Detected::Other),
                    None => continue,
                },
            }
        }
    };
    let detected = tokio::time::timeout(limit, work).await.map_err(|_| {
        io::Error::new(
            io::ErrorKind::TimedOut,
            "no ClientHello within the handshake timeout",
        )
    })??;
    Ok((buf.freeze(), detected, stream))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_http_request_lines() {
        assert_eq!(looks_like_http(b"GET / HTTP/1.1"), Some(true));
        assert_eq!(looks_like_http(b"GE"), None);
        assert_eq!(looks_like_http(b"SSH-2.0"), Some(false));
        assert_eq!(looks_like_http(b" GET"), Some(false));
    }
}
