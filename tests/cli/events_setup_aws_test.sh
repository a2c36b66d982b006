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
# with the token masked. AWS through SNS (--sns-topic, on a second bucket: AWS refuses
# overlapping configurations): the topic, its Policy (the default statement kept, ferry's
# SNS:Publish added), an HTTP subscription of a small capturing server standing in for ferry
# serve's /events (moto needs no confirmation), the TopicConfiguration; an object written
# reaches the server as an SNS envelope of the S3 event; a rerun changes nothing; remove takes
# out the configuration, the statement and the subscription, then the topic. (ferry serve itself
# would refuse moto's envelopes: their signatures are not AWS's; serve_sns_test.sh covers
# serve's side.) Bad input is one line, exit 2; a missing bucket exit 1, no queue made.
source "$(dirname "$0")/testlib.bash"
serve_pid=""
capture_pid=""
trap 'kill $serve_pid $capture_pid ${moto_pid:-} 2>/dev/null; wait ${moto_pid:-} 2>/dev/null; cleanup' EXIT
moto_start

A=evq-$$-$RANDOM
DST=evq-dst-$$-$RANDOM
B2=evq-sns-$$-$RANDOM
T=evq-t-$$
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
def notify_others(bucket):  # a topic (ObjectTagging under elsewhere/) and a Lambda function
    topic = client("sns").create_topic(Name="audit-" + bucket)["TopicArn"]
    s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration={
        "TopicConfigurations": [{"Id": "audit", "TopicArn": topic,
            "Events": ["s3:ObjectTagging:*"],
            "Filter": {"Key": {"FilterRules": [{"Name": "prefix", "Value": "elsewhere/"}]}}}],
        "LambdaFunctionConfigurations": [{"Id": "thumbs",
            "LambdaFunctionArn": "arn:aws:lambda:us-east-1:123456789012:function:thumbs",
            "Events": ["s3:ObjectRestore:Completed"]}]})
if what == "prepare":  # BUCKET DST B2: the buckets, the other configurations, a queue of its own
    for b in args[:3]:
        s3.create_bucket(Bucket=b)
        s3.put_bucket_versioning(Bucket=b, VersioningConfiguration={"Status": "Enabled"})
    for b in (args[0], args[2]):
        notify_others(b)
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
elif what == "topic-policy":  # NAME: its Policy
    sns = client("sns")
    arn = "arn:aws:sns:us-east-1:123456789012:" + args[0]
    print(sns.get_topic_attributes(TopicArn=arn)["Attributes"].get("Policy", ""))
elif what == "subscriptions":  # NAME: "protocol endpoint" per line
    sns = client("sns")
    arn = "arn:aws:sns:us-east-1:123456789012:" + args[0]
    for s in sns.list_subscriptions_by_topic(TopicArn=arn).get("Subscriptions", []):
        print(s["Protocol"], s["Endpoint"])
elif what == "topics":  # the topic names
    sns = client("sns")
    print(" ".join(t["TopicArn"].rsplit(":", 1)[-1] for t in sns.list_topics()["Topics"]))
elif what == "get":  # BUCKET KEY: the body
    print(s3.get_object(Bucket=args[0], Key=args[1])["Body"].read().decode())
else:
    sys.exit("unknown step " + what)
PY
}
aws_moto prepare "$A" "$DST" "$B2"
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

# AWS through SNS: a topic subscribed to an HTTP endpoint (a capturing server here)
CAPTURE_PORT=$(free_port)
python3 - "$CAPTURE_PORT" "$WORK/captured" <<'PY' &
import http.server, sys
port, out = int(sys.argv[1]), sys.argv[2]
class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        with open(out, "ab") as f:
            f.write(body.replace(b"\n", b" ") + b"\n")
        self.send_response(200)
        self.end_headers()
    def log_message(self, *a):
        pass
http.server.HTTPServer(("127.0.0.1", port), H).serve_forever()
PY
capture_pid=$!
CAPTURE=http://127.0.0.1:$CAPTURE_PORT/events
check "--sns-topic without --endpoint is refused" expect_error 2 "--sns-topic needs --endpoint URL" \
  ferry events setup "moto:$B2" --sns-topic "$T"
check "--sns-topic with a token is refused" expect_error 2 "--token goes with a topic (RGW) or --queue-arn" \
  ferry events setup "moto:$B2" --sns-topic "$T" --endpoint "$CAPTURE" --token-env FERRY_EVENTS_TOKEN
check "a bad topic ARN is refused" expect_error 2 "--sns-topic: 'arn:aws:sns:zg::t' is not an SNS topic ARN" \
  ferry events setup "moto:$B2" --sns-topic arn:aws:sns:zg::t --endpoint "$CAPTURE"
before2=$(aws_moto config "$B2")
check "setup --sns-topic succeeds" run_ok ferry events setup "moto:$B2" --sns-topic "$T" \
  --endpoint "$CAPTURE" --source-account "$ACCOUNT"
