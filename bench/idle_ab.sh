#!/usr/bin/env bash
# Memory per idle intercepted connection of several gatewayd builds, one after the other in
# one run against one origin: `bench/idle_ab.sh BIN...` (N connections each, default 3,000).
# Each build gets CONNECT, a TLS handshake with its minted leaf, one keep-alive request, then
# idle; the figure is (RSS after - RSS before) / N (bench/idle_conns.py).
set -euo pipefail
cd "$(dirname "$0")/.."
N=${N:-3000}
OUT=${OUT:-$PWD/bench/out/idle-$(date -u +%Y%m%dT%H%M%SZ)}; mkdir -p "$OUT"
. bench/lib.sh
UP=28443
start_origin $UP
ulimit -n "$(ulimit -Hn)"
i=0
for BIN in "$@"; do
  i=$((i+1)); GW=$((23140+i)); ADM=$((29140+i))
  cat > $OUT/gw$i.toml <<TOML
[proxy]
listen = "127.0.0.1:$GW"
[admin]
listen = "127.0.0.1:$ADM"
[state]
dir = "$OUT/state$i"
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
TOML
  $BIN run --config $OUT/gw$i.toml 2> $OUT/gw$i.log & P=$!
  wait_port $GW; sleep 1
  echo "$BIN: $(python3 bench/idle_conns.py --proxy 127.0.0.1:$GW --target localhost:$UP --n $N --pids $P)"
  kill $P; wait $P 2>/dev/null || true
done
