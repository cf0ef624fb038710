#!/usr/bin/env bash
# Shadow AI report benchmark: a private ClickHouse with ~100M synthetic AI-app transactions
# (30 days ending at generation time) and timings of the report's queries against it.
#
#   bench/report.sh generate [N]   start/reuse the server, apply the migrations, generate N events
#                                  (default 100000000) in calendar-day chunks, then the anomalies
#                                  and app_status_changes; resumes an interrupted run. Chunks go
#                                  newest day first; GEN_BUDGET_MIN=35 (or touching
#                                  <data>/state/stop) stops between chunks, keeping the recent days
#   bench/report.sh status         row counts (raw tables and merged rollups), parts, size on disk
#   bench/report.sh time           median of 5 runs of each bench/report/queries/*.sql (ms)
#   bench/report.sh url | config   the HTTP URL / a gatewayd config pointing at this server
#   bench/report.sh start | stop   start / stop the server (data stays)
#   bench/report.sh backfill [T..] fill rollups added by a later migration (run generate or
#                                  gatewayd schema migrate first): every materialized view whose
#                                  target is empty (or the targets T), from the raw table, by day
#   bench/report.sh reset          stop and delete all data (then generate anew)
#
# Data: $REPORT_BENCH_DIR (default ~/.cache/warden/report-bench), kept across runs; the 30-day
# window is fixed when generation starts (state/now), so the data ages: regenerate with reset.
# Ports: REPORT_BENCH_HTTP_PORT / REPORT_BENCH_TCP_PORT (default 28123 / 29000; the first free
# pair from there is used and remembered). ClickHouse is Debian's 18.16.
set -euo pipefail
cd "$(dirname "$0")/.."
REPO=$PWD
HERE=$REPO/bench/report
ROOT=${REPORT_BENCH_DIR:-$HOME/.cache/warden/report-bench}
STATE=$ROOT/state
GATEWAYD=${GATEWAYD:-$HOME/.cache/warden/target/debug/gatewayd}
CH_SERVER=$(command -v clickhouse-server || echo /usr/sbin/clickhouse-server)
DB=warden
RUNS=${RUNS:-5}
mkdir -p "$STATE" "$ROOT/logs" "$ROOT/data" "$ROOT/tmp" "$ROOT/user_files" "$ROOT/format_schemas"

port_open() { (exec 3<>/dev/tcp/127.0.0.1/"$1") 2>/dev/null; }
ports() {
  if [ -f "$STATE/ports" ]; then read -r HTTP_PORT TCP_PORT < "$STATE/ports"; return; fi
  HTTP_PORT=${REPORT_BENCH_HTTP_PORT:-28123}; TCP_PORT=${REPORT_BENCH_TCP_PORT:-29000}
  while port_open "$HTTP_PORT" || port_open "$TCP_PORT"; do HTTP_PORT=$((HTTP_PORT + 1)); TCP_PORT=$((TCP_PORT + 1)); done
  echo "$HTTP_PORT $TCP_PORT" > "$STATE/ports"
}
ports
URL="http://127.0.0.1:$HTTP_PORT/"

q() { # SQL [extra URL params]: run one statement, print its result (TSV)
  curl -sS --fail-with-body --data-binary "$1" "$URL?database=$DB${2:+&$2}"
}
qf() { curl -sS --fail-with-body --data-binary @"$1" "$URL?database=$DB${2:+&$2}"; }

server_pid() { [ -f "$ROOT/server.pid" ] && kill -0 "$(cat "$ROOT/server.pid")" 2>/dev/null && cat "$ROOT/server.pid"; }
start() {
  if server_pid >/dev/null; then return; fi
  if port_open "$HTTP_PORT"; then
    echo "port $HTTP_PORT is in use by something else; remove $STATE/ports to pick other ports" >&2; exit 1
  fi
  sed "s#@ROOT@#$ROOT#g; s#@HTTP_PORT@#$HTTP_PORT#; s#@TCP_PORT@#$TCP_PORT#" "$REPO/deploy/clickhouse/local-config.xml" > "$ROOT/config.xml"
  cp "$REPO/bench/clickhouse-users.xml" "$ROOT/users.xml"
  # 100M rows: 4 GB per query (the quickstart's) is enough; generation runs chunk by chunk.
  # own session: a Ctrl-C or a kill of the generator's process group leaves the server running
  setsid nohup "$CH_SERVER" --config-file="$ROOT/config.xml" > "$ROOT/logs/stdout.log" 2>&1 < /dev/null &
  echo $! > "$ROOT/server.pid"
  for _ in $(seq 1 300); do curl -sf "${URL}ping" >/dev/null 2>&1 && break; sleep 0.2; done
  curl -sf "${URL}ping" >/dev/null || { echo "clickhouse-server did not start: $ROOT/logs" >&2; tail -5 "$ROOT/logs/server.err.log" >&2; exit 1; }
  echo "clickhouse-server $(curl -sS --data-binary 'SELECT version()' "$URL" 2>/dev/null || true) on $URL (pid $(cat "$ROOT/server.pid"), data $ROOT/data)" >&2
}
stop() {
  local pid; pid=$(server_pid) || { echo "not running"; return 0; }
  kill "$pid"; for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
  rm -f "$ROOT/server.pid"; echo "stopped (pid $pid)"
}

