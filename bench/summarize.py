#!/usr/bin/env python3
"""Turns a bench/run.sh output folder into the Markdown table kept in BENCHMARKS.md."""

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


def oha_row(out, name):
    data = load(os.path.join(out, f"oha-{name}.json"))
    if not data:
        return None
    summary = data.get("summary", {})
    pct = data.get("latencyPercentiles", {})
    ok = summary.get("successRate", 0)
    return {
        "rps": summary.get("requestsPerSec", 0.0),
        "p50": (pct.get("p50") or 0) * 1000,
        "p99": (pct.get("p99") or 0) * 1000,
        "ok": ok,
    }


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
        print(f"### 1 KiB over HTTPS, 16 connections, {title}\n")
        print("| path | req/s | vs direct | p50 ms | p99 ms | success |")
        print("| --- | ---: | ---: | ---: | ---: | ---: |")
        for name in ("direct", "gatewayd", "gatewayd-noevents", "squid", "mitmproxy"):
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
    for name in ("gatewayd", "squid", "mitmproxy"):
        data = load(os.path.join(out, f"idle-{name}.json"))
        if data and "connections" in data:
            print(f"| {name} | {data['connections']} | {data['rss_before_kib']} | {data['rss_after_kib']} | {data['kib_per_connection']} |")


if __name__ == "__main__":
    main()
