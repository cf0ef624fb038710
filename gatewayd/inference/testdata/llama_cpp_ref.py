#!/usr/bin/env python3
"""Runs llama.cpp (through llama-cpp-python) on a GGUF file and prints, as JSON, what the
engine's tests compare against: for each prompt, llama.cpp's token ids, a greedy
continuation, and the logits at every position of prompt + continuation.

usage: llama_cpp_ref.py MODEL.gguf PROMPTS.json N_NEW > ref.json
PROMPTS.json is a list of strings. Tokenization uses the model's vocabulary with no BOS and
special tokens parsed (as a chat template's output would be).
The KV cache is f32 (llama.cpp's default is f16) so the comparison measures the forward pass,
not cache rounding; one thread, so the run is deterministic.
"""
import json
import sys

import numpy as np
from llama_cpp import Llama

GGML_TYPE_F32 = 0


def main():
    path, prompts_path, n_new = sys.argv[1], sys.argv[2], int(sys.argv[3])
    prompts = json.load(open(prompts_path))
    llm = Llama(model_path=path, n_ctx=256, n_batch=256, n_threads=1, logits_all=True,
                type_k=GGML_TYPE_F32, type_v=GGML_TYPE_F32, verbose=False, seed=0)
    out = []
    for p in prompts:
        ids = llm.tokenize(p.encode(), add_bos=False, special=True)
        entry = {"prompt": p, "tokens": ids}
        if n_new > 0 and ids:
            llm.reset()
            llm.eval(ids)
            new = []
            for _ in range(n_new):
                nxt = int(np.argmax(llm.scores[llm.n_tokens - 1]))
                new.append(nxt)
                llm.eval([nxt])
            entry["greedy"] = new
            logits = np.array(llm.scores[: llm.n_tokens], dtype=np.float32)
            entry["logits"] = logits.tolist()
        out.append(entry)
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
