"""Summary of a bench/aigw.sh run: reads its results.jsonl (one JSON line per aigw-load run)
and prints markdown tables. A gateway's "added" figure is paired by round (its run minus the
direct run of the same round, with the same load) and the median of those differences is
shown, with the rounds' values beside it; a single pass (the rate sweep) is shown as is.

  python3 bench/aigw_summary.py OUT/results.jsonl COMMIT > OUT/summary.md
"""
import json
import statistics
import sys
from collections import defaultdict

rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
commit = sys.argv[2] if len(sys.argv) > 2 else "?"
runs = defaultdict(list)  # (label, mode, rate) -> runs in order
for r in rows:
    runs[(r["label"], r["mode"], r.get("rate"))].append(r)


def ms(us):
    return f"{us / 1000:.2f}"


def med(values):
    return statistics.median(values) if values else float("nan")


def paired(label, mode, rate, field):
    """Per-round differences label - direct, for field."""
    a, d = runs.get((label, mode, rate), []), runs.get(("direct", mode, rate), [])
    return [x[field] - y[field] for x, y in zip(a, d)]


def cell(values):
    if not values:
        return "–"
    return f"**{ms(med(values))}** ({', '.join(ms(v) for v in values)})"


def fmed(label, mode, rate, field):
    v = [r[field] for r in runs.get((label, mode, rate), []) if field in r]
    return med(v) if v else float("nan")


print(f"# bench/aigw.sh — commit {commit}\n")
print("Milliseconds; **median** over rounds (each round's value in brackets). 'added' = the")
print("gateway's run minus the direct run of the same round, under the same load.\n")

print("## Added latency, non-streamed calls\n")
print("| load | gateway | direct p50 | gateway p50 | added p50 | direct p99 | gateway p99 | added p99 | errors |")
print("| --- | --- | ---: | ---: | --- | ---: | ---: | --- | ---: |")
for mode, rate, name in [("seq", None, "concurrency 1"), ("fixed", 100.0, "100 req/s"),
                         ("fixed", 1000.0, "1,000 req/s"), ("fixed", 5000.0, "5,000 req/s")]:
    for gw in ("gatewayd", "litellm"):
        if not runs.get((gw, mode, rate)):
            continue
        d_has = bool(runs.get(("direct", mode, rate)))
        errs = sum(r["errors"] + r.get("not_sent", 0) for r in runs[(gw, mode, rate)])
        print(f"| {name} | {gw} | {ms(fmed('direct', mode, rate, 'latency_p50_us')) if d_has else '–'} "
              f"| {ms(fmed(gw, mode, rate, 'latency_p50_us'))} "
              f"| {cell(paired(gw, mode, rate, 'latency_p50_us')) if d_has else '–'} "
              f"| {ms(fmed('direct', mode, rate, 'latency_p99_us')) if d_has else '–'} "
              f"| {ms(fmed(gw, mode, rate, 'latency_p99_us'))} "
              f"| {cell(paired(gw, mode, rate, 'latency_p99_us')) if d_has else '–'} | {errs} |")
# LiteLLM at 100 req/s has no direct run at that rate: read it against direct at 1,000 req/s
# (an upper bound of the direct path's latency at 100).
if runs.get(("litellm", "fixed", 100.0)):
    print("\nLiteLLM at 100 req/s has no direct run at 100 req/s; the direct path's latency at "
          "1,000 req/s (above) bounds it.")
if runs.get(("litellm", "fixed", 1000.0)):
    r = runs[("litellm", "fixed", 1000.0)][0]
    print(f"\nLiteLLM at 1,000 req/s (5 s, once): {r['ok']} of {r['calls']} answered, "
          f"{r['ok_per_s']:.0f} ok/s, p50 {ms(r['latency_p50_us'])} ms, p99 {ms(r['latency_p99_us'])} ms, "
          f"{r['errors']} errors or timeouts, {r.get('not_sent', 0)} not sent, {r.get('unfinished', 0)} unfinished.")

print("\n## Throughput (closed loop, 64 calls in flight; load generator and mock on the same cores)\n")
print("| path | calls/s (median; rounds) | p50 | p99 |")
print("| --- | --- | ---: | ---: |")
for label in ("direct", "gatewayd", "litellm"):
    rs = runs.get((label, "max", None), [])
    if rs:
        v = [r["ok_per_s"] for r in rs]
        print(f"| {label} | **{med(v):,.0f}** ({', '.join(f'{x:,.0f}' for x in v)}) "
              f"| {ms(fmed(label, 'max', None, 'latency_p50_us'))} | {ms(fmed(label, 'max', None, 'latency_p99_us'))} |")
