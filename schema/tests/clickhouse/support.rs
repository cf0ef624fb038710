//! Shared helpers: a started server, and event rows with the fields the tests vary.

use schema::testkit::ClickHouseServer;
use schema::HttpEvent;

/// A fresh server; a start failure panics with the harness's message (install hint or log).
pub fn server() -> ClickHouseServer {
    match ClickHouseServer::start() {
        Ok(server) => {
            eprintln!("clickhouse-server ready in {:?}", server.startup_time());
            server
        }
        Err(e) => panic!("{e}"),
    }
}

/// Seconds since the epoch, now.
pub fn now() -> u32 {
    schema::rows::unix_seconds(std::time::SystemTime::now())
}

/// An event for `app` by `user` from `device` in `country`.
pub fn event(ts: u32, app: &str, user: &str, device: &str, country: &str) -> HttpEvent {
    HttpEvent {
        ts,
        request_id: format!("req-{ts}-{app}-{user}-{device}"),
        user: user.into(),
        device_id: device.into(),
        country: country.into(),
        app_id: app.into(),
        host: format!("{app}.example"),
        method: "POST".into(),
        status: 200,
        action: "allow".into(),
        rule_id: "default".into(),
        policy_version: "t1".into(),
        ..HttpEvent::default()
    }
}

/// Inserts `rows` into `table` in one INSERT.
pub async fn insert<T>(client: &clickhouse::Client, table: &str, rows: &[T])
where
    T: clickhouse::RowOwned + clickhouse::RowWrite,
{
    let mut insert = client.insert::<T>(table).await.unwrap();
    for row in rows {
        insert.write(row).await.unwrap();
    }
    insert.end().await.unwrap();
}

/// A single-value query's answer.
pub async fn scalar<T>(client: &clickhouse::Client, sql: &str) -> T
where
    T: clickhouse::RowOwned + clickhouse::RowRead,
{
    client
        .query(sql)
        .fetch_one::<T>()
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
}
