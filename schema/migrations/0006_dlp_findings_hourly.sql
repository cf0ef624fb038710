-- Hourly DLP findings per app and detector, fed by every insert into dlp_findings.
-- `requests` counts finding rows (one per request and detector); `findings` sums their counts.
CREATE TABLE IF NOT EXISTS dlp_findings_hourly
(
    hour             DateTime('UTC'),
    app_id           String,
    detector         String,
    requests         AggregateFunction(count),
    findings         AggregateFunction(sum, UInt64),
    blocked_requests AggregateFunction(countIf, UInt8),
    users            AggregateFunction(uniq, String)
)
ENGINE = AggregatingMergeTree()
PARTITION BY toYYYYMMDD(hour)
ORDER BY (app_id, detector, hour);

CREATE MATERIALIZED VIEW IF NOT EXISTS dlp_findings_hourly_mv TO dlp_findings_hourly AS
SELECT
    toStartOfHour(ts)                  AS hour,
    app_id,
    detector,
    countState()                       AS requests,
    sumState(toUInt64(finding_count))  AS findings,
    countIfState(action = 'block')     AS blocked_requests,
    uniqState(user)                    AS users
FROM dlp_findings
GROUP BY hour, app_id, detector;
