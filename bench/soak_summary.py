#!/usr/bin/env python3
"""Turns a bench/soak.sh output folder into soak.md (printed) and soak.json: gatewayd's RSS at
the early point (5 min) and at the end of the load, open files, requests per kind, unexpected
non-200s, and event rows written against responses the clients got, path by path. Exits 1
when a target is missed: RSS within 10 %, 0 events lost or duplicated, 0 unexpected
outcomes, spool drained."""

import csv
import json
import os
import platform
import sys

# (kind, path in the event rows, file with the client's counts)
KINDS = [
    ("HTTP/1.1 keep-alive (oha)", "/h1", "oha-h1.json"),
    ("HTTP/1.1 new connection per request (oha)", "/h1new", "oha-h1new.json"),
    ("HTTP/2 (oha)", "/h2", "oha-h2.json"),
    ("DLP-scanned prompts to api.openai.com", "/v1/chat/completions", "client-prompts.json"),
    ("multipart uploads", "/upload", "client-uploads.json"),
    ("WebSocket sessions", "/ws", "client-ws.json"),
    ("slow clients (trickled heads and bodies)", "/slow", "client-slow.json"),
]
RSS_TOLERANCE = 0.10


def load(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def client_counts(out, name):
    """{"status": {code: n}, "unexpected": n, "refused": n, "notes": [...]} for one kind."""
    data = load(os.path.join(out, name))
    if data is None:
        return {"status": {}, "unexpected": 1, "refused": 0, "notes": [f"{name} missing or unreadable"]}
    if name.startswith("oha-"):
        status = {str(k): int(v) for k, v in data.get("statusCodeDistribution", {}).items()}
        errors = {k: int(v) for k, v in data.get("errorDistribution", {}).items()}
        bad = sum(v for k, v in status.items() if k != "200") + sum(errors.values())
        notes = [f"{v} x {k}" for k, v in errors.items()]
        notes += [f"{v} x HTTP {k}" for k, v in status.items() if k != "200"]
        return {"status": status, "unexpected": bad, "refused": 0, "notes": notes}
    notes = [f"{v} x {k}" for k, v in data.get("unexpected_kinds", {}).items()]
    extra = {k: v for k, v in data.items() if k.startswith("ws_")}
    notes += [f"{k} {v}" for k, v in extra.items()]
    return {"status": data.get("status", {}), "unexpected": data.get("unexpected", 0),
            "refused": data.get("expected_refusals", 0), "notes": notes}


def main():
    out = sys.argv[1]
    meta = load(os.path.join(out, "meta.json")) or {}
    with open(os.path.join(out, "samples.csv")) as f:
        samples = [r for r in csv.DictReader(f) if r.get("rss_kib")]
    load_end = meta.get("load_end_s", 0)
    during = [r for r in samples if int(r["t_s"]) <= load_end] or samples
    early_at = meta.get("early_s", 300)
    early = min(during, key=lambda r: abs(int(r["t_s"]) - early_at))
    rss_early = int(early["rss_kib"])
    rss_end = int(meta.get("rss_end_kib") or during[-1]["rss_kib"])
    ratio = rss_end / rss_early if rss_early else 0.0
    stop_at, start_at = meta.get("ch_stop_sent_s", 0), meta.get("ch_started_s", 0)
    before_stop = [r for r in during if int(r["t_s"]) <= stop_at] or during[:1]
    after_replay = [r for r in during if int(r["t_s"]) >= start_at + 20] or during[-1:]
    rss_before_stop, rss_after_replay = int(before_stop[-1]["rss_kib"]), int(after_replay[0]["rss_kib"])
    max_fds = max(int(r["fds"]) for r in samples)
    max_rss = max(int(r["rss_kib"]) for r in samples)

    rows = {}
    try:
        with open(os.path.join(out, "rows.tsv")) as f:
            for line in f:
                path, status, n, unique = line.rstrip("\n").split("\t")
                rows.setdefault(path, {})[status] = (int(n), int(unique))
    except (OSError, ValueError):
        pass
    try:
        total_rows, unique_rows = map(int, open(os.path.join(out, "rows-unique.tsv")).read().split())
    except (OSError, ValueError):
        total_rows, unique_rows = 0, 0
    duplicates = total_rows - unique_rows

    kinds, lost, extra, unexpected, refused, requests, status_mismatches = [], 0, 0, 0, 0, 0, 0
    for title, path, name in KINDS:
        c = client_counts(out, name)
        expected = sum(int(v) for v in c["status"].values())
        by_status = rows.pop(path, {})
        written = sum(n for n, _ in by_status.values())
        unique = sum(u for _, u in by_status.values())
        lost += max(0, expected - unique)
        extra += max(0, unique - expected)
        # Each row must also say what the client saw: same count per status.
        logged = {st: u for st, (_, u) in by_status.items()}
        mismatched = sorted(st for st in set(logged) | set(c["status"])
                            if logged.get(st, 0) != int(c["status"].get(st, 0)))
        if mismatched:
            status_mismatches += 1
            c["notes"].append("rows by status " + json.dumps(logged) + " differ from responses")
        unexpected += c["unexpected"]
        refused += c["refused"]
        requests += expected
        kinds.append({"kind": title, "path": path, "responses": expected, "status": c["status"],
                      "expected_refusals": c["refused"], "unexpected": c["unexpected"],
                      "rows": written, "unique_rows": unique, "notes": c["notes"]})
    other_rows = sum(n for v in rows.values() for n, _ in v.values())

    dropped = 0
    try:
        for line in open(os.path.join(out, "metrics-end.txt")):
            if line.startswith("warden_events_dropped_total "):
                dropped = int(float(line.split()[1]))
    except OSError:
        pass

    targets = [
        (f"RSS at the end within {RSS_TOLERANCE:.0%} of RSS at {early_at // 60} min {early_at % 60} s",
         f"{ratio:.3f}x ({rss_early / 1024:.1f} → {rss_end / 1024:.1f} MiB)", abs(ratio - 1) <= RSS_TOLERANCE),
        ("0 events lost (responses without a row)", str(lost), lost == 0),
        ("0 events duplicated or unexplained", f"{extra} extra, {duplicates} duplicate request ids, "
         f"{other_rows} rows on other paths", extra == 0 and duplicates == 0 and other_rows == 0),
        ("0 unexpected non-200 (or failed checks, or errors)", str(unexpected), unexpected == 0),
        ("rows record the status each client got", f"{status_mismatches} kinds differ",
         status_mismatches == 0),
        ("spool drained, 0 events dropped", f"drained: {bool(meta.get('drained'))}, dropped: {dropped}",
         bool(meta.get("drained")) and dropped == 0),
        ("gatewayd still running at the end", "yes" if meta.get("gatewayd_alive") else "no",
         bool(meta.get("gatewayd_alive"))),
        ("every load process exited cleanly", str(meta.get("failed_load_processes", "?")) + " failed",
         meta.get("failed_load_processes") == 0),
    ]
    ok = all(t[2] for t in targets)

    print(f"# Soak {os.path.basename(out)}\n")
    print(f"{platform.node()}: {os.cpu_count()} cores, kernel {platform.release()}; commit "
          f"{meta.get('commit', '?')}; load average at the end {meta.get('load_average', '?')}.\n")
    print(f"Load for {meta.get('duration_s', '?')} s; ClickHouse stopped at t={meta.get('ch_stopped_s')} s "
          f"and back at t={meta.get('ch_started_s')} s; load ended at t={load_end} s, spool drained by "
          f"t={meta.get('drain_end_s')} s.\n")
    print("| target | measured | |\n| --- | --- | --- |")
    for name, value, met in targets:
        print(f"| {name} | {value} | {'met' if met else '**missed**'} |")
    print(f"\n## Memory and open files (every 10 s, {len(samples)} samples)\n")
    print("| | value |\n| --- | ---: |")
    print(f"| RSS at t={early['t_s']} s | {rss_early / 1024:.1f} MiB |")
    print(f"| RSS at the end of the load (t={load_end} s) | {rss_end / 1024:.1f} MiB |")
    print(f"| end / early | {ratio:.3f} |")
    print(f"| RSS just before ClickHouse was stopped (t={before_stop[-1]['t_s']} s) | {rss_before_stop / 1024:.1f} MiB |")
    print(f"| RSS after the spool was replayed (t={after_replay[0]['t_s']} s) | {rss_after_replay / 1024:.1f} MiB |")
    print(f"| end / after replay (growth at steady load after the outage) | "
          f"{rss_end / rss_after_replay if rss_after_replay else 0:.3f} |")
    print(f"| highest RSS sampled | {max_rss / 1024:.1f} MiB |")
    print(f"| peak RSS (VmHWM) | {int(samples[-1]['hwm_kib']) / 1024:.1f} MiB |")
    print(f"| open files at t={early['t_s']} s, at the end, most | {early['fds']}, {during[-1]['fds']}, {max_fds} |")
    print("\n## Requests and events\n")
    print("| kind | path | responses | by status | expected refusals | unexpected | event rows "
          "| distinct request ids | lost | duplicated |")
    print("| --- | --- | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for k in kinds:
        statuses = ", ".join(f"{s}: {n}" for s, n in sorted(k["status"].items()))
        print(f"| {k['kind']} | `{k['path']}` | {k['responses']} | {statuses} | {k['expected_refusals']} | "
              f"{k['unexpected']} | {k['rows']} | {k['unique_rows']} | {k['responses'] - k['unique_rows']} "
              f"| {k['rows'] - k['unique_rows']} |")
    print(f"| **total** | | {requests} | | {refused} | {unexpected} | {total_rows - other_rows} | "
          f"{unique_rows} | {lost} | {duplicates} |")
    notes = [f"- {k['kind']}: " + "; ".join(k["notes"]) for k in kinds if k["notes"]]
    if notes:
        print("\nNotes:\n" + "\n".join(notes))
    if rows:
        print(f"\nRows on other paths: {json.dumps(rows)}")
    print(f"\nResult: {'all targets met' if ok else 'TARGETS MISSED'}.")
    with open(os.path.join(out, "soak.json"), "w") as f:
        json.dump({"ok": ok, "rss_early_kib": rss_early, "rss_end_kib": rss_end, "rss_ratio": ratio,
                   "rss_before_stop_kib": rss_before_stop,
                   "rss_after_replay_kib": rss_after_replay, "max_fds": max_fds, "requests": requests, "expected_refusals": refused,
                   "unexpected": unexpected, "rows": total_rows, "lost": lost, "extra": extra,
                   "duplicates": duplicates, "dropped": dropped, "kinds": kinds, "meta": meta}, f, indent=1)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
