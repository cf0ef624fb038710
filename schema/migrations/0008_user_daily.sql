-- Daily AI usage per user (traffic to catalogued or discovered AI apps only: app_id != ''),
-- with the user's groups as last seen and how many apps and devices they used.
-- Aggregate states: read with countMerge, countIfMerge, sumMerge, uniqMerge, uniqIfMerge,
-- anyLastMerge, maxMerge and GROUP BY.
CREATE TABLE IF NOT EXISTS user_daily
(
    day              Date,
    user             String,
    requests         AggregateFunction(count),
    blocked_requests AggregateFunction(countIf, UInt8),
    upload_requests  AggregateFunction(countIf, UInt8),
    bytes_up         AggregateFunction(sum, UInt64),
    bytes_down       AggregateFunction(sum, UInt64),
    dlp_findings     AggregateFunction(sum, UInt64),
    apps             AggregateFunction(uniq, String),
    devices          AggregateFunction(uniqIf, String, UInt8),
    groups           AggregateFunction(anyLast, Array(String)),
    last_seen        AggregateFunction(max, DateTime('UTC'))
)
ENGINE = AggregatingMergeTree()
PARTITION BY toYYYYMM(day)
ORDER BY (user, day);

CREATE MATERIALIZED VIEW IF NOT EXISTS user_daily_mv TO user_daily AS
SELECT
    toDate(ts)                                AS day,
    user,
    countState()                              AS requests,
    countIfState(blocked = 1)                 AS blocked_requests,
    countIfState(upload = 1)                  AS upload_requests,
    sumState(bytes_up)                        AS bytes_up,
    sumState(bytes_down)                      AS bytes_down,
    sumState(toUInt64(dlp_finding_count))     AS dlp_findings,
    uniqState(app_id)                         AS apps,
    uniqIfState(device_id, device_id != '')   AS devices,
    anyLastState(groups)                      AS groups,
    maxState(ts)                              AS last_seen
FROM http_events
WHERE app_id != ''
GROUP BY day, user;
