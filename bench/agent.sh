#!/usr/bin/env bash
# Agent tunnel benchmark: oha (CONNS connections, 1 KiB over HTTPS from an nginx upstream on
# loopback) through the device agent (agent → one mTLS HTTP/2 tunnel → gatewayd, intercepted)
# against oha straight to gatewayd's proxy port, in the same run, keep-alive and a new client
# connection per request; and the gateway's TLS handshake count on the tunnel port before and
# after, to show client connections do not cost handshakes to the gateway.
# The two paths alternate for ROUNDS rounds so that load from other work on the machine hits
# both alike; the summary gives per-round ratios and their median.
# Results: bench/out/agent-<stamp>/summary.md (and raw oha JSON beside it).
#
#   bench/agent.sh               # DURATION=5s ROUNDS=4 CONNS=16 by default; SKIP_BUILD=1 uses the
#                                # release binaries already built
#   AGENT_THREADS=1 bench/agent.sh   # the agent's relay threads (`agent run --threads`; default
#                                # 2 with 4 or more cores, else 1)
#   GATEWAY_CPUS=0 CLIENT_CPUS=1 bench/agent.sh
#                                # pins nginx and gatewayd to one set of CPUs and oha and the
#                                # agent to another: the server and the laptop are two machines
#                                # in a deployment, and unpinned on a small box the agent takes
#                                # its CPU from gatewayd.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh

need nginx nginx openssl openssl python3 python3
command -v oha >/dev/null || { echo "oha is required: cargo install oha --locked" >&2; exit 1; }

DURATION=${DURATION:-5s}
ROUNDS=${ROUNDS:-4}
CONNS=${CONNS:-16}
OUT=${OUT:-$PWD/bench/out/agent-$(date -u +%Y%m%dT%H%M%SZ)}
mkdir -p "$OUT"
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
UP=18444; GW=13138; GW_ADMIN=19098; TUN=13139; AG=13140
URL="https://localhost:$UP/1k"
. bench/lib.sh
metric() { curl -s "http://127.0.0.1:$GW_ADMIN/metrics" | awk -v m="$1" '$1 == m {print $2}'; }

# Children inherit the shell's CPU affinity: pin the shell before starting each side.
pin() { [ -z "${1:-}" ] || taskset -pc "$1" $$ >/dev/null; }
[ -z "${GATEWAY_CPUS:-}${CLIENT_CPUS:-}" ] || need taskset util-linux
pin "${GATEWAY_CPUS:-}"

echo "== certificates and nginx upstream on :$UP"
start_origin "$UP"

echo "== gatewayd (events off) proxy :$GW, tunnel :$TUN"
[ -n "${SKIP_BUILD:-}" ] || cargo build --locked --release -p gatewayd -p agent >/dev/null 2>&1
BIN="${CARGO_TARGET_DIR:-target}/release"
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
[tunnel]
listen = "127.0.0.1:$TUN"
TOML
"$BIN/gatewayd" run --config "$OUT/gatewayd.toml" 2> "$OUT/gatewayd.log" & GW_PID=$!; PIDS+=($GW_PID)
wait_port $TUN

pin "${CLIENT_CPUS:-}"
echo "== enroll and run the agent on :$AG"
TOKEN=$("$BIN/gatewayd" devices enroll-token --user bench --config "$OUT/gatewayd.toml" 2>/dev/null | tail -1)
FP=$(python3 - "$OUT/gw-state/ca/root.crt.pem" <<'PY'
import base64, hashlib, sys
pem = open(sys.argv[1]).read().split("-----")[2]
print(hashlib.sha256(base64.b64decode(pem)).hexdigest())
PY
)
"$BIN/agent" enroll --gateway "https://127.0.0.1:$TUN" --token "$TOKEN" --ca-fingerprint "$FP" --state-dir "$OUT/agent-state" > "$OUT/enroll.log" 2>&1
RUST_LOG=warn "$BIN/agent" run --state-dir "$OUT/agent-state" --listen "127.0.0.1:$AG" \
  ${AGENT_THREADS:+--threads "$AGENT_THREADS"} 2> "$OUT/agent.log" & AG_PID=$!; PIDS+=($AG_PID)
