//! The harness itself: a server that stops, restarts on the same data and ports, and a clear
//! message when the binary is missing.

use schema::testkit::{ClickHouseServer, TestkitError};
use schema::HttpEvent;

use crate::support::{event, insert, now, scalar, server};

/// A query that survives the pooled connection the client kept to the previous server process:
/// the first request after a restart may go out on it and fail with a network error, which a
/// writer must retry (or spool) too.
async fn count_after_restart(client: &clickhouse::Client, sql: &str) -> u64 {
    for _ in 0..3 {
        match client.query(sql).fetch_one::<u64>().await {
            Ok(n) => return n,
            Err(clickhouse::error::Error::Network(e)) => eprintln!("retrying after: {e}"),
            Err(e) => panic!("{sql}: {e}"),
        }
    }
    panic!("{sql}: still failing after 3 tries")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restart_keeps_data_ports_and_views() {
    let mut server = server();
    let url = server.http_url();
    let client = server.migrated_client("warden").await.unwrap();
    insert(
        &client,
        HttpEvent::TABLE,
        &[event(now(), "chatgpt", "alice", "d1", "DE")],
    )
    .await;

    server.stop();
    assert!(!server.is_running());
    assert!(
        client.query("SELECT 1").execute().await.is_err(),
        "a stopped server must refuse"
    );

    server.restart().unwrap_or_else(|e| panic!("{e}"));
    eprintln!("restart took {:?}", server.startup_time());
    assert!(server.is_running());
    assert_eq!(server.http_url(), url);
    assert_eq!(
        count_after_restart(&client, "SELECT count() FROM http_events").await,
        1
    );
    insert(
        &client,
        HttpEvent::TABLE,
        &[event(now(), "chatgpt", "bob", "d2", "DE")],
    )
    .await;
    assert_eq!(
        scalar::<u64>(&client, "SELECT count() FROM http_events").await,
        2
    );
    // The views were reattached on start and still feed the rollups.
    assert_eq!(
        scalar::<u64>(&client, "SELECT uniqMerge(users) FROM app_usage_hourly").await,
        2
    );

    server.kill();
    assert!(!server.is_running());
    server.restart().unwrap();
    assert_eq!(
        count_after_restart(&client, "SELECT count() FROM http_events").await,
        2
    );
}

#[test]
fn config_stays_inside_the_temp_dir_on_loopback() {
    let server = server();
    let config = std::fs::read_to_string(server.dir().join("config.xml")).unwrap();
    let root = server.dir().display().to_string();
    for tag in [
        "path",
        "tmp_path",
        "user_files_path",
        "format_schema_path",
        "log",
        "errorlog",
    ] {
        let open = format!("<{tag}>");
        let at = config
            .find(&open)
            .unwrap_or_else(|| panic!("{tag} missing"));
        assert!(
            config[at + open.len()..].starts_with(&root),
            "{tag} outside {root}"
        );
    }
    assert!(config.contains("<listen_host>127.0.0.1</listen_host>"));
    assert!(!config.contains("interserver_http_port"));
    assert!(
        server.log_tail(50).contains("Ready for connections"),
        "{}",
        server.log_tail(50)
    );
}

#[test]
fn a_missing_binary_fails_with_the_install_command() {
    let err = ClickHouseServer::start_with_binary("/nonexistent/clickhouse-server")
        .err()
        .unwrap();
    assert!(matches!(err, TestkitError::Missing));
    assert_eq!(
        err.to_string(),
        "clickhouse-server is required: apt-get install -y clickhouse-server clickhouse-client"
    );
}

#[test]
fn dropping_the_server_stops_the_process() {
    let server = server();
    let port = server.ports().http;
    let pid_alive = std::path::Path::new("/proc").join(server_pid(&server).to_string());
    drop(server);
    assert!(
        !pid_alive.exists(),
        "server process still present after drop"
    );
    assert!(std::net::TcpStream::connect(("127.0.0.1", port)).is_err());
}

fn server_pid(server: &ClickHouseServer) -> u32 {
    server.pid().unwrap()
}
