#!/usr/bin/env bash
# The on-box engine against llama.cpp on the same GGUF (SmolLM2-135M-Instruct Q4_1 by default),
# same thread count, same run: ROUNDS alternating runs of each, greedy, prefill and decode
# tokens/s at batch 1, medians and the engine/llama.cpp ratio.
#   ROUNDS=3 THREADS=1 N_NEW=64 bench/inference.sh
# Needs llama-cpp-python (scripts/test.sh installs it; PY selects a venv's python).
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${ROUNDS:-3}; THREADS=${THREADS:-1}; N_NEW=${N_NEW:-64}; PY=${PY:-python3}
MODEL=${MODEL:-$(scripts/fetch-smollm2.sh)}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/warden/target}
cargo build --release --quiet -p inference --example generate
GEN=$CARGO_TARGET_DIR/release/examples/generate
PROMPT=$'<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\n<|im_start|>user\nExplain what a secure web gateway does for a company that uses AI tools.<|im_end|>\n<|im_start|>assistant\n'
OUT=$(mktemp); trap 'rm -f "$OUT"' EXIT
echo "$(date -u +%FT%TZ) $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg), threads $THREADS, $N_NEW new tokens, $(basename "$MODEL")"
for r in $(seq 1 "$ROUNDS"); do
  e=$("$GEN" "$MODEL" "$PROMPT" "$N_NEW" "$THREADS")
  l=$("$PY" bench/inference_llama_cpp.py "$MODEL" "$PROMPT" "$N_NEW" "$THREADS")
  echo "engine $e" >> "$OUT"; echo "llama.cpp $l" >> "$OUT"
  echo "round $r: engine $(jq -c '{prefill_tps,decode_tps}' <<<"$e") llama.cpp $(jq -c '{prefill_tps,decode_tps}' <<<"$l")"
done
python3 - "$OUT" <<'PY'
import json, statistics, sys
rows = {"engine": [], "llama.cpp": []}
for line in open(sys.argv[1]):
    who, js = line.split(" ", 1)
    rows[who].append(json.loads(js))
med = {w: {k: statistics.median(r[k] for r in rs) for k in ("prefill_tps", "decode_tps")} for w, rs in rows.items()}
for w, m in med.items():
    print(f"median {w}: prefill {m['prefill_tps']:.1f} tok/s, decode {m['decode_tps']:.1f} tok/s")
print(f"engine / llama.cpp: prefill {med['engine']['prefill_tps'] / med['llama.cpp']['prefill_tps']:.2f}x, "
      f"decode {med['engine']['decode_tps'] / med['llama.cpp']['decode_tps']:.2f}x")
PY
