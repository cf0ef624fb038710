-- Routes with fallbacks on the AI gateway ([[aigw.routes]]): the route a call asked for
-- (empty: none), the deployment (`provider/model`) that answered, how many attempts were made,
-- how many deployments were passed over before one answered, and each attempt that did not
-- (`provider/model outcome`: rate_limited, server_error, timeout, unreachable, circuit_open).
ALTER TABLE ai_requests ADD COLUMN IF NOT EXISTS route String DEFAULT '';
ALTER TABLE ai_requests ADD COLUMN IF NOT EXISTS deployment String DEFAULT '';
ALTER TABLE ai_requests ADD COLUMN IF NOT EXISTS attempts UInt8 DEFAULT 0;
ALTER TABLE ai_requests ADD COLUMN IF NOT EXISTS fallbacks UInt8 DEFAULT 0;
ALTER TABLE ai_requests ADD COLUMN IF NOT EXISTS attempt_errors Array(String);
