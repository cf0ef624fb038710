-- One row per detector that matched in a request: how often, how sure, and what was done.
-- The snippet is always masked by the detector before it gets here; never a full secret.
CREATE TABLE IF NOT EXISTS dlp_findings
(
    ts            DateTime('UTC'),
    request_id    String,
    user          String,
    app_id        String,
    detector      String,
    finding_count UInt32,
    confidence    String,
    action        String,
    snippet       String
)
ENGINE = MergeTree()
PARTITION BY toYYYYMMDD(ts)
ORDER BY (app_id, detector, ts);
