-- One row per call to the AI gateway (gatewayd/aigw): who called (the virtual key's id, never
-- its secret), which provider and model, the tokens the provider reported, what it cost by the
-- price table, how long it took, and what DLP found (detector ids only, never the data).
-- cost_micro_usd is NULL when the model has no price: an unknown cost is never shown as 0.
CREATE TABLE IF NOT EXISTS ai_requests
(
    ts                 DateTime('UTC'),
    request_id         String,
    virtual_key_id     String,
    virtual_key_name   String,
    user               String,
    team               String,
    tags               Array(String),
    ingress            String,
    endpoint           String,
    provider           String,
    model_asked        String,
    model_served       String,
    stream             UInt8,
    status             UInt16,
    error              String,
    input_tokens       UInt64,
    output_tokens      UInt64,
    cached_tokens      UInt64,
    cache_write_tokens UInt64,
    reasoning_tokens   UInt64,
    usage_reported     UInt8,
    usage_flags        Array(String),
    cost_micro_usd     Nullable(UInt64),
    cost_status        String,
    price_checked      String,
    latency_ms         UInt32,
    ttft_ms            Nullable(UInt32),
    dlp_action         String,
    dlp_detectors      Array(String)
)
ENGINE = MergeTree()
PARTITION BY toYYYYMMDD(ts)
ORDER BY (ts, request_id);
