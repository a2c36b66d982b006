#!/usr/bin/env bash
# Benchmark: continuous replication on the RGW pair, region A -> region B.
#   ferry    `ferry serve` fed by the source bucket's notifications (`ferry events setup`;
#            persistent topic unless BENCH_PERSISTENT=0), BENCH_OBJECTS objects written at
#            BENCH_RATE/s
#   rclone   the best a user can do with rclone today: `rclone copy` run in a loop while the
#            same writes go to another bucket (rclone has no event intake)
# Both buckets start with BENCH_EXISTING objects already replicated (a loop of rclone copy lists
# them all each time; ferry's events do not). Staleness per object = the first time a listing of the destination (every 0.2 s) shows the key
# minus the time its PUT returned: p50, p99 and max, the same observer for both. For ferry also
# its own latency histogram (ferry_replication_latency_seconds: source write time to replica
# recorded), and the CPU and peak RSS of `ferry serve`.
#   burst    BENCH_BURST synthetic RGW records (100 per POST, 4 connections) to /events: events
#            accepted per second, refusals, and serve's peak RSS after it.
#
#   bash bench/bench-serve.sh                                  # 1,000 objects at 50/s
#   BENCH_OBJECTS=200 BENCH_BURST=2000 bash bench/bench-serve.sh   # quick check of the harness
#
# Environment: BENCH_OBJECTS (1000), BENCH_RATE (50), BENCH_SIZE (bytes, 4096), BENCH_EXISTING
#   (10000), BENCH_TRANSPORT ("": direct; a max_delay such as 5s: the destination reached by
#   compressed transport through a staging bucket in region B, the archives counted),
#   BENCH_PERSISTENT (1), BENCH_BURST (20000), BENCH_DIR (/tmp/ferry-bench), FERRY_BIN (default:
#   build Release into build-release/), FERRY_TEST_S3_* (an RGW pair already running; else one is
#   started and stopped), BENCH_KEEP_RGW=1. Prints a markdown table on stdout.
set -euo pipefail

cd "$(dirname "$0")/.."
FERRY_ROOT=$PWD
# shellcheck source=scripts/lib/common.sh
source "$FERRY_ROOT/scripts/lib/common.sh"
# shellcheck source=bench/lib/measure.sh
source "$FERRY_ROOT/bench/lib/measure.sh"

OBJECTS=${BENCH_OBJECTS:-1000}
RATE=${BENCH_RATE:-50}
SIZE=${BENCH_SIZE:-4096}
PERSISTENT=${BENCH_PERSISTENT:-1}
BURST=${BENCH_BURST:-20000}
EXISTING=${BENCH_EXISTING:-10000}
TRANSPORT=${BENCH_TRANSPORT:-}
BENCH_DIR=${BENCH_DIR:-/tmp/ferry-bench}
ID=fs$(date +%s)
log() { ferry_log bench "$@"; }
die() { log "ERROR: $*"; exit 1; }

bash scripts/install-deps.sh build rgw bench
ensure_ferry_bin

