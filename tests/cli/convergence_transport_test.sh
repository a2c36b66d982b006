#!/usr/bin/env bash
# Randomized convergence of compressed transport to two regions:
# tests/tools/convergence_transport.py runs seeded rounds of random changes to a source bucket
# on gateway A (new objects with hostile names, metadata, Content-Type and tags, a few of 6-12
# MiB, some as multipart uploads; overwrites, deletes, metadata and tag changes), each followed
# by `ferry sync --compress --pack-only --unpack-region A,B --delete` on a shared PostgreSQL
# state store (some SIGKILLed and run again) and by `ferry worker --role unpack` of region A
# (remote `dst` on gateway A) and of region B (on gateway B) at once (some SIGKILLed and
# restarted); in a few rounds PostgreSQL is restarted while the packer or the workers run. Every
# ferry request goes through tests/tools/fault_proxy.py. After a final clean pass (which must
# pack nothing) the destination bucket on each gateway must hold exactly the source's keys with
# the same bytes, metadata, Content-Type and tags; staging must hold nothing (no archive,
# marker, claim or unfinished upload); every run done without a dead job, every progress row
# done. convergence_transport.py's header has the rules and the bugs this test found. A failure
# prints the seed and round (replay: the same --seed and --rounds; FERRY_CONVERGENCE_VERBOSE=1
# lists every change).
# Knobs: FERRY_CONVERGENCE_TRANSPORT_ROUNDS (default 40), FERRY_CONVERGENCE_SEED (default 2411),
# FERRY_CONVERGENCE_TRANSPORT_PG_RESTARTS (rounds with a PostgreSQL restart, default 2),
# FERRY_CONVERGENCE_TRANSPORT_DELETES (on|off, default on), FERRY_CONVERGENCE_TRANSPORT_CHECK_EVERY
# (also compare every K rounds; default 0: at the end only), FERRY_CONVERGENCE_FAULT_RATE
# (default 0.05; 0 = no proxy), FERRY_CONVERGENCE_FAULT_KINDS (the proxy's --kinds, default all
# of 503,reset,truncate,flip,slow).
source "$(dirname "$0")/testlib.bash"
TOOLS="$(cd "$(dirname "$0")/../tools" && pwd)"
: "${FERRY_TEST_PG_URL:?FERRY_TEST_PG_URL not set: run through scripts/test-all.sh}"
: "${FERRY_TEST_PG_CTL_RESTART:?FERRY_TEST_PG_CTL_RESTART not set: run through scripts/test-all.sh}"
ROUNDS=${FERRY_CONVERGENCE_TRANSPORT_ROUNDS:-40}
SEED=${FERRY_CONVERGENCE_SEED:-2411}
PG_RESTARTS=${FERRY_CONVERGENCE_TRANSPORT_PG_RESTARTS:-2}
DELETES=${FERRY_CONVERGENCE_TRANSPORT_DELETES:-on}
CHECK_EVERY=${FERRY_CONVERGENCE_TRANSPORT_CHECK_EVERY:-0}
RATE=${FERRY_CONVERGENCE_FAULT_RATE:-0.05}
FAULT_KINDS=${FERRY_CONVERGENCE_FAULT_KINDS:-503,reset,truncate,flip,slow}

# Buckets registered in this shell (new_bucket in a $(...) subshell would not record them in
# BUCKETS); the destination is one name on both gateways.
new_bucket ra > "$WORK/bucket.name"
SRC=$(< "$WORK/bucket.name")
new_bucket rb > "$WORK/bucket.name"
STG=$(< "$WORK/bucket.name")
DST=ferry-cli-$$-$RANDOM-dst
if ferry mb "ra:$DST" >/dev/null 2>&1 && ferry mb "rb:$DST" >/dev/null 2>&1; then
  printf 'ra:%s\nrb:%s\n' "$DST" "$DST" >> "$WORK/buckets"
else
  echo "cannot create the destination buckets"; exit 1
fi
SCHEMA=ferry_ct$$
psql "$FERRY_TEST_PG_URL" -q -c "CREATE SCHEMA $SCHEMA" >/dev/null
STATE="$FERRY_TEST_PG_URL?options=-csearch_path%3D$SCHEMA"

PID=
trap '[ -n "$PID" ] && kill "$PID" 2>/dev/null; wait
      psql "$FERRY_TEST_PG_URL" -q -c "DROP SCHEMA $SCHEMA CASCADE" >/dev/null 2>&1 || true
      cleanup' EXIT

ARGS=(--seed "$SEED" --rounds "$ROUNDS" --ferry "$FERRY_BIN" --config "$CONF"
      --workdir "$WORK/transport" --state "$STATE" --src-remote ra --src-bucket "$SRC"
      --a-remote ra --b-remote rb --dst-bucket "$DST" --staging-remote rb --staging-bucket "$STG"
      --deletes "$DELETES" --check-every "$CHECK_EVERY"
      --pg-restart "$FERRY_TEST_PG_CTL_RESTART" --pg-restarts "$PG_RESTARTS")
[ -n "${FERRY_CONVERGENCE_VERBOSE:-}" ] && ARGS+=(--verbose)
if [ "$RATE" != 0 ]; then
  ARGS+=(--fault-proxy "$TOOLS/fault_proxy.py" --fault-rate "$RATE" --fault-kinds "$FAULT_KINDS")
fi

T0=$SECONDS
python3 "$TOOLS/convergence_transport.py" "${ARGS[@]}" > "$WORK/transport.log" 2>&1 &
PID=$!
if wait "$PID"; then
  echo "ok   - $(tail -1 "$WORK/transport.log") ($((SECONDS - T0)) s)"
else
  echo "FAIL - convergence-transport (log follows)"
  grep -v '^round ' "$WORK/transport.log" | tail -80 | sed 's/^/  /'
  FAILS=$((FAILS + 1))
fi
PID=
finish
