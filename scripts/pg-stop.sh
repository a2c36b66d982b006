#!/usr/bin/env bash
# Stop the throw-away PostgreSQL started by scripts/pg-start.sh and delete its data.
# Safe: pg_ctl stops only the postmaster that owns $PG_DIR/data (it reads postmaster.pid there),
# and the dir is removed only if it is a PostgreSQL data dir made by pg-start.sh (or empty).
# Stopping something that is not running is not an error.
# Environment: PG_DIR (default /tmp/ferry-pg); PG_KEEP=1 keeps the data dir and log.
# No `set -e`: a stop must go on when one step fails.
set -uo pipefail
PG_DIR=${PG_DIR:-/tmp/ferry-pg}
log() { printf '[pg-stop %s] %s\n' "$(date +%T)" "$*" >&2; }
BIN=$(find /usr/lib/postgresql -mindepth 2 -maxdepth 2 -name bin -type d 2>/dev/null | sort -V | tail -n 1)
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

if [ -n "$BIN" ] && [ -f "$PG_DIR/data/postmaster.pid" ]; then
  log "stopping PostgreSQL under $PG_DIR"
  # -m fast: disconnect clients at once; the data is thrown away anyway
  as_pg "$BIN/pg_ctl" -D "$PG_DIR/data" -m fast -w -t 30 stop >/dev/null 2>&1 \
    || log "pg_ctl stop failed (see $PG_DIR/log)"
fi
if [ "${PG_KEEP:-0}" != 1 ] && [ -d "$PG_DIR" ]; then
  if [ -f "$PG_DIR/data/PG_VERSION" ] || [ -z "$(ls -A "$PG_DIR")" ]; then
    rm -rf "$PG_DIR"
    log "removed $PG_DIR"
  else
    log "not removing $PG_DIR: not a state dir of pg-start.sh"
  fi
fi
exit 0
