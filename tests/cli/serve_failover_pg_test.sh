#!/usr/bin/env bash
# Two `ferry serve` on one PostgreSQL state store, fed by one SQS queue (moto_server: a versioned
# moto bucket notifies the queue; destination a versioned bucket of RGW region B). Both serve the
# same continuous run and poll the same queue. One is SIGKILLed while objects are written: the
# other carries on (the dead one's messages come back after the queue's visibility timeout, its
# jobs after their lease, --lease-ttl 5), every object arrives once (one version each at B, the
# source's bytes), and a SIGHUP of the survivor with the config unchanged keeps it serving.
source "$(dirname "$0")/testlib.bash"
: "${FERRY_TEST_PG_URL:?FERRY_TEST_PG_URL not set: run through scripts/test-all.sh}"
TOOLS=$(dirname "$0")/../tools
pids=()
trap 'kill ${pids[*]} ${moto_pid:-} 2>/dev/null; wait ${moto_pid:-} 2>/dev/null; [ -z "${B:-}" ] || drop_versions rb "$B"; cleanup' EXIT
moto_start
moto() { python3 "$TOOLS/moto_sqs.py" "$MOTO" "$@"; }
test_queue_empty() { [ "$(moto count events)" = "0 0" ]; }

SCHEMA=ferry_f$$
psql "$FERRY_TEST_PG_URL" -q -c "CREATE SCHEMA $SCHEMA" >/dev/null
STATE="$FERRY_TEST_PG_URL?options=-csearch_path%3D$SCHEMA"
A=ferry-failover-$$-$RANDOM
B=$(new_bucket rb)
moto setup "$A"
cat >> "$CONF" <<EOT
[[replication.rules]]
id = "all"
destinations = ["rb:$B"]
[serve]
replicate = ["moto:$A"]
scan_interval = "1h"
[[serve.sqs]]
queue_url = "$MOTO/123456789012/events"
remote = "moto"
wait_seconds = 2
EOT
aws_side b s3api put-bucket-versioning --bucket "$B" --versioning-configuration Status=Enabled
PORTS=()
start_serve() { # N: serve number N on its own port
  local port
  port=$(free_port)
  PORTS[$1]=$port
  "$FERRY_BIN" --config "$CONF" serve --state "$STATE" --listen "127.0.0.1:$port" --lease-ttl 5 \
    > "$WORK/serve$1.out" 2> "$WORK/serve$1.err" &
  pids[$1]=$!
  wait_for 30 answers "http://127.0.0.1:$port/healthz"
}
recorded_by() { # N: serve N recorded events from the queue
  curl -sf "http://127.0.0.1:${PORTS[$1]}/metrics" |
    awk '/^ferry_events_recorded_total/ { n += $2 } END { exit !(n > 0) }'
}
check "serve 1 starts" start_serve 1
check "serve 2 starts on the same store" start_serve 2
mkdir -p "$WORK/data"
for i in $(seq 1 30); do head -c $((RANDOM % 4000 + 1)) /dev/urandom > "$WORK/data/k$i"; done
# 30 objects written one after another; serve 1 is SIGKILLed after the 10th
for i in $(seq 1 30); do
  ferry cp "$WORK/data" "moto:$A" --include "k$i" --no-progress >/dev/null 2>&1
  if [ "$i" = 10 ]; then
    check "serve 1 took part before it was killed" wait_for 20 recorded_by 1
    kill -9 "${pids[1]}"; wait "${pids[1]}" 2>/dev/null || true
  fi
done
count_b() { s3_count b "$B"; }
at_b() { [ "$(count_b)" = "$1" ]; }
check "serve 2 carries on: all 30 objects at B" wait_for 60 at_b 30
versions=$(aws_side b s3api list-object-versions --bucket "$B" --query 'length(Versions || `[]`)' --output text)
check "nothing written twice: $versions versions at B for 30 keys" [ "$versions" = 30 ]
aws_side b s3 sync "s3://$B" "$WORK/at-b" --quiet  # B read back in one AWS CLI call, not 30
same=0
for i in $(seq 1 30); do
  if cmp -s "$WORK/data/k$i" "$WORK/at-b/k$i"; then same=$((same + 1)); fi
done
check "every object's bytes at B are the source's ($same/30)" [ "$same" = 30 ]
check "the queue is empty at the end" wait_for 20 test_queue_empty
# reloads_applied N: serve N counted one reload applied (the SIGHUP, config unchanged)
reloads_applied() {
  curl -sf "http://127.0.0.1:${PORTS[$1]}/metrics" | grep -q '^ferry_serve_reloads_total{result="applied"} 1$'
}
kill -HUP "${pids[2]}"
wait_until 30 "serve 2 applies the reload a SIGHUP asks" reloads_applied 2
check "serve 2 still serves after a SIGHUP" curl -sf -o /dev/null "http://127.0.0.1:${PORTS[2]}/healthz"
echo "after" > "$WORK/data/k31"
ferry cp "$WORK/data" "moto:$A" --include k31 --no-progress >/dev/null 2>&1
check "an object written after the reload arrives" wait_for 30 at_b 31
kill -TERM "${pids[2]}"; rc=0; wait "${pids[2]}" || rc=$?
check "SIGTERM ends serve 2 with exit 0" [ "$rc" = 0 ]
pids=()
psql "$FERRY_TEST_PG_URL" -q -c "DROP SCHEMA $SCHEMA CASCADE" >/dev/null 2>&1 || true
finish
