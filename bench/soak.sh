#!/usr/bin/env bash
# Soak: DURATION (30m by default) of mixed load through one gatewayd with events on, and a
# ClickHouse stop/start in the middle. Load (every kind on its own path, so event rows can be
# counted per kind): oha HTTP/1.1 keep-alive (/h1), HTTP/1.1 new connection per request
# (/h1new), HTTP/2 (/h2); Python clients (bench/soak_clients.py) for DLP-scanned JSON prompts
# to api.openai.com (every 10th carries a card number and must be refused 403), multipart
# uploads, WebSocket sessions (bench/ws_echo.py origin, messages both ways) and slow clients
# trickling heads and bodies. gatewayd's RSS and open files are sampled every 10 s; at the end
# the spool is drained and rows in warden.http_events are compared with the responses the
# clients got. Targets (BENCHMARKS.md): RSS at 5 min and at the end within 10 %, 0 events
# lost, 0 unexpected non-200; also checked: no duplicated rows, each row's status the one the
# client got, spool drained, gatewayd alive. Exits non-zero when one is missed. Everything on
# loopback; ClickHouse's data is removed at the end unless KEEP_CLICKHOUSE=1.
#
#   bench/soak.sh                           # DURATION=30m
#   DURATION=3m bench/soak.sh               # a short try (early RSS point: DURATION/4)
#   GATEWAYD=/path/to/gatewayd bench/soak.sh   # a given binary instead of building one
#
# Knobs: RSS_EARLY (5m), CH_DOWN (60s; at most DURATION/6), H1_RATE H1_CONNS, H2_RATE H2_CONNS
# H2_PARALLEL, NEW_RATE, PROMPT_THREADS, UPLOAD_THREADS, WS_THREADS, SLOW_THREADS,
# DRAIN_TIMEOUT (300s), CH_STOP_SIGNAL (TERM). Output: bench/out/<stamp>/soak.md (+ soak.json,
# samples.csv, raw client output).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh

need nginx nginx openssl openssl python3 python3 curl curl
command -v oha >/dev/null || { echo "oha is required: cargo install oha --locked" >&2; exit 1; }
CH_SERVER=$(command -v clickhouse-server || echo /usr/sbin/clickhouse-server)
[ -x "$CH_SERVER" ] || { echo "clickhouse-server is required (see scripts/test.sh)" >&2; exit 1; }

secs() { # 90, 90s, 5m, 1h -> seconds
  case $1 in *h) echo $(( ${1%h} * 3600 ));; *m) echo $(( ${1%m} * 60 ));; *s) echo "${1%s}";; *) echo "$1";; esac
}
DURATION=${DURATION:-30m}; SECS=$(secs "$DURATION")
[ "$SECS" -ge 60 ] || { echo "DURATION must be at least 1m" >&2; exit 1; }
# The early RSS point must come before the ClickHouse outage (which starts near the middle).
EARLY=$(secs "${RSS_EARLY:-5m}"); [ "$EARLY" -le $(( SECS / 3 )) ] || EARLY=$(( SECS / 4 ))
DOWN=$(secs "${CH_DOWN:-60s}"); [ "$DOWN" -le $(( SECS / 6 )) ] || DOWN=$(( SECS / 6 ))
DRAIN_TIMEOUT=$(secs "${DRAIN_TIMEOUT:-300s}")
OUT=${OUT:-$PWD/bench/out/$(date -u +%Y%m%dT%H%M%SZ)}
mkdir -p "$OUT"
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
# Ports of their own, so bench/run.sh can run beside a soak.
UP=28443; WS=28444; GW=23128; GW_ADMIN=29090; CH_HTTP=28123; CH_TCP=29000
. bench/lib.sh

