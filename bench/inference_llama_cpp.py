#!/usr/bin/env python3
"""llama.cpp's side of bench/inference.sh: greedy generation with timing through
llama-cpp-python, printed as the same JSON line as the engine's `generate` example.
usage: inference_llama_cpp.py MODEL.gguf PROMPT N_NEW THREADS
Prefill is the prompt in one batch (llama.cpp's normal way); decode is one token at a time."""
import json
import sys
import time

import numpy as np
from llama_cpp import Llama


def main():
    path, prompt, n_new, threads = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    llm = Llama(model_path=path, n_ctx=512, n_batch=512, n_threads=threads,
                n_threads_batch=threads, verbose=False, seed=0)
    ids = llm.tokenize(prompt.encode(), add_bos=False, special=True)
    start = time.perf_counter()
    llm.eval(ids)
    prefill = time.perf_counter() - start
    out = []
    start = time.perf_counter()
    for _ in range(n_new):
        nxt = int(np.argmax(llm.scores[llm.n_tokens - 1]))
        out.append(nxt)
        llm.eval([nxt])
    decode = time.perf_counter() - start
    print(json.dumps({"prompt_tokens": len(ids), "new_tokens": n_new,
                      "prefill_tps": round(len(ids) / prefill, 2),
                      "decode_tps": round(n_new / decode, 2),
                      "text": llm.detokenize(out).decode(errors="replace")}))


if __name__ == "__main__":
    main()