g, l = runs.get(("gatewayd", "max", None), []), runs.get(("litellm", "max", None), [])
if g and l:
    # LiteLLM may answer nothing within the timeout under 64 calls at a time: then its best
    # rate of the run (any phase) is the fairer divisor, and it is named.
    best_l = max((r["ok_per_s"], r["mode"]) for r in rows if r["label"] == "litellm" and "ok_per_s" in r)
    ratios = [a["ok_per_s"] / b["ok_per_s"] for a, b in zip(g, l) if b["ok_per_s"] > 0]
    if ratios:
        print(f"\ngatewayd / LiteLLM, same phase: **{med(ratios):.1f}x** ({', '.join(f'{x:.1f}' for x in ratios)})")
    print(f"\ngatewayd's median here / LiteLLM's best rate of the whole run ({best_l[0]:.1f} calls/s, "
          f"phase {best_l[1]}): **{med([a['ok_per_s'] for a in g]) / max(best_l[0], 1e-9):.0f}x**")

print("\n## Streams (64 deltas 20 ms apart, open loop)\n")
print("| path | TTFT p50 | TTFT p99 | added TTFT p50 | added TTFT p99 | gap p50 | gap p99 | gap max | gaps < 5 ms | streams not 64 deltas | errors |")
print("| --- | ---: | ---: | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |")
for label in ("direct", "gatewayd", "litellm"):
    rs = [r for (lb, mode, _), v in runs.items() if lb == label and mode == "stream" for r in v]
    if not rs:
        continue
    d = [r for (lb, mode, _), v in runs.items() if lb == "direct" and mode == "stream" for r in v]
    add50 = [a["ttft_p50_us"] - b["ttft_p50_us"] for a, b in zip(rs, d)] if label != "direct" else []
    add99 = [a["ttft_p99_us"] - b["ttft_p99_us"] for a, b in zip(rs, d)] if label != "direct" else []
    m = lambda f: med([r[f] for r in rs])
    print(f"| {label} | {ms(m('ttft_p50_us'))} | {ms(m('ttft_p99_us'))} | {cell(add50)} | {cell(add99)} "
          f"| {ms(m('gap_p50_us'))} | {ms(m('gap_p99_us'))} | {ms(m('gap_max_us'))} "
          f"| {sum(r['gaps_under_5ms'] for r in rs)} of {sum(r['gap_n'] for r in rs)} "
          f"| {sum(r['streams_not_64_deltas'] for r in rs)} | {sum(r['errors'] for r in rs)} |")

sweep_d = [r for r in rows if r["label"] == "sweep-direct"]
sweep_g = [r for r in rows if r["label"] == "sweep-gatewayd"]
if sweep_g:
    print("\n## Rate sweep (one pass, 5 s per rate, direct then gatewayd)\n")
    print("| rate | direct p99 | gatewayd p50 | gatewayd p99 | added p99 | gatewayd ok/s | errors + not sent |")
    print("| ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    best = None
    for d, g in zip(sweep_d, sweep_g):
        added = g["latency_p99_us"] - d["latency_p99_us"]
        bad = g["errors"] + g["not_sent"]
        kept = not bad and g["ok_per_s"] >= 0.95 * g["rate"]
        if kept and added < 5000:
            best = g["rate"]
        print(f"| {g['rate']:,.0f} | {ms(d['latency_p99_us'])} | {ms(g['latency_p50_us'])} | {ms(g['latency_p99_us'])} "
              f"| {ms(added)} | {g['ok_per_s']:,.0f} | {bad} |")
    print(f"\nHighest rate with added p99 under 5 ms (and the rate kept, no errors): **{best:,.0f} req/s**"
          if best else "\nNo rate kept added p99 under 5 ms.")

print("\n## Resident memory (MB)\n")
print("| process | idle after start | idle after the load | restarted, idle | with N open streams (N) |")
print("| --- | ---: | ---: | ---: | ---: |")
for label in ("gatewayd", "litellm"):
    fresh = runs.get((label, "idle-fresh", None), [{}])[0].get("rss_kb")
    idle = runs.get((label, "idle", None), [{}])[0].get("rss_kb")
    after = runs.get((label, "idle-after", None), [{}])[0].get("rss_kb")
    hold = runs.get((label, "hold", None), [{}])[0]
    if idle is None:
        continue
    f = lambda kb: f"{kb / 1024:.1f}" if kb is not None else "–"
    n = f"{hold.get('open', '?')} of {hold.get('streams', '?')} open" if hold else "–"
    print(f"| {label} | {f(idle)} | {f(after)} | {f(fresh)} | {f(hold.get('rss_kb'))} ({n}) |")
