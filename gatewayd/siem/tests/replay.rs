//! A syslog receiver that is down, then up, then restarted: every event offered meanwhile is
//! spooled on disk and delivered once, in order, over a real TCP socket, before anything newer.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use config::SiemConfig;
use siem::{Siem, SiemEvent};
use tokio::io::AsyncReadExt;
use tokio::net::TcpListener;

fn event(n: usize) -> SiemEvent {
    SiemEvent {
        id: format!("e{n}"),
        ts_ms: 1_765_128_750_000 + n as u64,
        security: true,
        kind: "block".into(),
        severity: 7,
        ..SiemEvent::default()
    }
}

/// Reads octet-counted frames until `want` have arrived (or 10 s pass).
async fn read_frames(stream: &mut tokio::net::TcpStream, want: usize) -> Vec<String> {
    let mut buf = Vec::new();
    let mut frames = Vec::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while frames.len() < want {
        let mut chunk = [0u8; 4096];
        let n = tokio::time::timeout_at(deadline, stream.read(&mut chunk))
            .await
            .expect("frames in time")
            .unwrap();
        assert!(n > 0, "receiver connection closed early");
        buf.extend_from_slice(&chunk[..n]);
        while let Some(space) = buf.iter().position(|b| *b == b' ') {
            let len: usize = std::str::from_utf8(&buf[..space]).unwrap().parse().unwrap();
            if buf.len() < space + 1 + len {
                break;
            }
            frames.push(String::from_utf8(buf[space + 1..space + 1 + len].to_vec()).unwrap());
            buf.drain(..space + 1 + len);
        }
    }
    frames
}

fn id_of(frame: &str) -> String {
    let json = frame.split_once("] ").unwrap().1;
    serde_json::from_str::<SiemEvent>(json).unwrap().id
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_offered_while_the_receiver_is_down_or_restarted_arrive_once_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let probe = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = probe.local_addr().unwrap().port();
    drop(probe);
    let text = format!(
        "[[sinks]]\nname = \"soc\"\nkind = \"syslog\"\nurl = \"tcp://127.0.0.1:{port}\"\n\
         flush_interval = \"50ms\"\nretry_interval = \"300ms\"\ntimeout = \"2s\"\n"
    );
    let config: SiemConfig = toml::from_str(&text).unwrap();
    let siem = Siem::start(&config, dir.path()).unwrap().unwrap();
    let stats = siem.stats("soc").unwrap();
    for n in 0..5 {
        siem.offer(event(n));
    }
    let relaxed = std::sync::atomic::Ordering::Relaxed;
    for _ in 0..100 {
        if stats.spooled.load(relaxed) == 5 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(
        stats.spooled.load(relaxed),
        5,
        "receiver down: all five spooled"
    );
    assert_eq!(stats.spool_pending.load(relaxed), 5);
    assert!(siem
        .metrics()
        .contains("warden_siem_last_error{sink=\"soc\",kind=\"connect\"} 1"));

    let listener = TcpListener::bind(("127.0.0.1", port)).await.unwrap();
    // Offered after the outage: must come after the spooled five.
    siem.offer(event(5));
    siem.offer(event(6));
    let (mut stream, _) = tokio::time::timeout(Duration::from_secs(10), listener.accept())
        .await
        .expect("the sink reconnects")
        .unwrap();
    let frames = read_frames(&mut stream, 7).await;
    let ids: Vec<String> = frames.iter().map(|f| id_of(f)).collect();
    assert_eq!(ids, ["e0", "e1", "e2", "e3", "e4", "e5", "e6"]);
    assert!(frames[0].starts_with("<107>1 "), "{}", frames[0]);
    // Nothing more arrives: each event was delivered once.
    let mut rest = [0u8; 64];
    let more = tokio::time::timeout(Duration::from_millis(300), stream.read(&mut rest)).await;
    assert!(
        matches!(more, Err(_) | Ok(Ok(0))),
        "no duplicate after the seven"
    );

    // The receiver restarts: the kept connection is dead. The next event must not vanish
    // into it: it is spooled and arrives on the new connection.
    drop(stream);
    drop(listener);
    tokio::time::sleep(Duration::from_millis(100)).await;
    siem.offer(event(7));
    for _ in 0..100 {
        if stats.spooled.load(relaxed) >= 8 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        stats.spooled.load(relaxed) >= 8,
        "the event after the restart is spooled"
    );
    let listener = TcpListener::bind(("127.0.0.1", port)).await.unwrap();
    let (mut stream, _) = tokio::time::timeout(Duration::from_secs(10), listener.accept())
        .await
        .expect("the sink reconnects")
        .unwrap();
    let frames = read_frames(&mut stream, 1).await;
    assert_eq!(id_of(&frames[0]), "e7");

    siem.finish(Duration::from_secs(5)).await;
    assert_eq!(stats.sent.load(relaxed), 8);
    assert!(stats.replayed.load(relaxed) >= 6);
    assert_eq!(stats.spool_pending.load(relaxed), 0);
    assert_eq!(stats.dropped.load(relaxed), 0);
}
