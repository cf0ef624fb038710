//! The rollups agree with the raw rows they summarise, before and after ClickHouse merges
//! their parts, and whether the rows arrived in one insert or many.

use std::collections::{BTreeMap, BTreeSet};

use schema::{DlpFinding, HttpEvent};

use crate::support::{event, insert, now, server};

/// Two hours of traffic: 3 apps, 4 users, devices (some missing), 3 countries, some blocked,
/// some uploads, some DLP findings.
fn traffic(hour_start: u32) -> Vec<HttpEvent> {
    let apps = ["chatgpt", "claude", "gemini"];
    let users = ["alice", "bob", "carol", "dave"];
    let countries = ["DE", "US", "FR"];
    (0..240u32)
        .map(|i| {
            let device = if i % 4 == 0 {
                String::new()
            } else {
                format!("dev-{}", i % 7)
            };
            let mut e = event(
                hour_start + (i * 30) % 7200,
                apps[(i % 3) as usize],
                users[(i % 4) as usize],
                &device,
                countries[(i % 5 % 3) as usize],
            );
            e.request_id = format!("req-{i}");
            e.bytes_up = u64::from(i) * 10 + 1;
            e.bytes_down = u64::from(i) * 100 + 7;
            e.blocked = u8::from(i % 6 == 0);
            e.upload = u8::from(i % 8 == 0);
            e.dlp_finding_count = i % 5;
            e
        })
        .collect()
}

#[derive(Debug, PartialEq, Eq, serde::Deserialize, clickhouse::Row)]
struct HourlyRow {
    hour: u32,
    app_id: String,
    requests: u64,
    blocked: u64,
    uploads: u64,
    bytes_up: u64,
    bytes_down: u64,
    dlp_findings: u64,
    users: u64,
    devices: u64,
}

async fn hourly(client: &clickhouse::Client) -> Vec<HourlyRow> {
    client
        .query(
            "SELECT toUInt32(hour), app_id, countMerge(requests), countIfMerge(blocked_requests), \
             countIfMerge(upload_requests), sumMerge(bytes_up), sumMerge(bytes_down), \
             sumMerge(dlp_findings), uniqMerge(users), uniqIfMerge(devices) \
             FROM app_usage_hourly GROUP BY hour, app_id ORDER BY hour, app_id",
        )
        .fetch_all()
        .await
        .unwrap()
}

fn expected_hourly(events: &[HttpEvent]) -> Vec<HourlyRow> {
    let mut groups: BTreeMap<(u32, String), Vec<&HttpEvent>> = BTreeMap::new();
    for e in events {
        groups
            .entry((e.ts / 3600 * 3600, e.app_id.clone()))
            .or_default()
            .push(e);
    }
    groups
        .into_iter()
        .map(|((hour, app), es)| {
            let users: BTreeSet<&str> = es.iter().map(|e| e.user.as_str()).collect();
            let devices: BTreeSet<&str> = es
                .iter()
                .map(|e| e.device_id.as_str())
                .filter(|d| !d.is_empty())
                .collect();
            HourlyRow {
                hour,
                app_id: app,
                requests: es.len() as u64,
                blocked: es.iter().filter(|e| e.blocked == 1).count() as u64,
                uploads: es.iter().filter(|e| e.upload == 1).count() as u64,
                bytes_up: es.iter().map(|e| e.bytes_up).sum(),
                bytes_down: es.iter().map(|e| e.bytes_down).sum(),
                dlp_findings: es.iter().map(|e| u64::from(e.dlp_finding_count)).sum(),
                users: users.len() as u64,
                devices: devices.len() as u64,
            }
        })
        .collect()
}

type UserDailyRow = (u16, String, String, u64, u64, u64, u64, u64, u64);

async fn user_daily(client: &clickhouse::Client) -> Vec<UserDailyRow> {
    client
        .query(
            "SELECT toUInt16(day), app_id, user, sum(requests), sum(blocked_requests), \
             sum(upload_requests), sum(bytes_up), sum(bytes_down), sum(dlp_findings) \
             FROM app_user_daily GROUP BY day, app_id, user ORDER BY day, app_id, user",
        )
        .fetch_all()
        .await
        .unwrap()
}

/// The same figures computed by ClickHouse from the raw table.
async fn user_daily_from_raw(client: &clickhouse::Client) -> Vec<UserDailyRow> {
    client
        .query(
            "SELECT toUInt16(toDate(ts)) AS d, app_id, user, count(), countIf(blocked = 1), \
             countIf(upload = 1), sum(bytes_up), sum(bytes_down), sum(toUInt64(dlp_finding_count)) \
             FROM http_events GROUP BY d, app_id, user ORDER BY d, app_id, user",
        )
        .fetch_all()
        .await
        .unwrap()
}

