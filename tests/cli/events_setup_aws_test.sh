#!/usr/bin/env bash
# ferry events setup|show|remove --sqs-queue / --queue-arn against a real moto_server (started
# here on a free port; the test fails when moto_server is missing, never skips). A versioned
# moto bucket already notifies an SNS topic (ObjectTagging under elsewhere/) and a Lambda
# function (ObjectRestore: event types ferry's do not share, as AWS refuses overlaps);
# `ferry events setup --sqs-queue` creates the queue, sets its Policy (only S3, only from this
# bucket and account) and adds ferry's QueueConfiguration next to the other two, which stay as
# they were; a rerun changes nothing (one configuration of ferry's, the Policy unchanged). A
# queue made beforehand with a Policy of its own, named by URL, keeps its statement. An object
# written to the bucket reaches the queue as an S3 event (read with botocore, as `aws sqs
# receive-message` would), and `ferry serve` with the [[serve.sqs]] lines setup printed
# replicates it to a second moto bucket. `show` lists the queue configuration with the queue's
# URL and Policy; `remove` takes out ferry's configuration and its Policy statement, then with
# --delete-queue the queue. MinIO's --queue-arn: moto refuses an arn:minio ARN as a MinIO
# without that webhook target does, and the one line names the `mc admin config set` command
# with the token masked. Bad input is one line, exit 2; a missing bucket exit 1, no queue made.
source "$(dirname "$0")/testlib.bash"
serve_pid=""
trap 'kill $serve_pid ${moto_pid:-} 2>/dev/null; wait ${moto_pid:-} 2>/dev/null; cleanup' EXIT
moto_start

A=evq-$$-$RANDOM
DST=evq-dst-$$-$RANDOM
Q=evq-q-$$
TOKEN=tok-$RANDOM$RANDOM$RANDOM-secret
export FERRY_EVENTS_TOKEN=$TOKEN
ACCOUNT=123456789012

aws_moto() {  # aws_moto STEP ARGS...: one botocore process per call (Debian's awscli)
  python3 - "$MOTO" "$@" <<'PY'
import json, sys, urllib.parse
sys.path.insert(0, "/usr/lib/python3/dist-packages")
from awscli.botocore.config import Config
from awscli.botocore.session import Session
endpoint, what, args = sys.argv[1], sys.argv[2], sys.argv[3:]
def client(service):
    return Session().create_client(
        service, endpoint_url=endpoint, aws_access_key_id="test", aws_secret_access_key="test",
        region_name="us-east-1", config=Config(s3={"addressing_style": "path"}))
s3, sqs = client("s3"), client("sqs")
if what == "prepare":  # BUCKET DST: the buckets, the other configurations, a queue of its own
    for b in args[:2]:
        s3.create_bucket(Bucket=b)
        s3.put_bucket_versioning(Bucket=b, VersioningConfiguration={"Status": "Enabled"})
    topic = client("sns").create_topic(Name="audit-" + args[0])["TopicArn"]
    s3.put_bucket_notification_configuration(Bucket=args[0], NotificationConfiguration={
        "TopicConfigurations": [{"Id": "audit", "TopicArn": topic,
            "Events": ["s3:ObjectTagging:*"],
            "Filter": {"Key": {"FilterRules": [{"Name": "prefix", "Value": "elsewhere/"}]}}}],
        "LambdaFunctionConfigurations": [{"Id": "thumbs",
            "LambdaFunctionArn": "arn:aws:lambda:us-east-1:123456789012:function:thumbs",
            "Events": ["s3:ObjectRestore:Completed"]}]})
    sqs.create_queue(QueueName=args[0] + "-own", Attributes={"Policy": json.dumps({
        "Version": "2012-10-17", "Id": "own", "Statement": [{"Sid": "mine", "Effect": "Allow",
        "Principal": {"AWS": "arn:aws:iam::123456789012:root"}, "Action": "sqs:ReceiveMessage",
        "Resource": "*"}]})})
    sqs.create_queue(QueueName=args[0] + "-dlq")
elif what == "config":  # BUCKET: the configurations, as JSON (without the response metadata)
    c = s3.get_bucket_notification_configuration(Bucket=args[0])
    c.pop("ResponseMetadata", None)
    print(json.dumps(c, sort_keys=True))
elif what == "policy":  # QUEUE: its Policy ("" when none)
    url = sqs.get_queue_url(QueueName=args[0])["QueueUrl"]
    print(sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["Policy"])
          .get("Attributes", {}).get("Policy", ""))
