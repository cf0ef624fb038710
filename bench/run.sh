#!/usr/bin/env bash
# Whole-system benchmark: oha (16 connections, 1 KiB over HTTPS from an nginx upstream on
# loopback) direct, through gatewayd, and through Squid (ssl-bump) and mitmproxy when they are
# installed; then memory per idle intercepted connection. Everything on loopback, bounded in
# time. Results: bench/out/<stamp>/summary.md (and raw oha JSON beside it).
#
#   bench/run.sh                 # DURATION=10s IDLE_N=5000 PEER_IDLE_N=1000 by default
#   GATEWAYD=/path/gatewayd bench/run.sh    # a given binary instead of building one
#   BASELINE=/path/old-gatewayd ROUNDS=3 bench/run.sh
#       # before/after in the same run: a second gatewayd (events off) from an earlier build,
#       # loaded right after this build's events-off instance, ROUNDS times in turn; the
#       # summary gives each path's median over the rounds
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh

need nginx nginx openssl openssl python3 python3
command -v oha >/dev/null || { echo "oha is required: cargo install oha --locked" >&2; exit 1; }

DURATION=${DURATION:-10s}
CONNS=${CONNS:-16}
IDLE_N=${IDLE_N:-5000}
PEER_IDLE_N=${PEER_IDLE_N:-1000}
ROUNDS=${ROUNDS:-1}
BASELINE=${BASELINE:-}
[ -z "$BASELINE" ] || [ -x "$BASELINE" ] || { echo "BASELINE=$BASELINE is not an executable" >&2; exit 1; }
OUT=${OUT:-$PWD/bench/out/$(date -u +%Y%m%dT%H%M%SZ)}
mkdir -p "$OUT"
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
UP=18443; GW=13128; GW_ADMIN=19090; SQ=13129; MITM=13130; GW_OFF=13131; GW_OFF_ADMIN=19091
GW_BASE=13132; GW_BASE_ADMIN=19092
CH_HTTP=18123; CH_TCP=19000
URL="https://localhost:$UP/1k"
. bench/lib.sh

echo "== certificates and nginx upstream on :$UP"
start_origin "$UP"

echo "== ClickHouse on :$CH_HTTP (events on)"
CH_ROOT="$OUT/clickhouse"
mkdir -p "$CH_ROOT/logs" "$CH_ROOT/data" "$CH_ROOT/tmp" "$CH_ROOT/user_files" "$CH_ROOT/format_schemas"
sed "s#@ROOT@#$CH_ROOT#g; s#@HTTP_PORT@#$CH_HTTP#; s#@TCP_PORT@#$CH_TCP#" deploy/clickhouse/local-config.xml > "$CH_ROOT/config.xml"
cp bench/clickhouse-users.xml "$CH_ROOT/users.xml"
"$(command -v clickhouse-server || echo /usr/sbin/clickhouse-server)" --config-file="$CH_ROOT/config.xml" > "$CH_ROOT/logs/stdout.log" 2>&1 & PIDS+=($!)
wait_port $CH_HTTP

echo "== gatewayd on :$GW (events on) and :$GW_OFF (events off)"
if [ -z "${GATEWAYD:-}" ]; then
  cargo build --locked --release -p gatewayd >/dev/null 2>&1
  GATEWAYD="$CARGO_TARGET_DIR/release/gatewayd"
fi
cat > "$OUT/scan-policy.toml" <<POLICY
# Bench: every request to the upstream is DLP-scanned, by every gatewayd instance, so that
# events on vs off measures the events path alone.
[[rule]]
id = "scan-everything"
when = { host = "localhost" }
action = "dlp"
profile = "default"
on_match = "log"
POLICY
cat > "$OUT/gatewayd-off.toml" <<TOML
[proxy]
listen = "127.0.0.1:$GW_OFF"
[admin]
listen = "127.0.0.1:$GW_OFF_ADMIN"
[state]
dir = "$OUT/gw-off-state"
[upstream]
extra_roots = ["$OUT/ca.pem"]
[upstream.connect_to]
"localhost:$UP" = "127.0.0.1:$UP"
[policies]
files = ["$OUT/scan-policy.toml"]
[events]
enabled = false
[limits]
# Every bench client comes from 127.0.0.1: the per-source cap would refuse the idle test.
max_connections_per_source = 100000
[log]
level = "warn"
TOML
"$GATEWAYD" run --config "$OUT/gatewayd-off.toml" 2> "$OUT/gatewayd-off.log" & PIDS+=($!)
wait_port $GW_OFF
if [ -n "$BASELINE" ]; then
  echo "== baseline gatewayd ($BASELINE) on :$GW_BASE (events off)"
  sed "s#127.0.0.1:$GW_OFF_ADMIN#127.0.0.1:$GW_BASE_ADMIN#; s#127.0.0.1:$GW_OFF\"#127.0.0.1:$GW_BASE\"#; s#gw-off-state#gw-base-state#" \
    "$OUT/gatewayd-off.toml" > "$OUT/gatewayd-base.toml"
  "$BASELINE" run --config "$OUT/gatewayd-base.toml" 2> "$OUT/gatewayd-base.log" & BASE_PID=$!; PIDS+=($BASE_PID)
  wait_port $GW_BASE
