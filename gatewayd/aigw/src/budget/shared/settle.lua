-- Settles one lease on the counters of one scope value: releases what it reserved (unless
-- it expired, when its amount already left) and counts what the call used.
-- KEYS: S, R, L per held claim. ARGV: now, lease id, then 8 per claim: mode, len, bucket,
-- period, reset, actual, hold, 0. Answers {before, after} spend per claim.
local lease = ARGV[2]
local n = #KEYS / 3
local out = {}
for i = 0, n - 1 do
  local s, r, l = KEYS[3 * i + 1], KEYS[3 * i + 2], KEYS[3 * i + 3]
  local a = 3 + 8 * i
  local mode, len, bucket = tonumber(ARGV[a]), tonumber(ARGV[a + 1]), tonumber(ARGV[a + 2])
  local period, reset = tonumber(ARGV[a + 3]), tonumber(ARGV[a + 4])
  local actual, hold = tonumber(ARGV[a + 5]), ARGV[a + 6] == '1'
  local before = spent(mode, s, len, bucket)
  if hold then
    local had = redis.call('HGET', r, lease)
    if had then
      redis.call('HINCRBY', r, 'total', -tonumber(had))
      redis.call('HDEL', r, lease)
    end
    redis.call('ZREM', l, lease)
    add(mode, s, len, bucket, period, reset, actual)
  end
  local after = spent(mode, s, len, bucket)
  table.insert(out, before)
  table.insert(out, after)
end
return out
