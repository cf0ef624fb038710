#!/usr/bin/env bash
# The AI gateway against calling the provider directly and against LiteLLM proxy, in the same
# run (issue 19, "Speed"). A Rust mock OpenAI provider on loopback (bench/aigw-bench:
# `aigw-mock`, instant JSON answers with usage, or SSE of 64 deltas 20 ms apart and a usage
# chunk) is called by the Rust load generator (`aigw-load`, open loop at fixed rates: latency
# counted from when each request was due) three ways: directly, through gatewayd's AI gateway
# (release build, a virtual key, the mock as an `openai` provider with explicit prices,
# events off, default log level), and through LiteLLM proxy from PyPI (no database, its master
# key, the mock as an `openai/` model with explicit prices). Everything shares the same
# cores, so every phase runs ROUNDS times with the order of the three rotated, and the
# summary gives medians; gateway figures are read against the direct figures of the same run.
# Results: bench/out/aigw-<stamp>/summary.md, raw JSON lines in results.jsonl.
#
#   bench/aigw.sh                      # ROUNDS=3 DURATION=10
#   GATEWAYD=/path/gatewayd bench/aigw.sh
#   SKIP_LITELLM=1 bench/aigw.sh       # gatewayd and direct only
#   BENCH_NICE=-10 bench/aigw.sh       # every process of the run at that nice value (root):
#                                      # on a machine busy with other builds, so that what is
#                                      # measured is the gateway more than the scheduler
#
# LiteLLM (litellm[proxy]==1.108.0) goes into a venv, LITELLM_VENV (bench/out/litellm-1.108.0
# by default, kept between runs), with LITELLM_WORKERS uvicorn workers (1 by default: with 2,
# uvicorn's supervisor killed workers still importing on the loaded 2-core VM — its 5 s health
# check — and LiteLLM never served). Not measured: TLS on either side, DLP (off in both), ClickHouse writes
# (gatewayd's events off; LiteLLM has no database), providers other than OpenAI's format.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh
need python3 python3

ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-10}
SEQ_DURATION=${SEQ_DURATION:-5}
STREAM_RATE=${STREAM_RATE:-20}
HOLD_N=${HOLD_N:-1000}
SWEEP=${SWEEP:-"1000 2000 3000 4000 5000 6000 8000 10000 12000"}
LITELLM_WORKERS=${LITELLM_WORKERS:-1}
LITELLM_VENV=${LITELLM_VENV:-$PWD/bench/out/litellm-1.108.0}
OUT=${OUT:-$PWD/bench/out/aigw-$(date -u +%Y%m%dT%H%M%SZ)}
mkdir -p "$OUT"
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
[ -z "${BENCH_NICE:-}" ] || renice -n "$BENCH_NICE" -p $$ >/dev/null
MOCK=18600; AI=18601; PROXY=18602; ADMIN=18603; LLM=18604
. bench/lib.sh

LOAD_BEFORE=$(cut -d" " -f1-3 /proc/loadavg)
echo "== build (release): gatewayd, aigw-mock, aigw-load"
if [ -z "${GATEWAYD:-}" ]; then
  cargo build --locked --release -p gatewayd -p aigw-bench >/dev/null 2>&1
  GATEWAYD="$CARGO_TARGET_DIR/release/gatewayd"
else
  cargo build --locked --release -p aigw-bench >/dev/null 2>&1
fi
LOAD="$CARGO_TARGET_DIR/release/aigw-load"
"$CARGO_TARGET_DIR/release/aigw-mock" --listen 127.0.0.1:$MOCK --threads 1 & PIDS+=($!)
wait_port $MOCK

echo "== gatewayd's AI gateway on :$AI"
mkdir -p "$OUT/gw/state"
cat > "$OUT/gw/gatewayd.toml" <<TOML
[proxy]
listen = "127.0.0.1:$PROXY"
[admin]
listen = "127.0.0.1:$ADMIN"
[state]
dir = "state"
[clickhouse]
url = "http://127.0.0.1:1"
[events]
enabled = false
[keys]
master_key = "file:master.key"
[aigw]
listen = "127.0.0.1:$AI"
[[aigw.providers]]
name = "mock"
kind = "openai"
base_url = "http://127.0.0.1:$MOCK/v1"
key = "mock-key"
[[aigw.models]]
name = "bench-fast"
provider = "mock"
[[aigw.models]]
name = "bench-slow"
provider = "mock"
[[aigw.prices]]
provider = "mock"
model = "bench-fast"
input = 0.15
output = 0.60
[[aigw.prices]]
provider = "mock"
model = "bench-slow"
input = 0.15
output = 0.60
TOML
( cd "$OUT/gw"
  (umask 077; "$GATEWAYD" keys master-key --config gatewayd.toml > master.key)
  head -c 24 /dev/urandom | base64 | "$GATEWAYD" keys add mock-key --provider openai --config gatewayd.toml >/dev/null
  (umask 077; "$GATEWAYD" aigw keys create --name bench --user bench --config gatewayd.toml > vkey) )
