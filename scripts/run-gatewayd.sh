#!/usr/bin/env bash
# Builds gatewayd (release) and runs it on its embedded defaults: proxy on 127.0.0.1:3128,
# admin on 127.0.0.1:9090, state in ./warden-state. Extra arguments go to `gatewayd run`.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh

cargo build --locked --release -p gatewayd
exec "$CARGO_TARGET_DIR/release/gatewayd" run "$@"
