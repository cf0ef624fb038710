-- The AI gateway's spend per hour and who: calls, tokens, cost, errors and latency per
-- team, user, virtual key, provider and model (the model served, or asked when none was).
-- What the AI report reads for ranges of whole hours. Aggregate states (read with
-- countMerge, countIfMerge, sumMerge and GROUP BY: rows of one key merge only eventually);
-- latencies are t-digest states (read with quantilesTDigestMerge, and
-- quantilesTDigestIfMerge for the time to first token, which only streams have, at the same
-- levels, over milliseconds as Float32 so that no calls read as NaN, never 0 ms, on every
-- ClickHouse version). spend_micro_usd sums the calls with a known cost; unpriced_calls counts the
-- others, so an unknown cost is never shown as 0.
-- Written from the migration on: calls before it are in ai_requests only.
CREATE TABLE IF NOT EXISTS ai_requests_hourly
(
    hour               DateTime('UTC'),
    team               String,
    user               String,
    provider           String,
    model              String,
    virtual_key_id     String,
    virtual_key_name   String,
    calls              AggregateFunction(count),
    input_tokens       AggregateFunction(sum, UInt64),
    output_tokens      AggregateFunction(sum, UInt64),
    cached_tokens      AggregateFunction(sum, UInt64),
    cache_write_tokens AggregateFunction(sum, UInt64),
    reasoning_tokens   AggregateFunction(sum, UInt64),
    spend_micro_usd    AggregateFunction(sum, UInt64),
    unpriced_calls     AggregateFunction(countIf, UInt8),
    suspect_calls      AggregateFunction(countIf, UInt8),
    errors             AggregateFunction(countIf, UInt8),
    latency_state      AggregateFunction(quantilesTDigest(0.5, 0.9, 0.99), Float32),
    ttft_state         AggregateFunction(quantilesTDigestIf(0.5, 0.9, 0.99), Float32, UInt8)
)
ENGINE = AggregatingMergeTree()
PARTITION BY toYYYYMM(hour)
ORDER BY (hour, team, user, provider, model, virtual_key_id, virtual_key_name);

CREATE MATERIALIZED VIEW IF NOT EXISTS ai_requests_hourly_mv TO ai_requests_hourly AS
SELECT
    toStartOfHour(ts)                                    AS hour,
    team,
    user,
    provider,
    if(model_served = '', model_asked, model_served)     AS model,
    virtual_key_id,
    virtual_key_name,
    countState()                                         AS calls,
    sumState(input_tokens)                               AS input_tokens,
    sumState(output_tokens)                              AS output_tokens,
    sumState(cached_tokens)                              AS cached_tokens,
    sumState(cache_write_tokens)                         AS cache_write_tokens,
    sumState(reasoning_tokens)                           AS reasoning_tokens,
    sumState(toUInt64(ifNull(cost_micro_usd, 0)))        AS spend_micro_usd,
    countIfState(isNull(cost_micro_usd))                 AS unpriced_calls,
    countIfState(cost_status = 'usage_suspect')          AS suspect_calls,
    countIfState(error != '')                            AS errors,
    quantilesTDigestState(0.5, 0.9, 0.99)(toFloat32(latency_ms)) AS latency_state,
    quantilesTDigestIfState(0.5, 0.9, 0.99)(toFloat32(assumeNotNull(ttft_ms)), isNotNull(ttft_ms))
                                                         AS ttft_state
FROM ai_requests
GROUP BY hour, team, user, provider, model, virtual_key_id, virtual_key_name;

-- The same per day: what the AI report reads for ranges longer than three days.
CREATE TABLE IF NOT EXISTS ai_requests_daily
(
    day                Date,
    team               String,
    user               String,
    provider           String,
    model              String,
    virtual_key_id     String,
    virtual_key_name   String,
    calls              AggregateFunction(count),
    input_tokens       AggregateFunction(sum, UInt64),
    output_tokens      AggregateFunction(sum, UInt64),
    cached_tokens      AggregateFunction(sum, UInt64),
    cache_write_tokens AggregateFunction(sum, UInt64),
    reasoning_tokens   AggregateFunction(sum, UInt64),
    spend_micro_usd    AggregateFunction(sum, UInt64),
    unpriced_calls     AggregateFunction(countIf, UInt8),
    suspect_calls      AggregateFunction(countIf, UInt8),
    errors             AggregateFunction(countIf, UInt8),
    latency_state      AggregateFunction(quantilesTDigest(0.5, 0.9, 0.99), Float32),
    ttft_state         AggregateFunction(quantilesTDigestIf(0.5, 0.9, 0.99), Float32, UInt8)
)
ENGINE = AggregatingMergeTree()
PARTITION BY toYYYYMM(day)
ORDER BY (day, team, user, provider, model, virtual_key_id, virtual_key_name);

CREATE MATERIALIZED VIEW IF NOT EXISTS ai_requests_daily_mv TO ai_requests_daily AS
SELECT
    toDate(ts)                                           AS day,
    team,
    user,
    provider,
    if(model_served = '', model_asked, model_served)     AS model,
    virtual_key_id,
    virtual_key_name,
    countState()                                         AS calls,
    sumState(input_tokens)                               AS input_tokens,
    sumState(output_tokens)                              AS output_tokens,
    sumState(cached_tokens)                              AS cached_tokens,
    sumState(cache_write_tokens)                         AS cache_write_tokens,
    sumState(reasoning_tokens)                           AS reasoning_tokens,
    sumState(toUInt64(ifNull(cost_micro_usd, 0)))        AS spend_micro_usd,
    countIfState(isNull(cost_micro_usd))                 AS unpriced_calls,
    countIfState(cost_status = 'usage_suspect')          AS suspect_calls,
    countIfState(error != '')                            AS errors,
    quantilesTDigestState(0.5, 0.9, 0.99)(toFloat32(latency_ms)) AS latency_state,
    quantilesTDigestIfState(0.5, 0.9, 0.99)(toFloat32(assumeNotNull(ttft_ms)), isNotNull(ttft_ms))
                                                         AS ttft_state
FROM ai_requests
GROUP BY day, team, user, provider, model, virtual_key_id, virtual_key_name;
