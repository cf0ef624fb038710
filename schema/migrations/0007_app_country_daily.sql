-- Daily usage per app and country (the GeoIP country of the source address; '' when unknown).
CREATE TABLE IF NOT EXISTS app_country_daily
(
    day              Date,
    app_id           String,
    country          String,
    requests         AggregateFunction(count),
    blocked_requests AggregateFunction(countIf, UInt8),
    bytes_up         AggregateFunction(sum, UInt64),
    bytes_down       AggregateFunction(sum, UInt64),
    users            AggregateFunction(uniq, String)
)
ENGINE = AggregatingMergeTree()
PARTITION BY toYYYYMM(day)
ORDER BY (app_id, country, day);

CREATE MATERIALIZED VIEW IF NOT EXISTS app_country_daily_mv TO app_country_daily AS
SELECT
    toDate(ts)                 AS day,
    app_id,
    country,
    countState()               AS requests,
    countIfState(blocked = 1)  AS blocked_requests,
    sumState(bytes_up)         AS bytes_up,
    sumState(bytes_down)       AS bytes_down,
    uniqState(user)            AS users
FROM http_events
GROUP BY day, app_id, country;
