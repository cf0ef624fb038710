#!/usr/bin/env python3
"""Writes a tiny random-weight Llama GGUF for the engine's tests (nothing is downloaded).

usage: make_tiny_llama.py OUT.gguf [--pre smollm|gpt-2] [--arch llama|qwen2] [--seed N]

Two layers, 4 query heads sharing 2 key/value heads (grouped-query attention), Llama 3 RoPE
frequency factors (rope_freqs.weight), and weights in every supported type so one forward
pass exercises all of them: Q8_0 embeddings, Q4_0/Q4_1/Q8_0/BF16/F32/F16 and Q4_K/Q5_K/Q6_K
matrices (the K-quants as random blocks with sane scales: the gguf package cannot quantise
to them). The tokenizer is a GPT-2 byte-level BPE trained here on a small corpus, with three
special tokens first as SmolLM2 has them.
With --arch qwen2: Q/K/V biases, RoPE on the halves of each head, no frequency factors.
"""
import argparse
import collections

import numpy as np
from gguf import GGMLQuantizationType as T, GGUFWriter, quants

CORPUS = """The quick brown fox jumps over the lazy dog. The gateway inspects traffic and
keeps prompts on the box. def main(): return 42 # code is text too
for (int i = 0; i < 10; i++) { printf("%d\\n", i); } Numbers 1234567890 and 3.14159.
Hello world, hello gateway! Ça va? Über naïve café. The model answers the question.
import numpy as np; x = np.zeros((3, 4)); print(x.shape) while true do echo yes done
It's a test; we're testing what they've said: I'm sure you'll see it'd work."""

N_EMBD, N_HEAD, N_HEAD_KV, N_FF, N_LAYER, CTX = 256, 4, 2, 512, 2, 256
HEAD_DIM = N_EMBD // N_HEAD


def bytes_to_unicode():
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return {b: chr(c) for b, c in zip(bs, cs)}


def train_bpe(n_merges):
    b2u = bytes_to_unicode()
    words = collections.Counter()
    for line in CORPUS.split("\n"):
        for i, w in enumerate(line.split(" ")):
            if w:
                text = (" " if i else "") + w
                words[tuple(b2u[b] for b in text.encode())] += 1
    merges = []
    for _ in range(n_merges):
        pairs = collections.Counter()
        for w, c in words.items():
            for a, b in zip(w, w[1:]):
                pairs[(a, b)] += c
        if not pairs:
            break
        (a, b), _ = max(pairs.items(), key=lambda kv: (kv[1], kv[0]))
        merges.append((a, b))
        new = collections.Counter()
        for w, c in words.items():
            out, i = [], 0
            while i < len(w):
                if i + 1 < len(w) and w[i] == a and w[i + 1] == b:
                    out.append(a + b)
                    i += 2
                else:
                    out.append(w[i])
                    i += 1
            new[tuple(out)] += c
        words = new
    specials = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
    tokens = specials + [b2u[b] for b in range(256)]
    seen = set(tokens)
    for a, b in merges:
        if a + b not in seen:
            tokens.append(a + b)
            seen.add(a + b)
    types = [3] * len(specials) + [1] * (len(tokens) - len(specials))
    return tokens, types, [f"{a} {b}" for a, b in merges]


