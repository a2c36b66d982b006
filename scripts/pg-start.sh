#!/usr/bin/env bash
# Start a throw-away PostgreSQL on 127.0.0.1 for ferry's tests (fsync off: the data is thrown away).
#
#   eval "$(bash scripts/pg-start.sh)"     # -> PG_URL=postgresql://ferry:ferry@127.0.0.1:55432/ferry
#   bash scripts/pg-start.sh --status      # no side effects: exit 0 + PG_URL if running, else 1
#   bash scripts/pg-stop.sh                # stop it and delete its data
#
# Idempotent: if the server under $PG_DIR is running it only prints PG_URL (PG_STARTED=0).
# PostgreSQL refuses to run as root, so when run as root the cluster belongs to the 'postgres'
# system user (created by the Debian package).
# Environment: PG_DIR (default /tmp/ferry-pg), PG_PORT (default 55432),
#              PG_INSTALL (1: install postgresql with scripts/install-deps.sh pg if missing; default 1).
# Output: KEY=VALUE lines on stdout (eval-able); progress on stderr.
set -euo pipefail

MODE=start
case ${1:-} in
  "") ;;
  --status) MODE=status ;;
  *) echo "usage: $0 [--status]" >&2; exit 2 ;;
esac
HERE=$(cd "$(dirname "$0")" && pwd)
PG_DIR=${PG_DIR:-/tmp/ferry-pg}
PG_PORT=${PG_PORT:-55432}
URL="postgresql://ferry:ferry@127.0.0.1:$PG_PORT/ferry"

log() { printf '[pg-start %s] %s\n' "$(date +%T)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }
# newest installed server version (Debian installs it under /usr/lib/postgresql/<major>/bin)
bindir() { find /usr/lib/postgresql -mindepth 2 -maxdepth 2 -name bin -type d 2>/dev/null | sort -V | tail -n 1; }
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
print_info() { echo "PG_URL=$URL"; echo "PG_DIR=$PG_DIR"; echo "PG_STARTED=$1"; }

BIN=$(bindir)
if [ -n "$BIN" ] && [ -f "$PG_DIR/data/postmaster.pid" ] \
   && as_pg "$BIN/pg_ctl" -D "$PG_DIR/data" status >/dev/null 2>&1; then
  log "already running under $PG_DIR"
  print_info 0
  exit 0
fi
if [ "$MODE" = status ]; then
  log "not running under $PG_DIR"
  exit 1
fi

if [ -z "$BIN" ]; then
  [ "${PG_INSTALL:-1}" = 1 ] || die "postgresql missing and PG_INSTALL=0"
  log "installing postgresql"
  bash "$HERE/install-deps.sh" pg >&2
  BIN=$(bindir)
  [ -n "$BIN" ] || die "postgresql server binaries not found under /usr/lib/postgresql"
fi

if [ -d "$PG_DIR" ]; then
  # wipe only an empty dir or one this script made: a mistyped PG_DIR must not cost anyone files
  if [ -n "$(ls -A "$PG_DIR")" ] && [ ! -f "$PG_DIR/data/PG_VERSION" ]; then
    die "$PG_DIR exists, is not empty and holds no PostgreSQL data dir: not a state dir of this script"
  fi
  log "stale state in $PG_DIR: stopping leftovers and wiping it"
  PG_DIR=$PG_DIR bash "$HERE/pg-stop.sh" >&2 || true
  rm -rf "$PG_DIR"
fi
if timeout 2 bash -c "exec 3<>/dev/tcp/127.0.0.1/$PG_PORT" 2>/dev/null; then
  die "port $PG_PORT on 127.0.0.1 is already in use by another process (set PG_PORT)"
fi

mkdir -p "$PG_DIR"
[ "$(id -u)" = 0 ] && chown postgres:postgres "$PG_DIR"
as_pg "$BIN/initdb" -D "$PG_DIR/data" -U postgres -A trust --no-sync >/dev/null
cat >> "$PG_DIR/data/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
port = $PG_PORT
unix_socket_directories = '$PG_DIR'
fsync = off
synchronous_commit = off
full_page_writes = off
max_connections = 200
CONF
if ! as_pg "$BIN/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/log" -w start >/dev/null; then
  tail -n 20 "$PG_DIR/log" >&2 || true
  die "PostgreSQL did not start (log: $PG_DIR/log)"
fi
as_pg "$BIN/psql" -h 127.0.0.1 -p "$PG_PORT" -U postgres -q -v ON_ERROR_STOP=1 \
  -c "CREATE ROLE ferry LOGIN PASSWORD 'ferry'" -c "CREATE DATABASE ferry OWNER ferry"
log "ready on 127.0.0.1:$PG_PORT"
print_info 1
