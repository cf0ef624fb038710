#!/usr/bin/env bash
# Fails when a crate of the workspace depends on what the architecture forbids it
# (ARCHITECTURE.md, "Invariants"): dependencies point one way, from the daemon down to the pure
# crates. Reads `cargo metadata` (the resolved graph, offline), follows normal and build
# dependencies transitively (what a crate ships with; dev-dependencies are tests' business),
# and checks every edge against the table below.
#
#   scripts/check-deps.sh            check, print the violations, exit 1 on any
#   scripts/check-deps.sh --explain  also print each crate's workspace dependencies
set -euo pipefail
cd "$(dirname "$0")/.."

cargo metadata --format-version 1 --locked --offline >"${TMPDIR:-/tmp}/warden-metadata.$$.json"
trap 'rm -f "${TMPDIR:-/tmp}/warden-metadata.$$.json"' EXIT

python3 - "${TMPDIR:-/tmp}/warden-metadata.$$.json" "${1:-}" <<'PY'
import json, sys

# Crates outside the workspace that do I/O (sockets, async runtimes, TLS, databases): the pure
# crates must not reach them even through a third crate.
IO = {"tokio", "hyper", "hyper-util", "h2", "rustls", "tokio-rustls", "hickory-resolver",
      "clickhouse", "reqwest", "mio", "socket2"}

# crate -> what it must never depend on, directly or not.
#   "@workspace"  every other crate of the workspace
#   "@io"         the crates of IO above
#   "-name"       an exception to "@workspace"
# A rule for a crate that does not exist yet (proxy, admin, report before the split) waits
# for it; it is listed so that the split lands with its check already in place.
RULES = {
    # The pure decision crates: data in, decisions out, no I/O.
    "dlp": ["@workspace", "@io"],
    "policies": ["@workspace", "-dlp", "@io"],
    # The agent's contract with the gateway, and the agent: the agent ships to devices and
    # must not carry the gateway's code.
    "agent-proto": ["@workspace", "@io"],
    "agent": ["@workspace", "-agent-proto"],
    # The provider key store: crypto and the state files only; no other part of the gateway.
    "keystore": ["@workspace", "-state-files", "-ca"],
    # The state directory's helpers serve every part of the daemon, so they use none of them.
    "state-files": ["@workspace", "-ca"],
    # The configuration's types are read by the daemon and the proxy: they use neither.
    "config": ["proxy", "admin", "report", "devices", "gatewayd"],
    # After the split of gatewayd: the data path never imports the admin plane.
    "proxy": ["admin", "report", "gatewayd"],
    "events": ["admin", "report", "proxy", "gatewayd"],
    "report": ["admin", "proxy", "gatewayd"],
    # The admin plane sees the proxy only through admin::view::ProxyView.
    "admin": ["proxy", "events", "devices", "gatewayd"],
    # The AI gateway: a second data plane beside the proxy's, with its own listener. It uses
    # the configuration, DLP, the key store, the events path and the schema, never the proxy,
    # the admin plane or the reports.
    "aigw": ["proxy", "admin", "report", "devices", "gatewayd"],
    # The agent port hands CONNECT streams to the daemon through a trait; it never imports
    # the proxy, the admin plane, the reports or the events path.
    "devices": ["admin", "report", "proxy", "events", "gatewayd"],
    # The OTLP trace exporter: a tracing layer and an HTTP client; the proxy reads its
    # counters, so it never imports the proxy (nor the planes above it).
    "otlp": ["proxy", "admin", "report", "devices", "aigw", "gatewayd"],
    # SIEM export: the configuration, the events path's records, the spool and its own
    # clients; the daemon wires its taps, so it never imports the planes or the proxy.
    "siem": ["proxy", "admin", "report", "devices", "aigw", "gatewayd"],
    # The on-box model engine: file in, tokens out; no other crate of the workspace, no I/O
    # crate (the AI gateway will use it, not the other way round).
    "inference": ["@workspace", "@io"],
    # The on-box model's loopback server: the engine and its HTTP listener; the AI gateway
    # reaches it over HTTP like any provider, so it imports no plane of the daemon.
    "local-model": ["proxy", "admin", "report", "devices", "aigw", "events", "gatewayd"],
}

meta = json.load(open(sys.argv[1]))
explain = sys.argv[2] == "--explain"
names = {p["id"]: p["name"] for p in meta["packages"]}
members = {names[i] for i in meta["workspace_members"]}
edges = {}
for node in meta["resolve"]["nodes"]:
    edges[names[node["id"]]] = {
        names[d["pkg"]]
        for d in node["deps"]
        if any(k["kind"] in (None, "build") for k in d["dep_kinds"])
    }

def reach(start):
    """Every crate `start` depends on, with one path to it (for the message)."""
    seen, todo = {start: [start]}, [start]
    while todo:
        here = todo.pop()
        for dep in sorted(edges.get(here, ())):
            if dep not in seen:
                seen[dep] = seen[here] + [dep]
                todo.append(dep)
    del seen[start]
    return seen

failures, waiting = [], []
for crate, rule in RULES.items():
    if crate not in members:
        waiting.append(crate)
        continue
    forbidden = set()
    for item in rule:
        if item == "@workspace":
            forbidden |= members - {crate}
        elif item == "@io":
            forbidden |= IO
        elif not item.startswith("-"):
            forbidden.add(item)
    forbidden -= {item[1:] for item in rule if item.startswith("-")}
    deps = reach(crate)
    if explain:
        print(f"{crate}: {', '.join(sorted(d for d in deps if d in members)) or '-'}")
    for dep in sorted(forbidden & deps.keys()):
        failures.append(f"{crate} must not depend on {dep}: {' -> '.join(deps[dep])}")

if waiting:
    print(f"dependency rules waiting for crates not yet split out: {', '.join(waiting)}")
for f in failures:
    print(f"FORBIDDEN DEPENDENCY: {f}", file=sys.stderr)
if failures:
    print("see ARCHITECTURE.md (Invariants) and the table in scripts/check-deps.sh", file=sys.stderr)
    sys.exit(1)
print(f"dependency directions hold ({len(RULES) - len(waiting)} crates checked)")
PY
