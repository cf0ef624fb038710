-- One deployment's circuit breaker, shared by every replica (times in Unix milliseconds).
-- KEYS: H (open_until, probe_since), F (failures in the window, a sorted set by time).
-- ARGV: now, op (check | success | failure), window, failures to open, cooldown,
-- probe (1: the failed call was the half-open probe), a unique id for this failure.
-- check answers {0} closed, {1} this call is the probe, {2, ms} open for ms more;
-- failure answers {1} when it opened the breaker, else {0}.
local now, op = tonumber(ARGV[1]), ARGV[2]
local window, limit, cooldown = tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])
local h, f = KEYS[1], KEYS[2]
local open_until = tonumber(redis.call('HGET', h, 'open_until') or '0')
local probe_since = tonumber(redis.call('HGET', h, 'probe_since') or '0')
local keep = math.ceil((window + cooldown) / 1000) + 3600
if op == 'check' then
  if open_until == 0 then return {0, 0} end
  if now < open_until then return {2, open_until - now} end
  if probe_since > 0 and now - probe_since < cooldown then
    return {2, cooldown - (now - probe_since)}
  end
  redis.call('HSET', h, 'probe_since', now)
  redis.call('EXPIRE', h, keep)
  return {1, 0}
end
if op == 'success' then
  redis.call('DEL', h, f)
  return {0, 0}
end
redis.call('HDEL', h, 'probe_since')
if ARGV[6] == '1' or open_until > 0 then
  redis.call('HSET', h, 'open_until', now + cooldown)
  redis.call('EXPIRE', h, keep)
  return {0, 0}
end
redis.call('ZREMRANGEBYSCORE', f, '-inf', now - window - 1)
redis.call('ZADD', f, now, ARGV[7])
redis.call('PEXPIRE', f, window + 1000)
if redis.call('ZCARD', f) >= limit then
  redis.call('DEL', f)
  redis.call('HSET', h, 'open_until', now + cooldown)
  redis.call('EXPIRE', h, keep)
  return {1, 0}
end
return {0, 0}
