#!/usr/bin/env bash
# Start a throw-away Azurite (Microsoft's Azure Storage emulator, npm `azurite`) serving the Blob
# API on 127.0.0.1, in memory: the Azure store of the conformance suite and tests/cli/azure_test.sh.
#
#   eval "$(bash scripts/azurite-start.sh)"   # start (or find running) and load the variables
#   bash scripts/azurite-start.sh --status    # exit 0 + info if running, else 1; no side effects
#   kill "$(cat "$AZURITE_DIR/azurite.pid")"  # stop it (its data lives in memory only)
#
# One node process (azurite-blob --inMemoryPersistence --disableTelemetry: nothing leaves the
# machine), started in about a second; its log is $AZURITE_DIR/azurite.log.
#
# Environment (all optional):
#   AZURITE_DIR      state dir: pid file, log      (default /tmp/ferry-azurite)
#   AZURITE_PORT     Blob API port                 (default 10000)
#   AZURITE_PREFIX   where install-deps.sh put it  (default ~/.local/share/ferry-azurite); an
#                    azurite-blob on PATH is used first
#   AZURITE_INSTALL  1 to install it if missing (scripts/install-deps.sh azurite) (default 1)
# Credentials: Azurite's well-known development account devstoreaccount1 and its published key
# (not a secret: every Azurite has it).
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
AZURITE_DIR=${AZURITE_DIR:-/tmp/ferry-azurite}
AZURITE_PORT=${AZURITE_PORT:-10000}
AZURITE_PREFIX=${AZURITE_PREFIX:-$HOME/.local/share/ferry-azurite}
ACCOUNT=devstoreaccount1
DEV_KEY='Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=='
T0=$SECONDS
say() { printf '[azurite-start %s] %s\n' "$(date +%T)" "$*" >&2; }

info() {
  echo "FERRY_TEST_AZURE_ENDPOINT=http://127.0.0.1:$AZURITE_PORT/$ACCOUNT"
  echo "FERRY_TEST_AZURE_ACCOUNT=$ACCOUNT"
  echo "FERRY_TEST_AZURE_KEY=$DEV_KEY"
  echo "AZURITE_DIR=$AZURITE_DIR"
}
running() { [ -f "$AZURITE_DIR/azurite.pid" ] && kill -0 "$(cat "$AZURITE_DIR/azurite.pid")" 2>/dev/null; }
# Any HTTP reply (an unsigned listing is refused with 403) means the server is up.
answers() {
  local code
  code=$(curl -s -o /dev/null -m 2 -w '%{http_code}' \
    "http://127.0.0.1:$AZURITE_PORT/$ACCOUNT?comp=list" 2>/dev/null || true)
  [ -n "$code" ] && [ "$code" != 000 ]
}

if running && answers; then
  say "already running (pid $(cat "$AZURITE_DIR/azurite.pid"), port $AZURITE_PORT)"
  info; echo "AZURITE_STARTED=0"; exit 0
fi
[ "$MODE" = status ] && { say "not running"; exit 1; }

BIN=$(command -v azurite-blob || true)
[ -n "$BIN" ] || BIN=$AZURITE_PREFIX/node_modules/.bin/azurite-blob
if [ ! -x "$BIN" ]; then
  [ "${AZURITE_INSTALL:-1}" = 1 ] || { say "azurite-blob not found and AZURITE_INSTALL=0"; exit 1; }
  AZURITE_PREFIX=$AZURITE_PREFIX bash "$HERE/install-deps.sh" azurite >&2
fi
if answers; then
  say "port $AZURITE_PORT is taken by another process: set AZURITE_PORT"; exit 1
fi

mkdir -p "$AZURITE_DIR"
# --skipApiVersionCheck: ferry signs with one x-ms-version whatever Azurite's release knows
setsid "$BIN" --inMemoryPersistence --disableTelemetry --skipApiVersionCheck \
  --blobHost 127.0.0.1 --blobPort "$AZURITE_PORT" \
  >"$AZURITE_DIR/azurite.log" 2>&1 </dev/null &
echo $! >"$AZURITE_DIR/azurite.pid"
for _ in $(seq 1 300); do
  answers && break
  kill -0 "$(cat "$AZURITE_DIR/azurite.pid")" 2>/dev/null || {
    say "azurite exited:"; tail -n 20 "$AZURITE_DIR/azurite.log" >&2; exit 1; }
  sleep 0.1
done
answers || { say "azurite did not answer on port $AZURITE_PORT within 30 s"; exit 1; }
say "up in $((SECONDS - T0)) s (pid $(cat "$AZURITE_DIR/azurite.pid"), port $AZURITE_PORT)"
info
echo "AZURITE_STARTED=1"