wait_port $AG
for _ in $(seq 1 100); do grep -q '"connected"' "$OUT/agent-state/status.json" 2>/dev/null && break; sleep 0.1; done

ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; } # user + system CPU, in clock ticks
run_oha() { # name proxy-port extra-args...
  local name=$1 proxy=$2; shift 2
  echo "   $name $*"
  local gw0 ag0; gw0=$(ticks $GW_PID); ag0=$(ticks $AG_PID)
  oha -z "$DURATION" -c "$CONNS" --insecure --no-tui --output-format json -x "http://127.0.0.1:$proxy" "$@" "$URL" \
    > "$OUT/oha-$name.json" 2> "$OUT/oha-$name.err" || echo "   (oha failed for $name: $(tail -1 "$OUT/oha-$name.err"))"
  echo "$(( $(ticks $GW_PID) - gw0 )) $(( $(ticks $AG_PID) - ag0 ))" > "$OUT/cpu-$name.txt"
}
HS_BEFORE=$(metric warden_agent_handshakes_total)
ST_BEFORE=$(metric warden_agent_streams_total)
for round in $(seq 1 "$ROUNDS"); do
  echo "== round $round: keep-alive, then a new client connection per request"
  run_oha gatewayd-ka-$round $GW
  run_oha agent-ka-$round $AG
  run_oha gatewayd-new-$round $GW --disable-keepalive
  run_oha agent-new-$round $AG --disable-keepalive
done
HS_AFTER=$(metric warden_agent_handshakes_total)
ST_AFTER=$(metric warden_agent_streams_total)

PINNING="unpinned"
[ -z "${GATEWAY_CPUS:-}${CLIENT_CPUS:-}" ] || PINNING="nginx + gatewayd on CPUs ${GATEWAY_CPUS:-any}, oha + agent on CPUs ${CLIENT_CPUS:-any}"
PINNING="$PINNING; agent relay threads: ${AGENT_THREADS:-default}"
python3 - "$OUT" "$HS_BEFORE" "$HS_AFTER" "$ST_BEFORE" "$ST_AFTER" "$CONNS" "$DURATION" "$ROUNDS" "$PINNING" > "$OUT/summary.md" <<'PY'
import json, statistics, sys, os
out, hs0, hs1, st0, st1, conns, duration, rounds, pinning = sys.argv[1:10]
def load(name):
    try:
        with open(os.path.join(out, f"oha-{name}.json")) as f:
            data = json.load(f)
    except Exception:
        return None
    s, pct = data.get("summary", {}), data.get("latencyPercentiles", {})
    requests = sum((data.get("statusCodeDistribution") or {}).values()) or 1
    try:
        with open(os.path.join(out, f"cpu-{name}.txt")) as f:
            gw, ag = (int(x) for x in f.read().split())
    except Exception:
        gw, ag = 0, 0
    tick_us = 1e6 / os.sysconf("SC_CLK_TCK")
    return {"rps": s.get("requestsPerSec") or 0.0, "ok": s.get("successRate") or 0.0,
            "p50": (pct.get("p50") or 0) * 1000, "p99": (pct.get("p99") or 0) * 1000,
            "cpu_us": (gw + ag) * tick_us / requests, "gw_us": gw * tick_us / requests,
            "ag_us": ag * tick_us / requests}
cpu = {}
print(f"oha -c {conns} -z {duration} per run, {rounds} alternating rounds, 1 KiB over HTTPS, "
      f"intercepted by gatewayd (events off); {pinning}; {os.cpu_count()} CPUs\n")
print("| mode | round | proxy port req/s | through agent req/s | agent / proxy port | p50 ms port / agent | p99 ms port / agent |")
print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
for mode, label in (("ka", "keep-alive"), ("new", "new connection per request")):
    ratios = []
    for r in range(1, int(rounds) + 1):
        g, a = load(f"gatewayd-{mode}-{r}"), load(f"agent-{mode}-{r}")
        if not g or not a or not g["rps"]:
            print(f"| {label} | {r} | failed | | | | |")
            continue
        ratio = a["rps"] / g["rps"]
        ratios.append(ratio)
        cpu.setdefault(mode, []).append((g["cpu_us"], a["gw_us"], a["ag_us"]))
        ok = "" if a["ok"] == 1 and g["ok"] == 1 else f" (success {g['ok']:.0%} / {a['ok']:.0%})"
        print(f"| {label} | {r} | {g['rps']:,.0f} | {a['rps']:,.0f}{ok} | {ratio:.2f}x | "
              f"{g['p50']:.2f} / {a['p50']:.2f} | {g['p99']:.2f} / {a['p99']:.2f} |")
    if ratios:
        print(f"| **{label}** | **median** | | | **{statistics.median(ratios):.2f}x** | | |")
print()
print("CPU per request (µs, median of the rounds): gatewayd on the proxy port | gatewayd + agent on the agent path\n")
for mode, label in (("ka", "keep-alive"), ("new", "new connection per request")):
    rows = cpu.get(mode) or []
    if rows:
        port = statistics.median(r[0] for r in rows)
        gw = statistics.median(r[1] for r in rows)
        ag = statistics.median(r[2] for r in rows)
        print(f"- {label}: {port:.0f} | {gw:.0f} + {ag:.0f} = {gw + ag:.0f}")
print()
print(f"TLS handshakes on the tunnel port during the load: {float(hs1) - float(hs0):.0f}; "
      f"CONNECT streams opened over the agent's tunnel: {float(st1) - float(st0):.0f}")
PY
cat "$OUT/summary.md"
