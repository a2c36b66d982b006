#!/usr/bin/env bash
# ferry events setup|show|remove against RGW region A. A versioned bucket of A already notifies
# another topic (made with the SNS and S3 APIs, a key filter on it); `ferry events setup` adds
# its own configuration next to it and keeps that one as it was; a rerun changes nothing (still
# two); `show` lists both with their topics, the token masked. End to end: `ferry serve` runs
# with the token, `ferry events setup` points a non-persistent topic at its /events, and three
# objects written to A reach B from their events (the scan runs once, at start, on an empty
# bucket). `remove --delete-topic` takes out ferry's configuration only (RGW 16 adds on PUT:
# it is removed with DELETE ?notification=Id) and deletes its topic. Bad input is one line,
# exit 2 (a missing bucket: exit 1, as every command), and leaves no topic behind.
# The buckets are not new_bucket's: the library's cleanup empties a bucket with a DeleteObjects,
# which aborts RGW 16.2 in a bucket that notifies a topic. They are emptied one version per
# request, and the topics deleted, by this script's own cleanup.
source "$(dirname "$0")/testlib.bash"
A=ferry-cli-ev-$$-$RANDOM-a
B=ferry-cli-ev-$$-$RANDOM-b
OTHER_TOPIC=ferry-cli-ev-other-$$-$RANDOM
TOKEN=tok-$RANDOM$RANDOM$RANDOM
export FERRY_EVENTS_TOKEN=$TOKEN
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
URL=http://127.0.0.1:$PORT
REGION_A=${FERRY_TEST_S3_REGION:-region-a}
pid=
export PYTHONPATH="$(dirname "$0")/../tools"

rgw() {  # rgw prepare|count-b|topic-exists NAME|cleanup: one botocore process per call
  python3 - "$A" "$B" "$OTHER_TOPIC" "$@" <<'PY'
import os, sys
from s3_check import S3
from awscli.botocore.session import Session
a, b, other, what = sys.argv[1:5]
sns = Session().create_client(
    "sns", endpoint_url=os.environ["FERRY_TEST_S3_ENDPOINT"], aws_access_key_id=os.environ["RA_KEY"],
    aws_secret_access_key=os.environ["RA_SECRET"],
    region_name=os.environ.get("FERRY_TEST_S3_REGION", "region-a"))
if what == "prepare":
    for remote, name in (("ra", a), ("rb", b)):
        S3[remote].create_bucket(Bucket=name)
        S3[remote].put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
    arn = sns.create_topic(Name=other, Attributes={
        "push-endpoint": "http://127.0.0.1:1/elsewhere", "persistent": "false"})["TopicArn"]
    S3["ra"].put_bucket_notification_configuration(Bucket=a, NotificationConfiguration={
        "TopicConfigurations": [{"Id": "other", "TopicArn": arn, "Events": ["s3:ObjectRemoved:*"],
            "Filter": {"Key": {"FilterRules": [{"Name": "prefix", "Value": "elsewhere/"}]}}}]})
elif what == "count-b":
    print(S3["rb"].list_objects_v2(Bucket=b).get("KeyCount", 0))
elif what == "topic-exists":
    names = [t["TopicArn"].rsplit(":", 1)[-1] for t in sns.list_topics().get("Topics", [])]
    sys.exit(0 if sys.argv[5] in names else 1)
elif what == "cleanup":
    for remote, name in (("ra", a), ("rb", b)):
        try:
            listed = S3[remote].list_object_versions(Bucket=name)
        except Exception:
            continue
        for v in listed.get("Versions", []) + listed.get("DeleteMarkers", []):
            S3[remote].delete_object(Bucket=name, Key=v["Key"], VersionId=v["VersionId"])
        S3[remote].delete_bucket(Bucket=name)
    for t in sns.list_topics().get("Topics", []):
        if t["TopicArn"].rsplit(":", 1)[-1] in (other, "ferry-" + a):
            sns.delete_topic(TopicArn=t["TopicArn"])
PY
}
cleanup_events() {
  if [ -n "$pid" ]; then kill -TERM "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
  rgw cleanup || echo "cleanup of $A, $B and the topics failed"
  cleanup
}
trap cleanup_events EXIT
rgw prepare

