//! Starting the events path with the daemon: the ClickHouse client, migrations (stopping on a
//! failed migration, retrying in the background while ClickHouse is unreachable), the reader
//! user reports run as (created where the server allows, else a warning), the spool,
//! the writer, and the retention task.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use schema::clickhouse::Client;
use schema::{ConnectOptions, Migrator, RetentionPolicy};
use tokio_util::sync::CancellationToken;

use config::{Config, RetentionConfig};
use events::{start_writer, EventStats, Spooler, WriterHandle};

/// Work [`start`] leaves for the daemon to run on its tracked spawner (ended at shutdown).
pub type BackgroundTask = std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>>;

/// Opens the spool, connects, migrates and starts the writer; returns the background work
/// (migrations retried while ClickHouse is unreachable, the reader user) to spawn.
pub async fn start(config: &Config) -> anyhow::Result<(WriterHandle, Client, Vec<BackgroundTask>)> {
    let ch = &config.clickhouse;
    let options = ConnectOptions {
        url: ch.url.clone(),
        database: ch.database.clone(),
        user: ch.user.clone(),
        password: ch.password.clone(),
        compression: true,
    };
    let client = schema::connect(&options).context("clickhouse")?;
    let events_options = config.events.options();
    let spooler = Spooler::open(&config.state.dir.join("spool"), &events_options)
        .map_err(anyhow::Error::msg)?;
    let mut background: Vec<BackgroundTask> = Vec::new();
    if ch.migrate_on_start {
        if migrate(&client, &ch.url).await? {
            background.push(Box::pin(retry_migrations(client.clone())));
        }
        background.push(Box::pin(reader_user(client.clone(), ch.clone())));
    } else if ch.reader_user.is_none() {
        tracing::warn!("{}", report::clickhouse_http::NO_READER_WARNING);
    }
    let writer = start_writer(
        &events_options,
        client.clone(),
        spooler,
        Arc::new(EventStats::default()),
    );
    Ok((writer, client, background))
}

/// Applies migrations. A migration the server rejects stops the daemon with the statement and
/// the server's error; an unreachable server is retried in the background (events spool):
/// `Ok(true)` says so.
async fn migrate(client: &Client, url: &str) -> anyhow::Result<bool> {
    let migrator = Migrator::new(client).context("clickhouse migrations")?;
    match tokio::time::timeout(Duration::from_secs(10), migrator.migrate()).await {
        Ok(Ok(applied)) => {
            for m in &applied {
                tracing::info!(migration = %m.label(), "applied ClickHouse migration");
            }
            Ok(false)
        }
        Ok(Err(error)) if is_unreachable(&error) => {
            tracing::warn!(%url, %error, "ClickHouse unreachable; events are spooled and migrations retried in the background");
            Ok(true)
        }
        Ok(Err(error)) => Err(anyhow::anyhow!("ClickHouse migration failed: {error}")),
        Err(_) => {
            tracing::warn!(%url, "ClickHouse did not answer in 10 s; events are spooled");
            Ok(false)
        }
    }
}

/// Applies migrations every 5 s until ClickHouse answers.
async fn retry_migrations(client: Client) {
    loop {
        tokio::time::sleep(Duration::from_secs(5)).await;
        let Ok(migrator) = Migrator::new(&client) else {
            return;
        };
        match migrator.migrate().await {
            Ok(_) => {
                tracing::info!("ClickHouse reachable; migrations applied");
                return;
            }
            Err(error) if is_unreachable(&error) => continue,
            Err(error) => {
                tracing::error!(%error, "ClickHouse migration failed; events stay in the spool until it is fixed");
                return;
            }
        }
    }
}

