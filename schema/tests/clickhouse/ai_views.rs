//! The AI gateway's rollups (`ai_requests_hourly`, `ai_requests_daily`) agree with the calls
//! they summarise, per team, user, provider and model, before and after ClickHouse merges
//! their parts: calls, tokens, spend, unpriced and failed calls, and latency quantiles.

use schema::AiRequest;

use crate::support::{insert, now, server};

/// Two hours of calls: 3 teams (one empty), 4 users, 2 providers, streamed and whole,
/// some without a known cost, some failed.
fn calls(hour_start: u32) -> Vec<AiRequest> {
    let teams = ["data", "eng", ""];
    let users = ["alice", "bob", "carol", "dave"];
    (0..160u32)
        .map(|i| {
            let anthropic = i % 2 == 0;
            AiRequest {
                ts: hour_start + (i * 45) % 7200,
                request_id: format!("ai-{i}"),
                virtual_key_id: format!("k{}", i % 4),
                virtual_key_name: format!("key-{}", i % 4),
                user: users[(i % 4) as usize].into(),
                team: teams[(i % 3) as usize].into(),
                provider: if anthropic { "anthropic" } else { "openai" }.into(),
                model_asked: if anthropic { "claude" } else { "fast" }.into(),
                // A failed call was served by no model: the rollup names the one asked.
                model_served: if i % 9 == 0 {
                    String::new()
                } else if anthropic {
                    "claude-sonnet-4-5".into()
                } else {
                    "gpt-4o-mini".into()
                },
                stream: u8::from(i % 3 == 0),
                status: if i % 9 == 0 { 502 } else { 200 },
                error: if i % 9 == 0 {
                    "upstream".into()
                } else {
                    String::new()
                },
                input_tokens: u64::from(i) * 3 + 1,
                output_tokens: u64::from(i) * 2,
                cached_tokens: u64::from(i % 5),
                reasoning_tokens: u64::from(i % 2),
                cost_micro_usd: (i % 7 != 0).then_some(u64::from(i) * 11),
                cost_status: if i % 13 == 0 {
                    "usage_suspect"
                } else {
                    "priced"
                }
                .into(),
                latency_ms: 100 + i * 7,
                ttft_ms: (i % 3 == 0).then_some(20 + i),
                ..AiRequest::default()
            }
        })
        .collect()
}

#[derive(Debug, PartialEq, Eq, serde::Deserialize, clickhouse::Row)]
struct Row {
    team: String,
    user: String,
    provider: String,
    model: String,
    calls: u64,
    input_tokens: u64,
    output_tokens: u64,
    spend: u64,
    unpriced: u64,
    suspect: u64,
    errors: u64,
}

#[derive(Debug, serde::Deserialize, clickhouse::Row)]
struct Quantiles {
    latency: Vec<f32>,
    ttft: Vec<f32>,
}

const RAW: &str = "SELECT team, user, provider, \
     if(model_served = '', model_asked, model_served) AS m, count(), sum(input_tokens), \
     sum(output_tokens), toUInt64(ifNull(sum(cost_micro_usd), 0)), \
     countIf(isNull(cost_micro_usd)), countIf(cost_status = 'usage_suspect'), \
     countIf(error != '') FROM ai_requests \
     GROUP BY team, user, provider, m ORDER BY team, user, provider, m";

fn rolled(table: &str) -> String {
    format!(
        "SELECT team, user, provider, model, countMerge(calls), sumMerge(input_tokens), \
         sumMerge(output_tokens), sumMerge(spend_micro_usd), countIfMerge(unpriced_calls), \
         countIfMerge(suspect_calls), countIfMerge(errors) FROM {table} \
         GROUP BY team, user, provider, model ORDER BY team, user, provider, model"
    )
}

async fn rows(client: &clickhouse::Client, sql: &str) -> Vec<Row> {
    client.query(sql).fetch_all::<Row>().await.unwrap()
}

#[tokio::test]
async fn ai_rollups_agree_with_the_calls_across_inserts_and_merges() {
    let server = server();
    let client = server.migrated_client("warden").await.unwrap();
    let start = (now() / 86_400 - 1) * 86_400 + 3600;
    let calls = calls(start);
    for chunk in calls.chunks(40) {
        insert(&client, AiRequest::TABLE, chunk).await;
    }
    let raw = rows(&client, RAW).await;
    assert_eq!(raw.iter().map(|r| r.calls).sum::<u64>(), calls.len() as u64);
    assert!(
        raw.iter().any(|r| r.team.is_empty()),
        "calls without a team too"
    );
    assert!(
        raw.iter().any(|r| r.model == "claude"),
        "a failed call keeps the model asked"
    );
    for table in ["ai_requests_hourly", "ai_requests_daily"] {
        assert_eq!(rows(&client, &rolled(table)).await, raw, "{table}");
        client
            .query(&format!("OPTIMIZE TABLE {table} FINAL"))
            .execute()
            .await
            .unwrap();
        assert_eq!(
            rows(&client, &rolled(table)).await,
            raw,
            "{table} after merges"
        );
    }
    let hours: u64 = client
        .query("SELECT uniqExact(hour) FROM ai_requests_hourly")
        .fetch_one()
        .await
        .unwrap();
    assert_eq!(hours, 2);

    // Latency: the merged digests tell the same median as the calls, within t-digest's error;
    // the time to first token counts only the streams.
    let q: Quantiles = client
        .query(
            "SELECT quantilesTDigestMerge(0.5, 0.9, 0.99)(latency_state), \
             quantilesTDigestIfMerge(0.5, 0.9, 0.99)(ttft_state) FROM ai_requests_daily",
        )
        .fetch_one()
        .await
        .unwrap();
    let median = 100.0 + 7.0 * 79.5;
    assert!(
        (q.latency[0] - median).abs() < median * 0.1,
        "{q:?} vs {median}"
    );
    assert!(q.ttft[0] >= 20.0 && q.ttft[0] <= 20.0 + 159.0, "{q:?}");
}
