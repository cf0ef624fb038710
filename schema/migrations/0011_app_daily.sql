-- Daily usage per app: what long report ranges read. Unique users and devices are
-- HyperLogLog sketches (uniqHLL12: exact up to a few dozen, then about 1.6 % error) because
-- merging a month of them is a few thousand fixed-size states, where the exact-set states
-- of the hourly rollup cost seconds at a hundred million events.
CREATE TABLE IF NOT EXISTS app_daily
(
    day              Date,
    app_id           String,
    requests         AggregateFunction(count),
    blocked_requests AggregateFunction(countIf, UInt8),
    upload_requests  AggregateFunction(countIf, UInt8),
    bytes_up         AggregateFunction(sum, UInt64),
    bytes_down       AggregateFunction(sum, UInt64),
    dlp_findings     AggregateFunction(sum, UInt64),
    users            AggregateFunction(uniqHLL12, String),
    devices          AggregateFunction(uniqHLL12If, String, UInt8),
    last_seen        AggregateFunction(max, DateTime('UTC'))
)
ENGINE = AggregatingMergeTree()
PARTITION BY toYYYYMM(day)
ORDER BY (app_id, day);

CREATE MATERIALIZED VIEW IF NOT EXISTS app_daily_mv TO app_daily AS
SELECT
    toDate(ts)                                  AS day,
    app_id,
    countState()                                AS requests,
    countIfState(blocked = 1)                   AS blocked_requests,
    countIfState(upload = 1)                    AS upload_requests,
    sumState(bytes_up)                          AS bytes_up,
    sumState(bytes_down)                        AS bytes_down,
    sumState(toUInt64(dlp_finding_count))       AS dlp_findings,
    uniqHLL12State(user)                        AS users,
    uniqHLL12IfState(device_id, device_id != '') AS devices,
    maxState(ts)                                AS last_seen
FROM http_events
GROUP BY day, app_id;
