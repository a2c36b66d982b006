#!/usr/bin/env bash
# Randomized convergence of `ferry backup`, `ferry restore` and `ferry catalog prune`
# (docs/design/backup.md): tests/tools/convergence_backup.py runs seeded rounds of random changes
# to a source bucket on gateway A (new objects, some of 6-12 MiB as multipart uploads,
# overwrites, deletes, metadata changes, folders renamed), each followed by
# `ferry backup ra:SRC rb:BK/p --state FILE` (some SIGKILLed and run again) and a snapshot of
# the source; some rounds prune the catalog with a random --keep-last / --keep-within. The
# catalog's rows are checked after every backup and prune against the changes and the
# retention rules; at the end (and every FERRY_CONVERGENCE_BACKUP_CHECK_EVERY rounds) the latest
# snapshot and up to 5 older ones the policy kept are restored with --as-of into fresh folders
# and compared (keys, bytes, metadata, Content-Type); the backup bucket must hold no unfinished
# upload and no archive the catalog does not reference. convergence_backup.py's header has the
# rules. Every ferry command goes through tests/tools/fault_proxy.py (FERRY_CONVERGENCE_FAULT_RATE).
# A failure prints the seed and the round (replay: the same --seed and --rounds).
# Knobs: FERRY_CONVERGENCE_BACKUP_ROUNDS (default 50), FERRY_CONVERGENCE_SEED (default 3303),
# FERRY_CONVERGENCE_BACKUP_CHECK_EVERY (default 10), FERRY_CONVERGENCE_FAULT_RATE (default 0.05;
# 0 = no proxy), FERRY_CONVERGENCE_FAULT_KINDS (the proxy's --kinds, default all of
# 503,reset,truncate,flip,slow; the bugs it found: convergence_backup.py's header),
# FERRY_CONVERGENCE_VERBOSE=1 (every change listed).
source "$(dirname "$0")/testlib.bash"
TOOLS="$(cd "$(dirname "$0")/../tools" && pwd)"
ROUNDS=${FERRY_CONVERGENCE_BACKUP_ROUNDS:-50}
SEED=${FERRY_CONVERGENCE_SEED:-3303}
CHECK_EVERY=${FERRY_CONVERGENCE_BACKUP_CHECK_EVERY:-10}
RATE=${FERRY_CONVERGENCE_FAULT_RATE:-0.05}
FAULT_KINDS=${FERRY_CONVERGENCE_FAULT_KINDS:-503,reset,truncate,flip,slow}

ARGS=(--seed "$SEED" --rounds "$ROUNDS" --ferry "$FERRY_BIN" --config "$CONF"
  --workdir "$WORK/backup" --check-every "$CHECK_EVERY")
[ -n "${FERRY_CONVERGENCE_VERBOSE:-}" ] && ARGS+=(--verbose)
if [ "$RATE" != 0 ]; then
  ARGS+=(--fault-proxy "$TOOLS/fault_proxy.py" --fault-rate "$RATE" --fault-kinds "$FAULT_KINDS")
fi

# new_bucket runs in this shell, not in a $(...) subshell, so that it is recorded in BUCKETS
# and removed at exit.
new_bucket ra > "$WORK/bucket.name"
SRC=$(< "$WORK/bucket.name")
new_bucket rb > "$WORK/bucket.name"
BK=$(< "$WORK/bucket.name")

PID=
trap '[ -n "$PID" ] && kill "$PID" 2>/dev/null; wait; cleanup' EXIT
python3 "$TOOLS/convergence_backup.py" "${ARGS[@]}" --src-remote ra --src-bucket "$SRC" \
  --backup-remote rb --backup-bucket "$BK" --prefix p > "$WORK/backup.log" 2>&1 &
PID=$!
if wait "$PID"; then
  echo "ok   - $(tail -1 "$WORK/backup.log")"
else
  echo "FAIL - backup convergence (log follows)"
  grep -v '^round ' "$WORK/backup.log" | tail -60 | sed 's/^/  /'
  FAILS=$((FAILS + 1))
fi
PID=
finish
