#!/usr/bin/env bash
set -euo pipefail

APP_DIR="/opt/app"
RELEASE="$(date +%Y%m%d%H%M%S)"

log() {
  echo "[$(date -Is)] $*"
}

if [ "$#" -lt 1 ]; then
  echo "usage: $0 <artifact.tar.gz>" >&2
  exit 2
fi

ARTIFACT="$1"
mkdir -p "$APP_DIR/releases/$RELEASE"
tar -xzf "$ARTIFACT" -C "$APP_DIR/releases/$RELEASE"

for dir in logs tmp uploads; do
  mkdir -p "$APP_DIR/shared/$dir"
  ln -sfn "$APP_DIR/shared/$dir" "$APP_DIR/releases/$RELEASE/$dir"
done

ln -sfn "$APP_DIR/releases/$RELEASE" "$APP_DIR/current"
sudo systemctl restart app.service
log "deployed $RELEASE"

cd "$APP_DIR/releases"
ls -1t | tail -n +6 | xargs -r rm -rf
