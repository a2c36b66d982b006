#!/usr/bin/env bash
# The fleet scales on the backlog and loses nothing at zero workers (deploy/kubernetes,
# docs/design/operate.md "Fleet"), on real PostgreSQL and the RGW pair:
#  1. `ferry serve` (the exporter the manifests run) shows every run of the store in
#     ferry_jobs_waiting{run,role,kind} and its neighbours; a run queued with --detach and no
#     worker: its jobs wait, the gauge says how many and how old, nothing moves.
#  2. The "autoscaler" (this script, reading the gauge as KEDA's query does) starts workers;
#     midway they are all stopped, one by SIGTERM (its jobs handed back) and one by SIGKILL
#     (its leases expire): zero workers again, the gauge shows the work left as waiting.
#  3. Workers again (scale from zero on the gauge): the run finishes, every object is at B,
#     byte for byte, and the run's series leave the exposition once it is done.
source "$(dirname "$0")/testlib.bash"
: "${FERRY_TEST_PG_URL:?FERRY_TEST_PG_URL not set: run through scripts/test-all.sh}"
N=${FERRY_TEST_FLEET_N:-400}
A=$(new_bucket ra)
B=$(new_bucket rb)
S=$(new_bucket ra)   # serve's own source (its config needs one): empty
D=$(new_bucket rb)
SCHEMA=ferry_fleet$$
psql "$FERRY_TEST_PG_URL" -q -c "CREATE SCHEMA $SCHEMA" >/dev/null
STATE="$FERRY_TEST_PG_URL?options=-csearch_path%3D$SCHEMA"
PORT=$(free_port)
URL=http://127.0.0.1:$PORT
aws_side a s3api put-bucket-versioning --bucket "$S" --versioning-configuration Status=Enabled
aws_side b s3api put-bucket-versioning --bucket "$D" --versioning-configuration Status=Enabled
aws_side b s3api put-bucket-versioning --bucket "$B" --versioning-configuration Status=Enabled
mkdir -p "$WORK/src"
python3 - "$WORK/src" "$N" <<'PY'
import os, sys
root, n = sys.argv[1], int(sys.argv[2])
for i in range(n):
    d = os.path.join(root, "d%02d" % (i % 20))
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "o%05d" % i), "wb") as f:
        f.write(os.urandom(4096 + i))
for i in range(3):  # three in parts (16 MiB parts by default)
    with open(os.path.join(root, "big%d" % i), "wb") as f:
        f.write(os.urandom(20 * 1024 * 1024 + i))
PY
ferry cp "$WORK/src" "ra:$A" --no-progress --no-state >/dev/null 2>&1 || { echo "upload failed"; exit 1; }
TOTAL=$((N + 3))
cat >> "$CONF" <<EOT
[[replication.rules]]
id = "all"
destinations = ["rb:$D"]
[serve]
listen = "127.0.0.1:$PORT"
replicate = ["ra:$S"]
EOT

pids=()
cleanup_fleet() {
  for p in "${pids[@]}" ${serve_pid:-}; do kill -TERM "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  psql "$FERRY_TEST_PG_URL" -q -c "DROP SCHEMA $SCHEMA CASCADE" >/dev/null 2>&1 || true
  cleanup
}
trap cleanup_fleet EXIT
"$FERRY_BIN" --config "$CONF" serve --state "$STATE" > "$WORK/serve.out" 2> "$WORK/serve.err" &
serve_pid=$!
check "ferry serve answers" wait_for 30 curl -sf "$URL/healthz"

# gauge NAME: the sum of NAME over the sync run's series (role, kind), as KEDA's query sums it
RUN=""
gauge() {
  curl -sf "$URL/metrics" | awk -v n="$1" -v r="run=\"$RUN\"" \
    'index($0, n "{") == 1 && index($0, r) > 0 { s += $NF } END { print s + 0 }'
}
series_of_run() { curl -sf "$URL/metrics" | grep -c "^ferry_jobs_[a-z_]*{.*run=\"$RUN\"" || true; }
check "sync --detach queues the run (no worker yet)" \
  bash -c "'$FERRY_BIN' --config '$CONF' sync 'ra:$A' 'rb:$B' --state '$STATE' --detach > '$WORK/detach.out' 2>&1"
