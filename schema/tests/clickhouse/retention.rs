//! Retention drops whole partitions past their age and keeps the rest, raw and rollup tables
//! each by their own limit.

use schema::{apply_retention, DlpFinding, HttpEvent, RetentionPolicy};

use crate::support::{event, insert, now, scalar, server};

const DAY: u32 = 86_400;

#[tokio::test]
async fn retention_drops_old_partitions_and_keeps_new_ones() {
    let server = server();
    let client = server.migrated_client("warden").await.unwrap();
    let now = now();
    let ages = [100, 40, 10, 0];
    let events: Vec<HttpEvent> = ages
        .iter()
        .map(|days| event(now - days * DAY, "chatgpt", "alice", "dev-1", "DE"))
        .collect();
    insert(&client, HttpEvent::TABLE, &events).await;
    let findings: Vec<DlpFinding> = ages
        .iter()
        .map(|days| DlpFinding {
            ts: now - days * DAY,
            app_id: "chatgpt".into(),
            detector: "email".into(),
            finding_count: 1,
            ..DlpFinding::default()
        })
        .collect();
    insert(&client, DlpFinding::TABLE, &findings).await;
    let count = |sql: &'static str| {
        let client = client.clone();
        async move { scalar::<u64>(&client, sql).await }
    };

    // Raw data older than 30 days goes; rollups (400 days) keep all of it.
    let dropped = apply_retention(
        &client,
        RetentionPolicy {
            raw_days: 30,
            rollup_days: 400,
        },
    )
    .await
    .unwrap();
    let tables: Vec<&str> = dropped.iter().map(|d| d.table.as_str()).collect();
    assert_eq!(
        tables,
        ["dlp_findings", "dlp_findings", "http_events", "http_events"],
        "{dropped:?}"
    );
    assert_eq!(count("SELECT count() FROM http_events").await, 2);
    assert_eq!(count("SELECT count() FROM dlp_findings").await, 2);
    assert_eq!(
        count("SELECT toUInt64(min(ts) >= now() - 11 * 86400) FROM http_events").await,
        1
    );
    assert_eq!(
        count("SELECT countMerge(requests) FROM app_usage_hourly").await,
        4
    );
    assert_eq!(count("SELECT sum(requests) FROM app_user_daily").await, 4);

    // A second run with the same policy finds nothing more to drop.
    assert!(apply_retention(
        &client,
        RetentionPolicy {
            raw_days: 30,
            rollup_days: 400
        }
    )
    .await
    .unwrap()
    .is_empty());

    // Rollups past 60 days go: the 100-day-old hour partitions, and the month partitions of
    // the daily rollups, whose last day is at most 70 days back.
    let dropped = apply_retention(
        &client,
        RetentionPolicy {
            raw_days: 30,
            rollup_days: 60,
        },
    )
    .await
    .unwrap();
    assert!(
        dropped
            .iter()
            .all(|d| schema::tables::ROLLUPS.contains(&d.table.as_str())),
        "{dropped:?}"
    );
    assert_eq!(
        count("SELECT countMerge(requests) FROM app_usage_hourly").await,
        3
    );
    assert_eq!(
        count("SELECT countMerge(requests) FROM dlp_findings_hourly").await,
        3
    );
    assert_eq!(count("SELECT sum(requests) FROM app_user_daily").await, 3);
    assert_eq!(
        count("SELECT countMerge(requests) FROM app_country_daily").await,
        3
    );
    assert_eq!(count("SELECT count() FROM http_events").await, 2);
}