type CountryRow = (u16, String, String, u64, u64, u64, u64, u64);

async fn country_daily(client: &clickhouse::Client) -> Vec<CountryRow> {
    client
        .query(
            "SELECT toUInt16(day), app_id, country, countMerge(requests), \
             countIfMerge(blocked_requests), sumMerge(bytes_up), sumMerge(bytes_down), \
             uniqMerge(users) FROM app_country_daily GROUP BY day, app_id, country \
             ORDER BY day, app_id, country",
        )
        .fetch_all()
        .await
        .unwrap()
}

async fn country_daily_from_raw(client: &clickhouse::Client) -> Vec<CountryRow> {
    client
        .query(
            "SELECT toUInt16(toDate(ts)) AS d, app_id, country, count(), countIf(blocked = 1), \
             sum(bytes_up), sum(bytes_down), uniqExact(user) FROM http_events \
             GROUP BY d, app_id, country ORDER BY d, app_id, country",
        )
        .fetch_all()
        .await
        .unwrap()
}

#[tokio::test]
async fn event_rollups_agree_with_raw_rows_across_inserts_and_merges() {
    let server = server();
    let client = server.migrated_client("warden").await.unwrap();
    let start = (now() / 3600 - 3) * 3600;
    let events = traffic(start);
    // Several inserts, so each rollup key has several unmerged rows.
    for chunk in events.chunks(50) {
        insert(&client, HttpEvent::TABLE, chunk).await;
    }

    let expected = expected_hourly(&events);
    assert_eq!(expected.len(), 6, "2 hours x 3 apps");
    assert_eq!(hourly(&client).await, expected);
    let raw_user = user_daily_from_raw(&client).await;
    assert_eq!(user_daily(&client).await, raw_user);
    let raw_country = country_daily_from_raw(&client).await;
    assert_eq!(country_daily(&client).await, raw_country);
    assert_eq!(
        raw_user.iter().map(|r| r.3).sum::<u64>(),
        events.len() as u64
    );

    for table in ["app_usage_hourly", "app_user_daily", "app_country_daily"] {
        client
            .query_raw(&format!("OPTIMIZE TABLE {table} FINAL"))
            .execute()
            .await
            .unwrap();
    }
    assert_eq!(hourly(&client).await, expected, "after merges");
    assert_eq!(user_daily(&client).await, raw_user, "after merges");
    assert_eq!(country_daily(&client).await, raw_country, "after merges");
}

#[tokio::test]
async fn dlp_rollup_agrees_with_raw_findings() {
    let server = server();
    let client = server.migrated_client("warden").await.unwrap();
    let start = (now() / 3600 - 2) * 3600;
    let detectors = ["aws_access_key", "email", "credit_card"];
    let findings: Vec<DlpFinding> = (0..90u32)
        .map(|i| DlpFinding {
            ts: start + i * 60,
            request_id: format!("req-{i}"),
            user: format!("user{}", i % 5),
            app_id: if i % 2 == 0 { "chatgpt" } else { "claude" }.into(),
            detector: detectors[(i % 3) as usize].into(),
            finding_count: i % 4 + 1,
            confidence: "high".into(),
            action: if i % 3 == 0 { "block" } else { "redact" }.into(),
            snippet: "****".into(),
            ai_key_fingerprint: String::new(),
        })
        .collect();
    for chunk in findings.chunks(20) {
        insert(&client, DlpFinding::TABLE, chunk).await;
    }

    type Row = (u32, String, String, u64, u64, u64, u64);
    let rollup: Vec<Row> = client
        .query(
            "SELECT toUInt32(hour), app_id, detector, countMerge(requests), sumMerge(findings), \
             countIfMerge(blocked_requests), uniqMerge(users) FROM dlp_findings_hourly \
             GROUP BY hour, app_id, detector ORDER BY hour, app_id, detector",
        )
        .fetch_all()
        .await
        .unwrap();
    let raw: Vec<Row> = client
        .query(
            "SELECT toUInt32(toStartOfHour(ts)) AS h, app_id, detector, count(), \
             sum(toUInt64(finding_count)), countIf(action = 'block'), uniqExact(user) \
             FROM dlp_findings GROUP BY h, app_id, detector ORDER BY h, app_id, detector",
        )
        .fetch_all()
        .await
        .unwrap();
    assert_eq!(rollup, raw);
    assert_eq!(
        rollup.iter().map(|r| r.4).sum::<u64>(),
        findings
            .iter()
            .map(|f| u64::from(f.finding_count))
            .sum::<u64>()
    );
    assert_eq!(rollup.len(), 2 * 2 * 3, "2 hours x 2 apps x 3 detectors");
}
