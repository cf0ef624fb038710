#!/bin/sh
set -eu
SRC=/var/lib/app
DEST=/mnt/backup/$(date +%F)
mkdir -p "$DEST"
for f in "$SRC"/*.db; do
  cp "$f" "$DEST"/
done
tar czf "$DEST.tar.gz" -C "$DEST" .
echo "backup done: $DEST"
