//! A stranger on the tunnel port: TLS without a client certificate (and without checking the
//! server's), then HTTP/2 written frame by frame, so a scenario can do what no polite client
//! does: open more streams than the server allows and trickle request bodies. Frames the
//! server sends come back as [`Event`]s; only their kind, stream, error code and DATA bytes
//! are decoded (no HPACK: the answers' JSON bodies say enough).

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::{DigitallySignedStruct, SignatureScheme};
use rustls_pki_types::{CertificateDer, ServerName, UnixTime};
use tokio::io::{AsyncReadExt, AsyncWriteExt, WriteHalf};
use tokio::net::TcpStream;
use tokio::sync::mpsc;
use tokio_rustls::client::TlsStream;

const PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
const DATA: u8 = 0;
const HEADERS: u8 = 1;
const RST_STREAM: u8 = 3;
const SETTINGS: u8 = 4;
const GOAWAY: u8 = 7;
pub const REFUSED_STREAM: u32 = 7;
pub const ENHANCE_YOUR_CALM: u32 = 11;

/// A frame (or the end) the server sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    Settings,
    Headers { stream: u32 },
    Data { stream: u32, bytes: Vec<u8> },
    Reset { stream: u32, code: u32 },
    GoAway { code: u32 },
    Closed,
}

/// Accepts any server certificate and remembers the one it was shown.
#[derive(Debug, Default)]
struct Shown(Mutex<Option<CertificateDer<'static>>>);

impl ServerCertVerifier for Shown {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _: &[CertificateDer<'_>],
        _: &ServerName<'_>,
        _: &[u8],
        _: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        *self.0.lock().unwrap() = Some(end_entity.clone().into_owned());
        Ok(ServerCertVerified::assertion())
    }
    fn verify_tls12_signature(
        &self,
        _: &[u8],
        _: &CertificateDer<'_>,
        _: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        Ok(HandshakeSignatureValid::assertion())
    }
    fn verify_tls13_signature(
        &self,
        _: &[u8],
        _: &CertificateDer<'_>,
        _: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        Ok(HandshakeSignatureValid::assertion())
    }
    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        rustls::crypto::aws_lc_rs::default_provider()
            .signature_verification_algorithms
            .supported_schemes()
    }
}

/// One certificate-less connection to the tunnel port.
pub struct Stranger {
    writer: Arc<tokio::sync::Mutex<WriteHalf<TlsStream<TcpStream>>>>,
    pub events: mpsc::UnboundedReceiver<(Instant, Event)>,
    pub opened: Instant,
}

/// TLS to `addr` with `sni`, no client certificate; returns before any HTTP/2 is sent.
pub async fn tls(
    addr: SocketAddr,
    sni: &str,
) -> std::io::Result<(TlsStream<TcpStream>, CertificateDer<'static>)> {
    let shown = Arc::new(Shown::default());
    let mut config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::aws_lc_rs::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .dangerous()
    .with_custom_certificate_verifier(shown.clone())
    .with_no_client_auth();
    config.alpn_protocols = vec![b"h2".to_vec()];
    let tcp = TcpStream::connect(addr).await?;
    let name = ServerName::try_from(sni.to_owned()).unwrap();
    let tls = tokio_rustls::TlsConnector::from(Arc::new(config))
        .connect(name, tcp)
        .await?;
    let cert = shown.0.lock().unwrap().clone().unwrap();
    Ok((tls, cert))
}