# bad input: one line, nothing created
check "a local folder is refused" expect_error 2 "is not an S3 location" \
  ferry events setup "$WORK" --endpoint "$URL/events" --token-env FERRY_EVENTS_TOKEN
check "a bad URL is refused" expect_error 2 "--endpoint: 'ftp://x/events' is not an http" \
  ferry events setup "ra:$A" --endpoint ftp://x/events --token-env FERRY_EVENTS_TOKEN
check "a missing token variable is refused" expect_error 2 "--token-env: FERRY_NO_SUCH_VAR is not set" \
  ferry events setup "ra:$A" --endpoint "$URL/events" --token-env FERRY_NO_SUCH_VAR
check "no token at all is refused" expect_error 2 "a token is needed" \
  ferry events setup "ra:$A" --endpoint "$URL/events"
check "the token itself on the command line is refused" \
  expect_error 2 "--token takes the secret itself.*give --token-file PATH or --token-env NAME" \
  ferry events setup "ra:$A" --endpoint "$URL/events" --token "$FERRY_EVENTS_TOKEN"
check "  without echoing it" bash -c "! grep -qF -- '$FERRY_EVENTS_TOKEN' '$WORK/err'"
: > "$WORK/empty.token"
printf 'one\ntwo\n' > "$WORK/two-lines.token"
check "an empty --token-file is refused" expect_error 2 "--token-file $WORK/empty.token is empty" \
  ferry events setup "ra:$A" --endpoint "$URL/events" --token-file "$WORK/empty.token"
check "a --token-file of two lines is refused" expect_error 2 "holds more than one line" \
  ferry events setup "ra:$A" --endpoint "$URL/events" --token-file "$WORK/two-lines.token"
check "a missing --token-file is refused" expect_error 2 "cannot read --token-file $WORK/none" \
  ferry events setup "ra:$A" --endpoint "$URL/events" --token-file "$WORK/none"
check "--token-file with --token-env is refused" \
  expect_error 2 "give --token-env or --token-file, not both" \
  ferry events setup "ra:$A" --endpoint "$URL/events" --token-file "$WORK/empty.token" \
  --token-env FERRY_EVENTS_TOKEN
check "an unknown event word is refused" expect_error 2 "--events: unknown event 'writes'" \
  ferry events setup "ra:$A" --endpoint "$URL/events" --token-env FERRY_EVENTS_TOKEN --events created,writes
check "a bad topic name is refused" expect_error 2 "--topic: 'a.b' is not a topic name" \
  ferry events setup "ra:$A" --endpoint "$URL/events" --token-env FERRY_EVENTS_TOKEN --topic a.b
check "a location with a prefix is refused" expect_error 2 "give the bucket alone" \
  ferry events setup "ra:$A/logs/" --endpoint "$URL/events" --token-env FERRY_EVENTS_TOKEN
check "a missing bucket: exit 1" expect_error 1 "bucket not found" \
  ferry events setup "ra:$A-missing" --endpoint "$URL/events" --token-env FERRY_EVENTS_TOKEN
check "  and no topic was made for it" eval "! rgw topic-exists ferry-$A-missing"
check "show of a missing bucket: exit 1" expect_error 1 "bucket not found" ferry events show "ra:$A-missing"

# ferry serve with the token, replicating A to B (its scan at start finds A empty)
cat >> "$CONF" <<EOT
[[replication.rules]]
id = "all"
destinations = ["rb:$B"]
[serve]
listen = "127.0.0.1:$PORT"
replicate = ["ra:$A"]
scan_interval = "1h"
token_env = "FERRY_EVENTS_TOKEN"
EOT
"$FERRY_BIN" --config "$CONF" serve --state "$WORK/state.db" > "$WORK/serve.out" 2> "$WORK/serve.err" &
pid=$!

# setup keeps the other configuration and adds ferry's (a persistent topic by default)
ferry events setup "ra:$A" --endpoint "$URL/events" --token-env FERRY_EVENTS_TOKEN \
  > "$WORK/setup1" 2> "$WORK/setup1.err"
