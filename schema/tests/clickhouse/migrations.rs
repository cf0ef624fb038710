//! The migration runner against 18.16: a fresh database gets every table and view, a second run
//! changes nothing, and failures name the statement and the server's words.

use schema::{Error, Migration, MigrationState, Migrator, MIGRATIONS};

use crate::support::{scalar, server};

/// (table, engine) and (table, column, type) of a database, to compare before and after.
async fn snapshot(
    client: &clickhouse::Client,
    db: &str,
) -> (Vec<(String, String)>, Vec<(String, String, String)>) {
    let tables = client
        .query("SELECT name, engine_full FROM system.tables WHERE database = ? ORDER BY name")
        .bind(db)
        .fetch_all()
        .await
        .unwrap();
    let columns = client
        .query(
            "SELECT table, name, type FROM system.columns WHERE database = ? ORDER BY table, name",
        )
        .bind(db)
        .fetch_all()
        .await
        .unwrap();
    (tables, columns)
}

#[tokio::test]
async fn migrations_apply_on_a_fresh_server_and_status_reports_them() {
    let server = server();
    let client = server.client("warden").unwrap();
    let migrator = Migrator::new(&client).unwrap();

    let before = migrator.status().await.unwrap();
    assert_eq!(before.len(), MIGRATIONS.len());
    assert!(before.iter().all(|s| s.state == MigrationState::Pending));
    let system = server.client("system").unwrap();
    let exists: u64 = scalar(
        &system,
        "SELECT count() FROM system.databases WHERE name = 'warden'",
    )
    .await;
    assert_eq!(exists, 0, "status() must not create the database");

    let applied = migrator
        .migrate()
        .await
        .unwrap_or_else(|e| panic!("{e}\n{}", server.log_tail(30)));
    assert_eq!(applied, MIGRATIONS.to_vec());

    let (tables, _) = snapshot(&client, "warden").await;
    let names: Vec<&str> = tables.iter().map(|(n, _)| n.as_str()).collect();
    for table in schema::tables::RAW
        .iter()
        .chain(&schema::tables::ROLLUPS)
        .chain(&schema::tables::MATERIALIZED_VIEWS)
        .chain(&[schema::tables::SCHEMA_MIGRATIONS])
    {
        assert!(names.contains(table), "{table} missing from {names:?}");
    }
    let engine = |t: &str| tables.iter().find(|(n, _)| n == t).unwrap().1.clone();
    assert!(
        engine("http_events").contains("PARTITION BY toYYYYMMDD(ts)"),
        "{}",
        engine("http_events")
    );
    assert!(engine("app_usage_hourly").starts_with("AggregatingMergeTree"));
    assert!(engine("app_user_daily").starts_with("SummingMergeTree"));

    let after = migrator.status().await.unwrap();
    for s in &after {
        assert!(
            matches!(s.state, MigrationState::Applied { checksum_matches: true, applied_at } if applied_at > 0),
            "{s:?}"
        );
    }
}

#[tokio::test]
async fn applying_twice_changes_nothing() {
    let server = server();
    let client = server.client("warden").unwrap();
    let migrator = Migrator::new(&client).unwrap();
    assert_eq!(migrator.migrate().await.unwrap().len(), MIGRATIONS.len());
    let first = snapshot(&client, "warden").await;
    let status = migrator.status().await.unwrap();

    assert!(
        migrator.migrate().await.unwrap().is_empty(),
        "second run applied something"
    );
    assert_eq!(snapshot(&client, "warden").await, first);
    assert_eq!(migrator.status().await.unwrap(), status);
    let records: u64 = scalar(&client, "SELECT count() FROM schema_migrations").await;
    assert_eq!(records, MIGRATIONS.len() as u64);
}

