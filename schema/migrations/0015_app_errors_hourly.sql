-- Upstream failures per hour, app and who: the transactions the gateway could not serve
-- (action = 'error': DNS errors, refused or reset connections, timeouts). They are not
-- blocks (blocked = 0), and the reports show them apart. Only failing transactions are
-- rolled up, so the who-dimensions (user, country, groups) can be kept at little cost and
-- every report filter reads this table. Read with countMerge and GROUP BY.
-- Written from the migration on: failures before it are in http_events only.
CREATE TABLE IF NOT EXISTS app_errors_hourly
(
    hour     DateTime('UTC'),
    app_id   String,
    user     String,
    country  String,
    groups   Array(String),
    errors   AggregateFunction(count)
)
ENGINE = AggregatingMergeTree()
PARTITION BY toYYYYMM(hour)
ORDER BY (app_id, hour, user, country, groups);

CREATE MATERIALIZED VIEW IF NOT EXISTS app_errors_hourly_mv TO app_errors_hourly AS
SELECT
    toStartOfHour(ts) AS hour,
    app_id,
    user,
    country,
    groups,
    countState()      AS errors
FROM http_events
WHERE action = 'error'
GROUP BY hour, app_id, user, country, groups;