VKEY=$(tr -d '\n' < "$OUT/gw/vkey")
( cd "$OUT/gw" && exec "$GATEWAYD" run --config gatewayd.toml 2> gatewayd.log ) & GW_PID=$!; PIDS+=($GW_PID)
wait_port $AI

LLM_PIDS=""
if [ -z "${SKIP_LITELLM:-}" ]; then
  echo "== LiteLLM proxy 1.108.0 on :$LLM ($LITELLM_WORKERS workers)"
  if ! "$LITELLM_VENV/bin/python" -c "import litellm" 2>/dev/null; then
    python3 -m venv "$LITELLM_VENV"
    "$LITELLM_VENV/bin/pip" install -q 'litellm[proxy]==1.108.0'
  fi
  LLM_KEY="sk-$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')"
  mkdir -p "$OUT/litellm"
  cat > "$OUT/litellm/config.yaml" <<YAML
model_list:
  - model_name: bench-fast
    litellm_params:
      model: openai/bench-fast
      api_base: http://127.0.0.1:$MOCK/v1
      api_key: sk-mock
      input_cost_per_token: 0.00000015
      output_cost_per_token: 0.0000006
  - model_name: bench-slow
    litellm_params:
      model: openai/bench-slow
      api_base: http://127.0.0.1:$MOCK/v1
      api_key: sk-mock
      input_cost_per_token: 0.00000015
      output_cost_per_token: 0.0000006
general_settings:
  master_key: $LLM_KEY
YAML
  ( cd "$OUT/litellm" && LITELLM_LOCAL_MODEL_COST_MAP=True exec "$LITELLM_VENV/bin/litellm" \
      --config config.yaml --host 127.0.0.1 --port $LLM --num_workers "$LITELLM_WORKERS" > litellm.log 2>&1 ) & LLM_PID=$!; PIDS+=($LLM_PID)
  for _ in $(seq 1 1500); do
    curl -fsS -o /dev/null -H "authorization: Bearer $LLM_KEY" http://127.0.0.1:$LLM/v1/models 2>/dev/null && break
    sleep 0.2
  done
  curl -fsS -o /dev/null -H "authorization: Bearer $LLM_KEY" http://127.0.0.1:$LLM/v1/models \
    || { echo "LiteLLM did not start: $OUT/litellm/litellm.log" >&2; exit 1; }
fi

