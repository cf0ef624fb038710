#!/usr/bin/env bash
# Upstream connection reuse under load (issue 16, part 7): oha through gatewayd to an nginx
# that closes every HTTP/2 connection after KEEPALIVE_REQUESTS requests (a GOAWAY each time),
# GETs and then POSTs. Every answer should be 200: requests nginx did not process are retried
# on a fresh connection (warden_upstream_retries_total counts them). Results:
# bench/out/goaway-<stamp>/summary.md and the raw oha JSON beside it.
#
#   bench/goaway.sh          # DURATION=60s CONNS=16 KEEPALIVE_REQUESTS=10 PROFILE=release
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh

need nginx nginx openssl openssl python3 python3 curl curl
command -v oha >/dev/null || { echo "oha is required: cargo install oha --locked" >&2; exit 1; }

DURATION=${DURATION:-60s}
CONNS=${CONNS:-16}
export KEEPALIVE_REQUESTS=${KEEPALIVE_REQUESTS:-10}
PROFILE=${PROFILE:-release}
OUT=${OUT:-$PWD/bench/out/goaway-$(date -u +%Y%m%dT%H%M%SZ)}
mkdir -p "$OUT"
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
UP=18643; GW=13328; GW_ADMIN=19290
. bench/lib.sh

echo "== nginx on :$UP, HTTP/2, keepalive_requests $KEEPALIVE_REQUESTS"
start_origin "$UP"

echo "== gatewayd ($PROFILE) on :$GW"
if [ "$PROFILE" = release ]; then
  cargo build --locked --release -p gatewayd >/dev/null 2>&1
  BIN="$CARGO_TARGET_DIR/release/gatewayd"
else
  cargo build --locked -p gatewayd >/dev/null 2>&1
  BIN="$CARGO_TARGET_DIR/debug/gatewayd"
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
[events]
enabled = false
[log]
level = "warn"
TOML
"$BIN" run --config "$OUT/gatewayd.toml" 2> "$OUT/gatewayd.log" & PIDS+=($!)
wait_port $GW

echo "== oha: GET /1k for $DURATION, $CONNS connections"
oha -z "$DURATION" -c "$CONNS" --insecure --no-tui --output-format json \
  -x "http://127.0.0.1:$GW" "https://localhost:$UP/1k" > "$OUT/oha-get.json"
echo "== oha: POST /post for $DURATION, $CONNS connections"
oha -z "$DURATION" -c "$CONNS" --insecure --no-tui --output-format json -m POST -d 'order=42' \
  -x "http://127.0.0.1:$GW" "https://localhost:$UP/post" > "$OUT/oha-post.json"
curl -s "http://127.0.0.1:$GW_ADMIN/metrics" > "$OUT/metrics.txt"

python3 - "$OUT" "$DURATION" "$CONNS" "$KEEPALIVE_REQUESTS" "$PROFILE" <<'PY' | tee "$OUT/summary.md"
import json, sys
out, duration, conns, per_conn, profile = sys.argv[1:]
metrics = {}
for line in open(f"{out}/metrics.txt"):
    if line.startswith("warden_"):
        name, _, value = line.partition(" ")
        metrics[name] = value.strip()
print(f"oha {duration}, {conns} connections, through gatewayd ({profile}) to nginx closing "
      f"each HTTP/2 connection after {per_conn} requests\n")
print("| load | answers | non-200 | other errors (oha) | req/s |")
print("| --- | ---: | ---: | --- | ---: |")
for name in ("get", "post"):
    data = json.load(open(f"{out}/oha-{name}.json"))
    codes = data.get("statusCodeDistribution", {})
    total = sum(codes.values())
    non_200 = total - codes.get("200", 0)
    # "aborted due to deadline": requests in flight when -z ended, one per connection.
    errors = ", ".join(f"{v} {k}" for k, v in data.get("errorDistribution", {}).items()) or "none"
    rps = data["summary"]["requestsPerSec"]
    print(f"| {name.upper()} | {total} | {non_200} | {errors} | {rps:,.0f} |")
print(f"\nwarden_upstream_retries_total {metrics.get('warden_upstream_retries_total')}, "
      f"warden_upstream_errors_total {metrics.get('warden_upstream_errors_total')}")
PY
