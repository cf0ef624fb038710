#!/usr/bin/env python3
"""Latency of a 1 MB JSON prompt through a gateway whose policy buffers and DLP-scans it,
against the same request sent directly (`--plain direct`) or through another proxy, in the
same run, interleaved. Uses curl; prints medians as JSON."""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile


def make_prompt(path):
    words = ("the quarterly planning meeting covered hiring budgets roadmap risks and "
             "customer feedback from the last release cycle ").split()
    text = []
    size = 0
    i = 0
    while size < 1_000_000:
        w = words[i % len(words)]
        text.append(w)
        size += len(w) + 1
        i += 1
    body = json.dumps({"model": "bench", "messages": [{"role": "user", "content": " ".join(text)}]})
    with open(path, "w") as f:
        f.write(body)
    return len(body)


def timed(proxy, url, body_path):
    via = [] if proxy == "direct" else ["-x", f"http://{proxy}"]
    out = subprocess.run(
        ["curl", "-s", "--http1.1", "--max-time", "30", "-o", "/dev/null", "--insecure", *via,
         "-H", "Content-Type: application/json", "--data-binary", f"@{body_path}",
         "-w", "%{http_code} %{time_total}", url],
        capture_output=True, text=True, check=False)
    code, seconds = out.stdout.split()
    if code != "200":
        raise SystemExit(f"{proxy}: HTTP {code}")
    return float(seconds) * 1000


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--scanned", required=True)
    p.add_argument("--plain", required=True)
    p.add_argument("--url", required=True)
    p.add_argument("--runs", type=int, default=30)
    a = p.parse_args()
    with tempfile.TemporaryDirectory() as d:
        body = os.path.join(d, "prompt.json")
        size = make_prompt(body)
        for proxy in (a.scanned, a.plain):  # warm-up: mint, pools
            timed(proxy, a.url, body)
        scanned, plain = [], []
        for _ in range(a.runs):  # interleaved, so load changes hit both alike
            scanned.append(timed(a.scanned, a.url, body))
            plain.append(timed(a.plain, a.url, body))
    ms, mp = statistics.median(scanned), statistics.median(plain)
    print(json.dumps({"body_bytes": size, "runs": a.runs, "scanned_median_ms": round(ms, 2),
                      "baseline_median_ms": round(mp, 2), "added_ms": round(ms - mp, 2)}))


if __name__ == "__main__":
    sys.exit(main())
