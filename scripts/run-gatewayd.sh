#!/usr/bin/env bash
# Builds gatewayd (release) and runs it: proxy on 127.0.0.1:3128, admin on 127.0.0.1:9090, state
# in ./warden-state, events into ClickHouse on 127.0.0.1:8123.
# When no ClickHouse answers there, a local one is installed (Debian package) and started with
# its data in ./warden-state/clickhouse and two users with generated passwords (0600 files in
# ./warden-state): `warden` writes events, `warden_reader` (read-only, `warden` database only)
# runs reports and the log explorer. gatewayd then runs with ./warden-state/quickstart.toml,
# which names them. Extra arguments go to `gatewayd run`.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh

need curl curl
state="$PWD/warden-state"
mkdir -p "$state"
chmod 700 "$state"

if ! curl -fsS http://127.0.0.1:8123/ping >/dev/null 2>&1; then
  quickstart_clickhouse "$state" 8123 9000
fi

config=()
if [ -s "$state/clickhouse-password" ] && [[ " $* " != *" --config "* ]]; then
  # Paths in a config file are relative to it: state.dir "." is ./warden-state.
  cat > "$state/quickstart.toml" <<'TOML'
# Written by scripts/run-gatewayd.sh: the quickstart ClickHouse's users (passwords beside this file).
[state]
dir = "."

[clickhouse]
user = "warden"
password_file = "clickhouse-password"
reader_user = "warden_reader"
reader_password_file = "clickhouse-reader-password"
TOML
  config=(--config "$state/quickstart.toml")
fi

echo "building gatewayd (release): the first build takes 10-20 minutes on a small machine" >&2
cargo build --locked --release -p gatewayd
bin="$CARGO_TARGET_DIR/release"
hint=""
[ ${#config[@]} -eq 0 ] || hint=" with --config warden-state/quickstart.toml"
cat >&2 <<EOF
gatewayd is $bin/gatewayd. For its other commands, in another shell:
  export PATH="$bin:\$PATH"; cd $PWD   # commands read ./warden-state$hint
ClickHouse, if this script started it, keeps running after gatewayd stops (127.0.0.1:8123 and
:9000, loopback only); stop it with: kill \$(cat $state/clickhouse/server.pid)
EOF
exec "$bin/gatewayd" run "${config[@]}" "$@"