echo "== origins: nginx on :$UP (localhost, api.openai.com), WebSocket echo on :$WS"
ORIGIN_NAMES="DNS:api.openai.com"
ORIGIN_LOCATIONS="location = /h1 { alias $OUT/1k; default_type text/plain; }
    location = /h1new { alias $OUT/1k; default_type text/plain; }
    location = /h2 { alias $OUT/1k; default_type text/plain; }
    location = /upload { client_max_body_size 16m; return 200 \"ok\"; }
    location = /slow { return 200 \"ok\"; }
    location = /v1/chat/completions { client_max_body_size 16m; default_type application/json;
      return 200 '{\"id\":\"soak\",\"object\":\"chat.completion\",\"choices\":[]}'; }"
start_origin "$UP"
python3 bench/ws_echo.py --port "$WS" --cert "$OUT/leaf.pem" --key "$OUT/leaf.key" 2> "$OUT/ws-echo.log" & PIDS+=($!)
wait_port "$WS"

echo "== ClickHouse on :$CH_HTTP"
CH_ROOT="$OUT/clickhouse"
mkdir -p "$CH_ROOT/logs" "$CH_ROOT/data" "$CH_ROOT/tmp" "$CH_ROOT/user_files" "$CH_ROOT/format_schemas"
sed "s#@ROOT@#$CH_ROOT#g; s#@HTTP_PORT@#$CH_HTTP#; s#@TCP_PORT@#$CH_TCP#" deploy/clickhouse/local-config.xml > "$CH_ROOT/config.xml"
cp bench/clickhouse-users.xml "$CH_ROOT/users.xml"
start_ch() { "$CH_SERVER" --config-file="$CH_ROOT/config.xml" >> "$CH_ROOT/logs/stdout.log" 2>&1 & CH_PID=$!; PIDS+=($CH_PID); wait_port $CH_HTTP; }
start_ch
ch() { curl -sS --max-time 30 "http://127.0.0.1:$CH_HTTP/" --data-binary "$1"; }

if [ -z "${GATEWAYD:-}" ]; then
  echo "== building gatewayd (release)"
  cargo build --locked --release -p gatewayd >/dev/null 2>&1
  GATEWAYD=$CARGO_TARGET_DIR/release/gatewayd
fi
cat > "$OUT/soak-policy.toml" <<POLICY
version = "soak-1"
# Prompts to the AI API are DLP-scanned and refused when they carry sensitive data.
[[rule]]
id = "soak-ai-dlp"
when = { host = "api.openai.com" }
action = "dlp"
profile = "default"
on_match = "block"
message = "Sensitive data may not be sent to this AI app."
# Everything else (GETs, uploads, WebSocket messages, slow requests) is scanned and logged.
[[rule]]
id = "soak-scan-rest"
when = { host = "localhost" }
action = "dlp"
profile = "default"
on_match = "log"
POLICY
cat > "$OUT/gatewayd.toml" <<TOML
[proxy]
listen = "127.0.0.1:$GW"
[admin]
listen = "127.0.0.1:$GW_ADMIN"
[state]
dir = "$OUT/gw-state"
[upstream]
extra_roots = ["$OUT/ca.pem"]
# The egress policy refuses loopback: every origin here is reached through connect_to.
[upstream.connect_to]
"localhost:$UP" = "127.0.0.1:$UP"
"localhost:$WS" = "127.0.0.1:$WS"
"api.openai.com:443" = "127.0.0.1:$UP"
[clickhouse]
url = "http://127.0.0.1:$CH_HTTP"
[policies]
files = ["$OUT/soak-policy.toml"]
[log]
level = "warn"
TOML
echo "== gatewayd on :$GW ($("$GATEWAYD" --version 2>/dev/null || echo "$GATEWAYD"))"
"$GATEWAYD" run --config "$OUT/gatewayd.toml" 2> "$OUT/gatewayd.log" & GW_PID=$!; PIDS+=($GW_PID)
wait_port $GW
metrics() { curl -s --max-time 5 "http://127.0.0.1:$GW_ADMIN/metrics" || true; }
metric() { metrics | awk -v m="warden_$1" '$1 == m {print $2}'; }
for _ in $(seq 1 60); do
  [ "$(ch 'EXISTS TABLE warden.http_events' 2>/dev/null)" = "1" ] && break; sleep 1
done
[ "$(ch 'EXISTS TABLE warden.http_events')" = "1" ] || { echo "warden.http_events never appeared" >&2; exit 1; }

COMMIT=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
T0=$(date +%s)
echo "== sampling RSS and open files every 10 s into samples.csv"
( echo "t_s,rss_kib,rss_anon_kib,rss_file_kib,hwm_kib,fds,threads,queued,inserted,spooled,replayed,spool_pending,dropped"
  while kill -0 "$GW_PID" 2>/dev/null; do
    m=$(metrics)
    val() { awk -v m="warden_events_$1" '$1 == m {print $2}' <<< "$m"; }
    st=$(cat /proc/$GW_PID/status)
    field() { awk -v f="$1:" '$1 == f {print $2}' <<< "$st"; }
    printf '%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s\n' $(( $(date +%s) - T0 )) \
      "$(field VmRSS)" "$(field RssAnon)" "$(field RssFile)" "$(field VmHWM)" \
      "$(ls /proc/$GW_PID/fd | wc -l)" "$(field Threads)" \
      "$(val queued_total)" "$(val inserted_total)" "$(val spooled_total)" "$(val replayed_total)" \
      "$(val spool_pending)" "$(val dropped_total)"
    sleep 10
  done ) > "$OUT/samples.csv" 2>/dev/null & SAMPLER=$!; PIDS+=($SAMPLER)

echo "== load for ${SECS}s"
LOAD=()
# A fixed count at a fixed rate (-n, -q) rather than -z: a run cut at a deadline aborts
# requests in flight, which may or may not have left an event row.
oha_kind() { # name path rate extra-args...
  local name=$1 path=$2 rate=$3; shift 3
  timeout $(( SECS * 2 + 120 )) oha -n $(( rate * SECS )) -q "$rate" -t 30s --insecure --no-tui --output-format json -x "http://127.0.0.1:$GW" "$@" \
    "https://localhost:$UP$path" > "$OUT/oha-$name.json" 2> "$OUT/oha-$name.err" & LOAD+=($!); PIDS+=($!)
}
oha_kind h1 /h1 "${H1_RATE:-100}" -c "${H1_CONNS:-8}"
oha_kind h1new /h1new "${NEW_RATE:-10}" -c 2 --disable-keepalive
oha_kind h2 /h2 "${H2_RATE:-100}" --http2 -c "${H2_CONNS:-2}" -p "${H2_PARALLEL:-4}"
py_kind() { # kind threads extra-args...
  local kind=$1 threads=$2; shift 2
  timeout $(( SECS + 120 )) python3 bench/soak_clients.py "$kind" --proxy "127.0.0.1:$GW" \
    --target "localhost:$UP" --ws-target "localhost:$WS" --seconds "$SECS" --threads "$threads" "$@" \
    > "$OUT/client-$kind.json" 2> "$OUT/client-$kind.err" & LOAD+=($!); PIDS+=($!)
}
py_kind prompts "${PROMPT_THREADS:-4}" --pause 0.2
py_kind uploads "${UPLOAD_THREADS:-2}" --pause 0.5
py_kind ws "${WS_THREADS:-4}" --pause 2 --messages 20
py_kind slow "${SLOW_THREADS:-4}" --trickle 0.01

STOP_AT=$(( SECS / 2 - DOWN / 2 ))
WAIT=$(( STOP_AT - ($(date +%s) - T0) )); [ "$WAIT" -gt 0 ] && sleep "$WAIT"
CH_STOP_SENT=$(( $(date +%s) - T0 ))
echo "== t=${CH_STOP_SENT}s: ClickHouse stopping (SIG${CH_STOP_SIGNAL:-TERM}), then down for ${DOWN}s"
kill -"${CH_STOP_SIGNAL:-TERM}" "$CH_PID"
for _ in $(seq 1 60); do kill -0 "$CH_PID" 2>/dev/null || break; sleep 1; done
kill -KILL "$CH_PID" 2>/dev/null || true
CH_STOPPED=$(( $(date +%s) - T0 ))
sleep "$DOWN"
start_ch
CH_STARTED=$(( $(date +%s) - T0 ))
echo "== t=${CH_STARTED}s: ClickHouse back"

FAILED_LOAD=0
for p in "${LOAD[@]}"; do wait "$p" || FAILED_LOAD=$(( FAILED_LOAD + 1 )); done
LOAD_END=$(( $(date +%s) - T0 ))
GW_ALIVE=0; kill -0 "$GW_PID" 2>/dev/null && GW_ALIVE=1
RSS_END=$(awk '/^VmRSS/ {print $2}' /proc/$GW_PID/status 2>/dev/null || true); RSS_END=${RSS_END:-0}
echo "== t=${LOAD_END}s: load done (RSS ${RSS_END} KiB); draining the spool"
DRAINED=0
for _ in $(seq 1 "$DRAIN_TIMEOUT"); do
  q=$(metric events_queued_total); i=$(metric events_inserted_total); s=$(metric events_spool_pending)
  if [ -n "$q" ] && [ -n "$i" ] && [ "$s" = "0" ] && [ "${i%.*}" -ge "${q%.*}" ]; then DRAINED=1; break; fi
  sleep 1
done
sleep 2
DRAIN_END=$(( $(date +%s) - T0 ))
metrics > "$OUT/metrics-end.txt"
ch "SELECT path, status, count(), uniqExact(request_id) FROM warden.http_events GROUP BY path, status ORDER BY path, status FORMAT TabSeparated" > "$OUT/rows.tsv" || true
ch "SELECT count(), uniqExact(request_id) FROM warden.http_events FORMAT TabSeparated" > "$OUT/rows-unique.tsv" || true
kill "$SAMPLER" 2>/dev/null || true
cat > "$OUT/meta.json" <<JSON
{"duration_s": $SECS, "early_s": $EARLY, "ch_stop_sent_s": $CH_STOP_SENT, "ch_stopped_s": $CH_STOPPED, "ch_started_s": $CH_STARTED,
 "load_end_s": $LOAD_END, "rss_end_kib": $RSS_END, "drained": $DRAINED, "drain_end_s": $DRAIN_END,
 "failed_load_processes": $FAILED_LOAD, "gatewayd_alive": $GW_ALIVE, "load_average": "$(cut -d' ' -f1-3 /proc/loadavg)",
 "commit": "$COMMIT"}
JSON
# The rows are counted: stop ClickHouse and drop its data (hundreds of MB per 30 minutes).
kill "$CH_PID" 2>/dev/null || true
for _ in $(seq 1 60); do kill -0 "$CH_PID" 2>/dev/null || break; sleep 1; done
kill -KILL "$CH_PID" 2>/dev/null || true
[ -n "${KEEP_CLICKHOUSE:-}" ] || rm -rf "$CH_ROOT/data"
python3 bench/soak_summary.py "$OUT" > "$OUT/soak.md" && rc=0 || rc=$?
cat "$OUT/soak.md"
echo "summary: $OUT/soak.md"
exit "$rc"