impl Stranger {
    /// Connects and sends the preface and an empty SETTINGS; the server's SETTINGS is
    /// acknowledged when it arrives.
    pub async fn connect(addr: SocketAddr) -> std::io::Result<Self> {
        let (tls, _) = tls(addr, "stranger.example").await?;
        let opened = Instant::now();
        let (mut reader, writer) = tokio::io::split(tls);
        let writer = Arc::new(tokio::sync::Mutex::new(writer));
        {
            let mut w = writer.lock().await;
            w.write_all(PREFACE).await?;
            w.write_all(&frame(SETTINGS, 0, 0, &[])).await?;
        }
        let (tx, events) = mpsc::unbounded_channel();
        let ack = writer.clone();
        tokio::spawn(async move {
            let mut head = [0u8; 9];
            loop {
                if reader.read_exact(&mut head).await.is_err() {
                    let _ = tx.send((Instant::now(), Event::Closed));
                    return;
                }
                let len = u32::from_be_bytes([0, head[0], head[1], head[2]]) as usize;
                let (kind, flags) = (head[3], head[4]);
                let stream = u32::from_be_bytes([head[5], head[6], head[7], head[8]]) & 0x7fff_ffff;
                let mut payload = vec![0u8; len];
                if reader.read_exact(&mut payload).await.is_err() {
                    let _ = tx.send((Instant::now(), Event::Closed));
                    return;
                }
                let code = |at: usize| {
                    payload
                        .get(at..at + 4)
                        .map_or(0, |b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
                };
                let event = match kind {
                    SETTINGS if flags & 1 == 0 => {
                        let _ = ack
                            .lock()
                            .await
                            .write_all(&frame(SETTINGS, 1, 0, &[]))
                            .await;
                        Event::Settings
                    }
                    HEADERS => Event::Headers { stream },
                    DATA => Event::Data {
                        stream,
                        bytes: payload.clone(),
                    },
                    RST_STREAM => Event::Reset {
                        stream,
                        code: code(0),
                    },
                    GOAWAY => Event::GoAway { code: code(4) },
                    _ => continue,
                };
                let _ = tx.send((Instant::now(), event));
            }
        });
        Ok(Self {
            writer,
            events,
            opened,
        })
    }

    /// Opens stream `id` with `POST path` and no end of stream: the body is still to come.
    pub async fn post(&self, id: u32, path: &str) -> std::io::Result<()> {
        let mut block = vec![0x83, 0x87]; // :method POST, :scheme https (static table)
        block.push(0x04); // :path, literal value, not indexed
        block.push(path.len() as u8);
        block.extend_from_slice(path.as_bytes());
        block.extend_from_slice(&[0x01, 1, b'x']); // :authority x
        let headers = frame(HEADERS, 0x4, id, &block); // END_HEADERS
        self.writer.lock().await.write_all(&headers).await
    }

    /// Sends `bytes` on stream `id`, ending the stream when `end`.
    pub async fn data(&self, id: u32, bytes: &[u8], end: bool) -> std::io::Result<()> {
        let data = frame(DATA, u8::from(end), id, bytes);
        self.writer.lock().await.write_all(&data).await
    }

    /// Waits up to `limit` for an event matching `want`; returns it with when it came.
    pub async fn wait_for(
        &mut self,
        limit: Duration,
        want: impl Fn(&Event) -> bool,
    ) -> Option<(Instant, Event)> {
        tokio::time::timeout(limit, async {
            while let Some((at, event)) = self.events.recv().await {
                if want(&event) {
                    return Some((at, event));
                }
                if event == Event::Closed {
                    return None;
                }
            }
            None
        })
        .await
        .ok()
        .flatten()
    }

    /// Everything the server sent in the next `window`.
    pub async fn drain(&mut self, window: Duration) -> Vec<Event> {
        let mut seen = Vec::new();
        let deadline = tokio::time::Instant::now() + window;
        while let Ok(Some((_, event))) = tokio::time::timeout_at(deadline, self.events.recv()).await
        {
            let closed = event == Event::Closed;
            seen.push(event);
            if closed {
                break;
            }
        }
        seen
    }
}

/// The body text of the answer on `stream`, from DATA events.
pub fn body_of(events: &[Event], stream: u32) -> String {
    events
        .iter()
        .filter_map(|e| match e {
            Event::Data { stream: s, bytes } if *s == stream => {
                Some(String::from_utf8_lossy(bytes).into_owned())
            }
            _ => None,
        })
        .collect()
}

fn frame(kind: u8, flags: u8, stream: u32, payload: &[u8]) -> Vec<u8> {
    let len = payload.len() as u32;
    let mut out = Vec::with_capacity(9 + payload.len());
    out.extend_from_slice(&len.to_be_bytes()[1..]);
    out.push(kind);
    out.push(flags);
    out.extend_from_slice(&stream.to_be_bytes());
    out.extend_from_slice(payload);
    out
}
