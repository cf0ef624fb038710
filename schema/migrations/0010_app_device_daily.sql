-- Daily usage per app and enrolled device (requests without a device id are not here), with
-- the device's user and posture summary as last seen.
CREATE TABLE IF NOT EXISTS app_device_daily
(
    day              Date,
    app_id           String,
    device_id        String,
    requests         AggregateFunction(count),
    bytes_up         AggregateFunction(sum, UInt64),
    bytes_down       AggregateFunction(sum, UInt64),
    user             AggregateFunction(anyLast, String),
    device_posture   AggregateFunction(anyLast, String),
    last_seen        AggregateFunction(max, DateTime('UTC'))
)
ENGINE = AggregatingMergeTree()
PARTITION BY toYYYYMM(day)
ORDER BY (app_id, device_id, day);

CREATE MATERIALIZED VIEW IF NOT EXISTS app_device_daily_mv TO app_device_daily AS
SELECT
    toDate(ts)                  AS day,
    app_id,
    device_id,
    countState()                AS requests,
    sumState(bytes_up)          AS bytes_up,
    sumState(bytes_down)        AS bytes_down,
    anyLastState(user)          AS user,
    anyLastState(device_posture) AS device_posture,
    maxState(ts)                AS last_seen
FROM http_events
WHERE device_id != ''
GROUP BY day, app_id, device_id;
