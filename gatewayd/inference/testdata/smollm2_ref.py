#!/usr/bin/env python3
"""llama.cpp's view of SmolLM2-135M-Instruct (the real model, through llama-cpp-python), for
the engine's tests/smollm2.rs.

usage: smollm2_ref.py MODEL.gguf PROMPTS.json N_NEW OUT_DIR
Writes OUT_DIR/ref.json — for each prompt: its token ids (no BOS, special tokens parsed, as a
chat template's output is), a greedy continuation of N_NEW tokens, and the ten best
(token, logit) pairs at every generated position — and OUT_DIR/logits.f32, every position's
full logits (prompt + continuation, prompt after prompt) as little-endian float32.
With N_NEW = 0 only the token ids are written.
Regenerating the committed reference (testdata/smollm2_ref.json):
  smollm2_ref.py $(scripts/fetch-smollm2.sh) testdata/smollm2_prompts.json 32 /tmp/ref &&
  cp /tmp/ref/ref.json testdata/smollm2_ref.json
One thread and an f32 KV cache, so a run is deterministic and measures the forward pass, not
cache rounding.
"""
import json
import os
import sys

import numpy as np
from llama_cpp import Llama

GGML_TYPE_F32 = 0


def main():
    path, prompts_path, n_new, out_dir = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
    prompts = json.load(open(prompts_path))
    llm = Llama(model_path=path, n_ctx=512, n_batch=512, n_threads=1, logits_all=True,
                type_k=GGML_TYPE_F32, type_v=GGML_TYPE_F32, verbose=False, seed=0)
    os.makedirs(out_dir, exist_ok=True)
    out = []
    with open(os.path.join(out_dir, "logits.f32"), "wb") as raw:
        for p in prompts:
            ids = llm.tokenize(p.encode(), add_bos=False, special=True)
            entry = {"prompt": p, "tokens": ids}
            if n_new > 0 and ids:
                llm.reset()
                llm.eval(ids)
                new, top = [], []
                for _ in range(n_new):
                    row = np.array(llm.scores[llm.n_tokens - 1], dtype=np.float32)
                    best = np.argsort(-row, kind="stable")[:10]
                    top.append([[int(i), round(float(row[i]), 4)] for i in best])
                    nxt = int(best[0])
                    new.append(nxt)
                    llm.eval([nxt])
                entry["greedy"] = new
                entry["top10"] = top
                np.array(llm.scores[: llm.n_tokens], dtype="<f4").tofile(raw)
            out.append(entry)
    with open(os.path.join(out_dir, "ref.json"), "w") as f:
        json.dump(out, f)


if __name__ == "__main__":
    main()
