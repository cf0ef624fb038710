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