sed 's/^/  /' "$WORK/setup1"
check "setup says what it did" grep -q "bucket $A notifies it of s3:ObjectCreated:\*, s3:ObjectRemoved:\* as configuration ferry-$A (added; 2 configurations in all)" "$WORK/setup1"
check "  the topic, its ARN from RGW, persistent" \
  grep -q "^topic ferry-$A (arn:aws:sns:$REGION_A::ferry-$A) pushes to $URL/events, persistent" "$WORK/setup1"
check "  and never the token" eval "! grep -q '$TOKEN' '$WORK/setup1' '$WORK/setup1.err'"
# a rerun (here also making the topic not persistent) replaces ferry's configuration only
ferry events setup "ra:$A" --endpoint "$URL/events" --token-env FERRY_EVENTS_TOKEN \
  --no-persistent > "$WORK/setup2"
check "a rerun replaces its own configuration: still two" \
  grep -q "as configuration ferry-$A (replaced; 2 configurations in all)" "$WORK/setup2"
check "  and updates the topic" grep -q "pushes to $URL/events, not persistent" "$WORK/setup2"
ferry events show "ra:$A" > "$WORK/show" 2>&1
sed 's/^/  /' "$WORK/show"
check "show lists both configurations" grep -q "^bucket $A: 2 notification configurations" "$WORK/show"
check "  the other one with its filter, as it was" \
  eval "grep -A2 '^other: topic arn:aws:sns:$REGION_A::$OTHER_TOPIC' '$WORK/show' | grep -q 'filter: prefix=elsewhere/'"
check "  ferry's with its push endpoint, not persistent" \
  eval "grep -A4 '^ferry-$A: topic' '$WORK/show' | grep -q 'push-endpoint: $URL/events' &&
        grep -A4 '^ferry-$A: topic' '$WORK/show' | grep -q 'persistent: no'"
check "  the token masked" grep -q "opaqueData: ${TOKEN:0:3}\*\*\*$" "$WORK/show"
check "  and never in full" eval "! grep -q '$TOKEN' '$WORK/show'"

# end to end: three objects written to A reach B from their events
wait_until 30 "ferry serve answers" answers "$URL/healthz"
mkdir -p "$WORK/new"
for i in 1 2 3; do echo "event $i" > "$WORK/new/$i.txt"; done
ferry cp "$WORK/new" "ra:$A/new" --no-progress >/dev/null 2>&1
written=$(date +%s.%N)
n=0
three_at_b() { n=$(rgw count-b); [ "$n" = 3 ]; }
wait_until 20 "3 objects written to A reach B from their events" three_at_b
echo "  at B $(python3 -c "print(round($(date +%s.%N) - $written, 1))") s after they were written"
metrics=$(curl -sf "$URL/metrics")
check "  their events authenticated by the topic's opaqueData and recorded" eval \
  "grep -q 'ferry_events_received_total{store=\"rgw\",kind=\"created\"} 3' <<< \"\$metrics\" &&
   grep -q '^ferry_events_recorded_total 3' <<< \"\$metrics\""
[ "$n" = 3 ] || tail -5 "$WORK/serve.err"

# remove: ferry's configuration and topic only
ferry events remove "ra:$A" --delete-topic > "$WORK/remove"
check "remove takes out ferry's configuration and deletes its topic" \
  grep -q "bucket $A: configuration ferry-$A removed (1 left); topic ferry-$A deleted" "$WORK/remove"
ferry events show "ra:$A" > "$WORK/show2"
check "  the other configuration stays" \
  eval "grep -q '^bucket $A: 1 notification configuration$' '$WORK/show2' && grep -q '^other: topic' '$WORK/show2'"
check "  the topic is gone" eval "! rgw topic-exists ferry-$A"
check "a second remove has nothing to do" \
  eval "ferry events remove 'ra:$A' | grep -q 'has no configuration ferry-$A: nothing removed'"

kill -TERM "$pid"
rc=0; wait "$pid" || rc=$?
pid=
check "ferry serve ends with exit 0" [ "$rc" = 0 ]
finish
