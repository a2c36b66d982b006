#!/usr/bin/env bash
# Randomized convergence: tests/tools/convergence.py runs seeded rounds of
# random source changes (new objects, same-size and other-size overwrites, deletes, folder
# markers, a folder renamed, metadata and tag changes, a file and a folder trading places;
# hostile key names, a few objects above the 5 MiB multipart threshold) interleaved with
# `ferry sync --delete --state FILE` runs, some of them SIGKILLed and run again, through
# tests/tools/fault_proxy.py. After a final clean run the destination must equal the source:
# keys, bytes, user metadata, Content-Type and tags (convergence.py's header has the rules).
# Three directions run at once, each with its own buckets, proxies and state file:
#   local -> S3 (ra), S3 (rb) -> local, S3 (ra) -> S3 (rb) across gateways under a prefix.
# Per direction it prints rounds, kills, faults injected and objects compared; a failure prints
# the seed and round (replay: the same --seed and --rounds; FERRY_CONVERGENCE_VERBOSE=1 lists
# every change).
# Knobs: FERRY_CONVERGENCE_ROUNDS (per direction, default 70), FERRY_CONVERGENCE_SEED (base
# seed, default 1104), FERRY_CONVERGENCE_KINDS (comma list of change kinds, default all),
# FERRY_CONVERGENCE_FAULT_RATE (default 0.05; 0 = no proxy), FERRY_CONVERGENCE_FAULT_KINDS
# (the proxy's --kinds, default all of 503,reset,truncate,flip,slow).
source "$(dirname "$0")/testlib.bash"
TOOLS="$(cd "$(dirname "$0")/../tools" && pwd)"
ROUNDS=${FERRY_CONVERGENCE_ROUNDS:-70}
SEED=${FERRY_CONVERGENCE_SEED:-1104}
KINDS=${FERRY_CONVERGENCE_KINDS:-}
RATE=${FERRY_CONVERGENCE_FAULT_RATE:-0.05}
FAULT_KINDS=${FERRY_CONVERGENCE_FAULT_KINDS:-503,reset,truncate,flip,slow}
export FERRY_STATE_DIR=$WORK/state

COMMON=(--rounds "$ROUNDS" --ferry "$FERRY_BIN" --config "$CONF")
[ -n "$KINDS" ] && COMMON+=(--kinds "$KINDS")
[ -n "${FERRY_CONVERGENCE_VERBOSE:-}" ] && COMMON+=(--verbose)
if [ "$RATE" != 0 ]; then
  COMMON+=(--fault-proxy "$TOOLS/fault_proxy.py" --fault-rate "$RATE" --fault-kinds "$FAULT_KINDS")
fi

# start NAME ARGS...: one direction in the background, its output in $WORK/NAME.log.
PIDS=()
NAMES=()
trap 'for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; wait; cleanup' EXIT
start() {
  local name=$1; shift
  python3 "$TOOLS/convergence.py" "${COMMON[@]}" --workdir "$WORK/$name" "$@" \
    > "$WORK/$name.log" 2>&1 &
  PIDS+=($!)
  NAMES+=("$name")
}
# bucket REMOTE: a fresh bucket in $BUCKET. new_bucket runs in this shell, not in a $(...)
# subshell, so that it is recorded in BUCKETS and removed at exit.
bucket() {
  new_bucket "$1" > "$WORK/bucket.name"
  BUCKET=$(< "$WORK/bucket.name")
}
bucket ra; start local-s3 --direction local-s3 --seed "$SEED" --dst-remote ra --dst-bucket "$BUCKET"
bucket rb; start s3-local --direction s3-local --seed $((SEED + 1)) --src-remote rb \
  --src-bucket "$BUCKET"
bucket ra; SRC_BUCKET=$BUCKET
bucket rb; start s3-s3 --direction s3-s3 --seed $((SEED + 2)) --src-remote ra \
  --src-bucket "$SRC_BUCKET" --dst-remote rb --dst-bucket "$BUCKET" --prefix "p q+/"

for i in "${!PIDS[@]}"; do
  name=${NAMES[$i]}
  if wait "${PIDS[$i]}"; then
    echo "ok   - $(tail -1 "$WORK/$name.log")"
  else
    echo "FAIL - $name (log follows)"
    grep -v '^round ' "$WORK/$name.log" | tail -60 | sed 's/^/  /'
    FAILS=$((FAILS + 1))
  fi
done
finish
