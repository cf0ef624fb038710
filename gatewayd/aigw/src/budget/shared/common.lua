-- Shared by every script (prepended by shared.rs). Counters of one scope value share a hash
-- tag, so a script's keys are in one slot (Redis Cluster). Per counter, three keys:
--   S  its spend: a string per period (mode 0: calendar or fixed window, the key names the
--      period), or a hash of rolling buckets, start -> spend (mode 1); unused in mode 2
--   R  a hash of what calls in flight reserved: 'total', and lease id -> amount
--   L  a sorted set of those leases by expiry: a replica that died stops holding at expiry
-- Amounts are integers below 2^53 (the Rust side clamps limits), exact in Lua's doubles.
local now = tonumber(ARGV[1])

-- Drops the leases of `r`/`l` that expired (a dead replica's calls), at most 256 a call.
local function purge(r, l)
  local dead = redis.call('ZRANGEBYSCORE', l, '-inf', now, 'LIMIT', 0, 256)
  for _, id in ipairs(dead) do
    local amt = redis.call('HGET', r, id)
    if amt then
      redis.call('HINCRBY', r, 'total', -tonumber(amt))
      redis.call('HDEL', r, id)
    end
    redis.call('ZREM', l, id)
  end
end

-- The spend still in the window, and when its oldest part leaves it (0: nothing spent).
local function spent(mode, s, len, bucket)
  if mode == 0 then
    return tonumber(redis.call('GET', s) or '0'), 0
  end
  if mode == 1 then
    local all = redis.call('HGETALL', s)
    local sum, oldest = 0, 0
    for i = 1, #all, 2 do
      local start = tonumber(all[i])
      if start + bucket + len <= now then
        redis.call('HDEL', s, all[i])
      else
        sum = sum + tonumber(all[i + 1])
        if oldest == 0 or start < oldest then oldest = start end
      end
    end
    if oldest > 0 then oldest = oldest + bucket + len end
    return sum, oldest
  end
  return 0, 0
end

-- Counts `amount` into period `period` (mode 0: the key is the period's; it expires a minute
-- after the period ends; mode 1: the bucket), unless the period already left the window.
-- Expiries are relative to the caller's `now`, so a clock skew between a replica and Redis
-- never ends a period early.
local function add(mode, s, len, bucket, period, reset, amount)
  if amount <= 0 then return end
  if mode == 0 and reset > now then
    redis.call('INCRBY', s, amount)
    redis.call('EXPIRE', s, reset - now + 60)
  elseif mode == 1 and period + bucket + len > now then
    redis.call('HINCRBY', s, period, amount)
    redis.call('EXPIRE', s, len + bucket + 60)
  end
end
