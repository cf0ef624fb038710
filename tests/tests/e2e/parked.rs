//! A keep-alive HTTP/1.1 connection that waits longer than the parking delay (hyper's buffers
//! let go while it idles) is served again as if nothing happened: the next request, requests
//! sent together, a request head split across the wait, over plain HTTP and inside an
//! intercepted TLS tunnel. And parking never lets a slow request head outlive the header
//! timeout.

use std::sync::Arc;
use std::time::{Duration, Instant};

use rustls_pki_types::pem::PemObject;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::support::{GatewayOptions, GatewayProcess, Origin};

/// Longer than the gateway's parking delay (1 s).
const PAST_PARKING: Duration = Duration::from_millis(1600);

/// One client connection with what it has read but not yet consumed.
struct Client<S> {
    stream: S,
    buf: Vec<u8>,
}

impl<S: AsyncRead + AsyncWrite + Unpin> Client<S> {
    fn new(stream: S) -> Self {
        Self {
            stream,
            buf: Vec::new(),
        }
    }

    async fn send(&mut self, bytes: &[u8]) {
        self.stream.write_all(bytes).await.unwrap();
        self.stream.flush().await.unwrap();
    }

    async fn fill(&mut self) {
        let mut chunk = [0u8; 4096];
        let n = tokio::time::timeout(Duration::from_secs(10), self.stream.read(&mut chunk))
            .await
            .expect("no answer within 10 s")
            .unwrap();
        assert!(
            n > 0,
            "the gateway closed the connection instead of answering"
        );
        self.buf.extend_from_slice(&chunk[..n]);
    }

    /// Reads one response (Content-Length bodies only): its status line and body.
    async fn response(&mut self) -> (String, String) {
        let head_end = loop {
            if let Some(at) = self.buf.windows(4).position(|w| w == b"\r\n\r\n") {
                break at + 4;
            }
            self.fill().await;
        };
        let head = String::from_utf8_lossy(&self.buf[..head_end]).into_owned();
        let length: usize = head
            .lines()
            .find_map(|line| {
                let (name, value) = line.split_once(':')?;
                name.eq_ignore_ascii_case("content-length")
                    .then(|| value.trim().parse().unwrap())
            })
            .expect("a Content-Length");
        while self.buf.len() < head_end + length {
            self.fill().await;
        }
        let body = String::from_utf8_lossy(&self.buf[head_end..head_end + length]).into_owned();
        self.buf.drain(..head_end + length);
        let status = head.lines().next().unwrap_or_default().to_string();
        assert!(
            !head.to_ascii_lowercase().contains("connection: close"),
            "the connection was not kept alive: {head}"
        );
        (status, body)
    }
}

fn healthz() -> &'static [u8] {
    b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
}

#[tokio::test]
async fn plain_keep_alive_survives_parking() {
    let dir = tempfile::tempdir().unwrap();
    let origin = Origin::start(dir.path());
    let gw = GatewayProcess::start(&origin, GatewayOptions::default());
    let mut client = Client::new(TcpStream::connect(gw.admin).await.unwrap());
    client.send(healthz()).await;
    assert_eq!(client.response().await.1, "ok\n");

    tokio::time::sleep(PAST_PARKING).await;
    client.send(healthz()).await;
    assert_eq!(
        client.response().await.1,
        "ok\n",
        "the request after parking"
    );

    // Two requests in one write, after parking.
    tokio::time::sleep(PAST_PARKING).await;
    let two = [healthz(), healthz()].concat();
    client.send(&two).await;
    assert_eq!(client.response().await.1, "ok\n");
    assert_eq!(
        client.response().await.1,
        "ok\n",
        "the second request sent together"
    );

    // A head split across the parking delay.
    client.send(b"GET /healthz HTTP/1.1\r\nHo").await;
    tokio::time::sleep(PAST_PARKING).await;
    client.send(b"st: 127.0.0.1\r\n\r\n").await;
    assert_eq!(
        client.response().await.1,
        "ok\n",
        "the head split by a wait"
    );

    // And the connection still serves after all that.
    client.send(healthz()).await;
    assert_eq!(client.response().await.1, "ok\n");
}

