#!/usr/bin/env bash
# Times the Shadow AI report on the benchmark data set (bench/report.sh generate): the
# `gatewayd report` CLI and the dashboard pages and API calls, each the median of RUNS runs
# (wall ms). Needs the data set's ClickHouse running (bench/report.sh start) and a gatewayd
# build (GATEWAYD, default: the release build, else the debug build).
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${RUNS:-5}
SINCE=${SINCE:-30d}
TARGET=${CARGO_TARGET_DIR:-$HOME/.cache/warden/target}
GATEWAYD=${GATEWAYD:-$TARGET/release/gatewayd}
[ -x "$GATEWAYD" ] || GATEWAYD=$TARGET/debug/gatewayd
BASE_CONFIG=$(bench/report.sh config | tail -1)
WORK=$(mktemp -d)
trap 'kill $GW_PID 2>/dev/null || true; rm -rf "$WORK"' EXIT

cat "$BASE_CONFIG" > "$WORK/gatewayd.toml"
cat >> "$WORK/gatewayd.toml" <<TOML
[proxy]
listen = "127.0.0.1:0"
[admin]
listen = "127.0.0.1:0"
[state]
dir = "$WORK/state"
[events]
enabled = false
[log]
level = "warn"
TOML

ms() { date +%s%3N; }
median() { sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : int((a[NR/2]+a[NR/2+1])/2)}'; }
time_it() { # NAME CMD...
  local name=$1 t times=(); shift
  "$@" > "$WORK/warm.out" 2>&1 || { echo "$name failed:"; tail -3 "$WORK/warm.out"; return 1; }
  for _ in $(seq 1 "$RUNS"); do t=$(ms); "$@" > /dev/null 2>&1; times+=($(( $(ms) - t ))); done
  printf '%-34s median %6s ms   (min %s, max %s)\n' "$name" "$(printf '%s\n' "${times[@]}" | median)" \
    "$(printf '%s\n' "${times[@]}" | sort -n | head -1)" "$(printf '%s\n' "${times[@]}" | sort -n | tail -1)"
}

echo "== $(curl -s "$(bench/report.sh url)" --data 'SELECT count() FROM warden.http_events') events; gatewayd $GATEWAYD"
echo "   $(nproc) cores; $(date -u +%FT%TZ); median of $RUNS after one warm-up run; range --since $SINCE"
echo "== gatewayd report (CLI, includes process start and catalog load)"
for report in overview apps "app chatgpt" users dlp unapproved; do
  # shellcheck disable=SC2086
  time_it "report $report" "$GATEWAYD" report $report --since "$SINCE" --json --config "$WORK/gatewayd.toml"
done
time_it "report anomalies (24h)" "$GATEWAYD" report anomalies --json --config "$WORK/gatewayd.toml"

"$GATEWAYD" run --config "$WORK/gatewayd.toml" 2> "$WORK/gatewayd.log" & GW_PID=$!
for _ in $(seq 1 100); do [ -s "$WORK/state/listen.json" ] && break; sleep 0.2; done
ADMIN=$(python3 -c "import json,sys;print(json.load(open(sys.argv[1]))['admin'])" "$WORK/state/listen.json")
TOKEN=$("$GATEWAYD" admin token create --role analyst --name bench --config "$WORK/gatewayd.toml" | tail -1)
sleep 1.5
curl -s -c "$WORK/jar" -d "token=$TOKEN" "http://$ADMIN/login" > /dev/null
page() { curl -sf -b "$WORK/jar" -o /dev/null "http://$ADMIN$1"; }
api() { curl -sf -H "Authorization: Bearer $TOKEN" -o /dev/null "http://$ADMIN$1"; }
echo "== dashboard pages (HTML, server-rendered, through the running daemon)"
for path in "/?since=$SINCE" "/apps?since=$SINCE" "/apps/chatgpt?since=$SINCE" "/users?since=$SINCE" \
            "/dlp?since=$SINCE" "/anomalies"; do
  time_it "GET $path" page "$path"
done
echo "== API"
for path in "/api/v1/report/overview?since=$SINCE" "/api/v1/report/apps?since=$SINCE" \
            "/api/v1/report/app/chatgpt?since=$SINCE" "/api/v1/report/apps?since=$SINCE&format=csv" \
            "/api/v1/report/users?since=$SINCE&group=product-core"; do
  time_it "GET $path" api "$path"
done
