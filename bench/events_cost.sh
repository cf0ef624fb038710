#!/usr/bin/env bash
# What the events path costs: direct, gatewayd with events on, and gatewayd with events off
# (both instances of BIN run the same scan-everything policy), ROUNDS rounds of oha in turn,
# with the CPU each gatewayd and ClickHouse spent per request. NEW=1: a new connection per
# request. PERF=1 (PERF_OFF=1): a perf profile of the events-on (-off) instance; PERF_CG sets
# perf's call-graph option (default -g; "--call-graph dwarf" for release builds without frame pointers).
#   BIN=target/release/gatewayd ROUNDS=3 D=8s bench/events_cost.sh
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:?set BIN to a gatewayd binary}
D=${D:-8s}; ROUNDS=${ROUNDS:-3}; PERF=${PERF:-0}
OUT=${OUT:-$PWD/bench/out/events-$(date -u +%Y%m%dT%H%M%SZ)}; mkdir -p "$OUT"
. bench/lib.sh
UP=38443; CH_HTTP=38123; CH_TCP=39000
start_origin $UP
CH_ROOT="$OUT/clickhouse"; mkdir -p "$CH_ROOT/logs" "$CH_ROOT/data" "$CH_ROOT/tmp" "$CH_ROOT/user_files" "$CH_ROOT/format_schemas"
sed "s#@ROOT@#$CH_ROOT#g; s#@HTTP_PORT@#$CH_HTTP#; s#@TCP_PORT@#$CH_TCP#" deploy/clickhouse/local-config.xml > "$CH_ROOT/config.xml"
cp bench/clickhouse-users.xml "$CH_ROOT/users.xml"
clickhouse-server --config-file="$CH_ROOT/config.xml" > "$CH_ROOT/logs/stdout.log" 2>&1 & PIDS+=($!); CHP=$!
wait_port $CH_HTTP
cat > $OUT/pol.toml <<P
[[rule]]
id = "scan-everything"
when = { host = "localhost" }
action = "dlp"
profile = "default"
on_match = "log"
P
mk() { # name port adm events
cat > $OUT/$1.toml <<T
[proxy]
listen = "127.0.0.1:$2"
[admin]
listen = "127.0.0.1:$3"
[state]
dir = "$OUT/$1-state"
[upstream]
extra_roots = ["$OUT/ca.pem"]
[upstream.connect_to]
"localhost:$UP" = "127.0.0.1:$UP"
[policies]
files = ["$OUT/pol.toml"]
[limits]
max_connections_per_source = 100000
[log]
level = "warn"
$4
T
}
mk on 33128 39190 "[clickhouse]
url = \"http://127.0.0.1:$CH_HTTP\""
mk off 33131 39191 "[events]
enabled = false"
$BIN run --config $OUT/on.toml 2> $OUT/on.log & PIDS+=($!); ONP=$!
$BIN run --config $OUT/off.toml 2> $OUT/off.log & PIDS+=($!); OFFP=$!
wait_port 33128; wait_port 33131; sleep 2
URL="https://localhost:$UP/1k"
run() { oha -z $D -c 16 ${NEW:+--disable-keepalive} --insecure --no-tui --output-format json ${2:+-x http://127.0.0.1:$2} "$URL" | python3 -c "import json,sys; print(round(json.load(sys.stdin)['summary']['requestsPerSec']))"; }
cpu() { awk '{print $14+$15}' /proc/$1/stat; }
TCK=$(getconf CLK_TCK); SECS=${D%s}
# µs of CPU per request for process $1 over a run that served $2 req/s for $SECS s
per() { python3 -c "print(round(($2-$1)*1e6/$TCK/($3*$SECS),1))"; }
for r in $(seq 1 $ROUNDS); do
  direct=$(run direct "")
  a=$(cpu $ONP); c=$(cpu $CHP); on=$(run on 33128); b=$(cpu $ONP); d=$(cpu $CHP)
  e=$(cpu $OFFP); off=$(run off 33131); f=$(cpu $OFFP)
  echo "round $r: direct $direct on $on off $off on/off $(python3 -c "print(round($on/$off,3))") off/direct $(python3 -c "print(round($off/$direct,3))") | us CPU/req: gw-on $(per $a $b $on) gw-off $(per $e $f $off) clickhouse-during-on $(per $c $d $on)"
done
echo "cpu ticks: on-gw $(cpu $ONP) off-gw $(cpu $OFFP) clickhouse $(cpu $CHP)"
if [ "$PERF" = 1 ]; then
  PP=$ONP; [ -n "${PERF_OFF:-}" ] && PP=$OFFP
  (sleep 1; perf record -F 999 ${PERF_CG:--g} -p $PP -o $OUT/perf.data -- sleep 6 >/dev/null 2>&1) & PERFP=$!
  if [ -n "${PERF_OFF:-}" ]; then run off 33131 >/dev/null; else run on 33128 >/dev/null; fi; wait $PERFP
  perf report -i $OUT/perf.data --no-children --sort symbol --percent-limit 0.7 --stdio 2>/dev/null | grep -E "^ +[0-9]" | head -60 > $OUT/perf.txt
fi