RUN=$("$FERRY_BIN" jobs list --state "$STATE" --json 2>/dev/null |
  python3 -c "import json,sys
for l in sys.stdin:
    j=json.loads(l)
    if j.get('destination','').endswith('$B'): print(j['run'])" | head -1)
check "the run has an id ($RUN)" [ -n "$RUN" ]
# the exporter refreshes every 10 s: within 15 s its scan waits, with no worker
check "ferry_jobs_waiting shows the waiting scan" wait_for 15 bash -c "[ \"\$(curl -sf $URL/metrics | grep -c '^ferry_jobs_waiting{.*run=\"$RUN\".*kind=\"scan\"')\" = 1 ]"
oldest_waiting_at_least() { awk "BEGIN{exit !($(gauge ferry_jobs_oldest_waiting_seconds) >= $1)}"; }
wait_until 30 "  and its age grows while nothing takes it (to 3 s)" oldest_waiting_at_least 3
check "  nothing at B yet" [ "$(aws_side b s3api list-objects-v2 --bucket "$B" --query 'length(Contents || `[]`)' --output text)" = 0 ]

# the autoscaler: one worker per 20 waiting or running jobs (KEDA's threshold); two here, at
# least, so that one can be stopped each way
start_worker() {
  # --max-rps paces the copy (about 40 objects a second) so that the test sees it midway
  "$FERRY_BIN" --config "$CONF" worker --state "$STATE" --concurrency 8 --lease-ttl 4 \
    --scan-chunk 100 --max-rps 40 >> "$WORK/w$1.log" 2>&1 &
  pids+=($!)
}
want=$(( ($(gauge ferry_jobs_waiting) + $(gauge ferry_jobs_running) + 19) / 20 ))
[ "$want" -gt 3 ] && want=3
check "the gauge asks for workers ($want)" [ "$want" -ge 1 ]
start_worker 1; start_worker 2
done_count() { aws_side b s3api list-objects-v2 --bucket "$B" --query 'length(Contents || `[]`)' --output text; }
objects_done() {  # the run's objects done, from the store
  "$FERRY_BIN" jobs list --state "$STATE" --json 2>/dev/null |
    python3 -c "import json,sys
for l in sys.stdin:
    j=json.loads(l)
    if j.get('run')==$RUN: print(j.get('objects_done',0))"
}
quarter() { [ "$(objects_done)" -ge $((TOTAL / 4)) ]; }
check "workers copy (a quarter done)" wait_for 120 quarter
# scale to zero mid-run: one worker told to stop, the other gone at once
kill -TERM "${pids[0]}"; kill -KILL "${pids[1]}"
wait "${pids[0]}" 2>/dev/null; rc0=$?
wait "${pids[1]}" 2>/dev/null || true
pids=()
check "the SIGTERMed worker exits 0 (its jobs handed back)" [ "$rc0" = 0 ]
at_zero=$(done_count)
echo "  scaled to zero with $at_zero of $TOTAL at B"
check "  midway: not everything was copied yet" [ "$at_zero" -lt "$TOTAL" ]
# the killed worker's leases expire within 4 s: its jobs wait again
check "at zero workers the gauge shows the work left as waiting" \
  wait_for 30 bash -c "[ \"\$(curl -sf $URL/metrics | awk -v r='run=\"$RUN\"' 'index(\$0, \"ferry_jobs_waiting{\") == 1 && index(\$0, r) > 0 { s += \$NF } END { print s + 0 }')\" -ge 1 ] && [ \"\$(curl -sf $URL/metrics | awk -v r='run=\"$RUN\"' 'index(\$0, \"ferry_jobs_running{\") == 1 && index(\$0, r) > 0 { s += \$NF } END { print s + 0 }')\" = 0 ]"
echo "  waiting $(gauge ferry_jobs_waiting) jobs, $(gauge ferry_jobs_waiting_bytes) bytes, oldest $(gauge ferry_jobs_oldest_waiting_seconds) s"
# at_zero was counted before the wait above, which lasted until the killed worker's leases
# expired (seconds): the window in which nothing may have moved
check "  and nothing moves while no worker runs" [ "$(done_count)" = "$at_zero" ]

# scale from zero: the gauge is above 0, so a worker starts
check "scale from zero: the gauge asks for a worker" [ "$(gauge ferry_jobs_waiting)" -ge 1 ]
start_worker 3
check "the run finishes" wait_for 240 bash -c "'$FERRY_BIN' jobs list --state '$STATE' --json 2>/dev/null | grep '\"run\":$RUN,' | grep -q '\"state\":\"done\"'"
check "  and its series leave the exposition" wait_for 15 bash -c "[ \"\$(curl -sf $URL/metrics | grep -c 'run=\"$RUN\"')\" = 0 ]"
ferry ls "ra:$A" --json > "$WORK/a.jsonl"
ferry ls "rb:$B" --json > "$WORK/b.jsonl"
check "every object arrived, intact (same sizes and ETags as at A)" python3 - "$WORK/a.jsonl" "$WORK/b.jsonl" <<'PY'
import json, sys
a = {j["key"]: (j["size"], j["etag"]) for j in map(json.loads, open(sys.argv[1]))}
b = {j["key"]: (j["size"], j["etag"]) for j in map(json.loads, open(sys.argv[2]))}
assert len(a) == len(b), (len(a), len(b))
bad = [k for k in a if a[k][0] != b.get(k, (None,))[0] or (("-" not in a[k][1]) and a[k] != b.get(k))]
assert not bad, bad[:5]
PY
versions=$(aws_side b s3api list-object-versions --bucket "$B" --query 'length(Versions || `[]`)' --output text)
# a job whose worker was SIGKILLed after its write and before its record is done again by the
# next worker: a second version of the same bytes at most, never a loss; counted, not asserted
echo "  B holds $versions versions for $TOTAL objects ($((versions - TOTAL)) written again after the SIGKILL)"
check "  at least one version of each" [ "$versions" -ge "$TOTAL" ]
for k in big0 big1 big2; do
  aws_side b s3 cp "s3://$B/$k" "$WORK/$k.b" >/dev/null
  check "  $k byte for byte" cmp "$WORK/src/$k" "$WORK/$k.b"
done
kill -TERM "$serve_pid"; wait "$serve_pid" 2>/dev/null; rc=$?
serve_pid=""
check "serve ends with exit 0" [ "$rc" = 0 ]
finish
