//! "Big files and live connections work through Warden": 100 MB each way streamed with bounded
//! gateway memory, and a WebSocket echo through the intercepted tunnel.

use std::sync::Arc;

use futures_util::{SinkExt, StreamExt};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_tungstenite::tungstenite::Message;

use crate::support::{curl, GatewayOptions, GatewayProcess, Origin};

const HUNDRED_MB: u64 = 100 * 1024 * 1024;
/// Peak RSS the gateway may gain while 100 MB pass through it: far below the payload.
const MEMORY_BUDGET_KIB: u64 = 40 * 1024;

#[test]
fn a_100_mb_download_and_upload_stream_with_bounded_memory() {
    let dir = tempfile::tempdir().unwrap();
    let origin = Origin::start(dir.path());
    let gw = GatewayProcess::start(&origin, GatewayOptions::default());
    let root = gw.root_pem.display().to_string();
    // Warm up (mint, pools) so the baseline includes steady-state allocations.
    assert_eq!(
        curl(&[
            "-x",
            &gw.proxy_url(),
            "--cacert",
            &root,
            "https://chat.test/bytes/1000"
        ])
        .status,
        200
    );
    let baseline = gw.memory_kib("VmHWM");

    let url = format!("https://chat.test/bytes/{HUNDRED_MB}");
    let down = curl(&["-x", &gw.proxy_url(), "--cacert", &root, &url]);
    assert_eq!(down.status, 200, "{}", down.stderr);
    assert_eq!(down.body.len() as u64, HUNDRED_MB);

    let upload = dir.path().join("upload.bin");
    {
        let file = std::fs::File::create(&upload).unwrap();
        file.set_len(HUNDRED_MB).unwrap();
    }
    let up = curl(&[
        "-x",
        &gw.proxy_url(),
        "--cacert",
        &root,
        "-X",
        "POST",
        "-T",
        upload.to_str().unwrap(),
        "https://chat.test/upload",
    ]);
    assert_eq!(up.status, 200, "{}", up.stderr);
    assert_eq!(up.body_text(), format!("{{\"received\":{HUNDRED_MB}}}"));

    let growth = gw.memory_kib("VmHWM").saturating_sub(baseline);
    assert!(
        growth < MEMORY_BUDGET_KIB,
        "gateway peak memory grew {growth} KiB while streaming 200 MB"
    );
}

/// Opens a WebSocket to `host` through the gateway's proxy port, trusting the Warden root.
pub(crate) async fn websocket_through(
    gw: &GatewayProcess,
    host: &str,
) -> tokio_tungstenite::WebSocketStream<tokio_rustls::client::TlsStream<tokio::net::TcpStream>> {
    websocket_with(gw, host, &[]).await.0
}

/// [`websocket_through`] with extra handshake headers; also returns the 101 response.
pub(crate) async fn websocket_with(
    gw: &GatewayProcess,
    host: &str,
    headers: &[(&'static str, &str)],
) -> (
    tokio_tungstenite::WebSocketStream<tokio_rustls::client::TlsStream<tokio::net::TcpStream>>,
    tokio_tungstenite::tungstenite::handshake::client::Response,
) {
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    let mut tcp = tokio::net::TcpStream::connect(gw.proxy).await.unwrap();
    tcp.write_all(format!("CONNECT {host}:443 HTTP/1.1\r\nHost: {host}:443\r\n\r\n").as_bytes())
        .await
        .unwrap();
    let mut head = Vec::new();
    while !head.ends_with(b"\r\n\r\n") {
        let mut byte = [0u8; 1];
        tcp.read_exact(&mut byte).await.unwrap();
        head.push(byte[0]);
    }
    assert!(
        head.starts_with(b"HTTP/1.1 200"),
        "{}",
        String::from_utf8_lossy(&head)
    );
    let mut roots = rustls::RootCertStore::empty();
    let pem = std::fs::read(&gw.root_pem).unwrap();
    for cert in rustls_pki_types::pem::PemObject::pem_slice_iter(&pem) {
        roots.add(cert.unwrap()).unwrap();
    }
    let mut config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::aws_lc_rs::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(roots)
    .with_no_client_auth();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    let tls = tokio_rustls::TlsConnector::from(Arc::new(config))
        .connect(host.to_string().try_into().unwrap(), tcp)
        .await
        .expect("the Warden leaf verifies against the Warden root");
    let mut request = format!("wss://{host}/ws").into_client_request().unwrap();
    for (name, value) in headers {
        request.headers_mut().insert(*name, value.parse().unwrap());
    }
    let (ws, response) = tokio_tungstenite::client_async(request, tls)
        .await
        .expect("websocket handshake through the gateway");
    assert_eq!(response.status(), 101);
    (ws, response)
}

#[test]
fn websocket_echo_through_the_intercepted_tunnel() {
    let dir = tempfile::tempdir().unwrap();
    let origin = Origin::start(dir.path());
    let gw = GatewayProcess::start(&origin, GatewayOptions::default());
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let mut ws = websocket_through(&gw, "ws.test").await;
        for i in 0..5 {
            let text = format!("message {i}");
            ws.send(Message::text(text.clone())).await.unwrap();
            let echoed = ws.next().await.unwrap().unwrap();
            assert_eq!(echoed.into_text().unwrap().as_str(), text);
        }
        ws.close(None).await.unwrap();
    });
}

#[test]
fn a_websocket_message_carrying_a_private_key_never_reaches_an_app_in_review() {
    let dir = tempfile::tempdir().unwrap();
    let origin = Origin::start(dir.path());
    let gw = GatewayProcess::start(&origin, GatewayOptions::default());
    let key = rcgen::KeyPair::generate().unwrap().serialize_pem();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        // claude.ai is unreviewed: the default policy scans what is sent to it.
        let mut ws = websocket_through(&gw, "claude.ai").await;
        ws.send(Message::text("hello there")).await.unwrap();
        let echoed = ws.next().await.unwrap().unwrap();
        assert_eq!(echoed.into_text().unwrap().as_str(), "hello there");
        ws.send(Message::text(format!("please review this key:\n{key}")))
            .await
            .unwrap();
        let next = tokio::time::timeout(std::time::Duration::from_secs(5), ws.next())
            .await
            .unwrap();
        let echoed_key = matches!(&next, Some(Ok(m)) if m.is_text());
        assert!(!echoed_key, "the key must not reach the app: {next:?}");
    });
    assert!(
        gw.wait_for_log(
            "websocket message blocked by DLP",
            std::time::Duration::from_secs(3)
        ),
        "{}",
        gw.log()
    );
    assert!(
        !gw.log().contains("PRIVATE KEY-----\n"),
        "the key is never logged"
    );
}

#[test]
fn an_upstream_that_answers_before_reading_the_upload_is_relayed_not_reset() {
    let dir = tempfile::tempdir().unwrap();
    let origin = Origin::start(dir.path());
    let gw = GatewayProcess::start(&origin, GatewayOptions::default());
    let upload = dir.path().join("big.bin");
    std::fs::File::create(&upload)
        .unwrap()
        .set_len(8 * 1024 * 1024)
        .unwrap();
    let root = gw.root_pem.display().to_string();
    for http in ["--http1.1", "--http2"] {
        for _ in 0..5 {
            let result = curl(&[
                http,
                "-x",
                &gw.proxy_url(),
                "--cacert",
                &root,
                "-H",
                "Content-Type: application/octet-stream",
                "--data-binary",
                &format!("@{}", upload.display()),
                "https://chat.test/early",
            ]);
            assert_eq!(
                result.status, 413,
                "{http}: the client sees the upstream's answer: {}",
                result.stderr
            );
        }
    }
}