# The process tree of a pid (LiteLLM's workers), comma-separated.
tree() { local p=$1 out=$1 c; for c in $(pgrep -P "$p" || true); do out="$out,$(tree "$c")"; done; echo "$out"; }
rss() { local sum=0 p; for p in ${1//,/ }; do sum=$((sum + $(awk '/^VmRSS/{print $2}' "/proc/$p/status" 2>/dev/null || echo 0))); done; echo $sum; }
[ -n "${LLM_PID:-}" ] && LLM_PIDS=$(tree "$LLM_PID")

D=(--url "http://127.0.0.1:$MOCK/v1/chat/completions" --key sk-mock)
G=(--url "http://127.0.0.1:$AI/v1/chat/completions" --key "$VKEY")
L=(--url "http://127.0.0.1:$LLM/v1/chat/completions" --key "${LLM_KEY:-none}")
RES="$OUT/results.jsonl"
# settle PIDS: waits (60 s at most) until those processes use under 5 % of a core, so that a
# backlog LiteLLM is still working through after an overload does not load the next phase.
settle() {
  local pids=$1 t0 t1 p
  for _ in $(seq 1 60); do
    t0=0; for p in ${pids//,/ }; do t0=$((t0 + $(awk '{print $14 + $15}' "/proc/$p/stat" 2>/dev/null || echo 0))); done
    sleep 1
    t1=0; for p in ${pids//,/ }; do t1=$((t1 + $(awk '{print $14 + $15}' "/proc/$p/stat" 2>/dev/null || echo 0))); done
    [ $((t1 - t0)) -lt $(( $(getconf CLK_TCK) / 20 )) ] && return 0
  done
}
load() { # label mode args...
  local label=$1; shift
  echo "   $label $1"
  "$LOAD" "$@" --label "$label" >> "$RES" 2>> "$OUT/load.err" || echo "   (aigw-load failed: $label)"
  if [ "$label" = litellm ] && [ -n "$LLM_PIDS" ]; then settle "$LLM_PIDS"; fi
}
# Each call of a phase: direct, gatewayd, litellm; the order rotates every round.
targets() { # round -> names in order
  local names=(direct gatewayd litellm)
  [ -n "${SKIP_LITELLM:-}" ] && names=(direct gatewayd)
  local n=${#names[@]} i
  for i in $(seq 0 $((n - 1))); do echo "${names[$(( (i + $1) % n ))]}"; done
}
# set_target NAME: TA = the URL and key flags for NAME.
set_target() { case $1 in direct) TA=("${D[@]}");; gatewayd) TA=("${G[@]}");; litellm) TA=("${L[@]}");; esac; }

echo "== warm-up and idle memory"
for t in direct gatewayd $([ -z "${SKIP_LITELLM:-}" ] && echo litellm); do
  set_target "$t"
  "$LOAD" seq "${TA[@]}" --duration 2 --warmup 0 > /dev/null 2>> "$OUT/load.err" || true
done
sleep 2
echo "{\"mode\":\"idle\",\"label\":\"gatewayd\",\"rss_kb\":$(rss $GW_PID)}" >> "$RES"
[ -n "$LLM_PIDS" ] && echo "{\"mode\":\"idle\",\"label\":\"litellm\",\"rss_kb\":$(rss "$LLM_PIDS")}" >> "$RES"

for round in $(seq 1 "$ROUNDS"); do
  echo "== round $round of $ROUNDS ($(targets "$round" | tr '\n' ' '))"
  for t in $(targets "$round"); do set_target "$t"; load "$t" seq "${TA[@]}" --duration "$SEQ_DURATION"; done
  for t in $(targets "$round"); do
    set_target "$t"
    if [ "$t" = litellm ]; then load "$t" fixed "${TA[@]}" --rate 100 --duration "$DURATION"; continue; fi
    load "$t" fixed "${TA[@]}" --rate 1000 --duration "$DURATION"
    load "$t" fixed "${TA[@]}" --rate 5000 --duration "$DURATION"
  done
  for t in $(targets "$round"); do set_target "$t"; load "$t" max "${TA[@]}" --conns 64 --duration "$SEQ_DURATION"; done
  for t in $(targets "$round"); do
    set_target "$t"
    load "$t" stream "${TA[@]}" --rate "$STREAM_RATE" --duration "$DURATION" --warmup 2
  done
done

echo "== rate sweep (direct, then gatewayd, at each rate; one pass)"
for rate in $SWEEP; do
  load sweep-direct fixed "${D[@]}" --rate "$rate" --duration 5
  load sweep-gatewayd fixed "${G[@]}" --rate "$rate" --duration 5
  # Stop once gatewayd falls behind the rate (errors, requests not sent, p99 over 50 ms).
  tail -1 "$RES" | python3 -c 'import json,sys; r=json.load(sys.stdin); sys.exit(1 if r["errors"] or r["not_sent"] or r["ok_per_s"] < 0.95*r["rate"] or r["latency_p99_us"] > 50000 else 0)' || break
done

sleep 2
echo "{\"mode\":\"idle-after\",\"label\":\"gatewayd\",\"rss_kb\":$(rss $GW_PID)}" >> "$RES"
echo "== $HOLD_N open streams: resident memory, on a gatewayd restarted for it"
# The phases above leave what an overload leaves (pooled provider connections, the
# allocator's high-water mark): restarted, the figure is the streams' own.
kill "$GW_PID"; wait "$GW_PID" 2>/dev/null || true
( cd "$OUT/gw" && exec "$GATEWAYD" run --config gatewayd.toml 2>> gatewayd.log ) & GW_PID=$!; PIDS+=($GW_PID)
wait_port $AI
"$LOAD" seq "${G[@]}" --duration 1 --warmup 0 > /dev/null 2>> "$OUT/load.err" || true
sleep 1
echo "{\"mode\":\"idle-fresh\",\"label\":\"gatewayd\",\"rss_kb\":$(rss $GW_PID)}" >> "$RES"
load gatewayd hold "${G[@]}" --model bench-slow --n "$HOLD_N" --rate 500 --pids "$GW_PID" --timeout 60
if [ -n "$LLM_PIDS" ]; then
  echo "{\"mode\":\"idle-after\",\"label\":\"litellm\",\"rss_kb\":$(rss "$LLM_PIDS")}" >> "$RES"
  load litellm hold "${L[@]}" --model bench-slow --n "$HOLD_N" --rate 500 --pids "$LLM_PIDS" --timeout 60
  sleep 35  # the held streams end (64 deltas, 500 ms apart) before LiteLLM is loaded again
  echo "== LiteLLM at 1,000 req/s (once)"
  load litellm fixed "${L[@]}" --rate 1000 --duration 5
fi

{ echo "Run $(basename "$OUT"), $(nproc) cores, load average before: $LOAD_BEFORE, after: $(cut -d" " -f1-3 /proc/loadavg), nice ${BENCH_NICE:-0}."; echo; \
  python3 bench/aigw_summary.py "$RES" "$(git rev-parse --short HEAD)"; } > "$OUT/summary.md"
cat "$OUT/summary.md"
echo "== results in $OUT"
