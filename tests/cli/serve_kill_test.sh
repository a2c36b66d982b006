#!/usr/bin/env bash
# ferry serve killed (SIGKILL) while objects are written and replicated, three times, and started
# again each time (SQLite state): nothing is lost and nothing is written twice. Events come from
# a non-persistent RGW topic (those sent while serve is down are lost: the scan at start covers
# them); some objects are large enough to be copied in parts (multipart_threshold 5MiB), so a
# kill may land mid-copy. The destination is versioned: a version written twice would show as
# two versions of its key there.
source "$(dirname "$0")/testlib.bash"
A=$(new_bucket ra)
B=$(new_bucket rb)
TOKEN=tok-$RANDOM$RANDOM
export FERRY_EVENTS_TOKEN=$TOKEN
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
URL=http://127.0.0.1:$PORT
count_b() { s3_count b "$B"; }
at_b() { [ "$(count_b)" = "$1" ]; }
aws_side a s3api put-bucket-versioning --bucket "$A" --versioning-configuration Status=Enabled
aws_side b s3api put-bucket-versioning --bucket "$B" --versioning-configuration Status=Enabled
cat >> "$CONF" <<EOT
[transfer]
multipart_threshold = "5MiB"
part_size = "5MiB"
[[replication.rules]]
id = "all"
destinations = ["rb:$B"]
[serve]
listen = "127.0.0.1:$PORT"
replicate = ["ra:$A"]
scan_interval = "1h"
token_env = "FERRY_EVENTS_TOKEN"
EOT
start_serve() {
  "$FERRY_BIN" --config "$CONF" serve --state "$WORK/state.db" >> "$WORK/serve.out" 2>> "$WORK/serve.err" &
  pid=$!
  wait_for 30 answers "$URL/healthz"
}
check "serve starts" start_serve
aws_side a sns create-topic --name "ferry-$A" --attributes \
  "{\"push-endpoint\":\"$URL/events\",\"persistent\":\"false\",\"OpaqueData\":\"$TOKEN\"}" >/dev/null
aws_side a s3api put-bucket-notification-configuration --bucket "$A" --notification-configuration \
  "{\"TopicConfigurations\":[{\"Id\":\"ferry\",\"TopicArn\":\"arn:aws:sns:${FERRY_TEST_S3_REGION:-region-a}::ferry-$A\",\"Events\":[\"s3:ObjectCreated:*\"]}]}"
mkdir -p "$WORK/data"
total=0
for round in 1 2 3; do
  # 6 small objects and 2 of 11 MiB (3 parts) written at once; serve killed meanwhile
  for i in 1 2 3 4 5 6; do head -c $((RANDOM * 3)) /dev/urandom > "$WORK/data/r$round-s$i"; done
  for i in 1 2; do head -c $((11 << 20)) /dev/urandom > "$WORK/data/r$round-l$i"; done
  writers=()
  for f in "$WORK"/data/r$round-*; do
    aws_side a s3 cp "$f" "s3://$A/$(basename "$f")" --quiet & writers+=($!)
  done
  total=$((total + 8))
  sleep "0.$((3 + RANDOM % 6))"
  kill -9 "$pid"; wait "$pid" 2>/dev/null || true
  for w in "${writers[@]}"; do wait "$w"; done
  check "round $round: serve starts again after SIGKILL" start_serve
done
check "every object arrives ($total)" wait_for 90 at_b "$total"
# each version of A once at B (a second write would be a second version there), with the
# source's bytes. A has a version per key, unless the AWS CLI wrote one twice (it retries a PUT
# whose reply it did not get, as under load: that is a version of A too, and replicated).
# list_versions SIDE BUCKET: "key size" per version, sorted
list_versions() {
  aws_side "$1" s3api list-object-versions --bucket "$2" --query 'Versions[].[Key,Size]' --output text | sort
}
list_versions a "$A" > "$WORK/versions-a"
list_versions b "$B" > "$WORK/versions-b"
versions=$(wc -l < "$WORK/versions-b")
check "nothing written twice: $versions versions at B for $(wc -l < "$WORK/versions-a") at A ($total keys)" \
  cmp -s "$WORK/versions-a" "$WORK/versions-b"
if ! cmp -s "$WORK/versions-a" "$WORK/versions-b"; then
  aws_side b s3api list-object-versions --bucket "$B" --query 'Versions[].[Key,VersionId,Size,LastModified,ETag]' --output text | sort | awk '{print "  " $0}'
  sqlite3 "$WORK/state.db" "select object_key, state, dest_version, message from replication_status order by object_key" | awk '{print "  row " $0}'
  sqlite3 "$WORK/state.db" "select * from started_uploads" | awk '{print "  upload " $0}'
fi
# B read back by the AWS CLI in one call (a call per object cost half a CPU-second each)
aws_side b s3 sync "s3://$B" "$WORK/at-b" --quiet
same=0
for f in "$WORK"/data/*; do
  k=$(basename "$f")
  if cmp -s "$f" "$WORK/at-b/$k"; then same=$((same + 1)); else echo "  differs: $k"; fi
done
check "every object's bytes at B are the source's" [ "$same" = "$total" ]
kill -TERM "$pid"; rc=0; wait "$pid" || rc=$?
check "SIGTERM ends it with exit 0" [ "$rc" = 0 ]
# RGW 16.2.15 aborts on a DeleteObjects in a bucket that notifies any topic: A's versions are
# deleted one request each, then the bucket; the topic goes.
drop_versions ra "$A" --bucket
aws_side a sns delete-topic --topic-arn "arn:aws:sns:${FERRY_TEST_S3_REGION:-region-a}::ferry-$A" >/dev/null 2>&1 || true
finish
