#!/usr/bin/env bash
# ferry serve's SQS intake against a real moto_server (started here on a free port; the test
# fails when moto_server is missing): a versioned moto bucket notifies an SQS queue of
# ObjectCreated (moto delivers S3 notifications to SQS, its test event first), ferry serve polls
# the queue and replicates to a versioned bucket of RGW region B what the messages name (no
# scan: scan_interval 1h). A malformed message ends in the dead-letter queue both ways: by the
# queue's RedrivePolicy (queue `events`, maxReceiveCount 2) and, for a queue without one
# (`events2`), sent there by ferry itself at its max_receives-th delivery. Every outcome is
# counted, the queues are empty at the end (recorded messages deleted), a queue where a refused
# message would have nowhere to go is refused at start, and SIGTERM ends a long poll at once
# with exit 0.
source "$(dirname "$0")/testlib.bash"
TOOLS=$(dirname "$0")/../tools
serve_pid=""
# at exit: ferry and moto stopped, B's versions deleted one by one (the common cleanup's sync
# --delete leaves a versioned bucket's old versions), then the common cleanup
trap 'kill $serve_pid ${moto_pid:-} 2>/dev/null; wait ${moto_pid:-} 2>/dev/null; [ -z "${B:-}" ] || drop_versions rb "$B"; cleanup' EXIT
moto_start
moto() { python3 "$TOOLS/moto_sqs.py" "$MOTO" "$@"; }

A=ferry-sqs-$$-$RANDOM
B=$(new_bucket rb)
moto setup "$A"
PORT=$(free_port)
URL=http://127.0.0.1:$PORT
cat >> "$CONF" <<EOT
[[replication.rules]]
id = "all"
destinations = ["rb:$B"]
[serve]
listen = "127.0.0.1:$PORT"
replicate = ["moto:$A"]
scan_interval = "1h"
EOT
cp "$CONF" "$WORK/noredrive.toml"
cat >> "$WORK/noredrive.toml" <<EOT
[[serve.sqs]]
queue_url = "$MOTO/123456789012/events2"
remote = "moto"
EOT
check "a queue without RedrivePolicy nor dead_letter_queue_url is refused at start" \
  expect_error 2 "events2 has no RedrivePolicy" \
  "$FERRY_BIN" --config "$WORK/noredrive.toml" serve --state "$WORK/bad.db"
cat >> "$CONF" <<EOT
[[serve.sqs]]
queue_url = "$MOTO/123456789012/events"
remote = "moto"
wait_seconds = 20
[[serve.sqs]]
queue_url = "$MOTO/123456789012/events2"
remote = "moto"
wait_seconds = 20
dead_letter_queue_url = "$MOTO/123456789012/refused2"
max_receives = 2
EOT
aws_b() {
  AWS_ACCESS_KEY_ID=$RB_KEY AWS_SECRET_ACCESS_KEY=$RB_SECRET AWS_DEFAULT_REGION=${FERRY_TEST_S3_REGION_B:-region-b} \
    AWS_EC2_METADATA_DISABLED=true AWS_PAGER="" "$AWS_CLI" --endpoint-url "$FERRY_TEST_S3_ENDPOINT_B" "$@"
}
aws_b s3api put-bucket-versioning --bucket "$B" --versioning-configuration Status=Enabled
"$FERRY_BIN" --config "$CONF" serve --state "$WORK/state.db" > "$WORK/serve.out" 2> "$WORK/serve.err" &
serve_pid=$!
wait_until 30 "healthz answers once it serves" answers "$URL/healthz"
# written to the moto bucket: S3 notifies the queue, ferry records and replicates
mkdir -p "$WORK/new/sub"
for i in $(seq 1 9); do echo "sqs $i" > "$WORK/new/$i.txt"; done
echo "odd key" > "$WORK/new/sub/a b+c.txt"
ferry cp "$WORK/new" "moto:$A/new" --no-progress >/dev/null 2>&1
written=$(date +%s.%N)
count_b() { s3_count b "$B"; }
at_b() { [ "$(count_b)" = "$1" ]; }
check "10 objects written to the moto bucket reach B through SQS" wait_for 20 at_b 10
echo "  all 10 at B $(python3 -c "print(round($(date +%s.%N) - $written, 1))") s after they were written"
check "  the key AWS form-encodes arrives as itself" \
  test "$(aws_b s3 cp "s3://$B/new/sub/a b+c.txt" - 2>/dev/null)" = "odd key"
# malformed messages: the queue's RedrivePolicy moves one, ferry the other
moto send events '{"Records": [ not json'
moto send events2 '{"Records":[{"eventVersion":"9.0"}]}'
in_queue() { [ "$(moto count "$1")" = "$2" ]; }
check "a malformed message ends in the queue's dead-letter queue (RedrivePolicy)" \
  wait_for 15 in_queue refused "1 0"
check "  and one of a queue without RedrivePolicy in dead_letter_queue_url (moved by ferry)" \
  wait_for 15 in_queue refused2 "1 0"
moved=$(moto peek refused2)
check "  with its body and why it was refused" python3 -c '
import json, sys
m = json.loads(sys.argv[1])
assert m["body"] == "{\"Records\":[{\"eventVersion\":\"9.0\"}]}", m
assert m["attributes"]["ferry-refused"].startswith("unknown_version: "), m
assert m["attributes"]["ferry-source-queue"].endswith("/events2"), m' "$moved"
check "the queues are empty: what was recorded was deleted" wait_for 10 in_queue events "0 0"
check "  (and the other one)" in_queue events2 "0 0"
metrics=$(curl -sf "$URL/metrics")
has() { grep -qF "$1" <<< "$metrics" || { echo "  no '$1' in the metrics"; return 1; }; }
check "metrics: 10 messages recorded" has 'ferry_sqs_messages_total{queue="events",outcome="recorded"} 10'
check "  S3's test event ignored" has 'ferry_sqs_messages_total{queue="events",outcome="ignored"} 1'
check "  the malformed message refused, then dead-lettered" \
  has 'ferry_sqs_messages_total{queue="events",outcome="refused"} 1'
check "  (its last delivery)" has 'ferry_sqs_messages_total{queue="events",outcome="dead_lettered"} 1'
check "  and the other one the same way" \
  has 'ferry_sqs_messages_total{queue="events2",outcome="dead_lettered"} 1'
check "  refusals by reason" has 'ferry_events_refused_total{reason="malformed_json"} 2'
check "  (both deliveries)" has 'ferry_events_refused_total{reason="unknown_version"} 2'
check "  events received" has 'ferry_events_received_total{store="aws",kind="created"} 10'
no_receive_error() { ! grep -q '^ferry_sqs_receive_errors_total{' <<< "$metrics"; }
check "  no receive error" no_receive_error
# SIGTERM in the middle of 20 s long polls
stop_at=$(date +%s.%N)
kill -TERM "$serve_pid"
rc=0; wait "$serve_pid" || rc=$?
took=$(python3 -c "print(round($(date +%s.%N) - $stop_at, 1))")
serve_pid=""
check "SIGTERM ends it with exit 0" [ "$rc" = 0 ]
check "  within 3 s, long polls in flight (took ${took} s)" python3 -c "assert $took < 3"
[ "$rc" = 0 ] || tail -5 "$WORK/serve.err"
finish
