#!/usr/bin/env bash
# Shared helpers for Warden's scripts: root-or-sudo, and installing Debian packages only when
# the commands they provide are missing (apt-get update runs at most once per script).

WARDEN_APT_UPDATED=${WARDEN_APT_UPDATED:-0}

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

# need COMMAND PACKAGE [COMMAND PACKAGE ...]
need() {
  local missing=()
  while [ $# -gt 0 ]; do
    command -v "$1" >/dev/null 2>&1 || missing+=("$2")
    shift 2
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ "$WARDEN_APT_UPDATED" -eq 0 ]; then
    as_root apt-get update -qq
    WARDEN_APT_UPDATED=1
  fi
  echo "installing: ${missing[*]}" >&2
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
}

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/warden/target}"

# need_python_module MODULE PIP_PACKAGE: installs the package from PyPI for the user when
# python3 cannot import MODULE (pip from Debian's python3-pip when missing).
need_python_module() {
  need python3 python3
  python3 -c "import $1" >/dev/null 2>&1 && return 0
  python3 -m pip --version >/dev/null 2>&1 || need pip3 python3-pip
  echo "installing from PyPI: $2" >&2
  python3 -m pip install --quiet --user "$2" 2>/dev/null \
    || python3 -m pip install --quiet --user --break-system-packages "$2"
}

# quickstart_clickhouse STATE_DIR HTTP_PORT TCP_PORT: starts clickhouse-server (installing it
# when missing) with its data in STATE_DIR/clickhouse and the users of
# deploy/clickhouse/local-users.xml: no passwordless user; `warden` and `warden_reader` get
# passwords generated once into STATE_DIR/clickhouse-password and
# STATE_DIR/clickhouse-reader-password (0600, kept across runs). Waits until it answers; its
# pid is written to STATE_DIR/clickhouse/server.pid.
quickstart_clickhouse() {
  local state=$1 http=$2 tcp=$3
  local repo root server
  repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
  root="$state/clickhouse"
  [ -x /usr/sbin/clickhouse-server ] || [ -x /usr/bin/clickhouse-server ] || need clickhouse-server clickhouse-server
  mkdir -p "$root/logs" "$root/data" "$root/tmp" "$root/user_files" "$root/format_schemas"
  chmod 700 "$state"
  local name
  for name in clickhouse-password clickhouse-reader-password; do
    [ -s "$state/$name" ] || (umask 077; head -c 24 /dev/urandom | base64 | tr -d '/+=\n' > "$state/$name")
  done
  local writer_hash reader_hash
  writer_hash=$(tr -d '\n' < "$state/clickhouse-password" | sha256sum | cut -d' ' -f1)
  reader_hash=$(tr -d '\n' < "$state/clickhouse-reader-password" | sha256sum | cut -d' ' -f1)
  sed "s#@ROOT@#$root#g; s#@HTTP_PORT@#$http#; s#@TCP_PORT@#$tcp#" "$repo/deploy/clickhouse/local-config.xml" > "$root/config.xml"
  (umask 077; sed "s#@WRITER_SHA256@#$writer_hash#; s#@READER_SHA256@#$reader_hash#" \
    "$repo/deploy/clickhouse/local-users.xml" > "$root/users.xml")
  server=$(command -v clickhouse-server || echo /usr/sbin/clickhouse-server)
  echo "starting ClickHouse on 127.0.0.1:$http (data in $root; passwords in $state/clickhouse-*password)" >&2
  # Its own session (so its own process group): Ctrl-C in the terminal that runs the script
  # stops gatewayd, not this ClickHouse, which keeps running as the README says.
  need setsid util-linux
  setsid nohup "$server" --config-file="$root/config.xml" > "$root/logs/stdout.log" 2>&1 < /dev/null &
  echo $! > "$root/server.pid"
  for _ in $(seq 1 100); do
    curl -fsS "http://127.0.0.1:$http/ping" >/dev/null 2>&1 && return 0
    sleep 0.2
  done
  echo "ClickHouse did not answer on 127.0.0.1:$http; see $root/logs" >&2
  return 1
}