/// Creates `clickhouse.reader_user` where the server allows it, and says plainly when it
/// could not, or when there is none and reports run as the writer.
async fn reader_user(client: Client, ch: config::ClickHouseConfig) {
    let Some(user) = &ch.reader_user else {
        tracing::warn!("{}", report::clickhouse_http::NO_READER_WARNING);
        return;
    };
    let password = ch.reader_password.as_deref().unwrap_or("");
    let setup = schema::ensure_reader(&client, &ch.database, user, password);
    match tokio::time::timeout(Duration::from_secs(10), setup).await {
        Ok(Ok(schema::ReaderSetup::Granted)) => {
            tracing::info!(%user, database = %ch.database, "reports and the log explorer run as the reader user (SELECT only)")
        }
        Ok(Ok(schema::ReaderSetup::Unsupported(version))) => tracing::info!(
            %user, %version,
            "this ClickHouse has no SQL users: the reader user is expected in its users.xml (deploy/clickhouse/local-users.xml shows one)"
        ),
        Ok(Ok(schema::ReaderSetup::Refused(why))) => tracing::warn!(
            %user, %why,
            "the reader user could not be created; create it with SELECT on the database only (deploy/clickhouse/README.md)"
        ),
        Ok(Err(error)) => tracing::warn!(%user, %error, "the reader user was not checked"),
        Err(_) => {
            tracing::warn!(%user, "the reader user was not checked: ClickHouse did not answer in 10 s")
        }
    }
}

fn is_unreachable(error: &schema::Error) -> bool {
    !matches!(
        error,
        schema::Error::Migration { .. }
            | schema::Error::ChecksumMismatch { .. }
            | schema::Error::UnknownMigration { .. }
    )
}

/// Drops expired partitions every six hours.
pub async fn retention_task(client: Client, config: RetentionConfig, shutdown: CancellationToken) {
    let policy = RetentionPolicy {
        raw_days: config.raw_days,
        rollup_days: config.rollup_days,
    };
    loop {
        match schema::apply_retention(&client, policy).await {
            Ok(dropped) if !dropped.is_empty() => {
                tracing::info!(
                    partitions = dropped.len(),
                    "retention dropped expired partitions"
                )
            }
            Ok(_) => {}
            Err(error) => tracing::debug!(%error, "retention pass skipped"),
        }
        tokio::select! {
            () = tokio::time::sleep(Duration::from_secs(6 * 3600)) => {}
            () = shutdown.cancelled() => return,
        }
    }
}

/// Copies the approval-status audit trail (`app-status-changes.jsonl`, the durable record) into
/// `app_status_changes`, once a minute: the table holds as many rows as the trail has lines,
/// so only the new tail is inserted, and a ClickHouse outage just delays the copy.
pub async fn status_changes_task(client: Client, gateway: Arc<proxy::gateway::Gateway>) {
    loop {
        if let Err(error) = sync_status_changes(&client, &gateway).await {
            tracing::debug!(%error, "status changes not copied to ClickHouse yet");
        }
        tokio::select! {
            () = tokio::time::sleep(Duration::from_secs(60)) => {}
            () = gateway.shutdown.cancelled() => return,
        }
    }
}

async fn sync_status_changes(
    client: &Client,
    gateway: &proxy::gateway::Gateway,
) -> Result<(), String> {
    let changes = gateway.statuses.changes().map_err(|e| e.to_string())?;
    let stored: u64 = client
        .query("SELECT count() FROM ?")
        .bind(schema::clickhouse::sql::Identifier(
            schema::AppStatusChange::TABLE,
        ))
        .fetch_one()
        .await
        .map_err(|e| e.to_string())?;
    let new = changes.get(stored as usize..).unwrap_or_default();
    if new.is_empty() {
        return Ok(());
    }
    let mut insert = client
        .insert::<schema::AppStatusChange>(schema::AppStatusChange::TABLE)
        .await
        .map_err(|e| e.to_string())?;
    for change in new {
        let row = schema::AppStatusChange {
            ts: (change.at_unix_ms / 1000) as u32,
            app_id: change.app_id.clone(),
            old_status: change.old.as_str().to_string(),
            new_status: change.new.as_str().to_string(),
            actor: change.actor.clone(),
            reason: String::new(),
        };
        insert.write(&row).await.map_err(|e| e.to_string())?;
    }
    insert.end().await.map_err(|e| e.to_string())?;
    tracing::info!(count = new.len(), "copied app status changes to ClickHouse");
    Ok(())
}
