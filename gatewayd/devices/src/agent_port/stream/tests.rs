//! `AgentStream` against a real h2 client over an in-memory pipe: bytes both ways past the
//! flow-control windows, each side's end of stream, and resets.

#![allow(clippy::unwrap_used)]
// Tests own their peers' tasks; nothing here runs in a daemon that drains.
#![allow(clippy::disallowed_methods)]

use std::time::Duration;

use bytes::Bytes;
use h2::client::SendRequest;
use h2::{Reason, RecvStream, SendStream};
use http::{Method, Request, Response, StatusCode};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::oneshot;

use super::AgentStream;
use crate::agent_port::connection::settings;
use crate::agent_port::Settings;

/// An agent's side of one CONNECT stream.
struct Agent {
    send: SendStream<Bytes>,
    recv: RecvStream,
    _client: SendRequest<Bytes>,
}

impl Agent {
    /// Reads until the gateway ends the stream, giving the window back as it goes.
    async fn read_to_end(&mut self) -> Vec<u8> {
        let mut all = Vec::new();
        while let Some(data) = self.recv.data().await {
            let data = data.unwrap();
            self.recv
                .flow_control()
                .release_capacity(data.len())
                .unwrap();
            all.extend_from_slice(&data);
        }
        all
    }

    async fn read_exactly(&mut self, n: usize) -> Vec<u8> {
        let mut all = Vec::new();
        while all.len() < n {
            let data = self.recv.data().await.unwrap().unwrap();
            self.recv
                .flow_control()
                .release_capacity(data.len())
                .unwrap();
            all.extend_from_slice(&data);
        }
        all
    }
}

/// A gateway-side `AgentStream` and the agent's end of it, over the tunnel port's settings
/// (the agent keeps h2's small default windows, so big writes wait for capacity).
async fn connect_stream() -> (AgentStream, Agent) {
    let (agent_io, gateway_io) = tokio::io::duplex(64 * 1024);
    let (accepted, stream) = oneshot::channel();
    tokio::spawn(async move {
        // The daemon's defaults for the settings the connection uses.
        let defaults = Settings {
            handshake: Duration::from_secs(10),
            max_streams_per_connection: 1_000,
            max_header_bytes: 64 * 1024,
            device_cert_validity: Duration::from_secs(90 * 24 * 3600),
            signed_posture_max_age: Duration::from_secs(24 * 3600),
        };
        let mut connection = settings(&defaults)
            .handshake::<_, Bytes>(gateway_io)
            .await
            .unwrap();
        let (request, mut respond) = connection.accept().await.unwrap().unwrap();
        assert_eq!(request.method(), Method::CONNECT);
        assert_eq!(request.uri().authority().unwrap(), "example.com:443");
        let send = respond.send_response(Response::new(()), false).unwrap();
        let _ = accepted.send(AgentStream::new(send, request.into_body()));
        // Keep driving the connection, as the accept loop does.
        while connection.accept().await.is_some() {}
    });
    let (client, connection) = h2::client::handshake(agent_io).await.unwrap();
    tokio::spawn(connection);
    let mut client = client.ready().await.unwrap();
    let request = Request::builder()
        .method(Method::CONNECT)
        .uri("example.com:443")
        .body(())
        .unwrap();
    let (response, send) = client.send_request(request, false).unwrap();
    let response = response.await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let agent = Agent {
        send,
        recv: response.into_body(),
        _client: client,
    };
    (stream.await.unwrap(), agent)
}

/// Fails a test that hangs (a lost wake-up, a window never given back) instead of waiting
/// forever.
async fn within<T>(work: impl std::future::Future<Output = T>) -> T {
    tokio::time::timeout(Duration::from_secs(20), work)
        .await
        .unwrap()
}

fn pattern(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i % 251) as u8).collect()
}

