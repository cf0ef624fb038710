-- Tenant control: whose account a request to an app with tenant control used —
-- `corporate`, `personal` or `unknown`; empty for every other request. Only the
-- classification is stored, never the account identifier the request carried.
ALTER TABLE http_events ADD COLUMN IF NOT EXISTS tenant String DEFAULT '';
