#!/usr/bin/env bash
# ferry serve sends S3-style `Replication:` event records to a webhook ([serve.replication_events])
# against the RGW pair: a destination bucket deleted under a running serve makes a version fail
# (Replication:OperationFailedReplication, DstBucketNotFound), a 1 s replication_time is missed
# by it (OperationMissedThreshold) and passed by a version written while serve was down
# (OperationReplicatedAfterThreshold). The receiver (tests/tools/webhook_receiver.py, checking
# the bearer token) is down at first: the records wait in the state store's outbox and arrive
# once it is up. serve is SIGKILLed with records in the outbox: they arrive after its restart.
# A config with an unknown key there is refused in one line (exit 2; on SIGHUP: refused, counted).
source "$(dirname "$0")/testlib.bash"
A=$(new_bucket ra)
B=$(new_bucket rb)
C=$(new_bucket rb)   # deleted under the running serve
export FERRY_HOOK_TOKEN=hook-$RANDOM$RANDOM
PORT=$(free_port)
RPORT=$(free_port)
URL=http://127.0.0.1:$PORT
HOOK=$WORK/hook.jsonl
aws_side a s3api put-bucket-versioning --bucket "$A" --versioning-configuration Status=Enabled
aws_side b s3api put-bucket-versioning --bucket "$B" --versioning-configuration Status=Enabled
aws_side b s3api put-bucket-versioning --bucket "$C" --versioning-configuration Status=Enabled
cp "$CONF" "$WORK/remotes.toml"
cat >> "$CONF" <<EOT
[[replication.rules]]
id = "to-gone"
filter = { prefix = "bad/" }
destinations = ["rb:$C"]
replication_time = "1s"
[[replication.rules]]
id = "slow"
filter = { prefix = "slow/" }
destinations = ["rb:$B"]
replication_time = "1s"
[serve]
listen = "127.0.0.1:$PORT"
replicate = ["ra:$A"]
scan_interval = "3s"
[serve.replication_events]
url = "http://127.0.0.1:$RPORT/hook"
token_env = "FERRY_HOOK_TOKEN"
EOT
pid= rpid=
trap 'for p in $pid $rpid; do kill "$p" 2>/dev/null || true; done; cleanup' EXIT
start_serve() {
  "$FERRY_BIN" --config "$CONF" serve --state "$WORK/state.db" >> "$WORK/serve.out" 2>> "$WORK/serve.err" &
  pid=$!
  wait_for 30 answers "$URL/healthz"
}
start_receiver() {
  : > "$WORK/receiver.out"
  python3 "$FERRY_TEST_TOOLS/webhook_receiver.py" --port "$RPORT" --out "$HOOK" \
    --token "$FERRY_HOOK_TOKEN" > "$WORK/receiver.out" 2>&1 &
  rpid=$!
  wait_for 10 grep -q listening "$WORK/receiver.out"
}
metric() {  # metric SERIES: its value in serve's /metrics (0 when absent)
  curl -sf "$URL/metrics" | awk -v s="$1" 'index($0, s " ") == 1 { v = $2 } END { print v + 0 }'
}
metric_at_least() { [ "$(metric "$1")" -ge "$2" ] 2>/dev/null; }
outbox_rows() { sqlite3 "$WORK/state.db" "select count(*) from replication_events" 2>/dev/null || echo 0; }
outbox_has_rows() { [ "$(outbox_rows)" -ge 1 ]; }
# record EVENT KEY RULE: the first record the receiver got with that eventName, key and rule,
# as JSON (fails when none)
record() {
  python3 - "$HOOK" "$@" <<'PY'
import json, sys
path, event, key, rule = sys.argv[1:5]
try:
    lines = open(path).read().splitlines()
except FileNotFoundError:
    sys.exit(1)
for line in lines:
    for r in json.loads(line)["Records"]:
        if (r["eventName"] == event and r["s3"]["object"]["key"] == key
                and r["replicationEventData"]["replicationRuleId"] == rule):
            print(json.dumps(r))
            sys.exit(0)
sys.exit(1)
PY
}
field() { python3 -c 'import json,sys; d=json.loads(sys.argv[1]); [d := d[p] for p in sys.argv[2].split(".")]; print(d)' "$1" "$2"; }
received_sequencer() { grep -q "\"sequencer\":\"$1\"" "$HOOK" 2>/dev/null; }

check "serve starts, the webhook down" start_serve
check "  it says where records go" grep -q "sending replication events to http://127.0.0.1:$RPORT/hook" "$WORK/serve.err"
aws_side b s3api delete-bucket --bucket "$C"
check "destination bucket $C deleted" bash -c "! aws_side b s3api head-bucket --bucket '$C' 2>/dev/null"
echo bad | aws_side a s3 cp - "s3://$A/bad/x y.txt" >/dev/null
VID=$(aws_side a s3api head-object --bucket "$A" --key "bad/x y.txt" --query VersionId --output text)
check "the failure is in the outbox" wait_for 30 outbox_has_rows
check "  its delivery fails while the webhook is down (counted)" \
  wait_for 30 metric_at_least 'ferry_replication_events_failed_total{event="failed"}' 1
check "  and nothing was sent" [ "$(metric 'ferry_replication_events_sent_total{event="failed"}')" = 0 ]

