-- Daily totals per app and user. Plain counters, so SummingMergeTree: read with sum() and
-- GROUP BY, because rows for the same key are summed only eventually.
CREATE TABLE IF NOT EXISTS app_user_daily
(
    day              Date,
    app_id           String,
    user             String,
    requests         UInt64,
    blocked_requests UInt64,
    upload_requests  UInt64,
    bytes_up         UInt64,
    bytes_down       UInt64,
    dlp_findings     UInt64
)
ENGINE = SummingMergeTree()
PARTITION BY toYYYYMM(day)
ORDER BY (app_id, user, day);

CREATE MATERIALIZED VIEW IF NOT EXISTS app_user_daily_mv TO app_user_daily AS
SELECT
    toDate(ts)                        AS day,
    app_id,
    user,
    count()                           AS requests,
    countIf(blocked = 1)              AS blocked_requests,
    countIf(upload = 1)               AS upload_requests,
    sum(bytes_up)                     AS bytes_up,
    sum(bytes_down)                   AS bytes_down,
    sum(toUInt64(dlp_finding_count))  AS dlp_findings
FROM http_events
GROUP BY day, app_id, user;
