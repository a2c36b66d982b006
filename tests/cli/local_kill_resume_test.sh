#!/usr/bin/env bash
# A durable download into a local folder is SIGKILLed once some of its transfer jobs are recorded
# done; the same command run again resumes the run and ends with a folder byte-identical to the
# source, with no temporary file left. The folder's writes skip the flush of each file: a job
# makes its objects durable with one Backend::Sync before its outcome records them done
# (docs/design/storage.md "Durability of a local folder"). What this catches end to end: a
# resumed run that takes objects for done that are not whole in the folder, or loses some.
source "$(dirname "$0")/testlib.bash"
A=$(new_bucket ra)
N=1000
STATE=$WORK/state.db
mkdir -p "$WORK/up"
head -c $((N * 4096)) /dev/urandom | split -b 4096 -a 5 -d - "$WORK/up/obj-"
ferry cp "$WORK/up" "ra:$A" --no-progress > /dev/null 2>&1 || { echo "upload failed"; exit 1; }

transfers_done() {
  sqlite3 -cmd ".timeout 5000" "file:$STATE?mode=ro" \
    "SELECT count(*) FROM jobs WHERE kind = 'transfer' AND state = 'done'" 2>/dev/null || echo 0
}
two_jobs_done() { [ "$(transfers_done)" -ge 2 ]; }

# one request at a time: the 5 jobs of 200 objects take long enough to be killed midway
ferry sync "ra:$A" "$WORK/dst" --state "$STATE" --no-progress --concurrency 1 \
  > "$WORK/run1.log" 2>&1 &
pid=$!
check "two transfer jobs recorded done before the kill" wait_for 60 two_jobs_done
kill -9 "$pid"; wait "$pid" 2>/dev/null || true
done_at_kill=$(transfers_done)
echo "  transfer jobs done at the kill: $done_at_kill"

rc=0
ferry sync "ra:$A" "$WORK/dst" --state "$STATE" --no-progress --json > "$WORK/out" \
  2> "$WORK/run2.log" || rc=$?
check "the rerun succeeded" [ "$rc" = 0 ]
json() { python3 -c "import json, sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])" "$WORK/out" "$1"; }
check "the rerun resumed the killed run" [ "$(json resumed)" = True ]
check "the rerun did not copy again what the done jobs had" [ "$(json objects_copied)" -lt "$N" ]
check "the folder is byte-identical to the source" diff -r "$WORK/up" "$WORK/dst"
check "no temporary file is left" [ -z "$(find "$WORK/dst" -name '.ferry-tmp-*' -print -quit)" ]
finish