elif what == "queues":  # the queue names
    print(" ".join(u.rsplit("/", 1)[-1] for u in sqs.list_queues().get("QueueUrls", [])))
elif what == "put":  # BUCKET KEY BODY
    s3.put_object(Bucket=args[0], Key=args[1], Body=args[2].encode())
elif what == "event":  # QUEUE KEY: is there an S3 ObjectCreated record of KEY (left in place)
    url = sqs.get_queue_url(QueueName=args[0])["QueueUrl"]
    got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=0)
    for m in got.get("Messages", []):
        for r in json.loads(m["Body"]).get("Records", []):
            # the key as S3 sends it, form-encoded
            key = urllib.parse.unquote_plus(r["s3"]["object"]["key"])
            if r.get("eventName", "").startswith("ObjectCreated") and key == args[1]:
                sys.exit(0)
    sys.exit(1)
elif what == "get":  # BUCKET KEY: the body
    print(s3.get_object(Bucket=args[0], Key=args[1])["Body"].read().decode())
else:
    sys.exit("unknown step " + what)
PY
}
aws_moto prepare "$A" "$DST"
# run_ok CMD...: exit 0, its output in $WORK/out (and shown), its errors in $WORK/err
run_ok() {
  local rc=0
  "$@" > "$WORK/out" 2> "$WORK/err" || rc=$?
  sed 's/^/  | /' "$WORK/out"
  [ "$rc" = 0 ] || { echo "  exit $rc: $(cat "$WORK/err")"; return 1; }
}

# bad input: one line, exit 2, before anything is made
check "a queue name with a space is refused" expect_error 2 "--sqs-queue: 'a b' is not a queue name" \
  ferry events setup "moto:$A" --sqs-queue "a b"
check "a FIFO queue is refused" expect_error 2 "is a FIFO queue: S3 does not notify FIFO queues" \
  ferry events setup "moto:$A" --sqs-queue events.fifo
check "--sqs-queue and --queue-arn together are refused" \
  expect_error 2 "give one of --sqs-queue, --queue-arn and --sns-topic" \
  ferry events setup "moto:$A" --sqs-queue "$Q" --queue-arn "arn:minio:sqs::ferry:webhook"
check "--endpoint with --sqs-queue is refused" \
  expect_error 2 "--endpoint goes with a topic or --queue-arn" \
  ferry events setup "moto:$A" --sqs-queue "$Q" --endpoint http://127.0.0.1:1/events
check "--sqs-endpoint without --sqs-queue is refused" \
  expect_error 2 "--sqs-endpoint goes with --sqs-queue" \
  ferry events setup "moto:$A" --queue-arn "arn:minio:sqs::ferry:webhook" --sqs-endpoint "$MOTO"
check "a bad account id is refused" expect_error 2 "--source-account: '12' is not an AWS account id" \
  ferry events setup "moto:$A" --sqs-queue "$Q" --source-account 12
check "a bad queue ARN is refused" expect_error 2 "--queue-arn: 'arn:aws:sns:us-east-1:1:t' is not a queue ARN" \
  ferry events setup "moto:$A" --queue-arn arn:aws:sns:us-east-1:1:t
check "nothing to notify is refused" expect_error 2 "--endpoint URL is needed" \
  ferry events setup "moto:$A"
check "remove --delete-queue without --sqs-queue is refused" \
  expect_error 2 "--delete-queue goes with --sqs-queue" ferry events remove "moto:$A" --delete-queue
check "a missing bucket: exit 1, one line" expect_error 1 "bucket not found" \
  ferry events setup "moto:$A-missing" --sqs-queue "$Q"
no_queue() { ! tr ' ' '\n' <<< "$(aws_moto queues)" | grep -qx -- "$Q"; }
check "  and no queue was made" no_queue
before=$(aws_moto config "$A")

# setup: the queue, its Policy, ferry's configuration next to the others
check "setup --sqs-queue succeeds" run_ok ferry events setup "moto:$A" --sqs-queue "$Q" \
  --source-account "$ACCOUNT"
cp "$WORK/out" "$WORK/setup.out"
said() { grep -qF -- "$1" "$WORK/setup.out" || { echo "  no '$1' in: $(cat "$WORK/setup.out")"; return 1; }; }
check "  it says the queue was created and its Policy set" \
  said "queue $MOTO/$ACCOUNT/$Q (arn:aws:sqs:us-east-1:$ACCOUNT:$Q) created; its Policy lets S3 send messages from bucket $A only of account $ACCOUNT (set)"
