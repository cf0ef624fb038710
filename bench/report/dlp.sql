-- The dlp_findings rows of one chunk: one row per (request, detector), read back from the
-- chunk's http_events rows (same request_id, ts, user, app_id and action) so the two agree.
INSERT INTO dlp_findings
SELECT
    ts, request_id, user, app_id, detector,
    toUInt32(if(detector = dlp_detectors[1], dlp_finding_count - length(dlp_detectors) + 1, 1)) AS finding_count,
    multiIf(detector IN ('private_key', 'aws_access_key_id', 'github_token', 'openai_api_key'), 'high',
            cityHash64(request_id, detector) % 10 < 6, 'high', cityHash64(request_id, detector) % 10 < 9, 'medium', 'low') AS confidence,
    action,
    transform(detector,
        ['credit_card', 'iban', 'us_ssn', 'email_address', 'aws_access_key_id', 'github_token', 'openai_api_key', 'private_key', 'jwt', 'source_code'],
        ['4111 **** **** 1111', 'DE89 **** **** **** **30 00', '***-**-6789', 'j***@example.com', 'AKIA************MPLE',
         'ghp_****************************4f2a', 'sk-proj-****************Xk9Q', '-----BEGIN RSA PRIVATE KEY----- ****', 'eyJhbGciOi****.****.****',
         'def ****(****): ****'],
        '****') AS snippet
FROM http_events
ARRAY JOIN dlp_detectors AS detector
PREWHERE dlp_finding_count > 0
WHERE ts >= toDateTime(@START@, 'UTC') AND ts < toDateTime(@END@, 'UTC')
