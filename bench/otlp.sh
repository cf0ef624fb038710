#!/usr/bin/env bash
# The cost of OTLP trace export: one gatewayd binary twice, `[telemetry.otlp]` off and on
# (every trace sampled, batches POSTed to a collector stand-in: nginx answering 200 "{}"), the
# same oha keep-alive load (16 connections, 1 KiB over HTTPS from nginx on loopback) on each
# in turn, ROUNDS times; prints each one's median req/s and p50/p99 and the spans exported.
#
#   GATEWAYD=/path/gatewayd ROUNDS=5 DURATION=10s bench/otlp.sh
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh
need nginx nginx openssl openssl python3 python3
command -v oha >/dev/null || { echo "oha is required: cargo install oha --locked" >&2; exit 1; }

DURATION=${DURATION:-10s}
CONNS=${CONNS:-16}
ROUNDS=${ROUNDS:-5}
OUT=${OUT:-$PWD/bench/out/otlp-$(date -u +%Y%m%dT%H%M%SZ)}
mkdir -p "$OUT"
UP=18453; COLLECTOR=18454; GW_OFF=13141; GW_ON=13142
URL="https://localhost:$UP/1k"
ORIGIN_LOCATIONS="" . bench/lib.sh

start_origin "$UP"
cat > "$OUT/collector.conf" <<NGINX
worker_processes 1;
pid $OUT/collector.pid;
error_log $OUT/collector-error.log;
events { worker_connections 1024; }
http {
  access_log off;
  server {
    listen 127.0.0.1:$COLLECTOR;
    location = /v1/traces { client_max_body_size 64m; default_type application/json; return 200 "{}"; }
  }
}
NGINX
nginx -c "$OUT/collector.conf" -p "$OUT" -g "daemon off;" & PIDS+=($!)
wait_port $COLLECTOR

if [ -z "${GATEWAYD:-}" ]; then
  cargo build --locked --release -p gatewayd >/dev/null 2>&1
  GATEWAYD="$CARGO_TARGET_DIR/release/gatewayd"
fi
for mode in off on; do
  port=$GW_OFF; admin=19141; enabled=false
  [ $mode = on ] && port=$GW_ON && admin=19142 && enabled=true
  cat > "$OUT/gatewayd-$mode.toml" <<TOML
[proxy]
listen = "127.0.0.1:$port"
[admin]
listen = "127.0.0.1:$admin"
[state]
dir = "$OUT/gw-$mode-state"
[upstream]
extra_roots = ["$OUT/ca.pem"]
[upstream.connect_to]
"localhost:$UP" = "127.0.0.1:$UP"
[events]
enabled = false
[limits]
max_connections_per_source = 100000
[log]
level = "warn"
[telemetry.otlp]
enabled = $enabled
endpoint = "http://127.0.0.1:$COLLECTOR/v1/traces"
flush_interval = "1s"
TOML
  "$GATEWAYD" run --config "$OUT/gatewayd-$mode.toml" 2> "$OUT/gatewayd-$mode.log" & PIDS+=($!)
  wait_port $port
done

for round in $(seq 1 "$ROUNDS"); do
  for mode in off on; do
    port=$GW_OFF; [ $mode = on ] && port=$GW_ON
    oha -z "$DURATION" -c "$CONNS" --insecure --no-tui --output-format json \
      -x "http://127.0.0.1:$port" "$URL" > "$OUT/oha-$mode.r$round.json"
  done
done
sleep 2
curl -s http://127.0.0.1:19142/metrics | grep '^warden_otlp_' > "$OUT/otlp-metrics.txt" || true
python3 - "$OUT" <<'PY'
import glob, json, statistics, sys
out = sys.argv[1]
rows = {}
for mode in ("off", "on"):
    runs = [json.load(open(p)) for p in sorted(glob.glob(f"{out}/oha-{mode}.r*.json"))]
    rps = statistics.median(r["summary"]["requestsPerSec"] for r in runs)
    p50 = statistics.median(r["latencyPercentiles"]["p50"] * 1000 for r in runs)
    p99 = statistics.median(r["latencyPercentiles"]["p99"] * 1000 for r in runs)
    each = ", ".join(f'{r["summary"]["requestsPerSec"]:,.0f}' for r in runs)
    rows[mode] = (rps, p50, p99, each)
print("| telemetry.otlp | req/s (median) | vs off | p50 ms | p99 ms | each round |")
print("| --- | ---: | ---: | ---: | ---: | --- |")
for mode in ("off", "on"):
    rps, p50, p99, each = rows[mode]
    print(f"| {mode} | {rps:,.0f} | {rps / rows['off'][0]:.3f}x | {p50:.2f} | {p99:.2f} | {each} |")
print()
print(open(f"{out}/otlp-metrics.txt").read())
PY
