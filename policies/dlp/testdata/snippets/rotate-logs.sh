#!/usr/bin/env bash
# rotate logs older than a week
LOG_DIR="${1:-/var/log/myapp}"
find "$LOG_DIR" -name '*.log' -mtime +7 -print0 | xargs -0 gzip -9
if [ "$(ls -A "$LOG_DIR"/*.gz 2>/dev/null | wc -l)" -gt 100 ]; then
  ls -t "$LOG_DIR"/*.gz | tail -n +101 | xargs rm -f
fi
