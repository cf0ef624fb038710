//! The writer takes records by the batch (the doorbell) or on its tick, and still loses
//! none at shutdown or when the queue overflows; against a real ClickHouse.

use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use std::time::{Duration, Instant};

use schema::clickhouse::Client;
use schema::testkit::ClickHouseServer;
use schema::HttpEvent;

use crate::{
    start_writer, EventRecord, EventStats, EventsOptions, SpoolFsync, SpoolWhenFull, Spooler,
};

fn options(queue_size: usize, batch_size: usize, flush_interval: Duration) -> EventsOptions {
    EventsOptions {
        queue_size,
        batch_size,
        flush_interval,
        insert_timeout: Duration::from_secs(30),
        spool_max_bytes: 1024 * 1024 * 1024,
        spool_fsync: SpoolFsync::EveryBatch,
        spool_when_full: SpoolWhenFull::DropOldest,
    }
}

fn record(i: u32) -> EventRecord {
    EventRecord {
        http: HttpEvent {
            ts: 1_796_000_000 + i,
            request_id: format!("req-{i}"),
            host: "chatgpt.com".into(),
            ..HttpEvent::default()
        },
        findings: Vec::new(),
    }
}

async fn stored(client: &Client) -> u64 {
    client
        .query("SELECT count() FROM http_events")
        .fetch_one::<u64>()
        .await
        .unwrap()
}

/// A full batch is inserted at once though the tick is an hour away; a partial one waits
/// for the tick, and shutdown inserts it.
#[tokio::test]
async fn a_full_batch_rings_the_writer_and_shutdown_takes_the_rest() {
    let server = ClickHouseServer::start().expect("clickhouse-server starts");
    let client = server.migrated_client("warden").await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let config = options(1_000, 10, Duration::from_secs(3_600));
    let spool = Spooler::open(dir.path(), &config).unwrap();
    let writer = start_writer(&config, client.clone(), spool, Arc::default());
    // The interval's first tick fires at once; let it pass with nothing queued.
    tokio::time::sleep(Duration::from_millis(200)).await;
    for i in 0..10 {
        writer.sink.emit(record(i));
    }
    let deadline = Instant::now() + Duration::from_secs(20);
    while stored(&client).await < 10 {
        assert!(Instant::now() < deadline, "a full batch was not inserted");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    for i in 10..13 {
        writer.sink.emit(record(i));
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        stored(&client).await,
        10,
        "a partial batch waits for its tick"
    );
    writer.finish().await;
    assert_eq!(
        stored(&client).await,
        13,
        "shutdown inserts what was queued"
    );
}

/// A queue far smaller than the burst: records wait in their own tasks, the writer is rung
/// when the queue is full, and every record is inserted.
#[tokio::test]
async fn an_overflowing_queue_loses_nothing() {
    let server = ClickHouseServer::start().expect("clickhouse-server starts");
    let client = server.migrated_client("warden").await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let config = options(4, 1_000, Duration::from_secs(3_600));
    let spool = Spooler::open(dir.path(), &config).unwrap();
    let stats = Arc::new(EventStats::default());
    let writer = start_writer(&config, client.clone(), spool, stats.clone());
    for i in 0..200 {
        writer.sink.emit(record(i));
    }
    assert!(stats.overflowed.load(Relaxed) > 0, "the queue overflowed");
    writer.finish().await;
    assert_eq!(stored(&client).await, 200);
    assert_eq!(stats.dropped.load(Relaxed), 0);
}