mkdir -p "$BENCH_DIR"
WORK=$(mktemp -d "$BENCH_DIR/serve.XXXXXX")
buckets=()  # "a NAME single" / "b NAME"
pids=()
RGW_STARTED=0
cleanup() {
  local rc=$? b p
  set +e
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
  if [ -n "${S3_ENDPOINT:-}" ]; then
    log "deleting the bench buckets"
    # without its notification first: RGW 16.2.15 aborts on a DeleteObjects in a bucket that
    # notifies a topic, and one DeleteObject per version of 11,000 takes hours
    [ -n "${CONFIG:-}" ] && "$FERRY_BIN" --config "$CONFIG" events remove "ra:$ID-a" --delete-topic >/dev/null 2>&1
    for b in "${buckets[@]}"; do purge_bucket $b; done
  fi
  rm -rf "$WORK"
  if [ "$RGW_STARTED" = 1 ] && [ "${BENCH_KEEP_RGW:-0}" != 1 ]; then bash scripts/rgw-stop.sh; fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

rgw_up
export_rclone_remotes
export_ferry_keys
export S3_ENDPOINT S3_ACCESS_KEY S3_SECRET_KEY S3_REGION S3_ENDPOINT_B S3_ACCESS_KEY_B \
  S3_SECRET_KEY_B S3_REGION_B
LOAD=(python3 "$FERRY_ROOT/bench/lib/serve_load.py")
RCLONE=(env -u AWS_CA_BUNDLE rclone)
versioned() { # SIDE NAME [single]
  make_bucket "$1" "$2"
  "aws_$1" s3api put-bucket-versioning --bucket "$2" --versioning-configuration Status=Enabled
  buckets+=("$1 $2 ${3:-}")
}
cpu_of() { # PID -> CPU seconds (user + sys) so far
  awk -v h="$(getconf CLK_TCK)" '{ sub(/.*\) /, ""); printf "%.2f", ($12 + $13) / h }' "/proc/$1/stat"
}
hwm_of() { awk '/^VmHWM/ { printf "%d", $2 / 1024 }' "/proc/$1/status"; }  # peak RSS, MiB

# ------------------------------------------------------------------ ferry serve
A=$ID-a B=$ID-b
versioned a "$A"
versioned b "$B"
if [ "$EXISTING" -gt 0 ]; then
  log "$EXISTING existing objects (1 KiB) in the source buckets"
  mkdir -p "$WORK/existing"
  python3 -c '
import os, sys
for i in range(int(sys.argv[2])):
    with open(os.path.join(sys.argv[1], "e%06d" % i), "wb") as f:
        f.write(os.urandom(1024))' "$WORK/existing" "$EXISTING"
  "${RCLONE[@]}" copy "$WORK/existing" "ra:$A" --transfers 32 --checkers 32 >&2
fi
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
URL=http://127.0.0.1:$PORT
export FERRY_BENCH_TOKEN=tok$RANDOM$RANDOM
CONFIG=$WORK/ferry.toml
DEST="\"rb:$B\""
if [ -n "$TRANSPORT" ]; then  # compressed transport through a staging bucket in region B
  S=$ID-s
  make_bucket b "$S"; buckets+=("b $S")
  DEST="{ location = \"rb:$B\", transport = { compress = true, staging = \"rb:$S/x\", max_delay = \"$TRANSPORT\" } }"
fi
write_ferry_config "$CONFIG"
cat >> "$CONFIG" <<EOF

[[replication.rules]]
id = "bench"
destinations = [$DEST]

[serve]
listen = "127.0.0.1:$PORT"
replicate = ["ra:$A"]
scan_interval = "1h"
token_env = "FERRY_BENCH_TOKEN"
EOF
"$FERRY_BIN" --config "$CONFIG" serve --state "$WORK/state.db" > "$WORK/serve.log" 2>&1 &
SERVE=$!
pids+=("$SERVE")
for _ in $(seq 1 100); do curl -sf "$URL/healthz" >/dev/null && break; sleep 0.1; done
curl -sf "$URL/healthz" >/dev/null || die "ferry serve did not start (log: $WORK/serve.log)"
setup=(events setup "ra:$A" --endpoint "$URL/events" --token-env FERRY_BENCH_TOKEN --topic "ferry-$ID")
[ "$PERSISTENT" = 1 ] || setup+=(--no-persistent)
"$FERRY_BIN" --config "$CONFIG" "${setup[@]}" >&2
waited=0
while [ "$(count_objects b "$B")" -lt "$EXISTING" ]; do
  [ "$waited" -lt 900 ] || die "the first scan did not replicate the existing objects in 900 s"
  sleep 5; waited=$((waited + 5))
done
settle
curl -sf "$URL/metrics" > "$WORK/metrics-before.prom"
cpu0=$(cpu_of "$SERVE")
log "ferry: $OBJECTS objects at $RATE/s (persistent topic: $PERSISTENT)"
"${LOAD[@]}" observe b "$B" "$WORK/ferry.writes" "$WORK/ferry.seen" 600 &
observer=$!
"${LOAD[@]}" write a "$A" "$OBJECTS" "$RATE" "$SIZE" "$WORK/ferry.writes.tmp"
mv "$WORK/ferry.writes.tmp" "$WORK/ferry.writes"
wait "$observer"
read -r F50 F99 FMAX FSEEN < <("${LOAD[@]}" latency "$WORK/ferry.writes" "$WORK/ferry.seen")
FCPU=$(awk -v a="$cpu0" -v b="$(cpu_of "$SERVE")" 'BEGIN { printf "%.2f", b - a }')
FRSS=$(hwm_of "$SERVE")
curl -sf "$URL/metrics" > "$WORK/metrics.prom"
read -r H50 H99 < <("${LOAD[@]}" hist "$WORK/metrics-before.prom" "$WORK/metrics.prom")
archives_in() { awk '$1 == "ferry_transport_archives_staged_total" { v += $2 } END { print v + 0 }' "$1"; }
ARCHIVES=$(( $(archives_in "$WORK/metrics.prom") - $(archives_in "$WORK/metrics-before.prom") ))

# ------------------------------------------------------------------ burst of events
BRATE=- BFAIL=- BRSS=-
if [ "$BURST" -gt 0 ]; then
  log "burst: $BURST events to /events"
  read -r BRATE BSECS BFAIL < <("${LOAD[@]}" burst "$URL/events" "$FERRY_BENCH_TOKEN" "$A" \
    "$S3_REGION" "$BURST" 100)
  BRSS=$(hwm_of "$SERVE")
  log "burst: $BURST events in $BSECS s"
fi
kill -TERM "$SERVE"; wait "$SERVE" || true
pids=()

# ------------------------------------------------------------------ rclone copy in a loop
A2=$ID-a2 B2=$ID-b2
make_bucket a "$A2"; buckets+=("a $A2")
make_bucket b "$B2"; buckets+=("b $B2")
if [ "$EXISTING" -gt 0 ]; then
  "${RCLONE[@]}" copy "$WORK/existing" "ra:$A2" --transfers 32 --checkers 32 >&2
  "${RCLONE[@]}" copy "$WORK/existing" "rb:$B2" --transfers 32 --checkers 32 >&2
fi
settle
log "rclone: $OBJECTS objects at $RATE/s, rclone copy in a loop"
(
  while :; do
    "${RCLONE[@]}" copy "ra:$A2" "rb:$B2" --transfers 16 --checkers 16 >/dev/null 2>&1 || true
  done
) &
LOOP=$!
pids+=("$LOOP")
"${LOAD[@]}" observe b "$B2" "$WORK/rclone.writes" "$WORK/rclone.seen" 600 &
observer=$!
"${LOAD[@]}" write a "$A2" "$OBJECTS" "$RATE" "$SIZE" "$WORK/rclone.writes.tmp"
mv "$WORK/rclone.writes.tmp" "$WORK/rclone.writes"
wait "$observer"
pkill -P "$LOOP" 2>/dev/null || true
kill "$LOOP" 2>/dev/null; wait "$LOOP" 2>/dev/null || true
pids=()
read -r R50 R99 RMAX RSEEN < <("${LOAD[@]}" latency "$WORK/rclone.writes" "$WORK/rclone.seen")

echo "## bench-serve: $OBJECTS objects of $SIZE B at $RATE/s into buckets holding $EXISTING, RGW pair$(server_setup)"
echo
echo "| tool | p50 s | p99 s | max s | replicated | ferry histogram p50/p99 | serve CPU s | serve peak RSS MiB |"
echo "|---|---|---|---|---|---|---|---|"
how="persistent topic: $PERSISTENT"
[ -z "$TRANSPORT" ] || how="$how; compressed transport, max_delay $TRANSPORT: $ARCHIVES archives"
echo "| ferry serve ($how) | $F50 | $F99 | $FMAX | $FSEEN | $H50 / $H99 | $FCPU | $FRSS |"
echo "| rclone copy loop | $R50 | $R99 | $RMAX | $RSEEN | - | - | - |"
echo
echo "staleness ratio rclone/ferry: p50 $(ratio "$R50" "$F50"), p99 $(ratio "$R99" "$F99")"
echo
echo "burst: $BURST events accepted at $BRATE events/s, $BFAIL refused, serve peak RSS after it $BRSS MiB"
