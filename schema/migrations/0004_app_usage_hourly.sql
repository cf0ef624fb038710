-- Hourly usage per app, fed by every insert into http_events.
-- Aggregate states: read with countMerge, countIfMerge, sumMerge, uniqMerge, uniqIfMerge
-- and GROUP BY, because rows for the same key are merged only eventually.
CREATE TABLE IF NOT EXISTS app_usage_hourly
(
    hour             DateTime('UTC'),
    app_id           String,
    requests         AggregateFunction(count),
    blocked_requests AggregateFunction(countIf, UInt8),
    upload_requests  AggregateFunction(countIf, UInt8),
    bytes_up         AggregateFunction(sum, UInt64),
    bytes_down       AggregateFunction(sum, UInt64),
    dlp_findings     AggregateFunction(sum, UInt64),
    users            AggregateFunction(uniq, String),
    devices          AggregateFunction(uniqIf, String, UInt8)
)
ENGINE = AggregatingMergeTree()
PARTITION BY toYYYYMMDD(hour)
ORDER BY (app_id, hour);

-- Traffic without a device id (proxy users without the agent) counts no device.
CREATE MATERIALIZED VIEW IF NOT EXISTS app_usage_hourly_mv TO app_usage_hourly AS
SELECT
    toStartOfHour(ts)                         AS hour,
    app_id,
    countState()                              AS requests,
    countIfState(blocked = 1)                 AS blocked_requests,
    countIfState(upload = 1)                  AS upload_requests,
    sumState(bytes_up)                        AS bytes_up,
    sumState(bytes_down)                      AS bytes_down,
    sumState(toUInt64(dlp_finding_count))     AS dlp_findings,
    uniqState(user)                           AS users,
    uniqIfState(device_id, device_id != '')   AS devices
FROM http_events
GROUP BY hour, app_id;