cp "$WORK/out" "$WORK/setup.out"
TARN=arn:aws:sns:us-east-1:$ACCOUNT:$T
check "  it says the topic's Policy was set" \
  said "topic $TARN; its Policy lets S3 publish from bucket $B2 only of account $ACCOUNT (set)"
check "  and the subscription (moto confirms at once)" said "subscription of $CAPTURE: confirmed"
check "  and the configuration added among 3" said "as configuration ferry-$T (added; 3 configurations in all)"
check "  and what ferry serve's config takes" said "sns_topics = [\"$TARN\"]"
topic_policy_ok() {
  python3 - "$(aws_moto topic-policy "$T")" "$B2" "$TARN" "$ACCOUNT" <<'PY'
import json, sys
p, bucket, arn, account = json.loads(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
sids = [x.get("Sid") for x in p["Statement"]]
assert "__default_statement_ID" in sids, p
s = [x for x in p["Statement"] if x.get("Sid") == "ferry-s3-" + bucket]
assert len(s) == 1, p
s = s[0]
assert s["Principal"] == {"Service": "s3.amazonaws.com"} and s["Action"] == "SNS:Publish", s
assert s["Resource"] == arn, s
assert s["Condition"] == {"ArnEquals": {"aws:SourceArn": "arn:aws:s3:::" + bucket},
                          "StringEquals": {"aws:SourceAccount": account}}, s
PY
}
check "  the topic's Policy keeps its default statement and lets S3 publish from this bucket" topic_policy_ok
one_subscription() { [ "$(aws_moto subscriptions "$T")" = "http $CAPTURE" ]; }
check "  one subscription, of the endpoint" one_subscription
configs2_ok() {
  python3 - "$before2" "$(aws_moto config "$B2")" "$TARN" <<'PY'
import json, sys
before, after, arn = json.loads(sys.argv[1]), json.loads(sys.argv[2]), sys.argv[3]
assert after["LambdaFunctionConfigurations"] == before["LambdaFunctionConfigurations"], after
t = after["TopicConfigurations"]
assert t[0] == before["TopicConfigurations"][0], t
assert len(t) == 2 and t[1]["Id"].startswith("ferry-") and t[1]["TopicArn"] == arn, t
PY
}
check "  the bucket's other configurations kept, ferry's added" configs2_ok
after2=$(aws_moto config "$B2")
check "a rerun succeeds" run_ok ferry events setup "moto:$B2" --sns-topic "$T" \
  --endpoint "$CAPTURE" --source-account "$ACCOUNT"
cp "$WORK/out" "$WORK/setup.out"
check "  the Policy unchanged" said "(unchanged)"
check "  ferry's configuration replaced, still 3" said "(replaced; 3 configurations in all)"
same2() { [ "$(aws_moto config "$B2")" = "$after2" ]; }
check "  the bucket's configurations are the same" same2
check "  still one subscription" one_subscription
aws_moto put "$B2" sns/one.txt "one"
delivered() {
  python3 - "$WORK/captured" "$TARN" <<'PY'
import json, sys, urllib.parse
for line in open(sys.argv[1]):
    e = json.loads(line)
    if e.get("Type") != "Notification" or e.get("TopicArn") != sys.argv[2]:
        continue
    for r in json.loads(e["Message"]).get("Records", []):
        if urllib.parse.unquote_plus(r["s3"]["object"]["key"]) == "sns/one.txt":
            sys.exit(0)
sys.exit(1)
PY
}
check "an object written reaches the endpoint as an SNS envelope of the S3 event" wait_for 10 delivered
check "show succeeds" run_ok ferry events show "moto:$B2"
cp "$WORK/out" "$WORK/show.out"
check "  it lists the topic's Policy" shown "  policy: lets S3 publish from bucket $B2"
check "  and its subscription" shown "  subscription: http $CAPTURE (confirmed)"
check "remove --sns-topic --endpoint succeeds" run_ok ferry events remove "moto:$B2" --sns-topic "$T" --endpoint "$CAPTURE"
check "  it says what it did" grep -qF "configuration ferry-$T removed (2 left); ferry's statement taken out of the topic's Policy; 1 subscription of $CAPTURE removed" "$WORK/out"
same_as_before2() { [ "$(aws_moto config "$B2")" = "$before2" ]; }
check "  the bucket's configurations are those it had before" same_as_before2
no_subscription() { [ -z "$(aws_moto subscriptions "$T")" ]; }
check "  no subscription left" no_subscription
check "remove --delete-topic deletes the topic" run_ok ferry events remove "moto:$B2" --sns-topic "$TARN" --delete-topic
no_topic() { ! tr ' ' '\n' <<< "$(aws_moto topics)" | grep -qx -- "$T"; }
check "  the topic is gone" no_topic

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
