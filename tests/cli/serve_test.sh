#!/usr/bin/env bash
# ferry serve against the RGW pair: a continuous replication run from a versioned bucket of
# gateway A to one of gateway B. What exists is replicated by the first scan; what is written
# while it runs arrives through RGW bucket notifications (a topic pushing to POST /events,
# authenticated by the topic's opaqueData; not persistent: RGW 16.2.15 aborts on a
# DeleteObjects in a bucket notifying a persistent topic, seen here twice, and delivers a
# persistent queue a few seconds per event) and is replicated within seconds,
# with no scan (scan_interval 1h). Deletes (delete markers) and overwrites follow. The
# intake refuses what it must (no token 401, bad JSON 400, a large body 413), /healthz and
# /metrics answer, a bad [serve] config is one error line, and SIGTERM ends it with exit 0.
source "$(dirname "$0")/testlib.bash"
A=$(new_bucket ra)
B=$(new_bucket rb)
TOKEN=tok-$RANDOM$RANDOM
export FERRY_EVENTS_TOKEN=$TOKEN
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
URL=http://127.0.0.1:$PORT
aws_side a s3api put-bucket-versioning --bucket "$A" --versioning-configuration Status=Enabled
aws_side b s3api put-bucket-versioning --bucket "$B" --versioning-configuration Status=Enabled
for i in 1 2 3; do echo "before $i" | aws_side a s3 cp - "s3://$A/old/$i.txt" >/dev/null; done

# a bad [serve] is one error line, exit 2
cp "$CONF" "$WORK/bad.toml"
printf '[serve]\nreplicate = "ra:%s"\n' "$A" >> "$WORK/bad.toml"
check "a bad [serve] is refused" expect_error 2 "'replicate' must be a list" \
  "$FERRY_BIN" --config "$WORK/bad.toml" serve --state "$WORK/bad.db"
cp "$CONF" "$WORK/norules.toml"
printf '[serve]\nreplicate = ["ra:%s"]\n' "$A" >> "$WORK/norules.toml"
check "serve without rules is refused" expect_error 2 "needs rules" \
  "$FERRY_BIN" --config "$WORK/norules.toml" serve --state "$WORK/bad.db"

cat >> "$CONF" <<EOT
[[replication.rules]]
id = "all"
destinations = ["rb:$B"]
delete_markers = true
[serve]
listen = "127.0.0.1:$PORT"
replicate = ["ra:$A"]
scan_interval = "1h"
token_env = "FERRY_EVENTS_TOKEN"
max_event_body = "64KiB"
EOT
"$FERRY_BIN" --config "$CONF" serve --state "$WORK/state.db" > "$WORK/serve.out" 2> "$WORK/serve.err" &
pid=$!
wait_until 30 "healthz answers once it serves" answers "$URL/healthz"
# the topic pushes to ferry with the token as its opaqueData; the bucket notifies it
aws_side a sns create-topic --name "ferry-$A" --attributes \
  "{\"push-endpoint\":\"$URL/events\",\"persistent\":\"false\",\"OpaqueData\":\"$TOKEN\"}" >/dev/null
aws_side a s3api put-bucket-notification-configuration --bucket "$A" --notification-configuration \
  "{\"TopicConfigurations\":[{\"Id\":\"ferry\",\"TopicArn\":\"arn:aws:sns:${FERRY_TEST_S3_REGION:-region-a}::ferry-$A\",\"Events\":[\"s3:ObjectCreated:*\",\"s3:ObjectRemoved:*\"]}]}"
# the first scan replicates what existed
count_b() { s3_count b "$B"; }
at_b() { [ "$(count_b)" = "$1" ]; }  # at_b N: B holds N objects (evaluated at each try)
check "the first scan replicates what existed" wait_for 60 at_b 3
# written while it runs: replicated from the events (no scan for an hour)
mkdir -p "$WORK/new"
for i in $(seq 1 20); do echo "event $i" > "$WORK/new/$i.txt"; done
ferry cp "$WORK/new" "ra:$A/new" --no-progress >/dev/null 2>&1
written=$(date +%s.%N)
check "20 objects written meanwhile arrive from their events" wait_for 60 at_b 23
echo "  all 20 at B $(python3 -c "print(round($(date +%s.%N) - $written, 1))") s after they were written"
echo "changed" | aws_side a s3 cp - "s3://$A/new/1.txt" >/dev/null
aws_side a s3 rm "s3://$A/new/2.txt" >/dev/null
got_changed() { [ "$(aws_side b s3 cp "s3://$B/new/1.txt" - 2>/dev/null)" = changed ]; }
check "an overwrite follows" wait_for 60 got_changed
gone() { ! s3_has b "$B" new/2.txt; }
check "a delete follows (a delete marker)" wait_for 60 gone
versions=$(aws_side b s3api list-object-versions --bucket "$B" --prefix new/1.txt --query 'length(Versions)' --output text)
check "every version once at B" [ "$versions" = 2 ]
# the intake's refusals
code() { curl -s -o /dev/null -w '%{http_code}' "$@"; }
check "no token: 401" [ "$(code -X POST --data '{"Records":[]}' "$URL/events")" = 401 ]
check "bad JSON with the token: 400" [ "$(code -X POST -H "Authorization: Bearer $TOKEN" --data '{nope' "$URL/events")" = 400 ]
head -c 100000 /dev/zero | tr '\0' x > "$WORK/big"
check "a body above max_event_body: 413" [ "$(code -X POST -H "Authorization: Bearer $TOKEN" --data-binary @"$WORK/big" "$URL/events")" = 413 ]
check "still serving" curl -sf -o /dev/null "$URL/healthz"
metrics=$(curl -sf "$URL/metrics")
check "metrics count the events" grep -q 'ferry_events_received_total{store="rgw",kind="created"}' <<< "$metrics"
check "  and the refusals" grep -q 'ferry_events_refused_total{reason="unauthenticated"} 1' <<< "$metrics"
check "  and the replication SLA series: latency, pending" \
  grep -q "ferry_replication_latency_seconds_count{rule=\"all\",destination=\"rb:$B/\"}" <<< "$metrics"
check "  (the pending gauges refreshed from the status store)" \
  grep -q "ferry_replication_operations_pending{rule=\"all\",destination=\"rb:$B/\"}" <<< "$metrics"
check "api/status names the run" grep -q "\"source\": \"ra:$A/\"" <<< "$(curl -sf "$URL/api/status")"
kill -TERM "$pid"
rc=0; wait "$pid" || rc=$?
check "SIGTERM ends it with exit 0" [ "$rc" = 0 ]
[ "$rc" = 0 ] || tail -5 "$WORK/serve.err"
# RGW 16.2.15 aborts on a DeleteObjects (multi-delete, what the cleanup's sync --delete
# sends) in a bucket that notifies any topic (seen here), and refuses an empty notification
# configuration (MalformedXML): A's versions are deleted one request each, then the bucket.
drop_versions ra "$A" --bucket
finish
