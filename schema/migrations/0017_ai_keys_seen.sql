-- The AI key inventory: the key a request to an AI API presented, as a keyed fingerprint
-- (HMAC-SHA256 under the installation's secret) and its last four characters — never the key
-- — with the provider and kind its format tells and whether it is one of the AI gateway's
-- own provider keys. Empty fingerprint: no key seen.
ALTER TABLE http_events ADD COLUMN IF NOT EXISTS ai_key_fingerprint String DEFAULT '';
ALTER TABLE http_events ADD COLUMN IF NOT EXISTS ai_key_provider String DEFAULT '';
ALTER TABLE http_events ADD COLUMN IF NOT EXISTS ai_key_kind String DEFAULT '';
ALTER TABLE http_events ADD COLUMN IF NOT EXISTS ai_key_last4 String DEFAULT '';
ALTER TABLE http_events ADD COLUMN IF NOT EXISTS ai_key_org_managed UInt8 DEFAULT 0;
-- A finding of an AI key detector (a key pasted into a prompt) carries the same fingerprint.
ALTER TABLE dlp_findings ADD COLUMN IF NOT EXISTS ai_key_fingerprint String DEFAULT '';

-- Daily rollup per key: when it was first and last seen, by how many users, devices, source
-- addresses and hosts, with how many requests and bytes. Read with minMerge, maxMerge,
-- uniqMerge, uniqIfMerge, countMerge and sumMerge, grouped by fingerprint.
CREATE TABLE IF NOT EXISTS ai_keys_seen
(
    day          Date,
    fingerprint  String,
    provider     String,
    kind         String,
    last4        String,
    org_managed  UInt8,
    first_seen   AggregateFunction(min, DateTime('UTC')),
    last_seen    AggregateFunction(max, DateTime('UTC')),
    users        AggregateFunction(uniq, String),
    devices      AggregateFunction(uniqIf, String, UInt8),
    sources      AggregateFunction(uniq, String),
    hosts        AggregateFunction(uniq, String),
    requests     AggregateFunction(count),
    bytes_up     AggregateFunction(sum, UInt64),
    bytes_down   AggregateFunction(sum, UInt64)
)
ENGINE = AggregatingMergeTree()
PARTITION BY toYYYYMM(day)
ORDER BY (fingerprint, provider, kind, last4, org_managed, day);

CREATE MATERIALIZED VIEW IF NOT EXISTS ai_keys_seen_mv TO ai_keys_seen AS
SELECT
    toDate(ts)                                AS day,
    ai_key_fingerprint                        AS fingerprint,
    ai_key_provider                           AS provider,
    ai_key_kind                               AS kind,
    ai_key_last4                              AS last4,
    ai_key_org_managed                        AS org_managed,
    minState(ts)                              AS first_seen,
    maxState(ts)                              AS last_seen,
    uniqState(user)                           AS users,
    uniqIfState(device_id, device_id != '')   AS devices,
    uniqState(src_ip)                         AS sources,
    uniqState(host)                           AS hosts,
    countState()                              AS requests,
    sumState(bytes_up)                        AS bytes_up,
    sumState(bytes_down)                      AS bytes_down
FROM http_events
WHERE ai_key_fingerprint != ''
GROUP BY day, fingerprint, provider, kind, last4, org_managed;