fi
cat > "$OUT/gatewayd.toml" <<TOML
[proxy]
listen = "127.0.0.1:$GW"
[admin]
listen = "127.0.0.1:$GW_ADMIN"
[state]
dir = "$OUT/gw-state"
[upstream]
extra_roots = ["$OUT/ca.pem"]
[upstream.connect_to]
"localhost:$UP" = "127.0.0.1:$UP"
[clickhouse]
url = "http://127.0.0.1:$CH_HTTP"
[policies]
files = ["$OUT/scan-policy.toml"]
[limits]
max_connections_per_source = 100000
[log]
level = "warn"
TOML
"$GATEWAYD" run --config "$OUT/gatewayd.toml" 2> "$OUT/gatewayd.log" & GW_PID=$!; PIDS+=($GW_PID)
wait_port $GW

SQ_PID=""
if command -v squid >/dev/null && [ -x /usr/lib/squid/security_file_certgen ]; then
  echo "== squid (ssl-bump) on :$SQ"
  mkdir -p "$OUT/squid"
  cat "$OUT/ca.key" "$OUT/ca.pem" > "$OUT/squid/bump.pem"
  /usr/lib/squid/security_file_certgen -c -s "$OUT/squid/ssl_db" -M 16MB >/dev/null
  cat > "$OUT/squid/squid.conf" <<SQUID
http_port 127.0.0.1:$SQ ssl-bump generate-host-certificates=on dynamic_cert_mem_cache_size=16MB tls-cert=$OUT/squid/bump.pem
sslcrtd_program /usr/lib/squid/security_file_certgen -s $OUT/squid/ssl_db -M 16MB
sslcrtd_children 5
acl step1 at_step SslBump1
ssl_bump peek step1
ssl_bump bump all
tls_outgoing_options cafile=$OUT/ca.pem
http_access allow localhost
http_access deny all
cache deny all
access_log none
cache_log $OUT/squid/cache.log
pid_filename $OUT/squid/squid.pid
coredump_dir $OUT/squid
max_filedescriptors 16384
workers 1
SQUID
  chown -R proxy:proxy "$OUT/squid" 2>/dev/null || true
  chmod o+x "$OUT" "$(dirname "$OUT")" 2>/dev/null || true
  squid -N -f "$OUT/squid/squid.conf" & SQ_PID=$!; PIDS+=($SQ_PID)
  wait_port $SQ
else
  echo "== squid-openssl not installed: skipped (apt-get install squid-openssl)"
fi

MITM_PID=""
if command -v mitmdump >/dev/null; then
  echo "== mitmproxy on :$MITM"
  mitmdump -q --listen-host 127.0.0.1 -p $MITM --set confdir="$OUT/mitm" \
    --set ssl_verify_upstream_trusted_ca="$OUT/ca.pem" --set connection_strategy=lazy & MITM_PID=$!; PIDS+=($MITM_PID)
  wait_port $MITM
else
  echo "== mitmproxy not installed: skipped (pip install mitmproxy)"
fi

run_oha() { # name proxy-or-empty extra-args...
  local name=$1 proxy=$2; shift 2
  local args=(-z "$DURATION" -c "$CONNS" --insecure --no-tui --output-format json)
  [ -n "$proxy" ] && args+=(-x "http://127.0.0.1:$proxy")
  echo "   $name $*"
  oha "${args[@]}" "$@" "$URL" > "$OUT/oha-$name.json" 2> "$OUT/oha-$name.err" || echo "   (oha failed for $name: $(tail -1 "$OUT/oha-$name.err"))"
}

if [ -z "${SKIP_MAIN:-}" ]; then
for round in $(seq 1 "$ROUNDS"); do
  R=""; [ "$ROUNDS" -gt 1 ] && R=".r$round" && echo "== round $round of $ROUNDS"
  echo "== load: keep-alive"
  run_oha direct-ka$R ""
  run_oha gatewayd-ka$R $GW
  run_oha gatewayd-noevents-ka$R $GW_OFF
  [ -n "$BASELINE" ] && run_oha baseline-noevents-ka$R $GW_BASE
  [ -n "$SQ_PID" ] && run_oha squid-ka$R $SQ
  [ -n "$MITM_PID" ] && run_oha mitmproxy-ka$R $MITM
  echo "== load: new connection per request"
  run_oha direct-new$R "" --disable-keepalive
  run_oha gatewayd-new$R $GW --disable-keepalive
  run_oha gatewayd-noevents-new$R $GW_OFF --disable-keepalive
  [ -n "$BASELINE" ] && run_oha baseline-noevents-new$R $GW_BASE --disable-keepalive
  [ -n "$SQ_PID" ] && run_oha squid-new$R $SQ --disable-keepalive
  [ -n "$MITM_PID" ] && run_oha mitmproxy-new$R $MITM --disable-keepalive
