#!/usr/bin/env python3
"""Writes quant_refs.txt: random blocks of each type and their values as dequantised by the
`gguf` package's numpy implementation (an implementation independent of this crate).

Run with the inference venv (scripts/inference-venv.sh):  python3 gen_quant_refs.py > quant_refs.txt
Format: per case, a line "TYPE hex-bytes" and a line of f32 bit patterns in hex.
"""
import numpy as np
from gguf import GGMLQuantizationType as T, quants

rng = np.random.default_rng(22)


def f16_bytes(v):
    return np.array([v], dtype=np.float16).view(np.uint8)


def blocks(ty, n):
    bs, bb = quants.GGML_QUANT_SIZES[ty]
    raw = rng.integers(0, 256, size=(n, bb), dtype=np.uint8)
    # Scales must be finite halves: random bytes there would be NaN or huge.
    for i in range(n):
        if ty in (T.Q4_0, T.Q8_0):
            raw[i, 0:2] = f16_bytes(rng.uniform(-0.1, 0.1))
        elif ty == T.Q4_1:
            raw[i, 0:2] = f16_bytes(rng.uniform(0.001, 0.1))
            raw[i, 2:4] = f16_bytes(rng.uniform(-1, 1))
        elif ty in (T.Q4_K, T.Q5_K):
            raw[i, 0:2] = f16_bytes(rng.uniform(0.0001, 0.01))
            raw[i, 2:4] = f16_bytes(rng.uniform(0.0001, 0.01))
        elif ty == T.Q6_K:
            raw[i, 208:210] = f16_bytes(rng.uniform(-0.01, 0.01))
    return raw.reshape(-1)


cases = []
for ty in (T.Q4_0, T.Q4_1, T.Q8_0, T.Q4_K, T.Q5_K, T.Q6_K):
    n = 3 if ty in (T.Q4_K, T.Q5_K, T.Q6_K) else 8
    cases.append((ty, blocks(ty, n)))
vals = rng.standard_normal(96).astype(np.float32)
cases.append((T.F32, vals.view(np.uint8)))
cases.append((T.F16, vals.astype(np.float16).view(np.uint8)))
cases.append((T.BF16, quants.quantize(vals, T.BF16).view(np.uint8)))

for ty, raw in cases:
    out = quants.dequantize(raw, ty).astype(np.float32).reshape(-1)
    print(ty.name, raw.tobytes().hex())
    print(" ".join(f"{b:08x}" for b in out.view(np.uint32)))
