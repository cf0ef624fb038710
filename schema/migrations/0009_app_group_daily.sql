-- Daily usage per app and user group: one row per group a request's user belongs to, so a
-- request by a member of two groups counts once in each. Users without groups are not here.
CREATE TABLE IF NOT EXISTS app_group_daily
(
    day              Date,
    app_id           String,
    group_name       String,
    requests         AggregateFunction(count),
    blocked_requests AggregateFunction(countIf, UInt8),
    bytes_up         AggregateFunction(sum, UInt64),
    bytes_down       AggregateFunction(sum, UInt64),
    users            AggregateFunction(uniq, String)
)
ENGINE = AggregatingMergeTree()
PARTITION BY toYYYYMM(day)
ORDER BY (app_id, group_name, day);

CREATE MATERIALIZED VIEW IF NOT EXISTS app_group_daily_mv TO app_group_daily AS
SELECT
    toDate(ts)                 AS day,
    app_id,
    group_name,
    countState()               AS requests,
    countIfState(blocked = 1)  AS blocked_requests,
    sumState(bytes_up)         AS bytes_up,
    sumState(bytes_down)       AS bytes_down,
    uniqState(user)            AS users
FROM http_events
ARRAY JOIN groups AS group_name
GROUP BY day, app_id, group_name;