write_config() {
  cat > "$ROOT/gatewayd.toml" <<TOML
# gatewayd config for the report benchmark's ClickHouse (bench/report.sh): only [clickhouse]
# differs from the defaults. e.g. gatewayd report overview --since 30d --json --config $ROOT/gatewayd.toml
[clickhouse]
url = "http://127.0.0.1:$HTTP_PORT"
database = "$DB"
migrate_on_start = false
TOML
}

migrate() {
  curl -sS --fail-with-body --data-binary "CREATE DATABASE IF NOT EXISTS $DB" "$URL" >/dev/null
  write_config
  # gatewayd's own runner records what it applied; the SQL files by hand when it is absent or fails.
  if [ -x "$GATEWAYD" ] && "$GATEWAYD" schema migrate --config "$ROOT/gatewayd.toml" > "$ROOT/logs/migrate.log" 2>&1; then
    echo "migrations applied by gatewayd schema migrate" >&2
  else
    echo "gatewayd schema migrate unavailable or failed ($ROOT/logs/migrate.log): applying schema/migrations/*.sql" >&2
    for f in "$REPO"/schema/migrations/*.sql; do
      # one statement per request: split on ';' at line ends
      python3 - "$f" <<'PY' | while IFS= read -r -d '' stmt; do q "$stmt" >/dev/null; done
import re, sys
for s in re.split(r";\s*\n", open(sys.argv[1]).read() + "\n"):
    body = "\n".join(l for l in s.splitlines() if not l.strip().startswith("--")).strip()
    if body:
        sys.stdout.write(body + "\0")
PY
    done
  fi
}

ms() { date +%s%3N; }

generate() {
  local n=${1:-100000000}
  start; migrate
  if [ -f "$STATE/n" ] && [ "$(cat "$STATE/n")" != "$n" ]; then
    echo "this data set was started with N=$(cat "$STATE/n"); run 'bench/report.sh reset' first to generate N=$n" >&2; exit 1
  fi
  echo "$n" > "$STATE/n"
  [ -f "$STATE/now" ] || date +%s > "$STATE/now"
  local now; now=$(cat "$STATE/now")
  python3 "$HERE/gen.py" plan "$n" "$now" > "$STATE/plan"
  local total_chunks; total_chunks=$(wc -l < "$STATE/plan")
  echo "generating $n events in $total_chunks day chunks, $(date -u -d @$((now - 30 * 86400)) +%FT%TZ) .. $(date -u -d @"$now" +%FT%TZ)" >&2
  local t0 i=0 done_rows=0 s e c off t1 el
  t0=$(ms); [ -f "$STATE/gen_ms" ] || echo 0 > "$STATE/gen_ms"
  local budget_ms=$(( ${GEN_BUDGET_MIN:-0} * 60000 )) cut=""
  while read -r s e c off; do
    i=$((i + 1))
    if [ -f "$STATE/chunk.$s.done" ]; then done_rows=$((done_rows + c)); continue; fi
    # stop between chunks: GEN_BUDGET_MIN (minutes of generation, all runs together) or a stop file
    if [ -f "$STATE/stop" ] || { [ "$budget_ms" -gt 0 ] && [ "$(cat "$STATE/gen_ms")" -ge "$budget_ms" ]; }; then
      cut=1; echo "stopping before chunk $i/$total_chunks ($(date -u -d @"$s" +%F)): $done_rows of $n rows generated" >&2; break
    fi
    if [ -f "$STATE/chunk.$s.started" ]; then
      echo "chunk $s was interrupted part-way: its rows may be partly in; 'reset' for exact counts" >&2
      # the raw tables share the chunk's day partition: drop what it wrote there and redo it
      local part; part=$(date -u -d @"$s" +%Y%m%d)
      q "ALTER TABLE http_events DROP PARTITION $part" >/dev/null || true
      q "ALTER TABLE dlp_findings DROP PARTITION $part" >/dev/null || true
    fi
    touch "$STATE/chunk.$s.started"
    t1=$(ms)
    python3 "$HERE/gen.py" events "$s" "$e" "$c" "$off" > "$STATE/chunk.sql"
    qf "$STATE/chunk.sql" >/dev/null
    python3 "$HERE/gen.py" dlp "$s" "$e" > "$STATE/chunk-dlp.sql"
    qf "$STATE/chunk-dlp.sql" >/dev/null
    el=$(( $(ms) - t1 ))
    mv "$STATE/chunk.$s.started" "$STATE/chunk.$s.done"
    echo $(( $(cat "$STATE/gen_ms") + el )) > "$STATE/gen_ms"
    done_rows=$((done_rows + c))
    printf '%s chunk %2d/%d %s: %9d rows in %6.1f s (%.0f rows/s); %d/%d rows, %.1f min so far\n' \
      "$(date -u +%T)" "$i" "$total_chunks" "$(date -u -d @"$s" +%F)" "$c" "$(echo "$el/1000" | bc -l)" \
      "$(echo "$c*1000/($el+1)" | bc -l)" "$done_rows" "$n" "$(echo "$(cat "$STATE/gen_ms")/60000" | bc -l)" >&2
  done < "$STATE/plan"
  rm -f "$STATE/stop"
  [ -z "$cut" ] || echo "$done_rows" > "$STATE/generated"
  if [ ! -f "$STATE/anomalies.done" ]; then anomalies "$now"; fi
  if [ ! -f "$STATE/status_changes.done" ]; then
    python3 "$HERE/gen.py" status-changes "$now" > "$STATE/status-changes.sql"
    qf "$STATE/status-changes.sql" >/dev/null; touch "$STATE/status_changes.done"
  fi
  echo "done: $(q 'SELECT count() FROM http_events') events; generation time $(echo "$(cat "$STATE/gen_ms")/60000" | bc -l | xargs printf '%.1f') min (chunks + anomalies)" >&2
}

anomalies() { # NOW: the three things the report should flag, sized from the data just generated
  local now=$1 day=$((now - 86400)) spike_app nc_app nc_country heavy_uid heavy_user t1
  read -r spike_app nc_app nc_country heavy_uid heavy_user < <(python3 "$HERE/gen.py" anomalies)
  t1=$(ms)
  # 1. spike: the last day brought to 10x the app's trailing 7-day daily mean
  local avg7 have extra
  avg7=$(q "SELECT toUInt64(count() / 7) FROM http_events WHERE app_id = '$spike_app' AND ts >= toDateTime($((day - 7 * 86400)), 'UTC') AND ts < toDateTime($day, 'UTC')")
  have=$(q "SELECT count() FROM http_events WHERE app_id = '$spike_app' AND ts >= toDateTime($day, 'UTC')")
  extra=$((avg7 * 10 - have)); [ "$extra" -gt 0 ] || extra=0
  echo "anomaly 1: $spike_app +$extra requests in the last day (had $have; trailing 7-day mean $avg7/day)" >&2
  python3 "$HERE/gen.py" events "$day" "$now" "$extra" 1000000000000 --app "$spike_app" > "$STATE/anomaly.sql"
  qf "$STATE/anomaly.sql" >/dev/null
  # 2. new country: requests to an app from a country no event has come from before
  echo "anomaly 2: $nc_app used from $nc_country (never seen before) in the last day: 600 requests, 3 users" >&2
  for u in 4101 4102 4103; do
    python3 "$HERE/gen.py" events "$((now - 20 * 3600))" "$now" 200 "$((2000000000000 + u * 1000))" \
      --app "$nc_app" --uid "$u" --country "$nc_country" --dlp-rate 0 > "$STATE/anomaly.sql"
    qf "$STATE/anomaly.sql" >/dev/null
  done
  # 3. heavy user: ~50x the median user's requests in the last day
  local med have
  med=$(q "SELECT toUInt64(quantileExact(0.5)(c)) FROM (SELECT user, count() AS c FROM http_events WHERE ts >= toDateTime($day, 'UTC') GROUP BY user)")
  have=$(q "SELECT count() FROM http_events WHERE user = '$heavy_user' AND ts >= toDateTime($day, 'UTC')")
  extra=$((med * 50 - have)); [ "$extra" -gt 0 ] || extra=0
  echo "anomaly 3: $heavy_user +$extra requests in the last day (median user $med, had $have)" >&2
  python3 "$HERE/gen.py" events "$day" "$now" "$extra" 3000000000000 --uid "$heavy_uid" --dlp-rate 0 > "$STATE/anomaly.sql"
  qf "$STATE/anomaly.sql" >/dev/null
  echo $(( $(cat "$STATE/gen_ms") + $(ms) - t1 )) > "$STATE/gen_ms"
  touch "$STATE/anomalies.done"
}

status() {
  start
  echo "== $URL  database $DB  data $ROOT/data"
  [ -f "$STATE/now" ] && echo "window: 30 days ending $(date -u -d @"$(cat "$STATE/now")" +%FT%TZ); target N=$(cat "$STATE/n" 2>/dev/null); chunks done $(ls "$STATE" | grep -c '^chunk\..*\.done$' || true)"
  echo "== raw tables"
  q "SELECT 'http_events' AS t, count() AS rows, toString(min(ts)) AS first, toString(max(ts)) AS last, uniq(app_id) AS apps, uniq(user) AS users, uniqIf(device_id, device_id != '') AS devices, uniq(country) AS countries, countIf(blocked = 1) AS blocked, countIf(upload = 1) AS uploads, countIf(dlp_finding_count > 0) AS with_dlp FROM http_events FORMAT PrettyCompactNoEscapes"
  q "SELECT 'dlp_findings' AS t, count() AS rows, sum(finding_count) AS findings, uniq(request_id) AS requests, uniq(detector) AS detectors FROM dlp_findings FORMAT PrettyCompactNoEscapes"
  q "SELECT 'app_status_changes' AS t, count() AS rows, uniq(app_id) AS apps FROM app_status_changes FORMAT PrettyCompactNoEscapes"
  echo "== background merges in progress: $(q "SELECT count() FROM system.merges WHERE database = '$DB'")"
  echo "== rollups: stored rows (not yet merged), distinct keys, and totals from merging the states"
  q "SELECT 'app_usage_hourly' AS t, count() AS stored_rows, uniqExact(hour, app_id) AS keys, countMerge(requests) AS requests, countIfMerge(blocked_requests) AS blocked, countIfMerge(upload_requests) AS uploads, sumMerge(dlp_findings) AS dlp_findings, sumMerge(bytes_up) AS bytes_up, sumMerge(bytes_down) AS bytes_down, uniqMerge(users) AS users, uniqIfMerge(devices) AS devices FROM app_usage_hourly FORMAT PrettyCompactNoEscapes"
  q "SELECT 'app_user_daily' AS t, count() AS stored_rows, uniqExact(day, app_id, user) AS keys, sum(requests) AS requests, sum(blocked_requests) AS blocked, sum(upload_requests) AS uploads, sum(dlp_findings) AS dlp_findings, sum(bytes_up) AS bytes_up FROM app_user_daily FORMAT PrettyCompactNoEscapes"
  q "SELECT 'app_country_daily' AS t, count() AS stored_rows, uniqExact(day, app_id, country) AS keys, countMerge(requests) AS requests, countIfMerge(blocked_requests) AS blocked, sumMerge(bytes_up) AS bytes_up FROM app_country_daily FORMAT PrettyCompactNoEscapes"
  q "SELECT 'dlp_findings_hourly' AS t, count() AS stored_rows, uniqExact(hour, app_id, detector) AS keys, countMerge(requests) AS requests, sumMerge(findings) AS findings, countIfMerge(blocked_requests) AS blocked FROM dlp_findings_hourly FORMAT PrettyCompactNoEscapes"
  local t
  for t in $(q "SELECT name FROM system.tables WHERE database = '$DB' AND name IN ('user_daily', 'app_group_daily', 'app_device_daily') ORDER BY name"); do
    case $t in
      user_daily) q "SELECT 'user_daily' AS t, count() AS stored_rows, uniqExact(day, user) AS keys, countMerge(requests) AS requests, countIfMerge(blocked_requests) AS blocked, sumMerge(dlp_findings) AS dlp_findings, uniqMerge(apps) AS apps FROM user_daily FORMAT PrettyCompactNoEscapes" ;;
      app_group_daily) q "SELECT 'app_group_daily' AS t, count() AS stored_rows, uniqExact(day, app_id, group_name) AS keys, countMerge(requests) AS requests_x_groups, uniqMerge(users) AS users FROM app_group_daily FORMAT PrettyCompactNoEscapes" ;;
      app_device_daily) q "SELECT 'app_device_daily' AS t, count() AS stored_rows, uniqExact(day, app_id, device_id) AS keys, countMerge(requests) AS requests_with_device, uniqExact(device_id) AS devices FROM app_device_daily FORMAT PrettyCompactNoEscapes" ;;
    esac
  done
  echo "== on disk (active parts)"
  q "SELECT table, sum(rows) AS rows, count() AS parts, uniq(partition) AS partitions, formatReadableSize(sum(bytes_on_disk)) AS on_disk, formatReadableSize(sum(data_uncompressed_bytes)) AS uncompressed FROM system.parts WHERE database = '$DB' AND active GROUP BY table ORDER BY sum(bytes_on_disk) DESC FORMAT PrettyCompactNoEscapes"
  q "SELECT formatReadableSize(sum(bytes_on_disk)) AS total_on_disk FROM system.parts WHERE database = '$DB' AND active FORMAT PrettyCompactNoEscapes"
  echo "data directory: $(du -sh "$ROOT/data" | cut -f1)"
}

median_ms() { sort -n | awk '{a[NR] = $1} END {print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2}'; }

time_query() { # FILE: one warm-up run, then RUNS timed runs: median/min/max wall ms, result rows, rows read
  local f=$1 name t1 times=() rows stats
  name=$(basename "$f" .sql)
  local qid="report-bench-$name-$$-$(ms)"
  if ! qf "$f" > "$ROOT/tmp/$name.out" 2>&1; then  # warm-up run (not timed); a failing query is reported, not fatal
    printf '%-28s FAILED: %s\n' "$name" "$(head -c 300 "$ROOT/tmp/$name.out" | tr '\n' ' ')"; return 0
  fi
  for r in $(seq 1 "$RUNS"); do
    t1=$(ms); qf "$f" "log_queries=1&query_id=$qid-$r" > "$ROOT/tmp/$name.out"; times+=($(( $(ms) - t1 )))
  done
  rows=$(wc -l < "$ROOT/tmp/$name.out")
  q "SYSTEM FLUSH LOGS" >/dev/null 2>&1 || true
  stats=$(q "SELECT concat(toString(read_rows), ' rows, ', formatReadableSize(read_bytes), ', peak mem ', formatReadableSize(memory_usage), ', server ', toString(query_duration_ms), ' ms') FROM system.query_log WHERE type = 2 AND query_id = '$qid-$RUNS' LIMIT 1" 2>/dev/null || true)
  printf '%-28s median %7s ms   (min %s, max %s; %s result rows; last run read %s)\n' "$name" \
    "$(printf '%s\n' "${times[@]}" | median_ms)" "$(printf '%s\n' "${times[@]}" | sort -n | head -1)" \
    "$(printf '%s\n' "${times[@]}" | sort -n | tail -1)" "$rows" "${stats:-?}"
}

# ---------------------------------------------------------------------------------------------
# time_gatewayd_reports: the reports as users get them (CLI, dashboard pages, API), timed by
# bench/report_pages.sh against this data set.
time_gatewayd_reports() {
  "$(dirname "$0")/report_pages.sh"
}
# ---------------------------------------------------------------------------------------------

time_all() {
  start; write_config
  q "SYSTEM FLUSH LOGS" >/dev/null 2>&1 || true
  echo "== $(q 'SELECT count() FROM http_events') events; $(q "SELECT count() FROM system.parts WHERE database = '$DB' AND active") active parts; median of $RUNS runs, wall ms via curl (HTTP, TSV)"
  echo "   CPU: $(nproc) cores, $(uname -m); load average $(cut -d' ' -f1-3 /proc/loadavg); ClickHouse $(q 'SELECT version()'); $(date -u +%FT%TZ)"
  echo "   each query: one warm-up run, then $RUNS timed; 'read' = rows/bytes read, peak memory and server time of the last run (system.query_log)"
  local f
  for f in "$HERE"/queries/*.sql; do time_query "$f"; done
  echo "== gatewayd report CLI"
  time_gatewayd_reports
}

case "${1:-}" in
  generate) shift; generate "$@" ;;
  status) status ;;
  time) time_all ;;
  url) echo "$URL" ;;
  config) start >/dev/null; write_config; echo "$ROOT/gatewayd.toml" ;;
  start) start ;;
  stop) stop ;;
  backfill) shift; start; python3 "$HERE/backfill.py" "$URL" "$DB" "$@" ;;
  reset) stop; rm -rf "${ROOT:?}/data" "${ROOT:?}/state" "$ROOT/tmp"; echo "deleted the data under $ROOT" ;;
  *) sed -n '2,25p' "$0"; exit 2 ;;
esac
