-- How each AI gateway call came in and how its caller was identified: ingress_path is
-- `direct` (the AI gateway's own listener), `proxy` (a CONNECT to aigw.host on the proxy port)
-- or `agent` (an enrolled device's tunnel); identity_source is `virtual_key`, `proxy_user` or
-- `device` (empty when the call was refused before anyone was identified); device_id is the
-- enrolled device on the agent path.
ALTER TABLE ai_requests ADD COLUMN IF NOT EXISTS ingress_path String DEFAULT 'direct';
ALTER TABLE ai_requests ADD COLUMN IF NOT EXISTS identity_source String DEFAULT '';
ALTER TABLE ai_requests ADD COLUMN IF NOT EXISTS device_id String DEFAULT '';