# the webhook comes up: the records kept arrive (retried with backoff)
check "the webhook starts" start_receiver
has_record() { record "$@" > /dev/null; }
check "the failure's record arrives once the webhook is up" \
  wait_for 90 has_record Replication:OperationFailedReplication "bad/x+y.txt" to-gone
R=$(record Replication:OperationFailedReplication "bad/x+y.txt" to-gone)
check "  eventSource aws:s3, eventVersion 2.2" [ "$(field "$R" eventSource)/$(field "$R" eventVersion)" = "aws:s3/2.2" ]
check "  awsRegion is the source's" [ "$(field "$R" awsRegion)" = "${FERRY_TEST_S3_REGION:-region-a}" ]
check "  bucket $A" [ "$(field "$R" s3.bucket.name)" = "$A" ]
check "  versionId $VID" [ "$(field "$R" s3.object.versionId)" = "$VID" ]
check "  destinationBucket arn:aws:s3:::$C" \
  [ "$(field "$R" replicationEventData.destinationBucket)" = "arn:aws:s3:::$C" ]
check "  failureReason DstBucketNotFound" [ "$(field "$R" replicationEventData.failureReason)" = DstBucketNotFound ]
check "  s3Operation OBJECT_PUT" [ "$(field "$R" replicationEventData.s3Operation)" = OBJECT_PUT ]
check "  counted sent" metric_at_least 'ferry_replication_events_sent_total{event="failed"}' 1

# records in the outbox when serve is SIGKILLed arrive after its restart
kill "$rpid"; wait "$rpid" 2>/dev/null || true; rpid=
before=$(metric 'ferry_replication_events_failed_total{event="failed"}')
echo bad | aws_side a s3 cp - "s3://$A/bad/second.txt" >/dev/null
check "with the webhook down again, another failure waits in the outbox" \
  wait_for 30 metric_at_least 'ferry_replication_events_failed_total{event="failed"}' $((before + 1))
kill -9 "$pid"; wait "$pid" 2>/dev/null || true; pid=
mapfile -t KEPT < <(sqlite3 "$WORK/state.db" "select printf('%016X', id) from replication_events")
check "serve SIGKILLed with ${#KEPT[@]} records undelivered" [ "${#KEPT[@]}" -ge 1 ]
# serve checks every destination when it starts: the bucket is there again (the failed versions
# then go there, late)
aws_side b s3api create-bucket --bucket "$C" >/dev/null
aws_side b s3api put-bucket-versioning --bucket "$C" --versioning-configuration Status=Enabled
echo slow | aws_side a s3 cp - "s3://$A/slow/late.txt" >/dev/null   # written while serve is down
# Kept: the time is what is tested. The version must be older than its rule's 1 s threshold
# when serve replicates it, and the record's replicationTime (whole seconds) at least 2.
sleep 2
check "the webhook starts again" start_receiver
check "serve starts again" start_serve
all_kept_received() { for s in "${KEPT[@]}"; do received_sequencer "$s" || return 1; done; }
check "every record kept through the SIGKILL arrives" wait_for 60 all_kept_received
check "a version replicated past its threshold: OperationReplicatedAfterThreshold" \
  wait_for 60 has_record Replication:OperationReplicatedAfterThreshold slow/late.txt slow
R=$(record Replication:OperationReplicatedAfterThreshold slow/late.txt slow)
check "  threshold 1, replicationTime at least 2 (s)" \
  [ "$(field "$R" replicationEventData.threshold)" = 1 -a "$(field "$R" replicationEventData.replicationTime)" -ge 2 ]
check "a failed version pending past its threshold: OperationMissedThreshold" \
  wait_for 60 has_record Replication:OperationMissedThreshold "bad/x+y.txt" to-gone
check "the failed versions replicated late once their bucket is back: OperationReplicatedAfterThreshold" \
  wait_for 60 has_record Replication:OperationReplicatedAfterThreshold bad/second.txt to-gone
check "the records are counted sent" \
  metric_at_least 'ferry_replication_events_sent_total{event="after-threshold"}' 1
check "the outbox's size is exported" bash -c "curl -sf '$URL/metrics' | grep -q '^ferry_replication_events_pending '"

# strict config: an unknown key is refused on SIGHUP (the running config goes on) and at start
sed -i "s|^token_env = \"FERRY_HOOK_TOKEN\"|&\nretries = 3|" "$CONF"
kill -HUP "$pid"
check "a reload with an unknown key is refused" \
  wait_for 10 metric_at_least 'ferry_serve_reloads_total{result="refused"}' 1
check "  one line names it" grep -q "\[serve.replication_events\]: unknown key 'retries'" "$WORK/serve.err"
kill -TERM "$pid"; rc=0; wait "$pid" || rc=$?; pid=
check "SIGTERM ends it with exit 0" [ "$rc" = 0 ]
check "serve refuses it at start: one line, exit 2" \
  expect_error 2 "unknown key 'retries'" "$FERRY_BIN" --config "$CONF" serve --state "$WORK/state.db"
sed -i '/^retries = 3$/d' "$CONF"
check "serve refuses an unset token_env: one line, exit 2" \
  expect_error 2 "FERRY_HOOK_TOKEN is not set" env -u FERRY_HOOK_TOKEN "$FERRY_BIN" --config "$CONF" serve --state "$WORK/state.db"
grep -i "error\|fatal" "$WORK/serve.err" | grep -v "replication events: POST" | head -5 || true
drop_versions ra "$A" --bucket
finish
