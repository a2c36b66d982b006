#!/usr/bin/env bash
# Randomized convergence of `ferry replicate`: tests/tools/convergence_replicate.py runs seeded
# rounds of random changes to a versioned bucket of gateway A (new objects, overwrites, delete
# markers, undeletes, tag changes, metadata changes by a copy onto itself, permanent deletes of
# one version, a few multipart objects of 6-12 MiB), each followed by `ferry replicate` to a
# versioned bucket of gateway B (an S3 JSON replication config: one rule, delete markers and
# replica modifications on), some runs SIGKILLed and run again, through
# tests/tools/fault_proxy.py. After a final clean run, every key's versions at B must be the
# source's replicated history in order (bytes, metadata, Content-Type, replica-of, tags), by
# ferry's documented rules: permanent deletes and undeletes are not replicated, tag changes
# reach the replica of the current version (convergence_replicate.py's header has the rules).
# It prints rounds, kills, faults and versions compared; a failure prints the seed and round
# (replay: the same --seed and --rounds; FERRY_CONVERGENCE_VERBOSE=1 lists every change).
# Knobs: FERRY_CONVERGENCE_REPLICATE_ROUNDS (default 60), FERRY_CONVERGENCE_SEED (default
# 2404), FERRY_CONVERGENCE_REPLICATE_KINDS (comma list of change kinds; default all),
# FERRY_CONVERGENCE_REPLICATE_FAULT_RATE (default 0.05; 0 = no proxy),
# FERRY_CONVERGENCE_REPLICATE_FAULT_KINDS (the proxy's --kinds, default all of
# 503,reset,slow,truncate,flip). The bugs this test found are listed, mended, in
# convergence_replicate.py's header.
source "$(dirname "$0")/testlib.bash"
TOOLS="$(cd "$(dirname "$0")/../tools" && pwd)"
ROUNDS=${FERRY_CONVERGENCE_REPLICATE_ROUNDS:-60}
SEED=${FERRY_CONVERGENCE_SEED:-2404}
KINDS=${FERRY_CONVERGENCE_REPLICATE_KINDS:-new,overwrite,delete,undelete,tags,meta,purge}
RATE=${FERRY_CONVERGENCE_REPLICATE_FAULT_RATE:-0.05}
FAULT_KINDS=${FERRY_CONVERGENCE_REPLICATE_FAULT_KINDS:-503,reset,slow,truncate,flip}

# new_bucket runs in this shell, not in a $(...) subshell, so that it is recorded in BUCKETS.
new_bucket ra > "$WORK/bucket.name"
SRC=$(< "$WORK/bucket.name")
new_bucket rb > "$WORK/bucket.name"
DST=$(< "$WORK/bucket.name")
# versioned buckets are emptied (every version) and removed here: testlib's cleanup removes
# only the current objects, and then cannot remove the bucket
PID=
trap '[ -n "$PID" ] && kill "$PID" 2>/dev/null; wait
      [ "${FERRY_TEST_THROWAWAY_SERVERS:-0}" = 1 ] ||
        python3 "$TOOLS/convergence_lib.py" purge --config "$CONF" "ra:$SRC" "rb:$DST" || true
      cleanup' EXIT
python3 "$TOOLS/convergence_lib.py" versioning --config "$CONF" "ra:$SRC" "rb:$DST"

ARGS=(--seed "$SEED" --rounds "$ROUNDS" --ferry "$FERRY_BIN" --config "$CONF"
      --workdir "$WORK/replicate" --src-remote ra --src-bucket "$SRC"
      --dst-remote rb --dst-bucket "$DST")
[ -n "$KINDS" ] && ARGS+=(--kinds "$KINDS")
[ -n "${FERRY_CONVERGENCE_VERBOSE:-}" ] && ARGS+=(--verbose)
if [ "$RATE" != 0 ]; then
  ARGS+=(--fault-proxy "$TOOLS/fault_proxy.py" --fault-rate "$RATE" --fault-kinds "$FAULT_KINDS")
fi

python3 "$TOOLS/convergence_replicate.py" "${ARGS[@]}" > "$WORK/replicate.log" 2>&1 &
PID=$!
if wait "$PID"; then
  echo "ok   - $(tail -1 "$WORK/replicate.log")"
else
  echo "FAIL - convergence-replicate (log follows)"
  grep -v '^round ' "$WORK/replicate.log" | tail -80 | sed 's/^/  /'
  FAILS=$((FAILS + 1))
fi
PID=
finish
