-- Reserve-and-check, all or nothing, for the counters of one scope value.
-- KEYS: S, R, L per claim. ARGV: now, lease id, lease expiry, lease ttl, then 8 per claim:
-- mode, len, bucket, period, reset, limit, amount, hold (1: held until settled).
-- Answers {1, spent, reserved, reset, ...per claim} when granted, {0, index (0-based),
-- spent, reserved, reset} for the first claim that would pass its limit.
local lease, lease_until, lease_ttl = ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4])
local n = #KEYS / 3
local seen = {}
for i = 0, n - 1 do
  local s, r, l = KEYS[3 * i + 1], KEYS[3 * i + 2], KEYS[3 * i + 3]
  local a = 5 + 8 * i
  local mode, len, bucket = tonumber(ARGV[a]), tonumber(ARGV[a + 1]), tonumber(ARGV[a + 2])
  local reset, limit, amount = tonumber(ARGV[a + 4]), tonumber(ARGV[a + 5]), tonumber(ARGV[a + 6])
  purge(r, l)
  local sp, oldest = spent(mode, s, len, bucket)
  if mode == 1 then reset = oldest end
  local reserved = tonumber(redis.call('HGET', r, 'total') or '0')
  if sp + reserved + amount > limit then
    return {0, i, sp, reserved, reset}
  end
  seen[i] = {sp, reserved, reset}
end
local out = {1}
for i = 0, n - 1 do
  local s, r, l = KEYS[3 * i + 1], KEYS[3 * i + 2], KEYS[3 * i + 3]
  local a = 5 + 8 * i
  local mode, len, bucket = tonumber(ARGV[a]), tonumber(ARGV[a + 1]), tonumber(ARGV[a + 2])
  local period, reset = tonumber(ARGV[a + 3]), tonumber(ARGV[a + 4])
  local amount, hold = tonumber(ARGV[a + 6]), ARGV[a + 7] == '1'
  local sp, reserved = seen[i][1], seen[i][2]
  if hold then
    redis.call('HINCRBY', r, 'total', amount)
    redis.call('HINCRBY', r, lease, amount)
    redis.call('ZADD', l, lease_until, lease)
    redis.call('EXPIRE', r, lease_ttl)
    redis.call('EXPIRE', l, lease_ttl)
    reserved = reserved + amount
  else
    add(mode, s, len, bucket, period, reset, amount)
    sp = sp + amount
  end
  local at = seen[i][3]
  if mode == 1 and at == 0 then at = period + bucket + len end
  table.insert(out, sp)
  table.insert(out, reserved)
  table.insert(out, at)
end
return out
