//! `schema_migrations`: the runner's own table, created before any migration runs. One row per
//! applied migration; duplicates (two runners racing) are harmless and collapse on read.

use clickhouse::{Client, Row};
use serde::{Deserialize, Serialize};

use crate::{tables, Error};

/// A row of `schema_migrations`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Row)]
pub struct AppliedMigration {
    pub version: u32,
    pub name: String,
    pub checksum: String,
    /// Seconds since the Unix epoch (UTC).
    pub applied_at: u32,
}

const CREATE: &str = "CREATE TABLE IF NOT EXISTS schema_migrations
(
    version    UInt32,
    name       String,
    checksum   String,
    applied_at DateTime('UTC')
)
ENGINE = MergeTree()
ORDER BY version";

/// Creates the database and `schema_migrations` when missing.
pub async fn ensure(client: &Client, database: &str) -> Result<(), Error> {
    let server = client.clone().with_database("system");
    server
        .query_raw(&format!("CREATE DATABASE IF NOT EXISTS {database}"))
        .execute()
        .await
        .map_err(Error::query(format!("creating database {database}")))?;
    client
        .query_raw(CREATE)
        .execute()
        .await
        .map_err(Error::query("creating schema_migrations"))
}

/// True when `schema_migrations` exists; asks without creating anything.
pub async fn exists(client: &Client, database: &str) -> Result<bool, Error> {
    let count: u64 = client
        .clone()
        .with_database("system")
        .query("SELECT count() FROM system.tables WHERE database = ? AND name = ?")
        .bind(database)
        .bind(tables::SCHEMA_MIGRATIONS)
        .fetch_one()
        .await
        .map_err(Error::query("looking for schema_migrations"))?;
    Ok(count > 0)
}

/// Applied migrations by version, the first record of each version winning.
pub async fn applied(client: &Client) -> Result<Vec<AppliedMigration>, Error> {
    let mut rows: Vec<AppliedMigration> = client
        .query(
            "SELECT version, name, checksum, applied_at \
             FROM schema_migrations ORDER BY version, applied_at",
        )
        .fetch_all()
        .await
        .map_err(Error::query("reading schema_migrations"))?;
    rows.dedup_by_key(|r| r.version);
    Ok(rows)
}

/// Records `row` as applied.
pub async fn record(client: &Client, row: &AppliedMigration) -> Result<(), Error> {
    let context = || format!("recording migration {:04}_{}", row.version, row.name);
    let mut insert = client
        .insert::<AppliedMigration>(tables::SCHEMA_MIGRATIONS)
        .await
        .map_err(Error::query(context()))?;
    insert.write(row).await.map_err(Error::query(context()))?;
    insert.end().await.map_err(Error::query(context()))
}
