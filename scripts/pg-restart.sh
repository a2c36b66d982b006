#!/usr/bin/env bash
# Restart the throw-away PostgreSQL of scripts/pg-start.sh in place (same data, same port):
# used by tests that prove ferry's workers reconnect to a restarted state store.
set -euo pipefail
PG_DIR=${PG_DIR:-/tmp/ferry-pg}
BIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
[ -n "$BIN" ] && [ -f "$PG_DIR/data/PG_VERSION" ] || { echo "no cluster under $PG_DIR" >&2; exit 1; }
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
as_pg "$BIN/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/log" -m fast -w restart >/dev/null
