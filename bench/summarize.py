#!/usr/bin/env python3
"""Turns a bench/run.sh output folder into the Markdown table kept in BENCHMARKS.md."""

import glob
import json
import os
import platform
import subprocess
import sys
import time


def load(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def one_run(data):
    summary = data.get("summary", {})
    pct = data.get("latencyPercentiles", {})
    return {
        "rps": summary.get("requestsPerSec", 0.0),
        "p50": (pct.get("p50") or 0) * 1000,
        "p99": (pct.get("p99") or 0) * 1000,
        "ok": summary.get("successRate", 0),
    }


def median(values):
    values = sorted(values)
    mid = len(values) // 2
    return values[mid] if len(values) % 2 else (values[mid - 1] + values[mid]) / 2


def oha_row(out, name):
    """One path's figures: its one run, or the median of each figure over its rounds
    (`oha-NAME.rN.json`, written when bench/run.sh ran with ROUNDS > 1)."""
    paths = [os.path.join(out, f"oha-{name}.json")]
    paths += sorted(glob.glob(os.path.join(out, f"oha-{name}.r*.json")))
    runs = [one_run(d) for d in map(load, paths) if d]
    if not runs:
        return None
    row = {key: median([r[key] for r in runs]) for key in ("rps", "p50", "p99", "ok")}
    row["rounds"] = len(runs)
    return row


def main():
    out = sys.argv[1]
    cpu = "unknown"
    try:
        cpu = next(l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name"))
    except (OSError, StopIteration):
        pass
    print(f"Run {os.path.basename(out)} on {platform.node()}: {os.cpu_count()} cores, {cpu}, "
          f"kernel {platform.release()}, {time.strftime('%Y-%m-%d', time.gmtime())}\n")
    for mode, title in (("ka", "keep-alive"), ("new", "new connection per request")):
        base = oha_row(out, f"direct-{mode}")
        rounds = base["rounds"] if base else 1
        medians = f", median of {rounds} rounds" if rounds > 1 else ""
        print(f"### 1 KiB over HTTPS, 16 connections, {title}{medians}\n")
        print("| path | req/s | vs direct | p50 ms | p99 ms | success |")
        print("| --- | ---: | ---: | ---: | ---: | ---: |")
        for name in ("direct", "gatewayd", "gatewayd-noevents", "baseline-noevents", "squid", "mitmproxy"):
            row = oha_row(out, f"{name}-{mode}")
            if not row:
                continue
            ratio = row["rps"] / base["rps"] if base and base["rps"] else 0
            print(f"| {name} | {row['rps']:.0f} | {ratio:.2f}x | {row['p50']:.2f} | {row['p99']:.2f} | {row['ok']*100:.1f}% |")
        print()
    try:
        print(open(os.path.join(out, "events-count.txt")).read())
    except OSError:
        pass
    print("### Memory per idle intercepted connection\n")
    print("| proxy | connections | RSS before KiB | RSS after KiB | KiB per connection |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for name in ("gatewayd", "baseline", "squid", "mitmproxy"):
        data = load(os.path.join(out, f"idle-{name}.json"))
        if data and "connections" in data:
            print(f"| {name} | {data['connections']} | {data['rss_before_kib']} | {data['rss_after_kib']} | {data['kib_per_connection']} |")


if __name__ == "__main__":
    main()