done

echo "== memory per idle intercepted connection"
python3 bench/idle_conns.py --proxy 127.0.0.1:$GW --target localhost:$UP --n "$IDLE_N" --pids "$GW_PID" > "$OUT/idle-gatewayd.json" || echo '{}' > "$OUT/idle-gatewayd.json"
if [ -n "$BASELINE" ]; then
  python3 bench/idle_conns.py --proxy 127.0.0.1:$GW_BASE --target localhost:$UP --n "$IDLE_N" --pids "$BASE_PID" > "$OUT/idle-baseline.json" || echo '{}' > "$OUT/idle-baseline.json"
fi
if [ -n "$SQ_PID" ]; then
  SQ_PIDS=$(pgrep -d, -f "squid|security_file_certgen" || true)
  python3 bench/idle_conns.py --proxy 127.0.0.1:$SQ --target localhost:$UP --n "$PEER_IDLE_N" --pids "$SQ_PIDS" > "$OUT/idle-squid.json" || echo '{}' > "$OUT/idle-squid.json"
fi
if [ -n "$MITM_PID" ]; then
  python3 bench/idle_conns.py --proxy 127.0.0.1:$MITM --target localhost:$UP --n "$PEER_IDLE_N" --pids "$MITM_PID" > "$OUT/idle-mitmproxy.json" || echo '{}' > "$OUT/idle-mitmproxy.json"
fi

fi

echo "== 1 MB JSON prompt: buffered and DLP-scanned by gatewayd :$GW vs direct"
python3 bench/prompt_latency.py --scanned 127.0.0.1:$GW --plain direct \
  --url "https://localhost:$UP/post" --runs "${PROMPT_RUNS:-30}" > "$OUT/prompt-latency.json" || echo '{}' > "$OUT/prompt-latency.json"

echo "== events while ClickHouse is down"
CH_PID=$(pgrep -f "$CH_ROOT/config.xml" | head -1)
hwm() { awk '/VmHWM/ {print $2}' /proc/$GW_PID/status; }
metric() { curl -s "http://127.0.0.1:$GW_ADMIN/metrics" | awk -v m="$1" '$1 == m {print $2}'; }
kill "$CH_PID"; sleep 2
HWM_BEFORE=$(hwm); SPOOLED_BEFORE=$(metric warden_events_spooled_total)
( for _ in $(seq 1 30); do sleep 5; awk '/VmRSS/ {print $2}' /proc/$GW_PID/status; done > "$OUT/events-down-rss.txt" ) & SAMPLER=$!
oha -z "${DOWN_DURATION:-20s}" -c "$CONNS" --insecure --no-tui --output-format json -x "http://127.0.0.1:$GW" "$URL" > "$OUT/oha-gatewayd-chdown.json" 2>/dev/null || true
kill $SAMPLER 2>/dev/null || true
sleep 2
HWM_AFTER=$(hwm); SPOOLED_AFTER=$(metric warden_events_spooled_total); SPOOL_BYTES=$(metric warden_events_spool_bytes)
DROPPED=$(metric warden_events_dropped_total)
printf '{"hwm_before_kib": %s, "hwm_after_kib": %s, "spooled": %s, "spool_bytes": %s, "dropped": %s}\n' \
  "$HWM_BEFORE" "$HWM_AFTER" "$(( ${SPOOLED_AFTER%.*} - ${SPOOLED_BEFORE%.*} ))" "${SPOOL_BYTES%.*}" "${DROPPED%.*}" > "$OUT/events-down.json"
cat "$OUT/events-down.json"
"$(command -v clickhouse-server || echo /usr/sbin/clickhouse-server)" --config-file="$CH_ROOT/config.xml" > "$CH_ROOT/logs/stdout2.log" 2>&1 & PIDS+=($!)
wait_port $CH_HTTP
for _ in $(seq 1 60); do
  [ "$(metric warden_events_spool_pending)" = "0" ] && break
  sleep 1
done
echo "spool pending after ClickHouse came back: $(metric warden_events_spool_pending)" >> "$OUT/events-down.json"

sleep 2
EVENTS=$(curl -s "http://127.0.0.1:$CH_HTTP/?query=SELECT%20count()%20FROM%20warden.http_events")
echo "events stored in ClickHouse during the run: $EVENTS" > "$OUT/events-count.txt"
python3 bench/summarize.py "$OUT" | tee "$OUT/summary.md"
