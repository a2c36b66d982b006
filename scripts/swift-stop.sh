#!/usr/bin/env bash
# Stop the Swift started by scripts/swift-start.sh (only processes whose pid files are under
# $SWIFT_DIR and whose command line names that dir or its pid file) and wipe its state.
#   SWIFT_DIR (default /tmp/ferry-swift); SWIFT_KEEP=1 keeps the state dir.
set -uo pipefail
SWIFT_DIR=${SWIFT_DIR:-/tmp/ferry-swift}
for d in proxy object container account memcached; do
  pidfile=$SWIFT_DIR/run/$d.pid
  [ -f "$pidfile" ] || continue
  pid=$(cat "$pidfile")
  [ -r "/proc/$pid/cmdline" ] || continue
  tr '\0' ' ' < "/proc/$pid/cmdline" | grep -qF "$SWIFT_DIR" || continue
  kill -TERM "$pid" 2>/dev/null
  for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$pid" 2>/dev/null || true
  printf '[swift-stop] stopped %s (pid %s)\n' "$d" "$pid" >&2
done
[ "${SWIFT_KEEP:-0}" = 1 ] || rm -rf "$SWIFT_DIR"
exit 0
