#!/usr/bin/env bash
# Many workers on PostgreSQL: 20,000 objects are enqueued with `ferry sync --detach`, three
# `ferry worker` processes share the work (listing in chunks of 2,000 keys, split into key
# ranges), one is SIGKILLed midway and PostgreSQL is restarted midway; every object arrives
# intact, none is missing, and the job counts add up.
source "$(dirname "$0")/testlib.bash"
: "${FERRY_TEST_PG_URL:?FERRY_TEST_PG_URL not set: run through scripts/test-all.sh}"
: "${FERRY_TEST_PG_CTL_RESTART:?FERRY_TEST_PG_CTL_RESTART not set: run through scripts/test-all.sh}"
N=${FERRY_TEST_WORKERS_N:-20000}
A=$(new_bucket ra)
B=$(new_bucket rb)
# a schema of our own in the shared database, so that runs of other tests do not mix in
SCHEMA=ferry_w$$
psql "$FERRY_TEST_PG_URL" -q -c "CREATE SCHEMA $SCHEMA" >/dev/null
STATE="$FERRY_TEST_PG_URL?options=-csearch_path%3D$SCHEMA"
mkdir -p "$WORK/src"
python3 - "$WORK/src" "$N" <<'PY'
import os, sys
root, n = sys.argv[1], int(sys.argv[2])
for i in range(n):
    d = os.path.join(root, "d%02d" % (i % 50))
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "o%05d" % i), "wb") as f:
        f.write(os.urandom(1024))
PY
ferry cp "$WORK/src" "ra:$A" --no-progress >/dev/null 2>&1 || { echo "upload failed"; exit 1; }

check "enqueue with --detach" bash -c "'$FERRY_BIN' --config '$CONF' sync 'ra:$A' 'rb:$B' --state '$STATE' --detach 2>'$WORK/detach.log'"
pids=()
for w in 1 2 3; do
  "$FERRY_BIN" --config "$CONF" worker --state "$STATE" --concurrency 16 --lease-ttl 5 \
    --scan-chunk 2000 > "$WORK/w$w.log" 2>&1 &
  pids+=($!)
done
run_state() { "$FERRY_BIN" jobs list --state "$STATE" --json 2>/dev/null | head -1; }
objects_done() { run_state | python3 -c "import json,sys; print(json.loads(sys.stdin.read() or '{}').get('objects_done', 0))"; }
# SIGKILL worker 1 once a quarter is done, restart PostgreSQL once half is done
killed=0; restarted=0
kill_restart_until_done() {  # one look at the run: acts at its quarter and half, true once done
  local done_n
  done_n=$(objects_done)
  if [ $killed = 0 ] && [ "$done_n" -ge $((N / 4)) ]; then kill -9 "${pids[0]}"; killed=1; echo "  killed worker 1 at $done_n"; fi
  if [ $restarted = 0 ] && [ "$done_n" -ge $((N / 2)) ]; then $FERRY_TEST_PG_CTL_RESTART; restarted=1; echo "  restarted PostgreSQL at $done_n"; fi
  run_state | grep -q '"state":"done"'
}
WAIT_EVERY=0.5 wait_for 900 kill_restart_until_done || true
for p in "${pids[@]:1}"; do kill -TERM "$p" 2>/dev/null; done
for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done  # the killed one exits 137
check "a worker was killed midway" [ $killed = 1 ]
check "PostgreSQL was restarted midway" [ $restarted = 1 ]
run_state > "$WORK/run.json"
check "run is done" grep -q '"state":"done"' "$WORK/run.json"
check "no dead jobs" python3 -c "import json; d=json.load(open('$WORK/run.json')); assert d['jobs_dead']==0, d"
check "job counts add up" python3 -c "import json; d=json.load(open('$WORK/run.json')); assert d['objects_done']==d['objects_total']==$N, d"
ferry jobs show 0 --state "$STATE" --json --limit 100000 > "$WORK/jobs.jsonl"
ranges=$(grep '"kind":"scan"' "$WORK/jobs.jsonl" | grep -c '"last":' || true)
echo "  $(grep -c '"kind":"scan"' "$WORK/jobs.jsonl" || true) scan jobs, $ranges with an end key"
check "the listing was split into key ranges across workers" [ "$ranges" -ge 2 ]
ferry ls "ra:$A" --json > "$WORK/a.jsonl"
ferry ls "rb:$B" --json > "$WORK/b.jsonl"
check "every object arrived, none missing" [ "$(wc -l < "$WORK/b.jsonl")" = "$N" ]
check "every object intact (same MD5 ETags)" python3 - "$WORK/a.jsonl" "$WORK/b.jsonl" <<'PY'
import json, sys
a = {j["key"]: j["etag"] for j in map(json.loads, open(sys.argv[1]))}
b = {j["key"]: j["etag"] for j in map(json.loads, open(sys.argv[2]))}
assert a == b, (len(a), len(b), [k for k in a if a[k] != b.get(k)][:5])
PY
psql "$FERRY_TEST_PG_URL" -q -c "DROP SCHEMA $SCHEMA CASCADE" >/dev/null 2>&1 || true
finish