#[tokio::test]
async fn a_broken_migration_reports_the_statement_and_the_server_error_then_resumes_when_fixed() {
    let server = server();
    let client = server.client("warden").unwrap();
    let broken = Migration {
        version: 100,
        name: "broken",
        sql: "CREATE TABLE IF NOT EXISTS first_ok (a UInt8) ENGINE = Memory;\n\
              CREATE TABLE IF NOT EXISTS second_bad (a Strin) ENGINE = Memory;\n\
              CREATE TABLE IF NOT EXISTS third_never (a UInt8) ENGINE = Memory;\n",
    };
    let mut list = MIGRATIONS.to_vec();
    list.push(broken);
    let err = Migrator::with_migrations(&client, list.clone())
        .unwrap()
        .migrate()
        .await
        .unwrap_err();
    let Error::Migration {
        version,
        index,
        statement,
        source,
        ..
    } = &err
    else {
        panic!("expected a migration error, got {err}");
    };
    assert_eq!((*version, *index), (100, 2));
    assert_eq!(
        statement,
        "CREATE TABLE IF NOT EXISTS second_bad (a Strin) ENGINE = Memory"
    );
    let said = source.to_string();
    assert!(
        said.contains("Strin"),
        "server error should name the bad type: {said}"
    );
    let shown = err.to_string();
    assert!(
        shown.contains("0100_broken")
            && shown.contains("a Strin")
            && shown.contains("ClickHouse said"),
        "{shown}"
    );

    let third: u64 = scalar(
        &client,
        "SELECT count() FROM system.tables WHERE database = 'warden' AND name = 'third_never'",
    )
    .await;
    assert_eq!(third, 0, "statements after the failure must not run");
    let status = Migrator::with_migrations(&client, list.clone())
        .unwrap()
        .status()
        .await
        .unwrap();
    assert_eq!(status.last().unwrap().state, MigrationState::Pending);
    assert!(status[..MIGRATIONS.len()]
        .iter()
        .all(|s| matches!(s.state, MigrationState::Applied { .. })));

    let fixed = Migration {
        sql: "CREATE TABLE IF NOT EXISTS first_ok (a UInt8) ENGINE = Memory;\n\
              CREATE TABLE IF NOT EXISTS second_bad (a String) ENGINE = Memory;\n",
        ..broken
    };
    list.pop();
    list.push(fixed);
    let applied = Migrator::with_migrations(&client, list)
        .unwrap()
        .migrate()
        .await
        .unwrap();
    assert_eq!(
        applied,
        vec![fixed],
        "the fixed migration resumes, re-running its first statement"
    );
}

#[tokio::test]
async fn an_edited_or_unknown_applied_migration_is_refused() {
    let server = server();
    let client = server.client("warden").unwrap();
    Migrator::new(&client).unwrap().migrate().await.unwrap();

    let mut edited = MIGRATIONS.to_vec();
    edited[0].sql = "CREATE TABLE IF NOT EXISTS http_events (ts DateTime) ENGINE = Memory;";
    let migrator = Migrator::with_migrations(&client, edited).unwrap();
    let err = migrator.migrate().await.unwrap_err();
    assert!(
        matches!(err, Error::ChecksumMismatch { version: 1, .. }),
        "{err}"
    );
    assert!(err.to_string().contains("0001_http_events"), "{err}");
    let status = migrator.status().await.unwrap();
    assert!(matches!(
        status[0].state,
        MigrationState::Applied {
            checksum_matches: false,
            ..
        }
    ));

    let older = Migrator::with_migrations(&client, MIGRATIONS[..3].to_vec()).unwrap();
    let err = older.migrate().await.unwrap_err();
    assert!(
        matches!(err, Error::UnknownMigration { version: 4, .. }),
        "{err}"
    );
    let status = older.status().await.unwrap();
    assert_eq!(status.len(), MIGRATIONS.len());
    assert!(status[3..]
        .iter()
        .all(|s| s.state == MigrationState::Unknown));
}

#[tokio::test]
async fn migrations_apply_to_any_database_name() {
    let server = server();
    for db in ["warden", "warden_tenant_b"] {
        let client = server.migrated_client(db).await.unwrap();
        let n: u64 = scalar(&client, "SELECT count() FROM schema_migrations").await;
        assert_eq!(n, MIGRATIONS.len() as u64, "{db}");
    }
    let bad = schema::connect(&server.options("no-such;db"));
    assert!(matches!(bad, Err(Error::InvalidDatabase(_))));
}

#[tokio::test]
async fn an_added_column_that_already_exists_is_not_added_again() {
    // A migration that added its column but was not recorded (the server went away between
    // the two) runs again: 18.16 has no `ADD COLUMN IF NOT EXISTS`, so the runner checks.
    let server = server();
    server
        .client("default")
        .unwrap()
        .query_raw("CREATE DATABASE IF NOT EXISTS warden")
        .execute()
        .await
        .unwrap();
    let client = server.client("warden").unwrap();
    for statement in MIGRATIONS[0].statements() {
        client.query_raw(&statement).execute().await.unwrap();
    }
    client
        .query_raw("ALTER TABLE http_events ADD COLUMN tenant String DEFAULT ''")
        .execute()
        .await
        .unwrap();
    let migrator = Migrator::new(&client).unwrap();
    assert_eq!(migrator.migrate().await.unwrap().len(), MIGRATIONS.len());
    let tenant: u64 = scalar(
        &client,
        "SELECT count() FROM system.columns WHERE database = 'warden' \
         AND table = 'http_events' AND name = 'tenant'",
    )
    .await;
    assert_eq!(tenant, 1);
}