#[tokio::test]
async fn bytes_flow_both_ways_and_each_end_of_stream_reads_as_eof() {
    within(async {
        let (mut gateway, mut agent) = connect_stream().await;

        agent
            .send
            .send_data(Bytes::from_static(b"hello"), false)
            .unwrap();
        let mut hello = [0; 5];
        gateway.read_exact(&mut hello).await.unwrap();
        assert_eq!(&hello, b"hello");

        // More than the agent's 64 KiB window: the writer waits for capacity, nothing is lost.
        let big = pattern(1024 * 1024 + 7);
        let writer = {
            let big = big.clone();
            tokio::spawn(async move {
                gateway.write_all(&big).await.unwrap();
                gateway
            })
        };
        assert_eq!(agent.read_exactly(big.len()).await, big);
        let mut gateway = writer.await.unwrap();

        // The agent ends its half: EOF here, yet the gateway may still answer.
        agent.send.send_data(Bytes::new(), true).unwrap();
        let mut rest = Vec::new();
        assert_eq!(gateway.read_to_end(&mut rest).await.unwrap(), 0);
        gateway.write_all(b"bye").await.unwrap();
        gateway.shutdown().await.unwrap();
        gateway.shutdown().await.unwrap(); // once is enough; twice is harmless
        assert_eq!(agent.read_to_end().await, b"bye");
        assert!(gateway.write_all(b"late").await.is_err());
    })
    .await;
}

#[tokio::test]
async fn the_agent_sends_more_than_the_stream_window() {
    within(async {
        let (mut gateway, mut agent) = connect_stream().await;
        // Twice the 4 MiB stream window: only reads that give capacity back let it through.
        let big = pattern(8 * 1024 * 1024 + 3);
        let sender = {
            let big = Bytes::from(big.clone());
            tokio::spawn(async move {
                for chunk in big.chunks(100_000) {
                    agent.send.reserve_capacity(chunk.len());
                    let mut sent = 0;
                    while sent < chunk.len() {
                        let capacity = std::future::poll_fn(|cx| agent.send.poll_capacity(cx))
                            .await
                            .unwrap()
                            .unwrap();
                        let n = capacity.min(chunk.len() - sent);
                        let piece = Bytes::copy_from_slice(&chunk[sent..sent + n]);
                        agent.send.send_data(piece, false).unwrap();
                        sent += n;
                    }
                }
                agent.send.send_data(Bytes::new(), true).unwrap();
                agent
            })
        };
        let mut received = Vec::new();
        gateway.read_to_end(&mut received).await.unwrap();
        assert_eq!(received.len(), big.len());
        assert!(received == big);
        drop(sender.await.unwrap());
    })
    .await;
}

#[tokio::test]
async fn a_cancelled_stream_reads_as_eof_and_refuses_writes() {
    within(async {
        let (mut gateway, mut agent) = connect_stream().await;
        agent.send.send_reset(Reason::CANCEL);
        let mut rest = Vec::new();
        assert_eq!(gateway.read_to_end(&mut rest).await.unwrap(), 0);
        let error = gateway.write_all(b"anyone there?").await.unwrap_err();
        assert_eq!(error.kind(), std::io::ErrorKind::BrokenPipe);
    })
    .await;
}

#[tokio::test]
async fn a_stream_reset_for_an_error_fails_reads() {
    within(async {
        let (mut gateway, mut agent) = connect_stream().await;
        agent.send.send_reset(Reason::INTERNAL_ERROR);
        let mut rest = Vec::new();
        assert!(gateway.read_to_end(&mut rest).await.is_err());
    })
    .await;
}

#[tokio::test]
async fn a_writer_waiting_for_capacity_fails_when_the_agent_resets() {
    within(async {
        let (mut gateway, mut agent) = connect_stream().await;
        // Fill the agent's window without reading, so the next write waits for capacity.
        let writer = tokio::spawn(async move { gateway.write_all(&pattern(512 * 1024)).await });
        let first = agent.recv.data().await.unwrap().unwrap();
        assert!(!first.is_empty());
        agent.send.send_reset(Reason::CANCEL);
        let error = writer.await.unwrap().unwrap_err();
        assert_eq!(error.kind(), std::io::ErrorKind::BrokenPipe);
    })
    .await;
}