#[tokio::test]
async fn a_slow_head_is_cut_off_even_across_parking() {
    let dir = tempfile::tempdir().unwrap();
    let origin = Origin::start(dir.path());
    let gw = GatewayProcess::start(
        &origin,
        GatewayOptions {
            sections: "[timeouts]\nheader_read = \"1s\"\n".into(),
            ..Default::default()
        },
    );
    let mut stream = TcpStream::connect(gw.admin).await.unwrap();
    stream
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        .await
        .unwrap();
    let started = Instant::now();
    // One header byte every 200 ms: never a whole head.
    let closed = loop {
        if started.elapsed() > Duration::from_secs(8) {
            break false;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
        if stream.write_all(b"x").await.is_err() {
            break true;
        }
        let mut probe = [0u8; 512];
        match tokio::time::timeout(Duration::from_millis(1), stream.read(&mut probe)).await {
            Ok(Ok(0)) | Ok(Err(_)) => break true,
            Ok(Ok(_)) => break true, // a 408 or 400, then the close
            Err(_) => {}
        }
    };
    assert!(
        closed,
        "a head trickling in for 8 s was never cut off (header_read = 1s)"
    );
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "the slow head lived {:?}: parking must restart the header timer at most once",
        started.elapsed()
    );
}

#[tokio::test]
async fn intercepted_keep_alive_survives_parking() {
    let dir = tempfile::tempdir().unwrap();
    let origin = Origin::start(dir.path());
    let gw = GatewayProcess::start(&origin, GatewayOptions::default());
    let mut tcp = TcpStream::connect(gw.proxy).await.unwrap();
    tcp.write_all(b"CONNECT chat.test:443 HTTP/1.1\r\nHost: chat.test:443\r\n\r\n")
        .await
        .unwrap();
    let mut head = Vec::new();
    while !head.ends_with(b"\r\n\r\n") {
        let mut byte = [0u8; 1];
        tcp.read_exact(&mut byte).await.unwrap();
        head.push(byte[0]);
    }
    assert!(head.starts_with(b"HTTP/1.1 200"), "CONNECT refused");
    let mut roots = rustls::RootCertStore::empty();
    roots
        .add(rustls_pki_types::CertificateDer::from_pem_file(&gw.root_pem).unwrap())
        .unwrap();
    let mut config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::aws_lc_rs::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(roots)
    .with_no_client_auth();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    let name = rustls_pki_types::ServerName::try_from("chat.test").unwrap();
    let tls = tokio_rustls::TlsConnector::from(Arc::new(config))
        .connect(name, tcp)
        .await
        .unwrap();
    let mut client = Client::new(tls);
    let post = |body: &str| {
        format!(
            "POST /echo HTTP/1.1\r\nHost: chat.test\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        )
    };
    client.send(post("one").as_bytes()).await;
    assert_eq!(client.response().await.1, "one");

    tokio::time::sleep(PAST_PARKING).await;
    client.send(post("two").as_bytes()).await;
    let (status, body) = client.response().await;
    assert!(status.contains(" 200"), "{status}");
    assert_eq!(body, "two", "the request after parking");

    let three = post("three");
    let (first, rest) = three.split_at(10);
    client.send(first.as_bytes()).await;
    tokio::time::sleep(PAST_PARKING).await;
    client.send(rest.as_bytes()).await;
    assert_eq!(
        client.response().await.1,
        "three",
        "the head split by a wait"
    );
}

#[tokio::test]
async fn a_parked_connection_closes_when_hyper_would_have() {
    // Hyper runs the header timer while it waits for a next request: an idle keep-alive
    // connection closes after `header_read`, parked or not.
    let dir = tempfile::tempdir().unwrap();
    let origin = Origin::start(dir.path());
    let gw = GatewayProcess::start(
        &origin,
        GatewayOptions {
            sections: "[timeouts]\nheader_read = \"3s\"\n".into(),
            ..Default::default()
        },
    );
    let mut client = Client::new(TcpStream::connect(gw.admin).await.unwrap());
    client.send(healthz()).await;
    assert_eq!(client.response().await.1, "ok\n");
    let idle_from = Instant::now();
    let mut rest = Vec::new();
    let read = tokio::time::timeout(
        Duration::from_secs(10),
        client.stream.read_to_end(&mut rest),
    )
    .await;
    assert!(read.is_ok(), "an idle connection was held past 10 s");
    let held = idle_from.elapsed();
    assert!(
        held >= Duration::from_secs(2) && held < Duration::from_secs(6),
        "closed after {held:?}, expected about header_read (3 s)"
    );
}
