-- One row per HTTP transaction the gateway saw: allowed, refused and failed alike.
-- Column names are the reports' contract: change them only with a new migration.
-- Names are unqualified: the runner executes in the configured database, and ClickHouse
-- binds them to it when the statement runs.
CREATE TABLE IF NOT EXISTS http_events
(
    ts                DateTime('UTC'),
    request_id        String,
    user              String,
    groups            Array(String),
    device_id         String,
    device_posture    String,
    src_ip            String,
    country           String,
    city              String,
    host              String,
    app_id            String,
    app_name          String,
    category          String,
    app_status        String,
    discovered        UInt8,
    method            String,
    path              String,
    status            UInt16,
    action            String,
    blocked           UInt8,
    rule_id           String,
    policy_version    String,
    detail            String,
    upload            UInt8,
    file_names        Array(String),
    prompt_length     UInt32,
    model             String,
    dlp_detectors     Array(String),
    dlp_finding_count UInt32,
    bytes_up          UInt64,
    bytes_down        UInt64,
    latency_ms        UInt32,
    audit_prompt      String
)
ENGINE = MergeTree()
PARTITION BY toYYYYMMDD(ts)
ORDER BY (app_id, ts);
