//! Replay without duplicates: a spooled batch may already be in ClickHouse — an insert that
//! ClickHouse stored while the answer was lost (a server shutting down mid-insert, a timeout
//! after the data arrived) is spooled as failed. Before a batch is replayed, the rows whose
//! request id is already stored are left out, table by table, so neither `http_events` nor
//! `dlp_findings` (nor the rollups fed from them) count a transaction twice, nor
//! `ai_requests` an AI gateway call.
//!
//! It only reads: a failed look-up fails the replay, which keeps the batch for later.

use std::collections::HashSet;

use schema::clickhouse::Client;
use schema::{AiRequest, DlpFinding, HttpEvent};
use serde::Deserialize;

use super::insert_error::InsertError;
use super::{EventRecord, Record};

#[derive(Debug, schema::clickhouse::Row, Deserialize)]
#[clickhouse(crate = "schema::clickhouse")]
struct StoredId {
    request_id: String,
}

/// A batch's rows, table by table.
#[derive(Default)]
pub(super) struct Rows<'r> {
    pub http: Vec<&'r HttpEvent>,
    pub findings: Vec<&'r DlpFinding>,
    pub ai: Vec<&'r AiRequest>,
}

impl<'r> Rows<'r> {
    /// Every row of `records`.
    pub fn of(records: &'r [Record]) -> Self {
        let mut rows = Self::default();
        for record in records {
            match record {
                Record::Http(r) => {
                    rows.http.push(&r.http);
                    rows.findings.extend(&r.findings);
                }
                Record::Ai(call) => {
                    rows.ai.push(&call.ai);
                    rows.findings.extend(&call.findings);
                }
            }
        }
        rows
    }
}

/// The rows of `records` that are not stored yet.
pub(super) async fn unstored<'r>(
    client: &Client,
    records: &'r [Record],
) -> Result<Rows<'r>, InsertError> {
    let transactions: Vec<&EventRecord> = records.iter().filter_map(Record::http).collect();
    let calls: Vec<&AiRequest> = records.iter().filter_map(Record::ai).collect();
    let stored = stored_ids(
        client,
        HttpEvent::TABLE,
        transactions
            .iter()
            .map(|r| (r.http.ts, r.http.request_id.as_str())),
    )
    .await?;
    let http = transactions
        .iter()
        .map(|r| &r.http)
        .filter(|h| !stored.contains(&h.request_id))
        .collect();
    let stored_calls = stored_ids(
        client,
        AiRequest::TABLE,
        calls.iter().map(|c| (c.ts, c.request_id.as_str())),
    )
    .await?;
    let ai = calls
        .into_iter()
        .filter(|c| !stored_calls.contains(&c.request_id))
        .collect();
    // A call's findings travel with it, like a transaction's.
    let owners: Vec<(u32, &str, &[DlpFinding])> = transactions
        .iter()
        .map(|r| (r.http.ts, r.http.request_id.as_str(), r.findings.as_slice()))
        .chain(
            records
                .iter()
                .filter_map(Record::ai_call)
                .map(|c| (c.ai.ts, c.ai.request_id.as_str(), c.findings.as_slice())),
        )
        .filter(|(_, _, findings)| !findings.is_empty())
        .collect();
    let findings: Vec<&DlpFinding> = owners.iter().flat_map(|(_, _, f)| f.iter()).collect();
    if findings.is_empty() {
        return Ok(Rows { http, findings, ai });
    }
    let with_findings = stored_ids(
        client,
        DlpFinding::TABLE,
        owners.iter().map(|(ts, id, _)| (*ts, *id)),
    )
    .await?;
    let findings = findings
        .into_iter()
        .filter(|f| !with_findings.contains(&f.request_id))
        .collect();
    Ok(Rows { http, findings, ai })
}

/// Which of these `(ts, request id)`s `table` holds, looked up within their time range
/// (the tables are partitioned by day, so only those days are read).
async fn stored_ids<'r>(
    client: &Client,
    table: &'static str,
    rows: impl Iterator<Item = (u32, &'r str)>,
) -> Result<HashSet<String>, InsertError> {
    let mut ids = Vec::new();
    let (mut first, mut last) = (u32::MAX, 0);
    for (ts, id) in rows {
        ids.push(id);
        first = first.min(ts);
        last = last.max(ts);
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
        .map_err(|source| InsertError::Lookup { table, source })?;
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
        let mut spooled: Vec<Record> = records.iter().cloned().map(Record::from).collect();
        // Two AI calls, one of which ClickHouse had stored before the answer was lost.
        let calls: Vec<AiRequest> = (0..2)
            .map(|i| AiRequest {
                ts: 1_796_000_000 + i,
                request_id: format!("call-{i}"),
                cost_micro_usd: Some(42),
                ..AiRequest::default()
            })
            .collect();
        let mut insert = client.insert::<AiRequest>(AiRequest::TABLE).await.unwrap();
        insert.write(&calls[0]).await.unwrap();
        insert.end().await.unwrap();
        spooled.extend(calls.into_iter().map(Record::from));
        spool.append(&spooled).unwrap();
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
        let sql = "SELECT count() FROM ai_requests";
        assert_eq!(count(&client, sql).await, 2, "every AI call once");
    }
}
