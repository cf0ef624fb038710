-- Rebuilds one counter's spend for one period from ClickHouse, once: every replica that
-- starts seeds the same answer, and only the first one's counts (a marker per period).
-- KEYS: S, M (the markers). ARGV: now, mode, len, bucket, period, reset, spent.
-- Answers 1 when it counted, 0 when the period was already seeded.
local mode, len, bucket = tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local period, reset, amount = tonumber(ARGV[5]), tonumber(ARGV[6]), tonumber(ARGV[7])
local s, m = KEYS[1], KEYS[2]
if redis.call('HSETNX', m, period, '1') == 0 then return 0 end
local keep = len + bucket + 60
if mode == 0 then keep = reset - now + 60 end
if keep < 60 then keep = 60 end
redis.call('EXPIRE', m, keep)
add(mode, s, len, bucket, period, reset, amount)
return 1
