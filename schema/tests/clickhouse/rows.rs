//! The row types against the tables: the column contract, and rows written through the types
//! (RowBinary, with and without LZ4) read back unchanged.

use clickhouse::Row;
use schema::{tables, AiRequest, AppStatusChange, DlpFinding, HttpEvent};

use crate::support::{event, insert, now, server};

async fn columns(client: &clickhouse::Client, table: &str) -> Vec<(String, String)> {
    // system.columns lists a table's columns in their declared order.
    client
        .query("SELECT name, type FROM system.columns WHERE database = currentDatabase() AND table = ?")
        .bind(table)
        .fetch_all()
        .await
        .unwrap()
}

fn names(cols: &[(String, String)]) -> Vec<&str> {
    cols.iter().map(|(n, _)| n.as_str()).collect()
}

#[tokio::test]
async fn row_types_match_their_tables_column_for_column() {
    let server = server();
    let client = server.migrated_client("warden").await.unwrap();

    let http = columns(&client, tables::HTTP_EVENTS).await;
    assert_eq!(names(&http), HttpEvent::COLUMN_NAMES);
    let expected_http: Vec<(&str, &str)> = vec![
        ("ts", "DateTime('UTC')"),
        ("request_id", "String"),
        ("user", "String"),
        ("groups", "Array(String)"),
        ("device_id", "String"),
        ("device_posture", "String"),
        ("src_ip", "String"),
        ("country", "String"),
        ("city", "String"),
        ("host", "String"),
        ("app_id", "String"),
        ("app_name", "String"),
        ("category", "String"),
        ("app_status", "String"),
        ("discovered", "UInt8"),
        ("method", "String"),
        ("path", "String"),
        ("status", "UInt16"),
        ("action", "String"),
        ("blocked", "UInt8"),
        ("rule_id", "String"),
        ("policy_version", "String"),
        ("detail", "String"),
        ("upload", "UInt8"),
        ("file_names", "Array(String)"),
        ("prompt_length", "UInt32"),
        ("model", "String"),
        ("dlp_detectors", "Array(String)"),
        ("dlp_finding_count", "UInt32"),
        ("bytes_up", "UInt64"),
        ("bytes_down", "UInt64"),
        ("latency_ms", "UInt32"),
        ("audit_prompt", "String"),
        ("tenant", "String"),
        ("ai_key_fingerprint", "String"),
        ("ai_key_provider", "String"),
        ("ai_key_kind", "String"),
        ("ai_key_last4", "String"),
        ("ai_key_org_managed", "UInt8"),
    ];
    let got: Vec<(&str, &str)> = http.iter().map(|(n, t)| (n.as_str(), t.as_str())).collect();
    assert_eq!(got, expected_http, "http_events is the reports' contract");

    let dlp = columns(&client, tables::DLP_FINDINGS).await;
    assert_eq!(names(&dlp), DlpFinding::COLUMN_NAMES);
    let status = columns(&client, tables::APP_STATUS_CHANGES).await;
    assert_eq!(names(&status), AppStatusChange::COLUMN_NAMES);
    let ai = columns(&client, tables::AI_REQUESTS).await;
    assert_eq!(names(&ai), AiRequest::COLUMN_NAMES);
    let nullable: Vec<&str> = ai
        .iter()
        .filter(|(_, t)| t.starts_with("Nullable"))
        .map(|(n, _)| n.as_str())
        .collect();
    assert_eq!(
        nullable,
        ["cost_micro_usd", "ttft_ms"],
        "an unknown cost is NULL, never 0"
    );
}

