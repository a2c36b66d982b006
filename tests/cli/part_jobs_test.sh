#!/usr/bin/env bash
# One large object of a durable run spread over two `ferry worker` processes as part jobs
# (--part-jobs-min-parts, docs/design/part-jobs.md), RGW A -> RGW B: 100 MiB in 20 parts of
# 5 MiB, 5 part jobs. Worker 1 is SIGKILLed once it has sent a range of parts; worker 2 claims
# its part jobs when their leases lapse and finishes the object. Checks: both workers sent
# ranges of parts (their logs); the object at B has the source's multipart ETag (same layout:
# the ETag proves the bytes; ferry checked the CRC32C before the commit); RGW B's usage log
# counts at most 1.1x the object's parts as put_obj requests; no upload is left open.
source "$(dirname "$0")/testlib.bash"
: "${FERRY_TEST_CEPH_CONF:?FERRY_TEST_CEPH_CONF not set: run through scripts/test-all.sh}"
A=$(new_bucket ra)
B=$(new_bucket rb)
STATE=$WORK/state.db
PARTS=20
mkdir -p "$WORK/up"
head -c $((PARTS * 5 << 20)) /dev/urandom > "$WORK/up/big.bin"
ferry cp "$WORK/up" "ra:$A" --part-size 5MiB --no-progress >/dev/null 2>&1 \
  || { echo "upload failed"; exit 1; }
rm -rf "$WORK/up"

check "--part-jobs-min-parts 1: exit 2, one line" \
  expect_error 2 'ferry: error: --part-jobs-min-parts: 0 (never) or at least 2' \
  ferry cp "ra:$A" "rb:$B" --part-jobs-min-parts 1
check "--part-jobs-min-parts without a state store: exit 2, one line" \
  expect_error 2 'ferry: error: --part-jobs-min-parts needs a durable run (not --no-state, not --dry-run, not ferry move)' \
  ferry cp "ra:$A" "rb:$B" --part-jobs-min-parts 8 --no-state

ferry cp "ra:$A" "rb:$B" --state "$STATE" --part-size 5MiB --part-jobs-min-parts 8 --detach \
  --no-progress >/dev/null 2>&1
worker() { # n -> a worker of run 1 until it is done (8 MB/s: killed mid-object), log in w<n>.err
  # (exec: the job's pid is ferry's own, which the SIGKILL below must reach)
  exec "$FERRY_BIN" --config "$CONF" -v --bwlimit 8M worker --state "$STATE" --run 1 \
    --until-done --concurrency 2 --lease-ttl 3 2> "$WORK/w$1.err"
}
worker 1 & W1=$!
worker 2 & W2=$!
sql() { python3 -c "import sqlite3,sys; print(sqlite3.connect('file:$STATE?mode=ro', uri=True, timeout=5).execute(sys.argv[1]).fetchone()[0])" "$1" 2>/dev/null || echo 0; }
sent_parts() { grep -q 'parts sent.*parts=' "$WORK/w$1.err"; }  # a range sent and checkpointed
check "worker 1 sent a range of parts" wait_for 60 sent_parts 1
kill -9 "$W1"; wait "$W1" 2>/dev/null || true
at_kill=$(sql 'SELECT COUNT(*) FROM part_checkpoints')
echo "  parts checkpointed at the kill: $at_kill of $PARTS"
rc=0
timeout 90 bash -c "wait $W2" 2>/dev/null || wait "$W2" || rc=$?
check "worker 2 finished the run (exit 0)" [ "$rc" = 0 ]
check "  it sent ranges of parts too" sent_parts 2
echo "  ranges sent: worker 1 $(grep -o 'parts=[0-9-]*' "$WORK/w1.err" | tr '\n' ' ')| worker 2 $(grep -o 'parts=[0-9-]*' "$WORK/w2.err" | tr '\n' ' ')"
check "  the kill came mid-object" [ "$at_kill" -lt "$PARTS" ]
check "  the run is done" bash -c "'$FERRY_BIN' jobs list --state '$STATE' | grep -q done"
check "  no part job is dead" [ "$(sql "SELECT COUNT(*) FROM jobs WHERE state = 'dead'")" = 0 ]
ferry ls --json "ra:$A" > "$WORK/a.ls"; ferry ls --json "rb:$B" > "$WORK/b.ls"
etag() { python3 -c "import json,sys; print(json.loads(open(sys.argv[1]).readline())['etag'])" "$1"; }
echo "  ETag at A: $(etag "$WORK/a.ls"), at B: $(etag "$WORK/b.ls")"
check "the object at B has the source's multipart ETag (-$PARTS: same parts, same bytes)" \
  bash -c "[ '$(etag "$WORK/a.ls")' = '$(etag "$WORK/b.ls")' ] && grep -q -- '-$PARTS' '$WORK/b.ls'"
check "RGW B's usage log caught up" rgw_b_usage_caught_up "$B"
puts=$(rgw_b_usage_ops "$B" put_obj)
echo "  put_obj requests at B: $puts for $PARTS parts"
check "  bytes sent <= 1.1x the object" [ "$puts" -ge "$PARTS" -a "$((puts * 10))" -le "$((PARTS * 11))" ]
check "no upload left open at B" python3 -c "
import sys; sys.path.insert(0, '$FERRY_TEST_TOOLS')
import convergence_lib as c
sys.exit(c.client_for(c.load_remotes('$CONF'), 'rb').count_uploads('$B'))"
finish
