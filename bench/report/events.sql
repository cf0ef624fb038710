-- One generation chunk: @N@ synthetic transactions in [@START@, @END@) (epoch seconds, UTC),
-- row ids @OFFSET@ .. @OFFSET@+@N@-1. gen.py fills the @...@ placeholders (dimension arrays
-- from policies/catalog, the chunk's hour table) and bench/report.sh runs it.
-- Everything is a pure function of the row id g (intHash64 of g and a salt), so a chunk is
-- reproducible. ClickHouse 18.16: no window functions, no WITH FILL; only plain functions.
INSERT INTO http_events
SELECT
    ts, request_id, user, groups, device_id, device_posture, src_ip, country, city,
    host, app_id, app_name, category, app_status, discovered, method, path, status,
    action, blocked, rule_id, policy_version, detail, upload, file_names, prompt_length,
    model, dlp_detectors, dlp_finding_count, bytes_up, bytes_down, latency_ms, audit_prompt
FROM
(
    SELECT
        number + @OFFSET@ AS g,
        -- independent uniforms in [0, 1)
        (intHash64(g * 32 + 1) % 1000000) / 1000000. AS r_hour,
        (intHash64(g * 32 + 2) % 1000000) / 1000000. AS r_sec,
        (intHash64(g * 32 + 3) % 1000000) / 1000000. AS r_app,
        (intHash64(g * 32 + 4) % 1000000) / 1000000. AS r_user,
        (intHash64(g * 32 + 5) % 1000000) / 1000000. AS r_travel,
        (intHash64(g * 32 + 6) % 1000000) / 1000000. AS r_upload,
        (intHash64(g * 32 + 7) % 1000000) / 1000000. AS r_method,
        (intHash64(g * 32 + 8) % 1000000) / 1000000. AS r_block,
        (intHash64(g * 32 + 9) % 1000000) / 1000000. AS r_dlp,
        (intHash64(g * 32 + 10) % 1000000) / 1000000. AS r_status,
        intHash64(g * 32 + 11) AS h_a,
        intHash64(g * 32 + 12) AS h_b,
        -- approximately standard normal: sum of 4 uniforms, centred and scaled
        ((intHash64(g * 32 + 13) % 1000000 + intHash64(g * 32 + 14) % 1000000
          + intHash64(g * 32 + 15) % 1000000 + intHash64(g * 32 + 16) % 1000000) / 1000000. - 2) * 1.732 AS z1,
        ((intHash64(g * 32 + 17) % 1000000 + intHash64(g * 32 + 18) % 1000000
          + intHash64(g * 32 + 19) % 1000000 + intHash64(g * 32 + 20) % 1000000) / 1000000. - 2) * 1.732 AS z2,

        -- time: the hour is drawn from the chunk's diurnal/weekday table, then a second in it
        1 + toUInt32(r_hour * @HOUR_LUT_LEN@) AS hl_i,
        arrayElement(@HOUR_LUT@, hl_i) AS hi,
        toDateTime(arrayElement(@HOUR_START@, hi) + toUInt32(r_sec * arrayElement(@HOUR_LEN@, hi)), 'UTC') AS ts,

        -- app: Zipf-like rank 0..@NAPPS_M1@ (rank 0 ~25 % of traffic, top 10 ~55 %)
        if(@FORCE_APP@ > 0, @FORCE_APP@, least(@NAPPS_M1@, toUInt32(exp(pow(r_app, 1.5) * log(@NAPPS@ + 1))) - 1) + 1) AS ai,
        arrayElement(@APP_IDS@, ai) AS app_id,
        arrayElement(@APP_NAMES@, ai) AS app_name,
        arrayElement(@APP_CATS@, ai) AS category,
        arrayElement(@APP_HOSTS@, ai) AS host,
        arrayElement(@APP_STATUS@, ai) AS app_status,
        toUInt8(app_status = 'unknown') AS discovered,

        -- user 0..@NUSERS_M1@; ids < @NDEVICES@ have the agent (a device)
        -- an app's users are a block of ids at a hashed offset, fewer the less popular the app
        least(@NUSERS@, toUInt32(25000 / pow(ai, 0.9))) AS app_users,
        toUInt32(if(@FORCE_UID@ >= 0, @FORCE_UID@, (intHash32(ai * 7919) + toUInt32(app_users * pow(r_user, 1.3))) % @NUSERS@)) AS uid,
        concat(arrayElement(@FIRST@, 1 + uid % 100), '.', arrayElement(@LAST@, 1 + intDiv(uid, 100)), '@acme.example') AS user,
        1 + intHash32(uid * 7 + 1) % @NGROUPS@ AS gi,
        if(uid % 3 = 0, [arrayElement(@GROUPS@, gi), arrayElement(@GROUPS@, 1 + gi % @NGROUPS@)], [arrayElement(@GROUPS@, gi)]) AS groups,
        if(uid < @NDEVICES@, concat('dev-', lower(hex(intHash32(uid * 7 + 2)))), '') AS device_id,
        if(uid < @NDEVICES@, multiIf(intHash32(uid * 7 + 3) % 100 < 85, 'compliant', intHash32(uid * 7 + 3) % 100 < 95, 'noncompliant', 'unknown'), '') AS device_posture,

        -- place: a home country per user (weighted table), 3 % of requests while travelling
        if(@FORCE_COUNTRY@ > 0, @FORCE_COUNTRY@,
           if(r_travel < 0.97, arrayElement(@COUNTRY_LUT@, 1 + intHash32(uid * 7 + 4) % @COUNTRY_LUT_LEN@),
                               1 + h_a % @NCOUNTRIES@)) AS ci,
        arrayElement(@COUNTRIES@, ci) AS country,
        arrayElement(@CITIES@, ci) AS city,
        concat('10.', toString(ci), '.', toString(intDiv(uid, 250)), '.', toString(1 + uid % 250)) AS src_ip,

        -- request
        toUInt8(r_upload < 0.03) AS upload,
        if(upload = 1, [concat(arrayElement(@FILE_BASES@, 1 + h_a % @NFILE_BASES@), '-', toString(h_b % 1000), '.',
                               arrayElement(@FILE_EXTS@, 1 + h_b % @NFILE_EXTS@))], emptyArrayString()) AS file_names,
        multiIf(upload = 1, if(h_b % 4 = 0, 'PUT', 'POST'), r_method < 0.55, 'POST', r_method < 0.97, 'GET', 'OPTIONS') AS method,
        multiIf(upload = 1, '/api/files/upload', method = 'POST', arrayElement(@POST_PATHS@, 1 + h_a % @NPOST_PATHS@),
                arrayElement(@GET_PATHS@, 1 + h_a % @NGET_PATHS@)) AS path,
        if(method = 'POST' AND upload = 0, toUInt32(least(200000, exp(6.5 + 1.1 * z1))), toUInt32(0)) AS prompt_length,
        if(category IN ('chat', 'chat-intl', 'code', 'api', 'agents', 'writing', 'search') AND method = 'POST' AND upload = 0,
           arrayElement(@MODELS@, 1 + (intHash32(ai) + h_b % 3) % @NMODELS@), '') AS model,

        -- policy: most requests to unapproved apps are blocked; DLP on ~1.5 % of the rest
        toUInt8(app_status = 'unapproved' AND r_block < 0.6) AS policy_block,
        toUInt8(policy_block = 0 AND method IN ('POST', 'PUT') AND r_dlp < @DLP_RATE@) AS has_dlp,
        if(has_dlp = 1, arrayElement(@DET_LUT@, 1 + h_a % @DET_LUT_LEN@), '') AS det1,
        if(has_dlp = 1,
           if(h_b % 4 = 0 AND arrayElement(@DET_LUT@, 1 + h_b % @DET_LUT_LEN@) != det1,
              [det1, arrayElement(@DET_LUT@, 1 + h_b % @DET_LUT_LEN@)], [det1]),
           emptyArrayString()) AS dlp_detectors,
        toUInt32(length(dlp_detectors) + if(has_dlp = 1 AND h_a % 5 = 0, h_b % 7, 0)) AS dlp_finding_count,
        toUInt8(has_dlp = 1 AND det1 IN ('private_key', 'aws_access_key_id', 'github_token', 'openai_api_key', 'us_ssn')) AS dlp_block,
        toUInt8(policy_block = 1 OR dlp_block = 1) AS blocked,
        multiIf(blocked = 1, 'block', has_dlp = 1 AND h_a % 2 = 0, 'redact', 'allow') AS action,
        multiIf(policy_block = 1, 'block-unapproved-apps', dlp_block = 1, 'dlp-block-secrets',
                has_dlp = 1, 'dlp-redact-pii', app_status = 'unknown', 'log-discovered', 'allow-approved') AS rule_id,
        '2026-11-20.3' AS policy_version,
        multiIf(policy_block = 1, concat(app_name, ' is not approved'), dlp_block = 1, concat('DLP: ', det1), '') AS detail,
        toUInt16(multiIf(blocked = 1, 403, r_status < 0.975, 200, r_status < 0.985, 201, r_status < 0.993, 429,
                         r_status < 0.997, 401, 502)) AS status,
        toUInt64(if(upload = 1, exp(12 + 1.5 * z1), exp(7.2 + 1.2 * z1))) AS bytes_up,
        toUInt64(if(blocked = 1, 180 + h_b % 200, exp(9.3 + 1.4 * z2))) AS bytes_down,
        toUInt32(least(120000, exp(5.8 + 0.9 * z2))) AS latency_ms,
        concat(lower(hex(intHash64(g * 32 + 21))), lower(hex(intHash64(g * 32 + 22)))) AS request_id,
        '' AS audit_prompt
    FROM numbers(@N@)
)