fn full_event(ts: u32) -> HttpEvent {
    let mut e = HttpEvent {
        groups: vec!["eng".into(), "ai-pilot".into()],
        device_posture: "compliant".into(),
        src_ip: "2001:db8::7".into(),
        city: "Zürich".into(),
        app_name: "ChatGPT".into(),
        category: "genai_chat".into(),
        app_status: "unapproved".into(),
        discovered: 1,
        blocked: 1,
        action: "dlp".into(),
        status: 403,
        detail: "dlp: aws_access_key".into(),
        upload: 1,
        file_names: vec!["q3 plan.pdf".into(), "näme;'quoted'.txt".into()],
        prompt_length: 1234,
        model: "gpt-4o".into(),
        dlp_detectors: vec!["aws_access_key".into(), "email".into()],
        dlp_finding_count: 3,
        bytes_up: u64::MAX - 1,
        bytes_down: 1 << 40,
        latency_ms: 987,
        tenant: "personal".into(),
        ai_key_fingerprint: "0123456789abcdef0123456789abcdef".into(),
        ai_key_provider: "openai".into(),
        ai_key_kind: "project".into(),
        ai_key_last4: "WXYZ".into(),
        ai_key_org_managed: 1,
        ..event(ts, "chatgpt", "alice@example.com", "dev-1", "CH")
    };
    e.set_path("/backend-api/conversation?x='1'&y=\"2\"\t\n");
    e.set_audit_prompt("summarise this: ünïcode ✓", 64);
    e
}

async fn round_trip(compression: bool) {
    let server = server();
    let mut options = server.options("warden");
    options.compression = compression;
    let client = schema::connect(&options).unwrap();
    schema::Migrator::new(&client)
        .unwrap()
        .migrate()
        .await
        .unwrap();
    let ts = now();

    let events = vec![full_event(ts), event(ts - 5, "claude", "bob", "", "DE")];
    insert(&client, HttpEvent::TABLE, &events).await;
    let back: Vec<HttpEvent> = client
        .query("SELECT ?fields FROM http_events ORDER BY ts DESC")
        .fetch_all()
        .await
        .unwrap();
    assert_eq!(back, events);

    let findings = vec![DlpFinding {
        ts,
        request_id: events[0].request_id.clone(),
        user: "alice@example.com".into(),
        app_id: "chatgpt".into(),
        detector: "aws_access_key".into(),
        finding_count: 2,
        confidence: "high".into(),
        action: "block".into(),
        snippet: "AKIA************MPLE".into(),
        ai_key_fingerprint: "0123456789abcdef0123456789abcdef".into(),
    }];
    insert(&client, DlpFinding::TABLE, &findings).await;
    let back: Vec<DlpFinding> = client
        .query("SELECT ?fields FROM dlp_findings")
        .fetch_all()
        .await
        .unwrap();
    assert_eq!(back, findings);

    let changes = vec![AppStatusChange {
        ts,
        app_id: "chatgpt".into(),
        old_status: "unreviewed".into(),
        new_status: "approved".into(),
        actor: "admin:carol".into(),
        reason: "enterprise contract signed".into(),
    }];
    insert(&client, AppStatusChange::TABLE, &changes).await;
    let back: Vec<AppStatusChange> = client
        .query("SELECT ?fields FROM app_status_changes")
        .fetch_all()
        .await
        .unwrap();
    assert_eq!(back, changes);

    let calls = vec![
        AiRequest {
            ts,
            request_id: "01990000-0000-7000-8000-000000000001".into(),
            virtual_key_id: "vk_1".into(),
            user: "alice".into(),
            tags: vec!["pilot".into()],
            provider: "openai".into(),
            stream: 1,
            status: 200,
            input_tokens: 21,
            output_tokens: u64::MAX,
            usage_flags: vec!["over_limit".into()],
            cost_micro_usd: Some(123),
            cost_status: "priced".into(),
            ttft_ms: Some(12),
            ..AiRequest::default()
        },
        AiRequest {
            ts: ts - 1,
            request_id: "01990000-0000-7000-8000-000000000002".into(),
            cost_status: "unknown_model".into(),
            ..AiRequest::default()
        },
    ];
    insert(&client, AiRequest::TABLE, &calls).await;
    let back: Vec<AiRequest> = client
        .query("SELECT ?fields FROM ai_requests ORDER BY ts DESC")
        .fetch_all()
        .await
        .unwrap();
    assert_eq!(back, calls);
}

#[tokio::test]
async fn rows_round_trip_with_lz4_compression() {
    round_trip(true).await;
}

#[tokio::test]
async fn rows_round_trip_without_compression() {
    round_trip(false).await;
}
