#!/usr/bin/env bash
# Start a throw-away Cloud Storage emulator (firebase-tools' storage emulator, npm, pinned 13.35.1)
# serving the GCS JSON API on 127.0.0.1, in memory: the GCS store of the conformance suite and
# tests/cli/gcs_test.sh (docs/design/gcs.md).
#
#   eval "$(bash scripts/gcs-emulator-start.sh)"   # start (or find running) and load the variables
#   bash scripts/gcs-emulator-start.sh --status    # exit 0 + info if running, else 1; no side effects
#   kill "$(cat "$GCS_EMULATOR_DIR/gcs-emulator.pid")"   # stop it (its data lives in memory only)
#
# One node process running scripts/gcs-emulator/launch.js: only the emulator's HTTP app, without
# the security-rules runtime (a JAR firebase-tools downloads from Google at first start, which
# needs Java 21 for the latest firebase-tools and a network we do not have); no bucket needs
# creating (the emulator makes one at its first request), no token is checked. Up in about a
# second; its log is $GCS_EMULATOR_DIR/gcs-emulator.log, its staging files under
# $GCS_EMULATOR_DIR/tmp.
#
# Environment (all optional):
#   GCS_EMULATOR_DIR      state dir: pid file, log, staging files  (default /tmp/ferry-gcs-emulator)
#   GCS_EMULATOR_PORT     JSON API port                            (default 9199)
#   GCS_EMULATOR_PREFIX   where install-deps.sh put it (default ~/.local/share/ferry-gcs-emulator)
#   GCS_EMULATOR_INSTALL  1 to install it if missing (scripts/install-deps.sh gcs) (default 1)
# Output: KEY=VALUE lines on stdout; progress on stderr.
set -euo pipefail

MODE=start
case ${1:-} in
  "") ;;
  --status) MODE=status ;;
  -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
  *) echo "usage: $0 [--status]" >&2; exit 2 ;;
esac

HERE=$(cd "$(dirname "$0")" && pwd)
GCS_EMULATOR_DIR=${GCS_EMULATOR_DIR:-/tmp/ferry-gcs-emulator}
GCS_EMULATOR_PORT=${GCS_EMULATOR_PORT:-9199}
GCS_EMULATOR_PREFIX=${GCS_EMULATOR_PREFIX:-$HOME/.local/share/ferry-gcs-emulator}
TOOLS=$GCS_EMULATOR_PREFIX/node_modules/firebase-tools
T0=$SECONDS
say() { printf '[gcs-emulator-start %s] %s\n' "$(date +%T)" "$*" >&2; }

info() {
  echo "FERRY_TEST_GCS_ENDPOINT=http://127.0.0.1:$GCS_EMULATOR_PORT"
  echo "GCS_EMULATOR_DIR=$GCS_EMULATOR_DIR"
}
running() {
  [ -f "$GCS_EMULATOR_DIR/gcs-emulator.pid" ] &&
    kill -0 "$(cat "$GCS_EMULATOR_DIR/gcs-emulator.pid")" 2>/dev/null
}
# The bucket listing answers 200 on the emulator (any HTTP reply means the port is taken).
answers() {
  local code
  code=$(curl -s -o /dev/null -m 2 -w '%{http_code}' \
    "http://127.0.0.1:$GCS_EMULATOR_PORT/storage/v1/b" 2>/dev/null || true)
  [ -n "$code" ] && [ "$code" != 000 ]
}

if running && answers; then
  say "already running (pid $(cat "$GCS_EMULATOR_DIR/gcs-emulator.pid"), port $GCS_EMULATOR_PORT)"
  info; echo "GCS_EMULATOR_STARTED=0"; exit 0
fi
[ "$MODE" = status ] && { say "not running"; exit 1; }

if [ ! -f "$TOOLS/lib/emulator/storage/server.js" ]; then
  [ "${GCS_EMULATOR_INSTALL:-1}" = 1 ] || { say "$TOOLS not found and GCS_EMULATOR_INSTALL=0"; exit 1; }
  GCS_EMULATOR_PREFIX=$GCS_EMULATOR_PREFIX bash "$HERE/install-deps.sh" gcs >&2
fi
if answers; then
  say "port $GCS_EMULATOR_PORT is taken by another process: set GCS_EMULATOR_PORT"; exit 1
fi

mkdir -p "$GCS_EMULATOR_DIR/tmp"
# TMPDIR: the emulator's staging files (os.tmpdir()/firebase/storage/blobs) stay in our dir
TMPDIR=$GCS_EMULATOR_DIR/tmp setsid node "$HERE/gcs-emulator/launch.js" "$TOOLS" \
  "$GCS_EMULATOR_PORT" >"$GCS_EMULATOR_DIR/gcs-emulator.log" 2>&1 </dev/null &
echo $! >"$GCS_EMULATOR_DIR/gcs-emulator.pid"
for _ in $(seq 1 300); do
  answers && break
  kill -0 "$(cat "$GCS_EMULATOR_DIR/gcs-emulator.pid")" 2>/dev/null || {
    say "the emulator exited:"; tail -n 20 "$GCS_EMULATOR_DIR/gcs-emulator.log" >&2; exit 1; }
  sleep 0.1
done
answers || { say "the emulator did not answer on port $GCS_EMULATOR_PORT within 30 s"; exit 1; }
say "up in $((SECONDS - T0)) s (pid $(cat "$GCS_EMULATOR_DIR/gcs-emulator.pid"), port $GCS_EMULATOR_PORT)"
info
echo "GCS_EMULATOR_STARTED=1"
