-- DLP both ways on the AI gateway: how many findings the prompt held, and what DLP found in
-- and did to the answer (detector ids and counts only, never the data). `response_dlp_action`
-- is `block`, `redact`, `log` (monitor) or empty.
ALTER TABLE ai_requests ADD COLUMN IF NOT EXISTS dlp_finding_count UInt32 DEFAULT 0;
ALTER TABLE ai_requests ADD COLUMN IF NOT EXISTS response_dlp_action String DEFAULT '';
ALTER TABLE ai_requests ADD COLUMN IF NOT EXISTS response_dlp_detectors Array(String);
ALTER TABLE ai_requests ADD COLUMN IF NOT EXISTS response_dlp_finding_count UInt32 DEFAULT 0;
