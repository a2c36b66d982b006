#!/usr/bin/env bash
# ferry serve's repair scan against the RGW pair: what no event brings is replicated by the scan
# and counted in ferry_replication_scan_repaired_total{reason="missed"}.
#  1. Events lost while serve is down (a non-persistent topic drops them when its endpoint does
#     not answer): serve started again scans at once (its run's next scan, an hour away, is
#     brought forward) and replicates them.
#  2. Events never sent (the bucket notifies only keys under evt/): with scan_interval 2s, what
#     is written under quiet/ arrives within an interval or two, counted, while what events
#     bring is not counted.
# Under the events' steady work the rounds still end: the count grows round after round.
source "$(dirname "$0")/testlib.bash"
A=$(new_bucket ra)
B=$(new_bucket rb)
TOKEN=tok-$RANDOM$RANDOM
export FERRY_EVENTS_TOKEN=$TOKEN
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
URL=http://127.0.0.1:$PORT
count_b() { s3_count b "$B" "$1"; }
at_b() { [ "$(count_b "$1")" = "$2" ]; }  # at_b PREFIX N: B holds N objects under PREFIX
repaired_is() { [ "$(repaired "$1")" "$2" "$3" ]; }  # repaired_is REASON -eq|-ge N
repaired() {  # the serve's count of versions repaired for a reason
  curl -sf "$URL/metrics" | awk -v s="ferry_replication_scan_repaired_total{rule=\"all\",destination=\"rb:$B/\",reason=\"$1\"}" \
    'index($0, s) == 1 { v = $2 } END { print v + 0 }'
}
put_a() { echo "$2" | aws_side a s3 cp - "s3://$A/$1" >/dev/null; }
aws_side a s3api put-bucket-versioning --bucket "$A" --versioning-configuration Status=Enabled
aws_side b s3api put-bucket-versioning --bucket "$B" --versioning-configuration Status=Enabled

cp "$CONF" "$WORK/base.toml"
config() {  # config SCAN_INTERVAL > FILE
  cat "$WORK/base.toml"
  cat <<EOT
[[replication.rules]]
id = "all"
destinations = ["rb:$B"]
[serve]
listen = "127.0.0.1:$PORT"
replicate = ["ra:$A"]
scan_interval = "$1"
token_env = "FERRY_EVENTS_TOKEN"
EOT
}
start_serve() {  # start_serve CONFIG: in the background, $pid; waits until it answers
  "$FERRY_BIN" --config "$1" serve --state "$WORK/state.db" >> "$WORK/serve.out" 2>> "$WORK/serve.err" &
  pid=$!
  wait_for 30 answers "$URL/healthz"
}
stop_serve() {
  kill -TERM "$pid"
  local rc=0; wait "$pid" || rc=$?
  check "SIGTERM ends it with exit 0" [ "$rc" = 0 ]
}
config 1h > "$WORK/hour.toml"
config 2s > "$WORK/quick.toml"

check "serve starts (scan every hour)" start_serve "$WORK/hour.toml"
aws_side a sns create-topic --name "ferry-$A" --attributes \
  "{\"push-endpoint\":\"$URL/events\",\"persistent\":\"false\",\"OpaqueData\":\"$TOKEN\"}" >/dev/null
aws_side a s3api put-bucket-notification-configuration --bucket "$A" --notification-configuration \
  "{\"TopicConfigurations\":[{\"Id\":\"ferry\",\"TopicArn\":\"arn:aws:sns:${FERRY_TEST_S3_REGION:-region-a}::ferry-$A\",\"Events\":[\"s3:ObjectCreated:*\"],\"Filter\":{\"Key\":{\"FilterRules\":[{\"Name\":\"prefix\",\"Value\":\"evt/\"}]}}}]}"
for i in 1 2 3; do put_a "evt/$i.txt" "event $i"; done
check "objects with events arrive" wait_for 30 at_b evt/ 3
check "  not counted as repaired" [ "$(repaired missed)" = 0 ]
stop_serve

# 1. written while serve is down: the non-persistent topic's pushes fail, the events are lost
# (serve's exit was waited for: no process of ferry runs, the check needs no delay)
for i in 1 2 3 4; do put_a "evt/down/$i.txt" "down $i"; done
check "nothing arrived while serve was down" [ "$(count_b evt/down/)" = 0 ]
check "serve starts again" start_serve "$WORK/hour.toml"
check "what was written while it was down arrives (scan at start)" wait_for 30 at_b evt/down/ 4
check "  counted: 4 repaired, missed" wait_for 5 repaired_is missed -eq 4
stop_serve

# 2. never sent: keys outside the notification's prefix, with a scan every 2 s
check "serve starts (scan every 2s)" start_serve "$WORK/quick.toml"
for i in 1 2 3 4 5; do put_a "quiet/$i.txt" "quiet $i"; done
check "keys no event tells of arrive within the interval" wait_for 20 at_b quiet/ 5
check "  counted: 5 repaired, missed" wait_for 5 repaired_is missed -eq 5
# events keep coming while the rounds go on: each round still ends and the next one repairs
for i in 6 7; do
  put_a "quiet/$i.txt" "quiet $i"
  for j in 1 2 3; do put_a "evt/busy/$i-$j.txt" "busy $i $j"; done
done
check "a later round repairs too, events or not" wait_for 20 at_b quiet/ 7
check "  counted" wait_for 5 repaired_is missed -ge 7
check "the events' objects arrive" wait_for 20 at_b evt/busy/ 6
stop_serve
grep -i "error\|fatal" "$WORK/serve.err" | head -5 || true

# RGW 16.2.15 aborts on a DeleteObjects in a bucket that notifies any topic: A's versions are
# deleted one request each, then the bucket; the topic goes.
drop_versions ra "$A" --bucket
aws_side a sns delete-topic --topic-arn "arn:aws:sns:${FERRY_TEST_S3_REGION:-region-a}::ferry-$A" >/dev/null 2>&1 || true
finish
