#!/usr/bin/env bash
# Catalog recall and false positives, measured with the shipped binary (`gatewayd catalog match`).
#
#   bench/catalog_recall.sh [--not-ai FILE]... [--exclude FILE] LIST...
#
# LIST: AI host names, one a line (`#` comments, blank lines and rule prefixes such as
# `DOMAIN-SUFFIX,` or `full:` are ignored). Each host is asked as https://HOST/; the script
# prints recall per list, over all lists (each host counted once) and the misses.
# --exclude FILE: hosts that public AI lists carry but that are not AI applications (payment,
# login, telemetry, shared cloud and CDN hosts, CNAME targets ...), one a line with the reason
# after `#`. They are left out of recall and must match no app: a match is a false positive.
# --not-ai FILE: popular non-AI hosts; every match is a false positive.
# GATEWAYD: the binary (default target/debug/gatewayd, then target/release/gatewayd).
# Exit status 1 when any false positive is found. Nothing is written outside stdout.
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
target="${CARGO_TARGET_DIR:-$root/target}"
gw="${GATEWAYD:-}"
if [[ -z "$gw" ]]; then
  for c in "$target/debug/gatewayd" "$target/release/gatewayd"; do
    [[ -x "$c" ]] && gw="$c" && break
  done
fi
[[ -n "$gw" && -x "$gw" ]] || { echo "gatewayd not found: cargo build -p gatewayd (or set GATEWAYD)" >&2; exit 2; }

exclude="" ; not_ai=() ; lists=()
while (($#)); do
  case "$1" in
    --exclude) exclude="$2"; shift 2 ;;
    --not-ai) not_ai+=("$2"); shift 2 ;;
    -*) echo "unknown option $1" >&2; exit 2 ;;
    *) lists+=("$1"); shift ;;
  esac
done

# Host names of a list: comments, rule prefixes, wildcards and paths stripped, lowercased.
hosts_of() {
  sed -e 's/#.*//' -e 's/^[A-Za-z-]*,//' -e 's/^full://' -e 's/^domain://' -e 's/,.*//' \
      -e 's/^\*\.//' -e 's|/.*||' -e 's/[[:space:]]//g' "$1" | tr 'A-Z' 'a-z' | grep -v '^$' || true
}

# One answer per host: "HOST APP" (APP is '-' when nothing matched).
match_all() {
  while read -r h; do
    if out="$("$gw" catalog match "https://$h/" --json 2>/dev/null)"; then
      app="$(sed -n 's/.*"id":"\([^"]*\)".*/\1/p' <<<"$out")"
      echo "$h ${app:--}"
    else
      echo "$h -"
    fi
  done
}

excluded="$(mktemp)"; trap 'rm -f "$excluded"' EXIT
[[ -n "$exclude" ]] && hosts_of "$exclude" | sort -u >"$excluded"

fp=0
all_hits=0; all_total=0; declare -A seen=()
for list in "${lists[@]}"; do
  mapfile -t hs < <(hosts_of "$list" | sort -u | grep -vxF -f "$excluded" || true)
  answers="$(printf '%s\n' "${hs[@]}" | match_all)"
  total=${#hs[@]}
  misses="$(awk '$2=="-"{print $1}' <<<"$answers" | tr '\n' ' ')"
  hits=$(awk '$2!="-"' <<<"$answers" | wc -l)
  printf '%-28s %4d hosts  recall %.3f  misses: %s\n' "$(basename "$list")" "$total" \
    "$(awk -v h="$hits" -v t="$total" 'BEGIN{print t?h/t:0}')" "${misses:-none}"
  while read -r h a; do
    [[ -n "$h" && -z "${seen[$h]:-}" ]] || continue
    seen[$h]=1; all_total=$((all_total + 1)); [[ "$a" != "-" ]] && all_hits=$((all_hits + 1))
  done <<<"$answers"
done
if ((${#lists[@]})); then
  printf '%-28s %4d hosts  recall %.3f\n' "all lists, each host once" "$all_total" \
    "$(awk -v h="$all_hits" -v t="$all_total" 'BEGIN{print t?h/t:0}')"
fi

check_none() {
  local name="$1" file="$2"
  local answers wrong n
  answers="$(match_all <"$file")"
  n=$(wc -l <"$file")
  wrong="$(awk '$2!="-"{print $1"->"$2}' <<<"$answers" | tr '\n' ' ')"
  printf '%-28s %4d hosts  false positives: %s\n' "$name" "$n" "${wrong:-none}"
  [[ -z "$wrong" ]] || fp=1
}
[[ -s "$excluded" ]] && check_none "$(basename "$exclude") (not AI)" "$excluded"
for f in "${not_ai[@]}"; do
  tmp="$(mktemp)"; hosts_of "$f" | sort -u >"$tmp"
  check_none "$(basename "$f")" "$tmp"; rm -f "$tmp"
done
exit $fp
