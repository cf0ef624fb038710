#!/usr/bin/env bash
# Builds gatewayd (release) and runs it on its embedded defaults: proxy on 127.0.0.1:3128,
# admin on 127.0.0.1:9090, state in ./warden-state, events into ClickHouse on 127.0.0.1:8123.
# When no ClickHouse answers there, a local one is installed (Debian package) and started with
# its data in ./warden-state/clickhouse. Extra arguments go to `gatewayd run`.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh

need curl curl
if ! curl -fsS http://127.0.0.1:8123/ping >/dev/null 2>&1; then
  [ -x /usr/sbin/clickhouse-server ] || [ -x /usr/bin/clickhouse-server ] || need clickhouse-server clickhouse-server
  root="$PWD/warden-state/clickhouse"
  mkdir -p "$root/logs" "$root/data" "$root/tmp" "$root/user_files" "$root/format_schemas"
  sed "s#@ROOT@#$root#g; s#@HTTP_PORT@#8123#; s#@TCP_PORT@#9000#" deploy/clickhouse/local-config.xml > "$root/config.xml"
  cp deploy/clickhouse/local-users.xml "$root/users.xml"
  server=$(command -v clickhouse-server || echo /usr/sbin/clickhouse-server)
  echo "starting ClickHouse (data in $root)" >&2
  nohup "$server" --config-file="$root/config.xml" > "$root/logs/stdout.log" 2>&1 &
  for _ in $(seq 1 100); do
    curl -fsS http://127.0.0.1:8123/ping >/dev/null 2>&1 && break
    sleep 0.2
  done
fi

cargo build --locked --release -p gatewayd
exec "$CARGO_TARGET_DIR/release/gatewayd" run "$@"
