-- One counter as views show it. KEYS: S, R, L. ARGV: now, mode, len, bucket.
-- Answers {spent, reserved}.
local mode, len, bucket = tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
purge(KEYS[2], KEYS[3])
local sp = spent(mode, KEYS[1], len, bucket)
return {sp, tonumber(redis.call('HGET', KEYS[2], 'total') or '0')}
