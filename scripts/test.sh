#!/usr/bin/env bash
# Runs Warden's whole test suite on a fresh Debian machine: installs what the tests drive
# (curl, Chromium), checks formatting and lints, builds gatewayd, runs every test.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh

need curl curl chromium chromium chromedriver chromium-driver

cargo fmt --all -- --check
cargo clippy --workspace --all-targets --locked -- -D warnings
cargo build --locked -p gatewayd
cargo test --locked --workspace