def k_blocks(rng, ty, rows, cols):
    """Random K-quant blocks whose weights are centred on zero with a standard deviation of
    about 0.1 (random scale bytes would give large, mostly positive weights: a network so
    ill-conditioned that activation rounding, which llama.cpp and this engine do differently,
    would change its outputs)."""
    bs, bb = quants.GGML_QUANT_SIZES[ty]
    raw = rng.integers(0, 256, size=(rows * cols // bs, bb), dtype=np.uint8)
    n = raw.shape[0]

    def half(v):
        return np.asarray(v, dtype=np.float16).view(np.uint8).reshape(-1, 2)

    if ty in (T.Q4_K, T.Q5_K):
        # Every sub-block's 6-bit scale and min are 32 (bytes 0-7 = 0b10100000, 8-11 = 0),
        # and dmin = d * the middle quant value, so weights are d * 32 * (q - middle).
        mid, spread = (7.5, 4.6) if ty == T.Q4_K else (15.5, 9.2)
        d = rng.uniform(0.7, 1.3, n) * 0.1 / (32 * spread)
        raw[:, 0:2] = half(d)
        raw[:, 2:4] = half(d * mid)
        raw[:, 4:12] = 0b1010_0000
        raw[:, 12:16] = 0
    else:
        # Q6_K: quants are already centred; 8-bit scales between 16 and 48, either sign.
        sc = rng.integers(16, 49, size=(n, 16)) * rng.choice([-1, 1], size=(n, 16))
        raw[:, 192:208] = sc.astype(np.int8).view(np.uint8)
        raw[:, 208:210] = half(rng.uniform(0.7, 1.3, n) * 0.1 / (32 * 18))
    return raw.reshape(rows, -1)


def add_matrix(w, rng, name, ty, rows, cols, scale):
    if ty in (T.Q4_K, T.Q5_K, T.Q6_K):
        w.add_tensor(name, k_blocks(rng, ty, rows, cols), raw_dtype=ty)
        return
    x = (rng.standard_normal((rows, cols)) * scale).astype(np.float32)
    if ty == T.F32:
        w.add_tensor(name, x)
    elif ty == T.F16:
        w.add_tensor(name, x.astype(np.float16))
    else:
        w.add_tensor(name, quants.quantize(x, ty), raw_dtype=ty)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--pre", default="smollm")
    ap.add_argument("--arch", default="llama", choices=["llama", "qwen2"])
    ap.add_argument("--seed", type=int, default=22)
    args = ap.parse_args()
    rng = np.random.default_rng(args.seed)
    tokens, types, merges = train_bpe(300)
    vocab = len(tokens)

    w = GGUFWriter(args.out, args.arch)
    w.add_name("tiny-random-llama")
    w.add_context_length(CTX)
    w.add_embedding_length(N_EMBD)
    w.add_block_count(N_LAYER)
    w.add_feed_forward_length(N_FF)
    w.add_head_count(N_HEAD)
    w.add_head_count_kv(N_HEAD_KV)
    w.add_layer_norm_rms_eps(1e-5)
    # A small base so the factored (slow) frequencies still turn visibly over a short test.
    w.add_rope_freq_base(10000.0)
    w.add_rope_dimension_count(HEAD_DIM)
    w.add_vocab_size(vocab)
    w.add_tokenizer_model("gpt2")
    w.add_tokenizer_pre(args.pre)
    w.add_token_list(tokens)
    w.add_token_types(types)
    w.add_token_merges(merges)
    w.add_bos_token_id(1)
    w.add_eos_token_id(2)
    w.add_add_bos_token(False)

    add_matrix(w, rng, "token_embd.weight", T.Q8_0, vocab, N_EMBD, 1.0)
    # Llama 3 style factors: high frequencies kept, low ones slowed by 8, a ramp between.
    ff = np.ones(HEAD_DIM // 2, dtype=np.float32)
    ff[16:] = 8.0
    ff[8:16] = np.linspace(1.5, 7.0, 8)
    if args.arch == "llama":
        w.add_tensor("rope_freqs.weight", ff)
    plan = [
        dict(q=T.Q4_0, k=T.Q4_1, v=T.Q8_0, o=T.Q4_K, gate=T.Q5_K, up=T.Q6_K, down=T.F16),
        dict(q=T.BF16, k=T.F32, v=T.Q6_K, o=T.Q5_K, gate=T.Q4_K, up=T.Q4_1, down=T.Q4_0),
    ]
    kv = N_HEAD_KV * HEAD_DIM
    # Small query/key weights keep attention scores near 1 in size: a peaked softmax would
    # turn rounding differences into different attention patterns.
    for i, p in enumerate(plan):
        w.add_tensor(f"blk.{i}.attn_norm.weight", (1 + 0.1 * rng.standard_normal(N_EMBD)).astype(np.float32))
        w.add_tensor(f"blk.{i}.ffn_norm.weight", (1 + 0.1 * rng.standard_normal(N_EMBD)).astype(np.float32))
        add_matrix(w, rng, f"blk.{i}.attn_q.weight", p["q"], N_EMBD, N_EMBD, 0.06)
        add_matrix(w, rng, f"blk.{i}.attn_k.weight", p["k"], kv, N_EMBD, 0.06)
        add_matrix(w, rng, f"blk.{i}.attn_v.weight", p["v"], kv, N_EMBD, 0.1)
        if args.arch == "qwen2":
            for name, n in (("q", N_EMBD), ("k", kv), ("v", kv)):
                w.add_tensor(f"blk.{i}.attn_{name}.bias", (0.1 * rng.standard_normal(n)).astype(np.float32))
        add_matrix(w, rng, f"blk.{i}.attn_output.weight", p["o"], N_EMBD, N_EMBD, 0.05)
        add_matrix(w, rng, f"blk.{i}.ffn_gate.weight", p["gate"], N_FF, N_EMBD, 0.1)
        add_matrix(w, rng, f"blk.{i}.ffn_up.weight", p["up"], N_FF, N_EMBD, 0.1)
        add_matrix(w, rng, f"blk.{i}.ffn_down.weight", p["down"], N_EMBD, N_FF, 0.05)
    w.add_tensor("output_norm.weight", np.ones(N_EMBD, dtype=np.float32))
    # Large output weights spread the logits, so greedy choices are rarely near-ties.
    add_matrix(w, rng, "output.weight", T.Q8_0, vocab, N_EMBD, 0.5)

    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


if __name__ == "__main__":
    main()
