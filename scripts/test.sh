#!/usr/bin/env bash
# Runs Warden's whole test suite on a fresh Debian machine: installs what the tests drive
# (curl, Chromium, ClickHouse 18.16 and a current ClickHouse engine), checks formatting and
# lints, builds gatewayd, runs every test.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh

need curl curl chromium chromium chromedriver chromium-driver
# The fuzz targets build with every test run: libfuzzer-sys compiles libFuzzer's C++.
need c++ g++
# The upstream-retry test runs nginx as an HTTP/2 origin that sends GOAWAY every 10 requests.
need nginx nginx
# A current ClickHouse release's engine (chdb, from PyPI) for the current-release test.
need_python_module chdb chdb
# The events tests start their own clickhouse-server from Debian's package.
if [ ! -x /usr/sbin/clickhouse-server ] && [ ! -x /usr/bin/clickhouse-server ]; then
  need clickhouse-server clickhouse-server clickhouse-client clickhouse-client
fi

python3 policies/catalog/validate.py >/dev/null   # every host well formed, one app each, sources
cargo fmt --all -- --check
cargo clippy --workspace --all-targets --locked -- -D warnings
cargo build --locked -p gatewayd -p agent
cargo test --locked --workspace
