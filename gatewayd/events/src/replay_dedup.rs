//! Replay without duplicates: a spooled batch may already be in ClickHouse — an insert that
//! ClickHouse stored while the answer was lost (a server shutting down mid-insert, a timeout
//! after the data arrived) is spooled as failed. Before a batch is replayed, the rows whose
//! request id is already stored are left out, table by table, so neither `http_events` nor
//! `dlp_findings` (nor the rollups fed from them) count a transaction twice.
//!
//! It only reads: a failed look-up fails the replay, which keeps the batch for later.

use std::collections::HashSet;

use schema::clickhouse::Client;
use schema::{DlpFinding, HttpEvent};
use serde::Deserialize;

use super::EventRecord;

#[derive(Debug, schema::clickhouse::Row, Deserialize)]
#[clickhouse(crate = "schema::clickhouse")]
struct StoredId {
    request_id: String,
}

/// The rows of `records` that are not stored yet.
pub(super) async fn unstored<'r>(
    client: &Client,
    records: &'r [EventRecord],
) -> Result<(Vec<&'r HttpEvent>, Vec<&'r DlpFinding>), String> {
    let stored = stored_ids(client, HttpEvent::TABLE, records.iter().map(|r| &r.http)).await?;
    let http = records
        .iter()
        .map(|r| &r.http)
        .filter(|h| !stored.contains(&h.request_id))
        .collect();
    let findings: Vec<&DlpFinding> = records.iter().flat_map(|r| &r.findings).collect();
    if findings.is_empty() {
        return Ok((http, findings));
    }
    let with_findings = stored_ids(
        client,
        DlpFinding::TABLE,
        records
            .iter()
            .filter(|r| !r.findings.is_empty())
            .map(|r| &r.http),
    )
    .await?;
    let findings = findings
        .into_iter()
        .filter(|f| !with_findings.contains(&f.request_id))
        .collect();
    Ok((http, findings))
}

/// Which of these transactions' request ids `table` holds, looked up within their time range
/// (the tables are partitioned by day, so only those days are read).
async fn stored_ids<'r>(
    client: &Client,
    table: &str,
    rows: impl Iterator<Item = &'r HttpEvent>,
) -> Result<HashSet<String>, String> {
    let mut ids = Vec::new();
    let (mut first, mut last) = (u32::MAX, 0);
    for row in rows {
        ids.push(row.request_id.as_str());
        first = first.min(row.ts);
        last = last.max(row.ts);
    }
    if ids.is_empty() {
        return Ok(HashSet::new());
    }
    let sql = format!(
        "SELECT request_id FROM {table} WHERE ts >= toDateTime(?) AND ts <= toDateTime(?) \
         AND has(?, request_id)"
    );
    let found = client
        .query(&sql)
        .bind(first)
        .bind(last)
        .bind(ids)
        .fetch_all::<StoredId>()
        .await
        .map_err(|e| format!("looking for already stored events in {table}: {e}"))?;
    Ok(found.into_iter().map(|row| row.request_id).collect())
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::time::Duration;

    use schema::testkit::ClickHouseServer;

    use super::*;
    use crate::{start_writer, EventStats, EventsOptions, SpoolFsync, SpoolWhenFull, Spooler};

    fn record(i: u32, finding: bool) -> EventRecord {
        let http = HttpEvent {
            ts: 1_796_000_000 + i,
            request_id: format!("req-{i}"),
            host: "chatgpt.com".into(),
            ..HttpEvent::default()
        };
        let findings = finding
            .then(|| DlpFinding {
                ts: http.ts,
                request_id: http.request_id.clone(),
                detector: "credit_card".into(),
                finding_count: 1,
                ..DlpFinding::default()
            })
            .into_iter()
            .collect();
        EventRecord { http, findings }
    }

    async fn count(client: &Client, sql: &str) -> u64 {
        client.query(sql).fetch_one::<u64>().await.unwrap()
    }

    /// The soak's duplicates: ClickHouse stored a batch's `http_events` rows, the
    /// `dlp_findings` insert failed as it shut down, and the whole batch was spooled. The
    /// replay stores the missing findings and none of the rows a second time.
    #[tokio::test]
    async fn a_spooled_batch_that_was_partly_stored_is_replayed_without_duplicates() {
        let server = ClickHouseServer::start().expect("clickhouse-server starts");
        let client = server.migrated_client("warden").await.unwrap();
        let records: Vec<EventRecord> = (0..50).map(|i| record(i, i % 5 == 0)).collect();
        let mut insert = client.insert::<HttpEvent>(HttpEvent::TABLE).await.unwrap();
        for r in &records[..30] {
            insert.write(&r.http).await.unwrap();
        }
        insert.end().await.unwrap();

        let dir = tempfile::tempdir().unwrap();
        let config = EventsOptions {
            queue_size: 100_000,
            batch_size: 50_000,
            flush_interval: Duration::from_millis(50),
            insert_timeout: Duration::from_secs(30),
            spool_max_bytes: 1024 * 1024 * 1024,
            spool_fsync: SpoolFsync::EveryBatch,
            spool_when_full: SpoolWhenFull::DropOldest,
        };
        let mut spool = Spooler::open(dir.path(), &config).unwrap();
        spool.append(&records).unwrap();
        let writer = start_writer(
            &config,
            client.clone(),
            spool,
            Arc::new(EventStats::default()),
        );
        writer.finish().await;

        let sql = "SELECT count() FROM http_events";
        assert_eq!(count(&client, sql).await, 50, "every transaction once");
        let sql = "SELECT uniqExact(request_id) FROM http_events";
        assert_eq!(count(&client, sql).await, 50);
        let sql = "SELECT count() FROM dlp_findings";
        assert_eq!(
            count(&client, sql).await,
            10,
            "the findings that were missing"
        );
    }
}