check "  and the configuration added among 3" said "as configuration ferry-$Q (added; 3 configurations in all)"
check "  and what ferry serve's config takes" said "queue_url = \"$MOTO/$ACCOUNT/$Q\""
check "  (with the remote)" said 'remote = "moto"'
policy_ok() {
  python3 - "$(aws_moto policy "$Q")" "$A" "$Q" "$ACCOUNT" <<'PY'
import json, sys
p, bucket, queue, account = json.loads(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
s = [x for x in p["Statement"] if x.get("Sid") == "ferry-s3-" + bucket]
assert len(s) == 1, p
s = s[0]
assert s["Effect"] == "Allow" and s["Principal"] == {"Service": "s3.amazonaws.com"}, s
assert s["Action"] == "sqs:SendMessage", s
assert s["Resource"] == "arn:aws:sqs:us-east-1:%s:%s" % (account, queue), s
assert s["Condition"] == {"ArnEquals": {"aws:SourceArn": "arn:aws:s3:::" + bucket},
                          "StringEquals": {"aws:SourceAccount": account}}, s
PY
}
check "  the queue's Policy lets only S3 send, from this bucket and account" policy_ok
configs_ok() {  # the configurations before, plus ferry's
  python3 - "$before" "$(aws_moto config "$A")" "$Q" <<'PY'
import json, sys
before, after, queue = json.loads(sys.argv[1]), json.loads(sys.argv[2]), sys.argv[3]
assert after["TopicConfigurations"] == before["TopicConfigurations"], after
assert after["LambdaFunctionConfigurations"] == before["LambdaFunctionConfigurations"], after
q = after["QueueConfigurations"]
assert len(q) == 1 and q[0]["Id"] == "ferry-" + queue, q
assert q[0]["QueueArn"].endswith(":" + queue), q
assert sorted(q[0]["Events"]) == ["s3:ObjectCreated:*", "s3:ObjectRemoved:*"], q
PY
}
check "  the topic and Lambda configurations are still there, as they were" configs_ok
after_first=$(aws_moto config "$A")
check "a rerun succeeds" run_ok ferry events setup "moto:$A" --sqs-queue "$Q" --source-account "$ACCOUNT"
cp "$WORK/out" "$WORK/setup.out"
check "  the queue found, its Policy unchanged" said "found; its Policy lets S3 send messages from bucket $A only of account $ACCOUNT (unchanged)"
check "  ferry's configuration replaced, still 3 in all" said "(replaced; 3 configurations in all)"
same_config() { [ "$(aws_moto config "$A")" = "$after_first" ]; }
check "  the bucket's configurations are the same" same_config
check "  (one configuration of ferry's)" configs_ok

# a queue made beforehand, named by URL: its own statement is kept
check "setup with the URL of an existing queue succeeds" \
  run_ok ferry events setup "moto:$A" --sqs-queue "$MOTO/$ACCOUNT/$A-own" --events created --prefix in/
own_kept() {
  python3 - "$(aws_moto policy "$A-own")" "$A" <<'PY'
import json, sys
p = json.loads(sys.argv[1])
assert p["Id"] == "own", p
assert [s["Sid"] for s in p["Statement"]] == ["mine", "ferry-s3-" + sys.argv[2]], p
PY
}
check "  its Policy keeps its statement and gets ferry's" own_kept
check "  and it is removed again (the first queue's configuration stays)" \
  run_ok ferry events remove "moto:$A" --sqs-queue "$MOTO/$ACCOUNT/$A-own"
check "  its statement taken out, the queue's own kept" \
  python3 -c 'import json,sys; p=json.loads(sys.argv[1]); assert [s["Sid"] for s in p["Statement"]] == ["mine"], p' \
  "$(aws_moto policy "$A-own")"
check "  the bucket's configurations are as after the first setup" same_config

# show
check "show succeeds" run_ok ferry events show "moto:$A"
cp "$WORK/out" "$WORK/show.out"
shown() { grep -qF -- "$1" "$WORK/show.out" || { echo "  no '$1' in the show output"; return 1; }; }
check "  it lists ferry's queue configuration" shown "ferry-$Q: queue arn:aws:sqs:us-east-1:$ACCOUNT:$Q"
check "  with the queue's URL" shown "  queue_url: $MOTO/$ACCOUNT/$Q"
check "  and its Policy" shown "  policy: lets S3 send messages from bucket $A"
check "  and the other configurations" shown "audit: topic arn:aws:sns:us-east-1:$ACCOUNT:audit-$A"
check "  (the Lambda one)" shown "thumbs: function arn:aws:lambda:us-east-1:$ACCOUNT:function:thumbs"

# an object written to the bucket reaches the queue as an S3 event
aws_moto put "$A" new/one.txt "one"
check "an object written reaches the queue as an S3 ObjectCreated event" \
  wait_for 10 aws_moto event "$Q" new/one.txt

# ferry serve with the lines setup printed replicates it
PORT=$(free_port)
cat >> "$CONF" <<EOT
[[replication.rules]]
id = "all"
destinations = ["moto:$DST"]
[serve]
listen = "127.0.0.1:$PORT"
replicate = ["moto:$A"]
scan_interval = "1h"
$(sed -n '/^\[\[serve.sqs\]\]$/,$p' "$WORK/setup.out")
wait_seconds = 1
dead_letter_queue_url = "$MOTO/$ACCOUNT/$A-dlq"
EOT
"$FERRY_BIN" --config "$CONF" serve --state "$WORK/state.db" > "$WORK/serve.out" 2> "$WORK/serve.err" &
serve_pid=$!
has_dst() { [ "$(aws_moto get "$DST" "$1" 2>/dev/null)" = "$2" ]; }
check "ferry serve polling the queue replicates the object" wait_for 30 has_dst new/one.txt one
aws_moto put "$A" new/two.txt "two"
check "  and one written while it runs" wait_for 30 has_dst new/two.txt two
kill -TERM "$serve_pid"; wait "$serve_pid" 2>/dev/null; serve_pid=""
grep -q "error" "$WORK/serve.err" && { echo "  serve's errors:"; grep error "$WORK/serve.err" | head -5; }

# MinIO's --queue-arn: a store without that target refuses the ARN; the line says what to run
check "an unknown MinIO target is one line naming the mc command, the token masked" \
  expect_error 1 "create the target first: mc admin config set ALIAS notify_webhook:ferry endpoint=\"http://10.0.0.5:9380/events\" auth_token=\"tok\*\*\*\"" \
  ferry events setup "moto:$A" --queue-arn arn:minio:sqs::ferry:webhook \
    --endpoint http://10.0.0.5:9380/events --token-env FERRY_EVENTS_TOKEN
no_token() { ! grep -qF -- "$TOKEN" "$WORK/err" "$WORK/out"; }
check "  the token is never printed" no_token
check "  the bucket's configurations are unchanged" same_config
# an existing AWS queue's ARN: only the bucket's configuration is set
check "--queue-arn of an existing queue sets the configuration only" \
  run_ok ferry events setup "moto:$A" --queue-arn "arn:aws:sqs:us-east-1:$ACCOUNT:$A-dlq" --events removed
arn_added() { grep -qF "ferry-$A-dlq" <<< "$(aws_moto config "$A")"; }
check "  (it is there)" arn_added
no_dlq_policy() { [ -z "$(aws_moto policy "$A-dlq")" ]; }
check "  and the queue's Policy was not touched" no_dlq_policy
check "  it is removed by its ARN" run_ok ferry events remove "moto:$A" --queue-arn "arn:aws:sqs:us-east-1:$ACCOUNT:$A-dlq"
check "  (as after the first setup)" same_config

# remove: ferry's configuration and Policy statement; then the queue
check "remove --sqs-queue succeeds" run_ok ferry events remove "moto:$A" --sqs-queue "$Q"
check "  it says what it did" grep -qF "configuration ferry-$Q removed (2 left); ferry's statement taken out of the queue's Policy" "$WORK/out"
others_only() {
  python3 - "$before" "$(aws_moto config "$A")" <<'PY'
import json, sys
before, after = json.loads(sys.argv[1]), json.loads(sys.argv[2])
assert after == before, (before, after)
PY
}
check "  the bucket's configurations are those it had before setup" others_only
no_statement() { ! grep -qF "ferry-s3-$A" <<< "$(aws_moto policy "$Q")"; }
check "  the queue's Policy no longer lets S3 send" no_statement
check "remove --delete-queue deletes the queue" run_ok ferry events remove "moto:$A" --sqs-queue "$Q" --delete-queue
check "  (it says nothing was left to remove)" grep -qF "has no configuration ferry-$Q: nothing removed; queue $Q deleted" "$WORK/out"
check "  the queue is gone" no_queue
finish
